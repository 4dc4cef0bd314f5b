"""F1: every key binding of the app, grouped by where it works."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from tui_speech.tui.keymap import key_actions


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical {
        width: 90%; max-width: 100; height: 90%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    HelpScreen DataTable { height: 1fr; }
    HelpScreen .help-hint { color: $text-muted; }
    """
    BINDINGS = [
        Binding("escape,f1,q", "dismiss", "Close help"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("[b]Keys[/b] – everything also works from the command palette (ctrl+p)")
            yield DataTable(cursor_type="row", zebra_stripes=True, id="help-table")
            yield Static("escape closes this help", classes="help-hint")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Where", "Key", "Action")
        for action in key_actions(self.app):
            table.add_row(action.scope, action.key, action.description)
        table.focus()

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
