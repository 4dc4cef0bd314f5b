"""The Models pane: the catalog and the store in one table; pull, verify, remove, import,
and fine-tune an ASR model (``f``, :mod:`tui_speech.tui.finetune`).

Every store operation is a blocking call of ``tui_speech.hub`` run in a thread worker; pull
reports its progress through ``PullProgress`` (high-rate, so the message can be replaced) and
stops at the next block when the cancel event is set, keeping partial files for a resume.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, ProgressBar, Static
from textual.worker import Worker

from tui_speech.tui.errors import ReportsWorkerErrors
from tui_speech.tui.prompt import ConfirmScreen, PromptScreen

if TYPE_CHECKING:
    from tui_speech.hub.manage import ModelEntry
    from tui_speech.hub.pull import PullProgress

#: Which pane uses a model of each kind (the embedded Kokoro is Speak's engine).
#: Most telling first: at 80 columns the table scrolls sideways for the rest.
COLUMNS = ("Model", "State", "Size", "Verified", "In use", "Kind", "Variants")


def human_size(n: int) -> str:
    if n <= 0:
        return "–"
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


def in_use(entries: list[ModelEntry]) -> dict[str, str]:
    """Which pane uses which model: Speak the embedded Kokoro (its ONNX engine), Listen the
    one it loads when no other is chosen (``asr.model.default_model``: the embedded Whisper
    until a wav2vec2 model is in the store)."""
    from tui_speech.asr.model import default_model
    from tui_speech.hub.embedded import EMBEDDED_ID

    used = {EMBEDDED_ID: "Speak"}
    stored = sorted(
        e.id for e in entries if e.kind == "asr" and e.present and e.source != "embedded"
    )
    used[default_model(stored)] = "Listen"
    return used


def model_row(entry: ModelEntry, size_hint: str = "", used_by: str = "") -> tuple[str, ...]:
    """One table row for a ``hub.manage.ModelEntry``."""
    if entry.present:
        size = human_size(entry.size)
        state = "embedded" if entry.source == "embedded" else "in store"
    else:
        size = f"~{size_hint.split('+')[0].strip()}" if size_hint else "–"
        state = "not pulled"
    verified = {True: "yes", False: "FAILED", None: "–"}[entry.verified]
    variants = ",".join(entry.variants) or "–"
    return (entry.id, state, size, verified, used_by or "–", entry.kind, variants)


def parity_text(parity: dict) -> str:
    """The parity record of an export in a few words."""
    parts = []
    if "max_abs_diff" in parity:
        parts.append(f"max diff {parity['max_abs_diff']:.2g}")
    for key, label in (("argmax_agreement", "argmax"), ("text_agreement", "text")):
        if key in parity:
            parts.append(f"{label} {parity[key]:.0%} same")
    if not parts:
        parts = [f"{k} {v:.3g}" for k, v in parity.items() if isinstance(v, float)][:3]
    return "parity " + (", ".join(parts) if parts else "not measured")


class ModelsPane(ReportsWorkerErrors, Vertical):
    HELP_WIDGETS = ()
    BINDINGS = [
        Binding("f5", "pull", "Pull"),
        Binding("f6", "verify", "Verify"),
        Binding("f7", "cancel", "Cancel"),
        Binding("f8", "remove", "Remove"),
        Binding("ctrl+o", "import_bundle", "Import"),
        Binding("ctrl+e", "export", "Export ONNX"),
        Binding("f", "finetune", "Fine-tune"),
        Binding("ctrl+r", "refresh", "Refresh", show=False),
    ]
    DEFAULT_CSS = """
    ModelsPane { padding: 0 1; }
    ModelsPane DataTable { height: 1fr; }
    ModelsPane #models-progress-row { height: 1; }
    ModelsPane #models-progress { width: 30; }
    ModelsPane #models-status { width: 1fr; color: $text-muted; }
    ModelsPane #models-note { color: $text-muted; height: auto; }
    """

    @dataclass
    class Listed(Message):
        rows: list[tuple[str, ...]]

    @dataclass
    class Progress(Message):
        progress: PullProgress

        def can_replace(self, message: Message) -> bool:  # only the latest byte count matters
            return isinstance(message, ModelsPane.Progress)

    @dataclass
    class Stage(Message):
        text: str

    @dataclass
    class Done(Message):
        text: str
        severity: str = "information"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._cancel = threading.Event()
        self._select_after_listing: str | None = None

    def compose(self) -> ComposeResult:
        yield DataTable(cursor_type="row", zebra_stripes=True, id="models-table")
        with Horizontal(id="models-progress-row"):
            yield ProgressBar(total=100, show_eta=False, id="models-progress")
            yield Static("", id="models-status")
        yield Static(
            "F5 pulls the selected model (or any Hub repo id) · ctrl+e builds an ONNX variant "
            "(onnx, int8, fp16) checked against PyTorch · f fine-tunes an ASR model",
            id="models-note",
        )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # The app's handler shows the error itself; the status line must not keep saying
        # "pulling…" for a pull that has failed.
        if event.state.name == "ERROR":
            self.say(f"{event.worker.name.strip('_')} failed")
            self._stop_bar()

    def _stop_bar(self) -> None:
        """An empty bar: one still sweeping after a failure or a cancel says work goes on."""
        self.query_one(ProgressBar).update(total=100, progress=0)

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns(*COLUMNS)
        # After the first frame, so listing the store never delays start-up.
        self.call_after_refresh(self.action_refresh)

    def say(self, text: str) -> None:
        self.query_one("#models-status", Static).update(text)

    @property
    def selected_id(self) -> str | None:
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return None
        return str(table.get_row_at(table.cursor_row)[0])

    # --- listing --------------------------------------------------------------------------------

    def action_refresh(self) -> None:
        self._list()

    @work(thread=True, exclusive=True, group="list", exit_on_error=False)
    def _list(self) -> None:
        from tui_speech.hub.catalog import entry_for
        from tui_speech.hub.manage import list_models

        entries = list_models()
        used = in_use(entries)
        rows = [model_row(e, entry_for(e.id).size_hint, used.get(e.id, "")) for e in entries]
        self.post_message(self.Listed(rows))

    def on_models_pane_listed(self, message: Listed) -> None:
        table = self.query_one(DataTable)
        keep = self._select_after_listing or self.selected_id
        self._select_after_listing = None
        table.clear()
        for row in message.rows:
            table.add_row(*row, key=row[0])
        ids = [row[0] for row in message.rows]
        if keep in ids:
            table.move_cursor(row=ids.index(keep))

    # --- pull -----------------------------------------------------------------------------------

    def action_pull(self) -> None:
        def start(model_id: str | None) -> None:
            if model_id:
                self.say(f"pulling {model_id}…")
                self.query_one(ProgressBar).update(total=None, progress=0)
                self._cancel = threading.Event()
                self._pull(model_id, self._cancel)

        self.app.push_screen(
            PromptScreen("Pull which model?", self.selected_id or "", "a Hub repo id"), start
        )

    @work(thread=True, exclusive=True, group="pull", exit_on_error=False)
    def _pull(self, model_id: str, cancel: threading.Event) -> None:
        from tui_speech.hub.download import DownloadCancelled
        from tui_speech.hub.pull import pull

        def report(progress: PullProgress) -> None:
            self.post_message(self.Progress(progress))

        try:
            result = pull(model_id, on_progress=report, cancel=cancel)
        except DownloadCancelled as exc:
            self.post_message(self.Done(exc.message, "warning"))
            return
        text = f"pulled {model_id}: {result.files} files, {human_size(result.size)}"
        self.post_message(self.Done(text))

    def on_models_pane_progress(self, message: Progress) -> None:
        p = message.progress
        bar = self.query_one(ProgressBar)
        if p.total:
            bar.update(total=p.total, progress=p.done)
        detail = f" {p.file}" if p.file else ""
        amount = f" {human_size(p.done)} / {human_size(p.total)}" if p.total else ""
        self.say(f"{p.model_id}: {p.stage}{detail}{amount}")

    def on_models_pane_done(self, message: Done) -> None:
        self.say(message.text)
        bar = self.query_one(ProgressBar)
        if message.severity != "information":
            self._stop_bar()
        else:  # done: a full bar, also after a pull whose sizes were never known
            bar.update(total=bar.total or 100, progress=bar.total or 100)
        self.app.notify(message.text, severity=message.severity, markup=False)  # type: ignore[arg-type]
        self.action_refresh()

    def action_cancel(self) -> None:
        self._cancel.set()
        self.say("cancelling…")

    # --- verify, remove, import -----------------------------------------------------------------

    def action_verify(self) -> None:
        model_id = self.selected_id
        if model_id:
            self.say(f"verifying {model_id}…")
            self._verify(model_id)

    @work(thread=True, exclusive=True, group="verify", exit_on_error=False)
    def _verify(self, model_id: str) -> None:
        from tui_speech.hub.manage import verify

        report = verify(model_id)
        if report.ok:
            self.post_message(self.Done(f"{model_id}: {report.checked} file(s) verified"))
        else:
            broken = ", ".join((*report.bad, *report.missing))
            text = f"{model_id}: damaged or missing: {broken}; F5 pulls it again to repair"
            self.post_message(self.Done(text, "error"))

    def action_remove(self) -> None:
        model_id = self.selected_id
        if not model_id:
            return

        def answer(yes: bool | None) -> None:
            if yes:
                self._remove(model_id)

        self.app.push_screen(ConfirmScreen(f"Remove {model_id} from the store?"), answer)

    @work(thread=True, exclusive=True, group="remove", exit_on_error=False)
    def _remove(self, model_id: str) -> None:
        from tui_speech.hub.manage import remove

        removed = remove(model_id)
        self.post_message(self.Done(f"removed {', '.join(removed)}"))

    def action_export(self) -> None:
        model_id = self.selected_id
        if not model_id:
            return

        def start(variant: str | None) -> None:
            if variant:
                quantize = None if variant == "onnx" else variant
                self.say(f"exporting {model_id} ({variant})…")
                self.query_one(ProgressBar).update(total=None, progress=0)
                self._export(model_id, quantize)

        self.app.push_screen(
            PromptScreen(f"Export {model_id} as", "onnx", "onnx, int8 or fp16"), start
        )

    @work(thread=True, exclusive=True, group="export", exit_on_error=False)
    def _export(self, model_id: str, quantize: str | None) -> None:
        from tui_speech.asr import export as asr_export
        from tui_speech.hub.export import export
        from tui_speech.tts import export as tts_export

        def started(what: str) -> None:
            self.post_message(self.Stage(what))

        builders = {"asr": asr_export.build, "tts": tts_export.build}
        result = export(model_id, quantize, on_start=started, builders=builders)
        self.post_message(self.Done(f"exported {result.path.name}: {parity_text(result.parity)}"))

    def on_models_pane_stage(self, message: Stage) -> None:
        self.say(message.text)

    def action_import_bundle(self) -> None:
        def start(path: str | None) -> None:
            if path:
                self.say(f"importing {path}…")
                self._import(Path(path))

        self.app.push_screen(
            PromptScreen("Import a bundle (tar file or unpacked folder)", "", "a path"), start
        )

    @work(thread=True, exclusive=True, group="import", exit_on_error=False)
    def _import(self, path: Path) -> None:
        from tui_speech.hub.bundle import import_bundle

        info = import_bundle(path)
        self.post_message(self.Done(f"imported {info.model_id}: {info.files} files"))

    # --- fine-tune ------------------------------------------------------------------------------

    def action_finetune(self) -> None:
        from tui_speech.tui.finetune import FinetuneScreen

        if isinstance(self.app.screen, FinetuneScreen):
            return
        table = self.query_one(DataTable)
        row = table.get_row_at(table.cursor_row) if table.row_count else None
        # Fine-tuning adapts an ASR model: a TTS row leaves the base to the default ASR model.
        base = str(row[0]) if row is not None and str(row[COLUMNS.index("Kind")]) == "asr" else ""
        self.app.push_screen(FinetuneScreen(base, on_registered=self.model_registered))

    def model_registered(self, model_id: str) -> None:
        """A fine-tuned model was registered: list it, with the cursor on it."""
        self._select_after_listing = model_id
        self.action_refresh()
