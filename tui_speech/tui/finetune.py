"""The fine-tuning screen: a form for ``tui-speech finetune`` and the progress of the run.

Opened from the Models pane (``f`` on an ASR model row, or the command palette). The form has
the CLI's defaults; the dataset folder is checked as it is typed (the core's
:func:`~tui_speech.asr.dataset.open_dataset`); the full validation against the model's
vocabulary happens when the run starts, and its errors become notifications. F6 takes the
sessions with corrections as the source: their corrected utterances are written as a dataset
(:func:`~tui_speech.asr.corrections.sessions_dataset`, as ``dataset from-sessions --all``) and
its folder goes into the dataset field.

The run is :func:`tui_speech.asr.finetune.finetune` in a thread worker (torch is imported there,
never before). Its progress callback posts :class:`FinetuneScreen.Progress` messages; cancel sets
the run's ``stop`` event, which the core handles exactly as Ctrl-C in the CLI: the step in
progress finishes, a checkpoint is written, nothing is registered, and starting again with the
same settings resumes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.validation import Function, Integer, ValidationResult, Validator
from textual.widgets import Checkbox, Footer, Header, Input, Log, ProgressBar, Static
from textual.worker import Worker, WorkerState

from tui_speech.asr.finetune_config import FinetuneConfig, default, number_text
from tui_speech.errors import TuiSpeechError
from tui_speech.tui.errors import ReportsWorkerErrors, describe_error

if TYPE_CHECKING:
    from tui_speech.asr.finetune import TrainProgress  # numpy: loaded when a run starts

#: The run's defaults, as the CLI's flags have them (both come from ``FinetuneConfig``).
DEFAULT_EPOCHS = number_text(default("epochs"))
DEFAULT_LR = number_text(default("lr"))
DEFAULT_BATCH_SECONDS = number_text(default("batch_seconds"))
#: A step line goes to the log every this many steps (every step's numbers are on the bar).
LOG_EVERY = 10


class DatasetFolder(Validator):
    """A folder the core recognises as a dataset (transcripts.tsv or the Common Voice layout)."""

    def validate(self, value: str) -> ValidationResult:
        from tui_speech.asr.dataset import open_dataset

        if not value.strip():
            return self.failure("give the dataset folder (transcripts.tsv, or clips/ + train.tsv)")
        try:
            open_dataset(value.strip())
        except TuiSpeechError as exc:
            return self.failure(describe_error(exc))
        return self.success()


class ModelName(Validator):
    """A name the store accepts for ``local/NAME``."""

    def validate(self, value: str) -> ValidationResult:
        from tui_speech.asr.finetune_store import model_id_for

        if not value.strip():
            return self.failure("give a name: the model is registered as local/NAME")
        try:
            model_id_for(value.strip())
        except TuiSpeechError as exc:
            return self.failure(describe_error(exc))
        return self.success()


def duration(seconds: float | None) -> str:
    """``m:ss`` or ``h:mm:ss``; ``?`` when not known yet."""
    if seconds is None:
        return "?"
    m, s = divmod(int(seconds), 60)
    return f"{m // 60}:{m % 60:02d}:{s:02d}" if m >= 60 else f"{m}:{s:02d}"


class FinetuneScreen(ReportsWorkerErrors, Screen[None]):
    """Form, progress bar, numbers and a log of one fine-tuning run."""

    DEFAULT_CSS = """
    FinetuneScreen { layout: vertical; }
    FinetuneScreen #ft-form { height: auto; padding: 0 1; }
    FinetuneScreen #ft-form Input { border-title-color: $text-muted; }
    FinetuneScreen #ft-form Horizontal { height: 3; }
    FinetuneScreen #ft-base { width: 1fr; }
    FinetuneScreen #ft-name { width: 28; }
    FinetuneScreen #ft-numbers Input { width: 1fr; }
    FinetuneScreen #ft-restart { width: auto; height: 3; }
    FinetuneScreen #ft-data-check { height: 1; color: $text-muted; padding: 0 1; }
    FinetuneScreen #ft-data-check.-invalid { color: $error; }
    FinetuneScreen #ft-progress-row { height: 1; padding: 0 1; }
    FinetuneScreen #ft-bar { width: 24; }
    FinetuneScreen #ft-step { width: 1fr; }
    FinetuneScreen #ft-numbers-line { height: 1; padding: 0 1; color: $text-muted; }
    FinetuneScreen #ft-log { height: 1fr; min-height: 3; border: round $panel-lighten-2; }
    FinetuneScreen #ft-log:focus { border: round $primary; }
    """
    BINDINGS = [
        Binding("f5", "start", "Start"),
        Binding("f6", "from_sessions", "Sessions with corrections"),
        Binding("c", "cancel", "Cancel"),
        Binding("escape", "close", "Cancel / close"),
    ]

    @dataclass
    class Progress(Message):
        progress: TrainProgress

        def can_replace(self, message: Message) -> bool:
            # Textual asks a queued message whether ``message``, a newer one, may supersede it:
            # a step by a newer step, unless this step is due in the log.
            if not isinstance(message, FinetuneScreen.Progress):
                return False
            mine, newer = self.progress, message.progress
            return mine.event == newer.event == "step" and not _logged_step(mine)

    @dataclass
    class SessionsWritten(Message):
        folder: Path
        text: str  # what was written, and which sessions were left out

    @dataclass
    class Ended(Message):
        text: str
        severity: str = "information"
        model_id: str | None = None

    def __init__(self, base: str = "", on_registered: Callable[[str], None] | None = None) -> None:
        super().__init__()
        self.base = base
        self.on_registered = on_registered
        self.running = False
        self._stop = threading.Event()
        self._started = 0.0
        self._elapsed = 0.0
        self._dev = "–"
        self._eta: float | None = None
        self._loss: float | None = None

    # --- layout ---------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="ft-form"):
            yield self._input("ft-data", "Dataset folder", "", "a folder", [DatasetFolder()])
            yield Static("", id="ft-data-check", markup=False)
            with Horizontal():
                yield self._input(
                    "ft-base", "Base model", self.base, "repo id or folder (default: the store's)"
                )
                yield self._input("ft-name", "Name → local/NAME", "", "NAME", [ModelName()])
            with Horizontal(id="ft-numbers"):
                yield self._input("ft-epochs", "Epochs", DEFAULT_EPOCHS, "", [Integer(minimum=1)])
                yield self._input(
                    "ft-max-steps", "Max steps", "", "all", [Integer(minimum=1)], optional=True
                )
                yield self._input("ft-lr", "LR", DEFAULT_LR, "", [_positive()])
                yield self._input("ft-batch", "Batch (s)", DEFAULT_BATCH_SECONDS, "", [_positive()])
                # Off: a stopped run with the same settings resumes from its checkpoint.
                yield Checkbox("Restart", id="ft-restart")
        with Horizontal(id="ft-progress-row"):
            yield ProgressBar(total=None, show_eta=False, id="ft-bar")
            yield Static("F5 or enter starts · a stopped run resumes", id="ft-step")
        yield Static("", id="ft-numbers-line", markup=False)
        yield Log(max_lines=500, id="ft-log")
        yield Footer(compact=True)

    @staticmethod
    def _input(
        widget_id: str,
        title: str,
        value: str,
        placeholder: str,
        validators: list[Validator] | None = None,
        optional: bool = False,
    ) -> Input:
        field = Input(
            value,
            placeholder=placeholder,
            id=widget_id,
            validators=validators,
            valid_empty=optional,
            validate_on=["changed", "submitted"],
        )
        field.border_title = title
        return field

    def on_mount(self) -> None:
        self.sub_title = "Fine-tune an ASR model"
        self.query_one("#ft-log", Log).border_title = "Log"
        self.query_one("#ft-data", Input).focus()
        self._show_data_check(self.query_one("#ft-data", Input).validate(""))
        self.set_interval(1.0, self._tick)

    # --- the form -------------------------------------------------------------------------------

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "ft-data":
            self._show_data_check(event.validation_result)

    def _show_data_check(self, result: ValidationResult | None) -> None:
        check = self.query_one("#ft-data-check", Static)
        ok = result is None or result.is_valid
        # An empty field is not an error yet: the line says what to type, not in red.
        check.set_class(not ok and bool(self.query_one("#ft-data", Input).value), "-invalid")
        if ok:
            check.update(
                "a dataset folder: checked against the model's vocabulary at start · "
                "F6: sessions with corrections"
            )
        else:
            assert result is not None
            check.update(result.failure_descriptions[0])

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_start()

    def _config(self) -> FinetuneConfig | None:
        """The run's ``FinetuneConfig``, or None after telling the user what to fix."""
        fields = list(self.query("#ft-form Input").results(Input))
        for field in fields:
            result = field.validate(field.value)
            if result is not None and not result.is_valid:
                field.focus()
                title = field.border_title or field.id
                text = f"{title}: {result.failure_descriptions[0]}"
                self.app.notify(text, title="Fine-tune", severity="error", markup=False)
                return None
        value = {f.id: f.value.strip() for f in fields}
        return FinetuneConfig(
            data=Path(value["ft-data"]).expanduser(),
            base=value["ft-base"] or None,
            name=value["ft-name"],
            epochs=int(value["ft-epochs"]),
            lr=float(value["ft-lr"]),
            batch_seconds=float(value["ft-batch"]),
            max_steps=int(value["ft-max-steps"]) if value["ft-max-steps"] else None,
            restart=self.query_one("#ft-restart", Checkbox).value,
        )

    # --- actions --------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "start":
            return not self.running or None  # shown greyed out while a run is going
        if action == "cancel":
            return self.running  # hidden when there is nothing to cancel
        return True

    @property
    def leave_on_pane_key(self) -> bool:
        """F2-F4 may close this screen (not while a run is going: Escape cancels it first)."""
        return not self.running

    def action_start(self) -> None:
        if self.running:
            return
        config = self._config()
        if config is None:
            return
        self._set_running(True)
        self._stop = threading.Event()
        self._started = time.monotonic()
        self._dev, self._eta, self._loss = "–", None, None
        self.query_one("#ft-bar", ProgressBar).update(total=None, progress=0)
        self._say(f"loading {config.base or 'the default model'} and checking the data…")
        self._log(f"fine-tuning {config.base or 'the default model'} on {config.data}")
        self._run(config, self._stop)

    def action_from_sessions(self) -> None:
        """The corrected utterances of every session recorded with audio, as the dataset."""
        if not self.running:
            self._say("writing the corrected utterances of your sessions…")
            self._write_sessions()

    @work(thread=True, exclusive=True, group="ft-sessions", exit_on_error=False)
    def _write_sessions(self) -> None:
        from tui_speech.asr.corrections import corrections_folder, sessions_dataset
        from tui_speech.asr.sessions import list_sessions
        from tui_speech.config import get_paths

        sessions = list_sessions(get_paths().sessions)
        result = sessions_dataset(sessions, corrections_folder(), replace=True)
        text = (
            f"{result.clips} corrected utterances ({result.seconds:.1f} s) from "
            f"{len(result.used)} session(s)"
        )
        if result.skipped_line():
            text += f"; {result.skipped_line()}"
        self.post_message(self.SessionsWritten(result.folder, text))

    def on_finetune_screen_sessions_written(self, message: SessionsWritten) -> None:
        self.query_one("#ft-data", Input).value = str(message.folder)
        self._say(message.text)
        self._log(f"dataset {message.folder}: {message.text}")

    def action_cancel(self) -> None:
        if self.running and not self._stop.is_set():
            self._stop.set()
            self._say("cancelling: finishing this step, then writing a checkpoint…")
            self._log("cancel requested")

    def action_close(self) -> None:
        if self.running:
            self.action_cancel()
        else:
            self.dismiss(None)

    def _set_running(self, running: bool) -> None:
        self.running = running
        for field in self.query("#ft-form Input").results(Input):
            field.disabled = running
        self.query_one("#ft-restart", Checkbox).disabled = running
        if running:
            self.query_one("#ft-log", Log).focus()  # so that `c` cancels
        self.refresh_bindings()

    def on_unmount(self) -> None:
        self._stop.set()  # the app is closing: stop at the next step, with a checkpoint

    # --- the run --------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="finetune", exit_on_error=False)
    def _run(self, config: FinetuneConfig, stop: threading.Event) -> None:
        from tui_speech.asr.checkpoints import CheckpointError, StaleCheckpoint
        from tui_speech.asr.finetune import Interrupted, finetune

        def report(progress: TrainProgress) -> None:
            self.post_message(self.Progress(progress))

        try:
            result = finetune(config, report, stop)
        except (StaleCheckpoint, CheckpointError) as exc:
            # Their fix is the Restart checkbox, which describe_error names.
            self.post_message(self.Ended(describe_error(exc), "error"))
            return
        except Interrupted as exc:
            text = (
                f"stopped at step {exc.step} of {exc.total_steps}; a checkpoint was saved: "
                f"F5 with the same settings resumes"
            )
            self.post_message(self.Ended(text, "warning"))
            return
        if result.model_id is None:
            text = (
                f"stopped at step {result.steps} (max steps); a checkpoint was saved: "
                "clear Max steps and press F5 to continue"
            )
            self.post_message(self.Ended(text))
            return
        cer = "" if result.best_cer is None else f", dev CER {result.best_cer:.1%}"
        added = f", {len(result.vocab_added)} characters added" if result.vocab_added else ""
        text = (
            f"{result.model_id} is registered ({result.steps} steps{cer}{added}); "
            "the Models pane lists it"
        )
        self.post_message(self.Ended(text, model_id=result.model_id))

    def on_finetune_screen_progress(self, message: Progress) -> None:
        p = message.progress
        bar = self.query_one("#ft-bar", ProgressBar)
        if p.total_steps:
            bar.update(total=p.total_steps, progress=p.step)
        if p.event in ("start", "resumed"):
            word = "resuming at step" if p.event == "resumed" else "training from step"
            self._log(f"{word} {p.step} of {p.total_steps} ({p.message})")
        elif p.event == "step":
            self._loss, self._eta = p.loss, p.eta_seconds
            if _logged_step(p):
                self._log(
                    f"step {p.step}/{p.total_steps} epoch {p.epoch + 1}  loss {p.loss:.3f}  "
                    f"{p.audio_per_second:.1f} audio-s/s"
                )
        elif p.event == "eval" and p.dev is not None:
            self._dev = f"{p.dev.cer:.1%}"
            self._log(p.eval_line())
        elif p.event == "checkpoint":
            self._log(f"checkpoint at step {p.step}")
        if not self._stop.is_set():
            self._say(f"step {p.step} of {p.total_steps} · epoch {p.epoch + 1}")
        self._tick()

    def on_finetune_screen_ended(self, message: Ended) -> None:
        self._set_running(False)
        self._eta = 0.0 if message.model_id else None
        self._say(message.text)
        self._log(message.text)
        self._tick()
        self.app.notify(message.text, title="Fine-tune", severity=message.severity, markup=False)  # type: ignore[arg-type]
        if message.model_id and self.on_registered is not None:
            self.on_registered(message.model_id)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # The mixin sends the error to the app's one handler (a notification); here the form
        # comes back so the user can fix what the message says.
        if event.worker.group == "ft-sessions" and event.state is WorkerState.ERROR:
            self._say("no dataset from the sessions: see the notification")
        if event.worker.group == "finetune" and event.state is WorkerState.ERROR:
            self._set_running(False)
            self._say("not started: see the notification" if not self._loss else "failed")
            if event.worker.error is not None:
                self._log(f"error: {event.worker.error}")

    # --- display --------------------------------------------------------------------------------

    def _say(self, text: str) -> None:
        self.query_one("#ft-step", Static).update(text)

    def _log(self, text: str) -> None:
        self.query_one("#ft-log", Log).write_line(text)

    def _tick(self) -> None:
        if not self._started:
            return
        if self.running:
            self._elapsed = time.monotonic() - self._started
        loss = "–" if self._loss is None else f"{self._loss:.3f}"
        elapsed = duration(self._elapsed)
        self.query_one("#ft-numbers-line", Static).update(
            f"loss {loss} · dev CER {self._dev} · elapsed {elapsed} · ETA {duration(self._eta)}"
        )


def _logged_step(progress: TrainProgress) -> bool:
    return bool(progress.step % LOG_EVERY == 0 or progress.step == progress.total_steps)


def _positive() -> Validator:
    def positive(value: str) -> bool:
        try:
            return float(value) > 0
        except ValueError:
            return False

    return Function(positive, "must be a number above 0")
