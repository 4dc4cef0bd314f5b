"""The Listen pane: transcribe a file and review it character by character.

The recogniser (``tui_speech.asr``, PyTorch or ONNX Runtime) loads in a worker the first time a
file is opened, never at start-up. Live sources (microphone, stdin) are not in this build: the
ASR core has no streaming session yet, so the pane says so instead of pretending.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import ProgressBar, Static
from textual.worker import get_current_worker

from tui_speech.errors import TuiSpeechError, UsageError
from tui_speech.tui.errors import ReportsWorkerErrors
from tui_speech.tui.messages import ErrorRaised, StatusInfo
from tui_speech.tui.player import LazyPlayer
from tui_speech.tui.prompt import PromptScreen
from tui_speech.tui.state import Settings, save_settings
from tui_speech.tui.themes import CONFIDENCE_STEPS
from tui_speech.tui.transcript import TranscriptView

#: Replay starts this long before the character, so the ear catches the context.
REPLAY_LEAD_S = 0.5
REPLAY_TAIL_S = 0.2
#: Live mode: windows of a few seconds, fed in real time, in blocks of a quarter second.
LIVE_CHUNK_S = 4.0
LIVE_STRIDE_S = 1.0
LIVE_BLOCK_S = 0.25
EXPORT_FORMATS = ("txt", "json", "jsonl", "srt", "vtt")


def confidence_legend() -> Content:
    parts: list[str | tuple[str, str]] = ["confidence  "]
    for i in range(CONFIDENCE_STEPS):
        low = i * 100 // CONFIDENCE_STEPS
        parts.append((f" ≥{low}% ", f"bold $confidence-{i}"))
    return Content.assemble(*parts)


def asr_state(models: list[str]) -> str:
    if not models:
        return "No ASR model yet – F4 Models to pull one."
    return f"ASR model: {models[0]} · ctrl+o transcribes a file"


def level_meter(rms: float, width: int = 12) -> str:
    """A text level meter on a dB scale (-60 dBFS empty, 0 dBFS full)."""
    import math

    db = 20 * math.log10(max(rms, 1e-6))
    filled = max(0, min(width, round((db + 60) / 60 * width)))
    return "▮" * filled + "▯" * (width - filled)


def replay_span(chars: tuple[Any, ...], index: int) -> tuple[float, float]:
    """From just before character ``index`` to the end of its utterance (the cue it is in)."""
    from tui_speech.asr.formats import split_cues

    char = chars[index]
    end = char.t1
    for cue in split_cues(chars):
        if cue.start <= char.t0 <= cue.end:
            end = cue.end
            break
    return max(0.0, char.t0 - REPLAY_LEAD_S), end + REPLAY_TAIL_S


class ListenPane(ReportsWorkerErrors, Vertical):
    HELP_WIDGETS = (TranscriptView,)
    BINDINGS = [
        Binding("ctrl+o", "open_file", "Open file"),
        Binding("f5", "live_file", "Live file"),
        Binding("f6", "pause", "Pause"),
        Binding("f7", "stop", "Stop"),
        Binding("ctrl+s", "export", "Export"),
        Binding("ctrl+r", "refresh", "Refresh", show=False),
    ]
    DEFAULT_CSS = """
    ListenPane { padding: 0 1; }
    ListenPane #listen-state { color: $warning; text-style: bold; }
    ListenPane .listen-detail { color: $text-muted; }
    ListenPane #listen-progress-row { height: 1; }
    ListenPane #listen-progress { width: 24; }
    ListenPane #listen-status { width: 1fr; color: $text-muted; }
    """

    @dataclass
    class Found(Message):
        models: list[str]

    @dataclass
    class Progress(Message):
        done: float
        total: float

        def can_replace(self, message: Message) -> bool:  # only the latest position matters
            return isinstance(message, ListenPane.Progress)

    @dataclass
    class ModelLoaded(Message):
        model: str
        backend: str

    @dataclass
    class LiveChars(Message):
        chars: tuple[Any, ...]

    @dataclass
    class LiveLevel(Message):
        elapsed: float
        level: float  # RMS of the last block, full scale = 1

        def can_replace(self, message: Message) -> bool:  # a meter shows only the latest
            return isinstance(message, ListenPane.LiveLevel)

    @dataclass
    class Transcribed(Message):
        transcript: Any  # tui_speech.asr.recognizer.Transcript
        samples: Any  # float32 16 kHz, kept for replay

    def __init__(self, settings: Settings | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.settings = settings or Settings()
        #: The ASR model to use (repo id or folder); None = the first one in the store.
        self.model: str | None = None
        self.transcript: Any = None
        self._samples: Any = None
        self._player = LazyPlayer()
        self._paused = threading.Event()

    def compose(self) -> ComposeResult:
        yield Static("looking for ASR models…", id="listen-state")
        yield Static(
            "ctrl+o transcribes a file, F5 plays one as live (microphone and stdin sources are "
            "not in this build). Every character is coloured by the model's confidence:",
            classes="listen-detail",
        )
        yield Static(confidence_legend(), id="listen-legend")
        yield TranscriptView(id="listen-transcript")
        with Horizontal(id="listen-progress-row"):
            yield ProgressBar(total=100, show_eta=False, id="listen-progress")
            yield Static("", id="listen-status")

    def on_mount(self) -> None:
        view = self.query_one(TranscriptView)
        view.border_title = "transcript"
        view.threshold = min(1.0, max(0.0, self.settings.threshold))
        self.watch(view, "threshold", self._remember_threshold, init=False)
        # After the first frame, so looking into the store never delays start-up.
        self.call_after_refresh(self.action_refresh)

    def _remember_threshold(self, threshold: float) -> None:
        if threshold != self.settings.threshold:
            self.settings.threshold = threshold
            save_settings(self.settings)

    def set_audio_state(self, problem: str | None) -> None:
        """Called by the app once it knows whether there is an output device."""
        if problem:
            self.say(f"{problem}: files still transcribe (ctrl+o, F5), replay needs a device")

    def say(self, text: str) -> None:
        self.query_one("#listen-status", Static).update(text)

    def action_refresh(self) -> None:
        self._find_models()

    @work(thread=True, exclusive=True, group="asr-models", exit_on_error=False)
    def _find_models(self) -> None:
        from tui_speech.hub.manage import list_models

        present = [e.id for e in list_models() if e.kind == "asr" and e.present]
        self.post_message(self.Found(present))

    def on_listen_pane_found(self, message: Found) -> None:
        models = [self.model] if self.model else message.models
        self.query_one("#listen-state", Static).update(asr_state(models))
        if models:
            self.post_message(StatusInfo("asr", Path(models[0]).name))

    # --- transcribe a file ----------------------------------------------------------------------

    def action_open_file(self) -> None:
        def start(path: str | None) -> None:
            if path:
                self.say(f"loading the ASR model for {Path(path).name}…")
                self.query_one(ProgressBar).update(total=None, progress=0)
                self._transcribe(Path(path).expanduser(), self.model)

        self.app.push_screen(
            PromptScreen("Transcribe which audio file?", "", "or a .json session saved before"),
            start,
        )

    def _load_recognizer(self, model: str | None, **options: float) -> Any:
        """The recogniser for ``model`` (or the store's first ASR model); ONNX when exported."""
        from tui_speech.asr.model import ONNX_FILE, resolve_model_dir
        from tui_speech.asr.recognizer import Recognizer

        if model is None:
            from tui_speech.hub.manage import list_models

            present = [e.id for e in list_models() if e.kind == "asr" and e.present]
            model = present[0] if present else None  # None: the default model, or its hint
        folder, _ = resolve_model_dir(model)
        backend = "onnx" if (folder / ONNX_FILE).exists() else "torch"
        recognizer = Recognizer.load(model, backend=backend, **options)  # type: ignore[arg-type]
        self.post_message(self.ModelLoaded(recognizer.info.name, recognizer.backend.name))
        return recognizer

    @work(thread=True, exclusive=True, group="transcribe", exit_on_error=False)
    def _transcribe(self, path: Path, model: str | None) -> None:
        from tui_speech.audio.reader import probe, read_audio

        if path.suffix.lower() == ".json":  # a past session, exported with ctrl+s
            from tui_speech.tui.sessions import load_session

            self.post_message(self.Transcribed(*load_session(path)))
            return

        info = probe(path)  # a bad file is reported before the model loads
        recognizer = self._load_recognizer(model)

        def report(done: float) -> None:
            self.post_message(self.Progress(done, info.duration))

        transcript = recognizer.transcribe_file(path, progress=report)
        samples = read_audio(path, target_rate=recognizer.sample_rate)
        self.post_message(self.Transcribed(transcript, samples))

    def on_listen_pane_progress(self, message: Progress) -> None:
        self.query_one(ProgressBar).update(total=max(message.total, 0.001), progress=message.done)
        self.say(f"transcribing… {message.done:.0f}/{message.total:.0f} s")

    def on_listen_pane_transcribed(self, message: Transcribed) -> None:
        self.transcript = message.transcript
        self._samples = message.samples
        t = message.transcript
        bar = self.query_one(ProgressBar)
        bar.update(total=1, progress=1)
        view = self.query_one(TranscriptView)
        view.show(t.chars)
        view.focus()
        name = Path(t.source).name or "audio"
        self.say(f"{name}: {len(t.chars)} characters, {t.duration:.1f} s, mean {t.confidence:.0%}")

    # --- a file played as live ----------------------------------------------------------------

    def action_live_file(self) -> None:
        def start(path: str | None) -> None:
            if path:
                self.say(f"loading the ASR model for {Path(path).name}…")
                self.query_one(TranscriptView).show(())
                self._live(Path(path).expanduser(), self.model)

        self.app.push_screen(PromptScreen("Play which audio file as live?", "", "a path"), start)

    def action_stop(self) -> None:
        self._paused.clear()
        self.workers.cancel_group(self, "transcribe")
        self._player.stop()

    def action_pause(self) -> None:
        """Pause or resume a file played as live (the clock stops with it)."""
        if self._paused.is_set():
            self._paused.clear()
        else:
            self._paused.set()
            self._player.stop()
            self.say("paused · F6 resumes · F7 stops")

    @work(thread=True, exclusive=True, group="transcribe", exit_on_error=False)
    def _live(self, path: Path, model: str | None) -> None:
        import time

        import numpy as np

        from tui_speech.asr.ctc import trim_spaces
        from tui_speech.asr.recognizer import Transcript
        from tui_speech.audio.reader import iter_blocks, probe

        probe(path)
        # Short windows: characters appear a couple of seconds after they are spoken.
        recognizer = self._load_recognizer(model, chunk_s=LIVE_CHUNK_S, stride_s=LIVE_STRIDE_S)
        worker = get_current_worker()
        rate = recognizer.sample_rate
        try:
            player = self._player.get()
        except TuiSpeechError:
            player = None  # no device: transcribe silently, at the same pace
        blocks: list[np.ndarray] = []

        def paced() -> Iterator[np.ndarray]:
            started, played = time.monotonic(), 0.0
            for block in iter_blocks(path, block_seconds=LIVE_BLOCK_S, target_rate=rate):
                paused_at = time.monotonic()
                while self._paused.is_set() and not worker.is_cancelled:
                    time.sleep(0.05)
                started += time.monotonic() - paused_at  # paused time does not count
                if worker.is_cancelled:
                    return
                blocks.append(block)
                if player is not None:
                    player.play_chunk(block, rate)
                played += len(block) / rate
                rms = float(np.sqrt(np.mean(np.square(block)))) if len(block) else 0.0
                self.post_message(self.LiveLevel(played, rms))
                time.sleep(max(0.0, started + played - time.monotonic()))
                yield block

        chars = []
        for char in recognizer.iter_chars(paced()):
            chars.append(char)
            self.post_message(self.LiveChars((char,)))
        samples = np.concatenate(blocks) if blocks else np.zeros(0, np.float32)
        final = trim_spaces(chars)
        transcript = Transcript(
            "".join(c.char for c in final), tuple(final), len(samples) / rate,
            recognizer.info.name, source=str(path),
        )  # fmt: skip
        self.post_message(self.Transcribed(transcript, samples))

    def on_listen_pane_model_loaded(self, message: ModelLoaded) -> None:
        self.query_one("#listen-state", Static).update(
            f"ASR model: {message.model} · backend {message.backend}"
        )
        self.post_message(StatusInfo("asr", f"{Path(message.model).name} ({message.backend})"))

    def on_listen_pane_live_chars(self, message: LiveChars) -> None:
        self.query_one(TranscriptView).append(message.chars)

    def on_listen_pane_live_level(self, message: LiveLevel) -> None:
        minutes, seconds = divmod(int(message.elapsed), 60)
        self.say(f"live {minutes}:{seconds:02d}  {level_meter(message.level)}  F7 stops")

    # --- review ---------------------------------------------------------------------------------

    @on(TranscriptView.ReplayRequested)
    def _replay(self, event: TranscriptView.ReplayRequested) -> None:
        if self.transcript is None:
            return
        if self._samples is None:
            problem = UsageError(f"the audio of this session ({self.transcript.source}) is gone")
            self.post_message(ErrorRaised(problem, "replay"))
            return
        start, end = replay_span(self.transcript.chars, event.index)
        rate = 16_000
        self._play(self._samples[int(start * rate) : int(end * rate)], rate)

    @work(thread=True, exclusive=True, group="replay", exit_on_error=False)
    def _play(self, audio: Any, rate: int) -> None:
        player = self._player.get()  # no device: AudioDeviceError, shown as a notification
        player.stop()
        player.play_chunk(audio, rate)

    def action_export(self) -> None:
        if self.transcript is None:
            self.post_message(ErrorRaised(UsageError("nothing to export: ctrl+o first"), "export"))
            return
        default = Path.cwd() / f"{Path(self.transcript.source).stem or 'transcript'}.srt"

        def save(path: str | None) -> None:
            if path:
                self._export(Path(path).expanduser())

        hint = "the extension picks the format: " + " ".join(EXPORT_FORMATS)
        self.app.push_screen(PromptScreen("Export the transcript as", str(default), hint), save)

    @work(thread=True, group="export", exit_on_error=False)
    def _export(self, path: Path) -> None:
        from tui_speech.asr.formats import render
        from tui_speech.fileio import atomic_write_text

        fmt = path.suffix.lstrip(".").lower()
        if fmt not in EXPORT_FORMATS:
            raise UsageError(f"cannot export {path.name}: use one of .{', .'.join(EXPORT_FORMATS)}")
        if not path.parent.is_dir():
            raise UsageError(f"cannot write {path}: folder {path.parent} does not exist")
        atomic_write_text(path, render(self.transcript, fmt))
        self.app.call_from_thread(self.app.notify, f"exported to {path}", markup=False)

    def on_unmount(self) -> None:
        self._player.close()
