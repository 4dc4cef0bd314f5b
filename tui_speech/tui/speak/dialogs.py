"""Small modal dialogs of the Speak pane: edit a token's phonemes, choose a file to save to."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from tui_speech.tui.prompt import DIALOG_CSS


class PhonemeEditScreen(ModalScreen[str | None]):
    """Returns the new phonemes (empty = remove the override), or None when cancelled."""

    DEFAULT_CSS = DIALOG_CSS.format(name="PhonemeEditScreen")
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, word: str, phonemes: str) -> None:
        super().__init__()
        self.word = word
        self.phonemes = phonemes

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"Phonemes for [b]{self.word}[/b]", markup=True)
            yield Input(self.phonemes, id="phonemes")
            yield Static(
                "enter writes [word](/phonemes/) into the text · empty removes it · escape cancels",
                classes="dialog-hint",
            )

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class SavePathScreen(ModalScreen[Path | None]):
    """Asks where to save a take; the extension picks the format (.wav, .flac, .ogg)."""

    DEFAULT_CSS = DIALOG_CSS.format(name="SavePathScreen")
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, default: Path) -> None:
        super().__init__()
        self.title_text = title
        self.default = default

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.title_text, markup=False)
            yield Input(str(self.default), id="path")
            yield Static("enter saves · .wav .flac or .ogg · escape cancels", classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        value = event.value.strip()
        self.dismiss(Path(value).expanduser() if value else None)

    def action_cancel(self) -> None:
        self.dismiss(None)
