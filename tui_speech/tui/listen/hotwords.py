"""The Listen pane's hotwords editor: the term list the pane's next live session or file is
biased towards.

One term per line, optionally ``term<TAB>weight`` (the file format of ``--hotwords``). The
list is checked before it is saved (a bad weight is shown, nothing is written) and written
atomically to :func:`~tui_speech.asr.live.hotwords_file` – ``hotwords.txt`` in the config
folder unless ``listen.toml`` names another file – which is where the next session reads it.
"""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static, TextArea

from tui_speech.tui.prompt import DIALOG_CSS

HINT = "one term per line, optionally TERM<tab>WEIGHT · ctrl+s saves · escape cancels"


class HotwordsScreen(ModalScreen[int | None]):
    """Edit and save the hotwords file; returns the number of terms saved, or None."""

    DEFAULT_CSS = (
        DIALOG_CSS.format(name="HotwordsScreen")
        + """
    HotwordsScreen TextArea { height: 12; }
    HotwordsScreen #hotwords-error { color: $error; }
    """
    )
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True),
        # Priority: in an indenting TextArea escape would only move the focus.
        Binding("escape", "cancel", "Cancel", priority=True),
    ]

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    def compose(self) -> ComposeResult:
        try:
            text = self.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            text = ""  # no list yet (or an unreadable one, which saving replaces)
        with Vertical():
            yield Static(f"Hotwords for live sessions and files ({self.path})", markup=False)
            area = TextArea(text, id="hotwords-text", tab_behavior="indent")
            area.indent_type = "tabs"  # tab types the TERM<tab>WEIGHT separator
            yield area
            yield Static("", id="hotwords-error", markup=False)
            yield Static(HINT, classes="dialog-hint", markup=False)

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def action_save(self) -> None:
        from tui_speech.asr.hotwords import parse_hotwords
        from tui_speech.errors import TuiSpeechError
        from tui_speech.fileio import atomic_write_text

        text = self.query_one(TextArea).text
        try:
            terms = parse_hotwords(text, self.path.name)
            # Through a temp file and a rename: a session starting now reads the old list or
            # the new one, never half of one.
            atomic_write_text(self.path, text if text.endswith("\n") or not text else text + "\n")
        except TuiSpeechError as exc:
            self.query_one("#hotwords-error", Static).update(exc.message)
            return
        except OSError as exc:
            self.query_one("#hotwords-error", Static).update(
                f"cannot write {self.path}: {exc.strerror or exc}"
            )
            return
        self.dismiss(len(terms))

    def action_cancel(self) -> None:
        self.dismiss(None)
