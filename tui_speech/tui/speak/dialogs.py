"""Small modal dialogs of the Speak pane: edit a token's phonemes, choose a file, name a draft."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from tui_speech.tui.prompt import DIALOG_CSS


@dataclass(frozen=True)
class ToLexicon:
    """The edit dialog's answer when the user keeps the phonemes in the lexicon (ctrl+g)."""

    phonemes: str


class PhonemeEditScreen(ModalScreen[str | ToLexicon | None]):
    """Returns the new phonemes (empty = remove the override), :class:`ToLexicon` for ctrl+g
    (save to the pronunciation lexicon), or None when cancelled."""

    DEFAULT_CSS = DIALOG_CSS.format(name="PhonemeEditScreen")
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+g", "to_lexicon", "Save to lexicon"),
    ]

    HINT = (
        "enter writes [word](/phonemes/) into the text · empty removes it · "
        "ctrl+g saves to lexicon · escape cancels"
    )

    def __init__(self, word: str, phonemes: str, hint: str | None = None) -> None:
        super().__init__()
        self.word = word
        self.phonemes = phonemes
        self.hint = hint or self.HINT

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"Phonemes for [b]{self.word}[/b]", markup=True)
            yield Input(self.phonemes, id="phonemes")
            yield Static(self.hint, classes="dialog-hint", markup=False)

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_to_lexicon(self) -> None:
        value = self.query_one(Input).value.strip()
        if value:
            self.dismiss(ToLexicon(value))

    def action_cancel(self) -> None:
        self.dismiss(None)


class SavePathScreen(ModalScreen[Path | None]):
    """Asks for a path: where to save a take or a draft (the extension picks the format), or
    which text file to open. Also asks for a draft's name (``hint`` says which)."""

    DEFAULT_CSS = DIALOG_CSS.format(name="SavePathScreen")
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    HINT = "enter saves · .wav .flac .ogg .opus or .mp3 · escape cancels"

    def __init__(self, title: str, default: Path | str, hint: str | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.default = default
        self.hint = hint or self.HINT

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.title_text, markup=False)
            yield Input(str(self.default), id="path")
            yield Static(self.hint, classes="dialog-hint", markup=False)

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        value = event.value.strip()
        self.dismiss(Path(value).expanduser() if value else None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class NameScreen(ModalScreen[str | None]):
    """Asks for a name (a new draft's); None when cancelled."""

    DEFAULT_CSS = DIALOG_CSS.format(name="NameScreen")
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, default: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.default = default

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.title_text, markup=False)
            yield Input(self.default, id="name")
            yield Static("enter creates · escape cancels", classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
