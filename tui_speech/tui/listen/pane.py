"""The Listen pane: transcribe a file and review it character by character.

The recogniser (``tui_speech.asr``, PyTorch or ONNX Runtime) loads in a worker the first time a
file is opened, never at start-up. Live sources: a microphone, audio piped into the app's stdin
(``arecord ... | tui-speech``; the CLI hands the pipe over before Textual starts, see
``tui_speech.audio.pipe``), or a file played in real time. Past sessions are listed by
``tui_speech.tui.listen.sessions_browser.SessionsScreen``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import ProgressBar, Static
from textual.worker import get_current_worker

from tui_speech.audio.pipe import PipedAudio
from tui_speech.audio.rates import ASR_RATE
from tui_speech.config import get_paths
from tui_speech.errors import UsageError
from tui_speech.tui.errors import ReportsWorkerErrors
from tui_speech.tui.listen.correct import Corrector
from tui_speech.tui.listen.source_picker import Picked, SourcePicker
from tui_speech.tui.messages import ErrorRaised, StatusInfo
from tui_speech.tui.player import LazyPlayer
from tui_speech.tui.prompt import PromptScreen
from tui_speech.tui.state import Settings, save_settings
from tui_speech.tui.themes import CONFIDENCE_STEPS
from tui_speech.tui.transcript import TranscriptView, replay_span

if TYPE_CHECKING:  # the recogniser's types (numpy, torch) load with the first transcription
    import numpy as np

    from tui_speech.asr.recognizer import Transcript
    from tui_speech.asr.stream import StreamEvent

EXPORT_FORMATS = ("txt", "json", "jsonl", "srt", "vtt")
#: What the source picker takes for the audio piped into the app.
STDIN = "stdin"


def stdin_source(piped: PipedAudio | None, max_blocks: int = 64) -> Any:
    """A live source reading the piped audio where the last session on it stopped."""
    from tui_speech.audio.sources import StdinSource

    if piped is None:
        raise UsageError(
            "no audio is piped in (stdin is a terminal): start it as "
            "`arecord -f S16_LE -r 16000 -c 1 -t raw | tui-speech`"
        )
    if piped.ended:
        raise UsageError("the audio piped in has ended (all of it was heard); pipe more to listen")
    return StdinSource(
        piped.stream,
        piped.pcm,
        piped.rate,
        piped.channels,
        max_blocks,
        detect_wav=not piped.from_header,
    )


def remember_stdin(piped: PipedAudio, source: Any) -> None:
    """After a session on the pipe: a WAV header's format holds for the rest of the stream,
    and the end of the pipe is the end of it."""
    if source.wav:
        reader = source.reader
        piped.pcm, piped.rate, piped.channels = reader.fmt, reader.rate, reader.channels
        piped.from_header = True
    piped.ended = piped.ended or source.eof


def level_meter(rms: float, width: int = 12) -> str:
    """A text level meter on a dB scale (-60 dBFS empty, 0 dBFS full)."""
    import math

    db = 20 * math.log10(max(rms, 1e-6))
    filled = max(0, min(width, round((db + 60) / 60 * width)))
    return "▮" * filled + "▯" * (width - filled)


def confidence_legend() -> Content:
    parts: list[str | tuple[str, str]] = ["confidence  "]
    for i in range(CONFIDENCE_STEPS):
        low = i * 100 // CONFIDENCE_STEPS
        parts.append((f" ≥{low}% ", f"bold $confidence-{i}"))
    return Content.assemble(*parts)


def asr_state(models: list[str]) -> str:
    from tui_speech.hub.embedded import WHISPER_ID

    if not models:
        return "No ASR model yet – F4 Models to pull one."
    if models[0] in (WHISPER_ID, "embedded"):
        # Offline from the first start; the header says what it lacks and how to get more.
        return (
            f"ASR model: {WHISPER_ID} (embedded, offline; no alternatives per character) · "
            "F4 Models pulls the wav2vec2 model · ctrl+o transcribes a file"
        )
    return f"ASR model: {models[0]} · ctrl+o transcribes a file"


class ListenPane(ReportsWorkerErrors, Vertical):
    HELP_WIDGETS = (TranscriptView,)
    BINDINGS = [
        Binding("ctrl+o", "open_file", "Open file"),
        Binding("f5", "live_file", "Live file"),
        Binding("f8", "listen", "Listen"),
        Binding("f6", "pause", "Pause"),
        Binding("f7", "stop", "Stop"),
        Binding("f9", "sessions", "Sessions"),
        Binding("ctrl+k", "hotwords", "Hotwords"),
        Binding("ctrl+s", "export", "Export"),
        Binding("ctrl+z", "undo_correction", "Undo correction", show=False),
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
        models: list[str]  # the model a session will use, or none when the store has none

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
    class LiveEvent(Message):
        event: StreamEvent  # partials and finals: never replaced
        written: Any = None  # a final's asr.written.Written

    @dataclass
    class LiveLevel(Message):
        elapsed: float
        level: float  # RMS of the last block, full scale = 1

        def can_replace(self, message: Message) -> bool:  # a meter shows only the latest
            return isinstance(message, ListenPane.LiveLevel)

    @dataclass
    class Warned(Message):
        text: str  # something the session went on without (a broken draft, dropped audio)

    @dataclass
    class Transcribed(Message):
        transcript: Transcript
        samples: np.ndarray | None  # float32 at ASR_RATE, kept for replay; None: none kept
        session: str | None = None  # the live session saved on disk, if any
        written: Any = None  # the transcript's asr.written.Written (None: shown as heard)

    def __init__(self, settings: Settings | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.settings = settings or Settings()
        #: The ASR model to use (repo id or folder); None = listen.toml's, else the core's
        #: default rule (``tui_speech.asr.model.default_model``).
        self.model: str | None = None
        self.transcript: Any = None
        self._written: tuple[Any, Any] = (None, None)  # (transcript, its Written as shown)
        self._samples: Any = None
        self._player = LazyPlayer()
        self._paused = threading.Event()
        #: The saved session on show (its id), which enter corrects; None for a file's transcript.
        self.session: str | None = None
        self.corrector = Corrector(self)

    def compose(self) -> ComposeResult:
        yield Static("looking for ASR models…", id="listen-state")
        yield Static(
            "F8 listens (microphone, or stdin when audio is piped in), F5 plays a file as live, "
            "ctrl+o transcribes a file, F9 lists past sessions. Every character is coloured by "
            "the model's confidence:",
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

    def on_worker_state_changed(self, event: Any) -> None:
        # The app's handler shows the error; the status line must not keep saying "loading…".
        if event.state.name == "ERROR" and event.worker.group == "transcribe":
            self.say("stopped: see the message above")
            self.query_one(ProgressBar).update(total=100, progress=0)

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
        from tui_speech.asr.model import default_model, stored_asr_models
        from tui_speech.config import load_listen_settings

        stored = stored_asr_models()
        try:
            named = load_listen_settings().model
        except UsageError:
            named = ""  # a broken listen.toml is reported when listening starts
        # The model a session will use, by the same rule as `tui-speech listen`.
        # With nothing stored that is the embedded Whisper, so there is always one.
        self.post_message(self.Found([named or default_model(stored)]))

    def on_listen_pane_found(self, message: Found) -> None:
        models = [self.model] if self.model else message.models
        state = asr_state(models)
        if models and self.piped is not None and not self.piped.ended:
            state += " · audio is piped in: F8, enter listens to it"
        self.query_one("#listen-state", Static).update(state)
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
            PromptScreen(
                "Transcribe which audio file?",
                "",
                f"or reopen a session: a .jsonl in {get_paths().sessions}, or an exported .json",
            ),
            start,
        )

    def action_sessions(self) -> None:
        """The past live sessions as a list: enter reopens one here, d deletes one."""
        from tui_speech.tui.listen.sessions_browser import SessionsScreen

        def reopen(path: Path | None) -> None:
            if path is not None:
                self.say(f"opening session {path.stem}…")
                self.query_one(TranscriptView).focus()
                self._transcribe(path, self.model)

        self.app.push_screen(SessionsScreen(), reopen)

    def action_hotwords(self) -> None:
        """Edit the hotwords the next live session or file transcription is biased towards."""
        from tui_speech.asr.live import hotwords_file
        from tui_speech.config import load_listen_settings
        from tui_speech.errors import TuiSpeechError
        from tui_speech.tui.errors import describe_error
        from tui_speech.tui.listen.hotwords import HotwordsScreen

        try:
            path = hotwords_file(load_listen_settings())
        except TuiSpeechError as exc:  # a mistake in listen.toml
            self.notify(describe_error(exc), severity="error", markup=False)
            return

        def saved(count: int | None) -> None:
            if count is not None:
                self.say(f"{count} hotword(s) saved to {path}; the next session or file uses them")

        self.app.push_screen(HotwordsScreen(path), saved)

    def _written_options(self) -> Any:
        """How the transcript is written: listen.toml's punct, itn and script."""
        from tui_speech.asr.written import WrittenOptions
        from tui_speech.config import load_listen_settings

        return WrittenOptions.of(load_listen_settings())

    def _load_recognizer(self, model: str | None) -> Any:
        """The recogniser for ``model``, as a live session would load it (listen.toml's
        backend, precision and threads; with no model, listen.toml's or the default rule)."""
        from tui_speech.asr.live import load_recognizer
        from tui_speech.config import load_listen_settings

        recognizer = load_recognizer(load_listen_settings(), model)
        self.post_message(self.ModelLoaded(recognizer.info.name, recognizer.backend.name))
        return recognizer

    @work(thread=True, exclusive=True, group="transcribe", exit_on_error=False)
    def _transcribe(self, path: Path, model: str | None) -> None:
        from tui_speech.audio.reader import probe, read_audio

        if path.suffix.lower() == ".json":  # a transcript exported with ctrl+s
            from tui_speech.tui.listen.sessions_browser import load_session

            self.post_message(self.Transcribed(*load_session(path)))
            return
        if path.suffix.lower() == ".jsonl":  # a live session (saved as it was heard)
            from tui_speech.asr import sessions
            from tui_speech.asr.written import write_session

            session = sessions.load_session(path)
            audio = read_audio(session.audio) if session.audio is not None else None
            transcript, written, _ = write_session(session, self._written_options())
            self.post_message(self.Transcribed(transcript, audio, session.id, written))
            return

        info = probe(path)  # a bad file is reported before the model loads
        recognizer = self._load_recognizer(model)

        def report(done: float) -> None:
            self.post_message(self.Progress(done, info.duration))

        transcript = recognizer.transcribe_file(path, progress=report)
        samples = read_audio(path, target_rate=recognizer.sample_rate)
        from tui_speech.asr.written import write_heard

        options = self._written_options()
        written = write_heard(transcript.chars, options, samples, recognizer.sample_rate)
        self.post_message(self.Transcribed(transcript, samples, None, written))

    def on_listen_pane_progress(self, message: Progress) -> None:
        self.query_one(ProgressBar).update(total=max(message.total, 0.001), progress=message.done)
        self.say(f"transcribing… {message.done:.0f}/{message.total:.0f} s")

    def on_listen_pane_transcribed(self, message: Transcribed) -> None:
        self.transcript = message.transcript
        self._samples = message.samples
        self.session = message.session
        t = message.transcript
        bar = self.query_one(ProgressBar)
        bar.update(total=1, progress=1)
        view = self.query_one(TranscriptView)
        view.show(t.chars, message.written)
        self._written = (t, message.written)
        view.focus()
        name = Path(t.source).name or "audio"
        if message.session:  # the id first: at 80 columns the end of the line is cut
            self.say(
                f"session {message.session} · {len(t.chars)} chars, {t.duration:.1f} s, "
                f"mean {t.confidence:.0%} · {name}"
            )
        else:
            self.say(
                f"{name}: {len(t.chars)} characters, {t.duration:.1f} s, mean {t.confidence:.0%}"
            )

    # --- live: the microphone, or a file played in real time ------------------------------------

    def action_live_file(self) -> None:
        def start(path: str | None) -> None:
            if path:
                self._start_live(Path(path).expanduser())

        self.app.push_screen(PromptScreen("Play which audio file as live?", "", "a path"), start)

    @property
    def piped(self) -> PipedAudio | None:
        """Audio piped into the app's stdin, if any (the app got it from the CLI)."""
        return getattr(self.app, "piped", None)

    def action_listen(self) -> None:
        """The source picker: stdin when audio is piped in, the input devices, a file as live."""

        def start(picked: Picked | None) -> None:
            if picked is None:
                return
            if picked.kind == "file":
                self.action_live_file()
            elif picked.kind == "stdin":
                self._start_live(None, STDIN)
            else:
                self._start_live(None, picked.device)

        self.app.push_screen(SourcePicker(self.piped), start)

    def _start_live(self, path: Path | None, device: str | None = None) -> None:
        self._paused.clear()
        self.say("loading the ASR model…")
        view = self.query_one(TranscriptView)
        view.show(())
        view.focus()
        self._live(path, device, self.model)

    def action_stop(self) -> None:
        self._paused.clear()
        self.workers.cancel_group(self, "transcribe")
        self._player.stop()

    def action_pause(self) -> None:
        """Pause or resume live listening: audio heard while paused is not transcribed."""
        if self._paused.is_set():
            self._paused.clear()
        else:
            self._paused.set()
            self.say("paused (audio now is skipped) · F6 resumes · F7 stops")

    @work(thread=True, exclusive=True, group="transcribe", exit_on_error=False)
    def _live(self, path: Path | None, device: str | None, model: str | None) -> None:
        from tui_speech.asr.live import LiveHooks, LiveSession, load_models, source_label
        from tui_speech.audio.sources import FileSource, MicrophoneSource
        from tui_speech.config import load_listen_settings

        settings = load_listen_settings()  # a mistake in listen.toml is reported first
        # The source next: a missing device or a bad file is reported before the model loads.
        piped = self.piped
        if path is not None:
            source: Any = FileSource(path, realtime=True, max_blocks=settings.queue)
        elif device == STDIN:
            source = stdin_source(piped, settings.queue)
        else:  # no such device: the error names the other sources (F5, piped audio)
            source = MicrophoneSource(device, settings.queue)
        models = load_models(settings, model)
        loaded = models.recognizer
        self.post_message(self.ModelLoaded(loaded.info.name, loaded.backend.name))
        for warning in models.warnings:
            self.post_message(self.Warned(warning))
        worker = get_current_worker()
        from tui_speech.asr.punctuation import SilenceTracker
        from tui_speech.asr.written import WrittenOptions, write, write_heard

        options = WrittenOptions.of(settings)
        tracker = SilenceTracker(ASR_RATE)  # a final's pauses, measured in the audio it had

        def on_event(event: StreamEvent) -> None:
            written = None
            if event.type == "final":
                n = len(event.chars)
                written = write(event.chars, options, [(0, n)], tracker.silences())
            self.post_message(self.LiveEvent(event, written))

        hooks = LiveHooks(
            on_event=on_event,
            on_level=lambda elapsed, rms: self.post_message(self.LiveLevel(elapsed, rms)),
            paused=self._paused.is_set,
            cancelled=lambda: worker.is_cancelled,
        )
        try:
            label = source_label(source)
            session = LiveSession(models, settings, tracker.watch(source), label, keep_audio=True)
            result = session.run(hooks)
        finally:
            if device == STDIN and piped is not None:
                remember_stdin(piped, source)
        for warning in result.warnings:
            self.post_message(self.Warned(warning))
        t = result.transcript
        # Each final is an utterance, as the VAD cut it (the marks shown while listening).
        written = write_heard(t.chars, options, result.samples, ASR_RATE, result.utterances)
        self.post_message(self.Transcribed(t, result.samples, result.session, written))
        if result.error is not None:
            raise result.error  # shown as a notification, after what came before it

    def on_listen_pane_model_loaded(self, message: ModelLoaded) -> None:
        self.query_one("#listen-state", Static).update(
            f"ASR model: {message.model} · backend {message.backend}"
        )
        self.post_message(StatusInfo("asr", f"{Path(message.model).name} ({message.backend})"))

    def on_listen_pane_live_event(self, message: LiveEvent) -> None:
        event = message.event
        view = self.query_one(TranscriptView)
        if event.type == "final":
            view.add_final(event.chars)
            if message.written is not None:
                view.add_written(message.written, len(event.chars))
        else:
            view.show_partial(event.chars, len(event.committed))

    def on_listen_pane_warned(self, message: Warned) -> None:
        self.notify(message.text, severity="warning", markup=False)

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
        rate = ASR_RATE
        self._play(self._samples[int(start * rate) : int(end * rate)], rate)

    @on(TranscriptView.EditRequested)
    def _edit(self, event: TranscriptView.EditRequested) -> None:
        self.corrector.edit(event.first, event.last)

    def action_undo_correction(self) -> None:
        """Undo the last correction made here (the session file goes back as it was)."""
        self.corrector.undo()

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
        if self.session is not None:
            # A saved session exports as `sessions export` does: the model's characters as
            # heard, the user's corrections as written spans over them.
            from tui_speech.asr.formats import render_session
            from tui_speech.asr.sessions import find_session
            from tui_speech.config import get_paths

            info = find_session(get_paths().sessions, self.session)
            atomic_write_text(path, render_session(info, fmt, self._written_options()))
        else:
            # Written as shown, if what is shown is still that transcript.
            shown, written = self._written
            written = written if shown is self.transcript else None
            atomic_write_text(path, render(self.transcript, fmt, written=written))
        self.app.call_from_thread(self.app.notify, f"exported to {path}", markup=False)

    def on_unmount(self) -> None:
        self._player.close()
