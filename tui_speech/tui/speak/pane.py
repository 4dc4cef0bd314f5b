"""The Speak pane: text editor, language/voice/speed, live phonemes, synthesis, takes.

Heavy work runs in thread workers: G2P (spaCy/misaki take seconds to load the first time) and
synthesis (Kokoro through onnxruntime, imported at the first synthesis, never at start-up).
Playback goes through one long-lived ``Player`` thread; chunks are queued as they are made, so
audio starts with the first chunk.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input, ProgressBar, Select, Static, TextArea
from textual.worker import get_current_worker

from tui_speech.audio.rates import TTS_RATE
from tui_speech.errors import Action, AudioDeviceError, UsageError
from tui_speech.tts.g2p import LANGUAGES, G2PResult
from tui_speech.tui.errors import ReportsWorkerErrors, action_words
from tui_speech.tui.messages import ErrorRaised, StatusInfo
from tui_speech.tui.player import LazyPlayer
from tui_speech.tui.speak.blend import BlendScreen
from tui_speech.tui.speak.dialogs import PhonemeEditScreen, SavePathScreen
from tui_speech.tui.speak.overrides import apply_override, token_spans
from tui_speech.tui.speak.preview import PhonemePreview
from tui_speech.tui.speak.takes import Take, TakesList
from tui_speech.tui.speak.voice_select import VoiceSelect
from tui_speech.tui.state import Settings, load_draft, save_draft, save_settings

G2P_DEBOUNCE_S = 0.3
DRAFT_DEBOUNCE_S = 1.0


#: Seconds after the pane mounts before the models load in the background.
WARM_UP_DELAY_S = 1.5


def engine_label(engine: Any) -> str:
    """ "Kokoro-82M int8" (or fp16, fp32): which embedded variant the engine runs."""
    path = getattr(engine, "model_path", None)
    if path is None:
        return f"Kokoro-82M ({getattr(engine, 'name', '?')})"
    from tui_speech.hub.manage import onnx_variant

    variant = onnx_variant(Path(path)).removeprefix("onnx-")
    return f"Kokoro-82M {'fp32' if variant == 'onnx' else variant}"


def speed_range() -> tuple[float, float]:
    """The speeds Kokoro takes (``tts.engine``'s range; imported when first needed, with numpy)."""
    from tui_speech.tts.engine import MAX_SPEED, MIN_SPEED

    return MIN_SPEED, MAX_SPEED


def parse_speed(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        low, high = speed_range()
        raise UsageError(f"speed {text!r} is not a number", f"use {low} to {high}") from None


class SpeakPane(ReportsWorkerErrors, Vertical):
    HELP_WIDGETS = (PhonemePreview, TakesList)
    BINDINGS = [
        # Priority: the TextArea binds F6/F7 (select line/all), these must win in the editor.
        Binding("f5", "play", "Play", priority=True),
        Binding("f6", "synthesize", "Synth", priority=True),
        Binding("f7", "stop", "Stop", priority=True),
        Binding("ctrl+s", "save_take", "Save"),
        Binding("ctrl+b", "blend", "Blend"),
        Binding("ctrl+g", "focus_phonemes", "Phonemes"),
        Binding("ctrl+t", "focus_takes", "Takes", show=False),
        Binding("ctrl+e", "focus_editor", "Editor", show=False),
    ]

    @dataclass
    class PhonemesReady(Message):
        text: str
        lang: str
        result: G2PResult

    @dataclass
    class Progress(Message):
        done: int
        total: int
        chunks: int

        def can_replace(self, message: Message) -> bool:  # only the latest position matters
            return isinstance(message, SpeakPane.Progress)

    @dataclass
    class TakeReady(Message):
        take: Take
        stopped: bool

    @dataclass
    class Notice(Message):
        text: str
        severity: str = "information"

    def __init__(self, settings: Settings, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.settings = settings
        if settings.lang not in LANGUAGES:  # a hand-edited settings file must not break G2P
            settings.lang = "en-us"
        self._g2p_timer: Timer | None = None
        self._draft_timer: Timer | None = None
        self._g2p_ready: set[str] = set()
        self._player = LazyPlayer()
        self._takes = 0
        self.audio_problem: str | None = None

    # --- layout ---------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="speak-controls"):
            yield Select(
                [(f"{name} ({code})", code) for code, name in LANGUAGES.items()],
                value=self.settings.lang,
                allow_blank=False, id="speak-lang",
            )  # fmt: skip
            yield VoiceSelect(self.settings.voice, id="speak-voice")
            yield Input(f"{self.settings.speed:g}", id="speak-speed", placeholder="speed")
        with Horizontal(id="speak-main"):
            # Kept as an attribute: the draft is saved on unmount, after children are gone.
            self._saved_draft = load_draft()
            self._editor = TextArea(self._saved_draft, id="speak-editor", soft_wrap=True)
            yield self._editor
            yield TakesList(id="speak-takes")
        yield PhonemePreview(id="speak-preview")
        with Horizontal(id="speak-status"):
            yield ProgressBar(total=100, show_eta=False, id="speak-progress")
            yield Static("F5 play · F6 synthesize · ctrl+s save", id="speak-message")

    def on_mount(self) -> None:
        self.query_one("#speak-speed").border_title = "speed"
        self.query_one("#speak-takes").border_title = "takes"
        self.query_one("#speak-preview").border_title = "phonemes"
        if self.editor.text.strip():
            self._start_g2p()
        # After the first frames, not before: loading spaCy and onnxruntime holds the GIL for a
        # second or two, which would delay the app's first paint and its first keys.
        self.set_timer(
            WARM_UP_DELAY_S, lambda: self._warm_up(self.settings.lang, self.settings.voice)
        )

    @work(thread=True, exclusive=True, group="warm", exit_on_error=False)
    def _warm_up(self, lang: str, voice: str) -> None:
        """G2P, voice and engine loaded (and run once) before the first F6, so it sounds at
        once. A failure here is said again, with its reason, when the user synthesizes."""
        from tui_speech.errors import TuiSpeechError
        from tui_speech.tts.pipeline import Pipeline

        try:
            Pipeline(lang, voice or None).warm_up()
        except TuiSpeechError:
            return

    @property
    def editor(self) -> TextArea:
        return self._editor

    @property
    def preview(self) -> PhonemePreview:
        return self.query_one(PhonemePreview)

    def say(self, text: str) -> None:
        self.query_one("#speak-message", Static).update(text)

    @property
    def voice_select(self) -> VoiceSelect:
        return self.query_one(VoiceSelect)

    def pane_shown(self) -> None:
        """The app shows this pane: voices pulled meanwhile (Models pane) join the list."""
        if self.voice_select.loaded:
            self.voice_select.reload(self.settings.voice)

    def refresh_voices(self, select: str | None = None) -> None:
        self.voice_select.reload(select)

    def set_audio_state(self, problem: str | None) -> None:
        """Called by the app once it knows whether there is an output device."""
        self.audio_problem = problem
        if problem:
            self.say(f"{problem}: ctrl+s saves takes")

    # --- settings and draft ---------------------------------------------------------------------

    @on(Select.Changed, "#speak-lang")
    def _lang_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and event.value != self.settings.lang:
            self.settings.lang = event.value
            save_settings(self.settings)
            self._start_g2p()

    @on(Select.Changed, "#speak-voice")
    def _voice_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and event.value != self.settings.voice:
            self.settings.voice = event.value
            save_settings(self.settings)

    @on(Input.Changed, "#speak-speed")
    def _speed_changed(self, event: Input.Changed) -> None:
        try:
            speed = float(event.value)
        except ValueError:
            return  # reported when the user synthesizes, not on every keystroke
        low, high = speed_range()
        if low <= speed <= high and speed != self.settings.speed:
            self.settings.speed = speed
            save_settings(self.settings)

    @on(TextArea.Changed, "#speak-editor")
    def _text_changed(self) -> None:
        for timer in (self._g2p_timer, self._draft_timer):
            if timer is not None:
                timer.stop()
        self._g2p_timer = self.set_timer(G2P_DEBOUNCE_S, self._start_g2p)
        self._draft_timer = self.set_timer(DRAFT_DEBOUNCE_S, self.save_draft_now)

    def save_draft_now(self) -> None:
        text = self.editor.text
        if text != self._saved_draft:  # opening and closing the app writes nothing
            save_draft(text)
            self._saved_draft = text

    def on_unmount(self) -> None:
        self.save_draft_now()
        self._player.close()

    # --- phoneme preview ------------------------------------------------------------------------

    def _start_g2p(self) -> None:
        lang = self.settings.lang
        if lang not in self._g2p_ready:
            self.preview.show_status(f"loading G2P for {lang}… (the first time takes seconds)")
        self._phonemize(self.editor.text, lang)

    @work(thread=True, exclusive=True, group="g2p", exit_on_error=False)
    def _phonemize(self, text: str, lang: str) -> None:
        from tui_speech.tts.g2p import phonemize

        result = phonemize(text, lang)
        if not get_current_worker().is_cancelled:
            self.post_message(self.PhonemesReady(text, lang, result))

    def on_speak_pane_phonemes_ready(self, message: PhonemesReady) -> None:
        self._g2p_ready.add(message.lang)
        # A slow result for text that has changed since would show stale phonemes.
        if message.text == self.editor.text and message.lang == self.settings.lang:
            self.preview.show_result(message.result)

    @on(PhonemePreview.EditRequested)
    def _edit_phonemes(self, event: PhonemePreview.EditRequested) -> None:
        token = event.result.tokens[event.index]
        text = self.editor.text
        span = token_spans(text, event.result.tokens)[event.index]
        if span is None or event.result.text != text:
            self.post_message(
                ErrorRaised(UsageError(f"cannot find {token.grapheme!r} in the text"), "edit")
            )
            return

        def write(phonemes: str | None) -> None:
            if phonemes is None:
                return
            try:
                new_text = apply_override(self.editor.text, span, phonemes)
            except UsageError as exc:
                self.post_message(ErrorRaised(exc, "edit"))
                return
            self.editor.load_text(new_text)
            self._text_changed()
            self.preview.focus()

        self.app.push_screen(PhonemeEditScreen(token.grapheme, token.phonemes), write)

    # --- synthesis and playback -----------------------------------------------------------------

    def action_play(self) -> None:
        self._synthesize(play=True)

    def action_synthesize(self) -> None:
        self._synthesize(play=False)

    def _synthesize(self, play: bool) -> None:
        try:
            speed = parse_speed(self.query_one("#speak-speed", Input).value)
        except UsageError as exc:
            self.post_message(ErrorRaised(exc, "speed"))
            return
        self.query_one(ProgressBar).update(total=100, progress=0)
        self.say("loading the model…" if not self._takes else "synthesizing…")
        self._synthesis(self.editor.text, self.settings.lang, self.settings.voice, speed, play)

    @work(thread=True, exclusive=True, group="synth", exit_on_error=False)
    def _synthesis(self, text: str, lang: str, voice: str, speed: float, play: bool) -> None:
        import numpy as np

        from tui_speech.tts.pipeline import Pipeline

        worker = get_current_worker()
        pipeline = Pipeline(lang, voice or None, speed)  # validates voice and speed first
        self.post_message(StatusInfo("tts", engine_label(pipeline.load())))
        player = self._get_player() if play else None
        total = max(1, len(text.strip()))
        done, chunks, rate = 0, [], TTS_RATE
        for chunk in pipeline(text):
            if worker.is_cancelled:
                break
            chunks.append(chunk.audio)
            rate = chunk.sample_rate
            if player is not None:
                player.play_chunk(chunk.audio, chunk.sample_rate)
            done = min(total, done + len(chunk.graphemes) + 1)
            self.post_message(self.Progress(done, total, len(chunks)))
        if chunks:
            audio = np.concatenate(chunks).astype(np.float32)
            take = Take(0, text, lang, voice or pipeline.voice, speed, audio, rate)
            self.post_message(self.TakeReady(take, worker.is_cancelled))

    def _get_player(self) -> Any:
        """The playback thread, or None (with a notice) when there is no audio output."""
        try:
            return self._player.get()
        except AudioDeviceError as exc:
            # Here the fix is always the same: the take is kept and can be saved.
            save = action_words(Action("save-audio"))
            self.post_message(self.Notice(f"{exc.reason}; {save}", "warning"))
            return None

    def on_speak_pane_notice(self, message: Notice) -> None:
        self.say(message.text)
        self.app.notify(message.text, severity=message.severity, markup=False)  # type: ignore[arg-type]

    def on_speak_pane_progress(self, message: Progress) -> None:
        self.query_one(ProgressBar).update(total=message.total, progress=message.done)
        self.say(f"synthesized {message.chunks} chunk(s)…")

    def on_speak_pane_take_ready(self, message: TakeReady) -> None:
        self._takes += 1
        take = dataclasses.replace(message.take, number=self._takes)
        self.query_one(TakesList).add_take(take)
        bar = self.query_one(ProgressBar)
        bar.update(progress=bar.total or 100)
        state = "stopped" if message.stopped else "done"
        silent = " (no audio output)" if self.audio_problem or self._player.problem else ""
        self.say(f"{state}: take #{take.number}, {take.duration:.1f} s{silent} · ctrl+s save")

    def action_stop(self) -> None:
        self.workers.cancel_group(self, "synth")
        self._player.stop()
        self.say("stopped")

    @on(TakesList.PlayRequested)
    def _play_requested(self, event: TakesList.PlayRequested) -> None:
        self.play_take(event.take)

    @work(thread=True, exclusive=True, group="playback", exit_on_error=False)
    def play_take(self, take: Take) -> None:
        player = self._get_player()
        if player is not None:
            player.play_chunk(take.audio, take.sample_rate)

    def action_save_take(self) -> None:
        take = self.query_one(TakesList).selected_take
        if take is None:
            self.post_message(ErrorRaised(UsageError("no take yet: synthesize with F6"), "save"))
            return
        default = Path.cwd() / f"take-{take.number}.wav"

        def save(path: Path | None) -> None:
            if path is not None:
                self._write_take(take, path)

        self.app.push_screen(SavePathScreen(f"Save take #{take.number} as", default), save)

    @work(thread=True, group="save", exit_on_error=False)
    def _write_take(self, take: Take, path: Path) -> None:
        from tui_speech.audio.writer import write_audio

        written = write_audio(path, take.audio, take.sample_rate)
        self.post_message(self.Notice(f"saved take #{take.number} to {written}"))

    # --- focus and dialogs ----------------------------------------------------------------------

    def action_blend(self) -> None:
        from tui_speech.tts.voices import voice_names

        def use(voice: str | None) -> None:
            if voice is not None:
                self.refresh_voices(voice)

        self.app.push_screen(BlendScreen(voice_names(), self.settings.voice), use)

    def action_focus_phonemes(self) -> None:
        self.preview.focus()

    def action_focus_takes(self) -> None:
        self.query_one(TakesList).focus()

    def action_focus_editor(self) -> None:
        self.editor.focus()
