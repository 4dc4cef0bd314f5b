"""The Models pane: the models this install can use, and their state in the store.

Today that is the embedded Kokoro-82M (assembled from its PyPI parts on first use). The model
store and Hub downloads (tui_speech.hub: catalog, pull, verify, remove) are wired in as they land.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Static

from tui_speech.tui.errors import ReportsWorkerErrors


@dataclass(frozen=True)
class ModelRow:
    model_id: str
    task: str
    size: str
    state: str
    used_by: str


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n else "–"


def embedded_row() -> ModelRow:
    """The embedded Kokoro as the store has it now; reading this never assembles anything."""
    from tui_speech.hub import embedded

    path = embedded.model_dir() / embedded.MODEL_FILENAME
    marker = path.with_name(path.name + ".verified")
    if path.is_file() and marker.is_file():
        state = "ready (verified)"
    elif path.is_file():
        state = "present, not verified"
    else:
        state = "not assembled (F8 builds it)"
    size = path.stat().st_size if path.is_file() else 0
    return ModelRow(embedded.EMBEDDED_ID, "TTS", _size(size), state, "Speak")


class ModelsPane(ReportsWorkerErrors, Vertical):
    HELP_WIDGETS = ()
    BINDINGS = [
        Binding("f8", "verify", "Verify"),
        Binding("ctrl+r", "refresh", "Refresh", show=False),
    ]
    DEFAULT_CSS = """
    ModelsPane { padding: 0 1; }
    ModelsPane DataTable { height: auto; max-height: 1fr; }
    ModelsPane #models-note { color: $text-muted; margin-top: 1; }
    ModelsPane #models-status { color: $text-muted; }
    """

    @dataclass
    class Verified(Message):
        ok: bool

    def compose(self) -> ComposeResult:
        yield DataTable(cursor_type="row", id="models-table")
        yield Static("", id="models-status")
        yield Static(
            "Downloading ASR and Kokoro models from the Hub (pull, cancel, verify, remove, ONNX "
            "export) is not in this build yet: the model store (tui_speech.hub) has not landed.",
            id="models-note",
        )

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Model", "Task", "Size", "State", "Used by")
        self.action_refresh()

    def action_refresh(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        row = embedded_row()
        table.add_row(row.model_id, row.task, row.size, row.state, row.used_by)

    def action_verify(self) -> None:
        self.query_one("#models-status", Static).update("verifying the embedded model…")
        self._verify()

    @work(thread=True, exclusive=True, group="verify", exit_on_error=False)
    def _verify(self) -> None:
        from tui_speech.hub.embedded import embedded_model_path

        # Assembles the model if needed and checks its SHA-256; raises ModelMissingError if bad.
        embedded_model_path()
        self.post_message(self.Verified(True))

    def on_models_pane_verified(self, message: Verified) -> None:
        self.query_one("#models-status", Static).update("the embedded model is verified")
        self.action_refresh()
