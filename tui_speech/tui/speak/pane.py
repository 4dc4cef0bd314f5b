"""The Speak pane: drafts, text editor, language/voice/speed, live phonemes, synthesis, takes.

The text is a draft (``tts.drafts``): named, autosaved with its settings and its sentence takes,
switched in the drafts selector, opened from and saved to .txt/.md files. F6 renders the draft
sentence by sentence, reusing every sentence's take that still fits (the sentences list shows
which); a sentence can be re-rendered, locked or played from, and the draft exported whole or
per chapter, through the same core functions as ``speak --file``.

The pane holds the widgets, the draft and the keys; what the keys do lives beside it, one
helper per concern, each holding the pane: the live phonemes (``phonemes.py``), the draft
commands (``draft_commands.py``), synthesis into takes (``synthesis.py``), playback
(``playback.py``) and proof-listening (``proof.py``). Heavy work runs in thread workers started
on the pane, so F7 and a switch of drafts cancel them by group, and their errors are reported
in one place. A long draft's take is kept as its sentence takes' files, not one array
(``takes.py``), and played or saved from them piece by piece.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input, ProgressBar, Select, Static, TextArea

from tui_speech.errors import UsageError
from tui_speech.tts.drafts import Draft, DraftStore, Unit, draft_units
from tui_speech.tts.g2p import LANGUAGES, G2PResult
from tui_speech.tui.errors import ReportsWorkerErrors
from tui_speech.tui.messages import ErrorRaised
from tui_speech.tui.speak.blend import BlendScreen
from tui_speech.tui.speak.draft_commands import DraftCommands, open_drafts
from tui_speech.tui.speak.phonemes import LivePhonemes
from tui_speech.tui.speak.playback import TakePlayback
from tui_speech.tui.speak.preview import PhonemePreview
from tui_speech.tui.speak.proof import ProofListening
from tui_speech.tui.speak.sentences import SentencesList
from tui_speech.tui.speak.synthesis import TakeMaker, speed_range
from tui_speech.tui.speak.takes import Take, TakesList
from tui_speech.tui.speak.voice_select import VoiceSelect
from tui_speech.tui.speak.waveform import TakeWaveform
from tui_speech.tui.state import Settings, save_settings

G2P_DEBOUNCE_S = 0.3
DRAFT_DEBOUNCE_S = 1.0


class SpeakPane(ReportsWorkerErrors, Vertical):
    HELP_WIDGETS = (PhonemePreview, SentencesList, TakesList)
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
        Binding("ctrl+l", "proof_listen", "Proof-listen"),
        Binding("shift+f6", "fix_in_lexicon", "Fix in lexicon", show=False),
        Binding("ctrl+n", "new_draft", "New draft", show=False),
        Binding("ctrl+o", "open_draft", "Open .txt/.md", show=False),
        Binding("f8", "export_draft", "Export", show=False),
        Binding("shift+f8", "export_chapters", "Export chapters", show=False),
        Binding("f9", "save_draft_text", "Save text", show=False),
        Binding("ctrl+r", "focus_sentences", "Sentences", show=False),
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
    class DraftChanged(Message):
        """A render saved a take: the sentences list shows it."""

        draft: Draft

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
        self.audio_problem: str | None = None
        self.store = DraftStore()
        self.draft = open_drafts(self.store, settings)
        self._apply_draft_settings(self.draft)
        self.phonemes = LivePhonemes(self)
        self.draft_commands = DraftCommands(self)
        self.take_maker = TakeMaker(self)
        self.playback = TakePlayback(self)
        self.proof = ProofListening(self)

    # --- layout ---------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="speak-controls"):
            yield Select(
                [(name, name) for name in self.store.names()],
                value=self.draft.name, allow_blank=False, id="speak-draft",
            )  # fmt: skip
            yield Select(
                [(f"{name} ({code})", code) for code, name in LANGUAGES.items()],
                value=self.settings.lang,
                allow_blank=False, id="speak-lang",
            )  # fmt: skip
            yield VoiceSelect(self.settings.voice, id="speak-voice")
            yield Input(f"{self.settings.speed:g}", id="speak-speed", placeholder="speed")
        with Horizontal(id="speak-main"):
            # Kept as an attribute: the draft is saved on unmount, after children are gone.
            self._saved_draft = self.draft.text
            self._editor = TextArea(self._saved_draft, id="speak-editor", soft_wrap=True)
            yield self._editor
            with Vertical(id="speak-side"):
                yield SentencesList(id="speak-sentences")
                yield TakesList(id="speak-takes")
        yield PhonemePreview(id="speak-preview")
        yield TakeWaveform(id="speak-wave")
        with Horizontal(id="speak-status"):
            yield ProgressBar(total=100, show_eta=False, id="speak-progress")
            yield Static("F5 play · F6 synthesize · ctrl+s save", id="speak-message")

    def on_mount(self) -> None:
        self.query_one("#speak-speed").border_title = "speed"
        self.query_one("#speak-takes").border_title = "takes"
        self.query_one("#speak-draft").border_title = "draft"
        self.query_one("#speak-sentences").border_title = "sentences"
        side = self.query_one("#speak-side")
        side.styles.width = 34
        self.query_one("#speak-draft").styles.width = 18
        self.show_sentences()
        self.query_one("#speak-preview").border_title = "phonemes"
        if self.editor.text.strip():
            self.phonemes.start()
        self.take_maker.warm_up_soon()

    @property
    def editor(self) -> TextArea:
        return self._editor

    @property
    def preview(self) -> PhonemePreview:
        return self.query_one(PhonemePreview)

    def say(self, text: str) -> None:
        self.query_one("#speak-message", Static).update(text)

    def selected_take(self, action: str) -> Take | None:
        """The take selected in the list, or None after telling the user there is none yet
        (``action``: what wanted it, as the error names it)."""
        take = self.query_one(TakesList).selected_take
        if take is None:
            self.post_message(ErrorRaised(UsageError("no take yet: synthesize with F6"), action))
        return take

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
            self.draft = self.store.update(self.draft.name, lang=event.value)
            self.phonemes.start()
            self.show_sentences()

    @on(Select.Changed, "#speak-voice")
    def _voice_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and event.value != self.settings.voice:
            self.settings.voice = event.value
            save_settings(self.settings)
            self.draft = self.store.update(self.draft.name, voice=event.value)
            self.show_sentences()

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
        if low <= speed <= high and speed != self.draft.speed:
            self.draft = self.store.update(self.draft.name, speed=speed)
            self.show_sentences()

    @on(TextArea.Changed, "#speak-editor")
    def text_changed(self) -> None:
        """The text changed: phonemes and the autosave follow once typing pauses."""
        for timer in (self._g2p_timer, self._draft_timer):
            if timer is not None:
                timer.stop()
        self._g2p_timer = self.set_timer(G2P_DEBOUNCE_S, self.phonemes.start)
        self._draft_timer = self.set_timer(DRAFT_DEBOUNCE_S, self._autosave)

    def save_draft_now(self) -> None:
        text = self.editor.text
        if text != self._saved_draft:  # opening and closing the app writes nothing
            self.draft = self.store.update(self.draft.name, text=text)
            self._saved_draft = text

    def _autosave(self) -> None:
        self.save_draft_now()
        self.show_sentences()

    def _apply_draft_settings(self, draft: Draft) -> None:
        """A draft carries its own language, voice and speed; the pane takes them on."""
        if draft.lang in LANGUAGES:
            self.settings.lang = draft.lang
        self.settings.voice = draft.voice
        self.settings.speed = draft.speed

    def show_sentences(self) -> None:
        try:
            units = draft_units(self.draft.text)
        except UsageError as exc:  # a malformed pause tag: said here, and again on F6
            self.say(exc.message)
            units = []
        self.query_one(SentencesList).show(self.draft, units)

    @property
    def units(self) -> list[Unit]:
        return self.query_one(SentencesList).units

    def switch_draft(self, name: str) -> None:
        self.save_draft_now()
        self.workers.cancel_group(self, "synth")
        self.draft = self.store.prune(name)  # takes of sentences no longer in the text go
        self.store.current = name
        self._apply_draft_settings(self.draft)
        save_settings(self.settings)
        self._saved_draft = self.draft.text
        self.editor.load_text(self.draft.text)
        self.query_one("#speak-lang", Select).value = self.settings.lang
        voice = self.settings.voice or None
        if self.voice_select.loaded:
            self.voice_select.reload(voice)
        else:  # the full list is read when the selector is first used
            self.voice_select._set_options([("default voice", "")], voice)
        self.query_one("#speak-speed", Input).value = f"{self.settings.speed:g}"
        draft_select = self.query_one("#speak-draft", Select)
        with draft_select.prevent(Select.Changed):  # or this would switch drafts again
            draft_select.set_options([(n, n) for n in self.store.names()])
            draft_select.value = name
        self.show_sentences()  # the new text's phonemes follow from load_text's change
        self.say(f"draft {name!r}")

    @on(Select.Changed, "#speak-draft")
    def _draft_chosen(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and event.value != self.draft.name:
            self.switch_draft(event.value)

    def action_new_draft(self) -> None:
        self.draft_commands.new()

    def action_open_draft(self) -> None:
        self.draft_commands.open_file()

    def action_save_draft_text(self) -> None:
        self.draft_commands.save_text()

    def action_export_draft(self) -> None:
        self.draft_commands.export(chapters=False)

    def action_export_chapters(self) -> None:
        self.draft_commands.export(chapters=True)

    def on_speak_pane_draft_changed(self, message: DraftChanged) -> None:
        if message.draft.name == self.draft.name:
            self.draft = message.draft
            self.show_sentences()

    @on(SentencesList.Requested)
    def _sentence_requested(self, event: SentencesList.Requested) -> None:
        if event.what == "play":
            self.take_maker.start(play=True, start=event.index)
        elif event.what == "rerender":
            self.take_maker.start(play=False, redo=frozenset({event.index}))
        elif event.what == "lock":
            self.draft_commands.lock(event.index)

    def on_unmount(self) -> None:
        self.save_draft_now()
        self.playback.close()

    # --- phoneme preview (tui/speak/phonemes.py) ------------------------------------------------

    def on_speak_pane_phonemes_ready(self, message: PhonemesReady) -> None:
        self.phonemes.show(message.text, message.lang, message.result)

    @on(PhonemePreview.EditRequested)
    def _edit_phonemes(self, event: PhonemePreview.EditRequested) -> None:
        self.phonemes.edit(event.result, event.index)

    # --- synthesis and playback (tui/speak/synthesis.py, playback.py) ---------------------------

    def action_play(self) -> None:
        self.take_maker.start(play=True)

    def action_synthesize(self) -> None:
        self.take_maker.start(play=False)

    def on_speak_pane_notice(self, message: Notice) -> None:
        self.say(message.text)
        self.app.notify(message.text, severity=message.severity, markup=False)  # type: ignore[arg-type]

    def on_speak_pane_progress(self, message: Progress) -> None:
        self.query_one(ProgressBar).update(total=message.total, progress=message.done)
        self.say(f"rendered {message.done} of {message.total} sentence(s)…")

    def on_speak_pane_take_ready(self, message: TakeReady) -> None:
        self.take_maker.add(message.take, message.stopped)

    def action_stop(self) -> None:
        self.workers.cancel_group(self, "synth")
        self.workers.cancel_group(self, "playback")
        self.playback.stop()
        self.say("stopped")

    @on(TakesList.PlayRequested)
    def _play_requested(self, event: TakesList.PlayRequested) -> None:
        self.playback.play(event.take)

    def action_save_take(self) -> None:
        self.take_maker.save_selected()

    # --- proof-listen (tui/speak/proof.py) ------------------------------------------------------

    def action_proof_listen(self) -> None:
        self.proof.start()

    def action_fix_in_lexicon(self) -> None:
        self.proof.fix_first()

    # --- focus and dialogs ----------------------------------------------------------------------

    def action_blend(self) -> None:
        from tui_speech.tts.voices import voice_names

        def use(voice: str | None) -> None:
            if voice is not None:
                self.refresh_voices(voice)

        self.app.push_screen(BlendScreen(voice_names(), self.settings.voice), use)

    def action_focus_sentences(self) -> None:
        self.query_one(SentencesList).focus()

    def action_focus_phonemes(self) -> None:
        self.preview.focus()

    def action_focus_takes(self) -> None:
        self.query_one(TakesList).focus()

    def action_focus_editor(self) -> None:
        self.editor.focus()
