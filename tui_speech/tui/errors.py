"""One place that turns exceptions into what the user sees.

A ``TuiSpeechError`` carries a reason, a hint and maybe a named fix (an action), which the TUI
offers as the key or setting that does it (the CLI names a flag instead). Anything else is a
bug or an environment surprise: the user gets a short one-liner and the traceback goes to a log
file (never to the terminal, where it would garble the screen).
"""

from __future__ import annotations

import traceback
from datetime import UTC, datetime

from textual.worker import Worker, WorkerState

from tui_speech.config import get_paths
from tui_speech.errors import Action, ActionName, TuiSpeechError
from tui_speech.tui.messages import ErrorRaised

LOG_FILE = "tui-errors.log"
_MAX_LEN = 160


#: How the TUI offers each fix an error may name: the key or the setting that does it.
ACTION_WORDS: dict[ActionName, str] = {
    "pull-model": "F4 Models, F5 pulls it",
    "export-model": "F4 Models, ctrl+e exports it",
    "pick-model": "F4 Models",
    "pick-backend": "backend in listen.toml",
    "pick-device": "the fine-tune screen trains on the CPU",
    "pick-source": "F8 picks a file or piped audio",
    "pick-language": "the Speak pane's language list",
    "describe-raw": "restart tui-speech naming the pipe's raw format",
    "save-audio": "ctrl+s saves the take",
    "no-vad": "vad = false in listen.toml",
    "restart": "tick Restart",
    "rename-output": "the Name field",
    "validate-dataset": "`tui-speech dataset validate`",
    "import-bundle": "F4 Models, ctrl+o imports a bundle",
    "list-sessions": "F2 Listen, F9 Sessions",
    "list-devices": "F8 lists them",
}


def action_words(action: Action) -> str:
    """The key or setting the TUI offers for ``action``."""
    words = ACTION_WORDS[action.name]
    if action.name == "pick-backend" and action.value:
        words = f"backend = {action.value!r} in listen.toml"
    return words


def describe_error(error: BaseException) -> str:
    """The one line a notification shows for ``error``."""
    if isinstance(error, TuiSpeechError):
        return error.line(action_words)
    detail = str(error).strip().splitlines()[0] if str(error).strip() else ""
    line = f"unexpected {type(error).__name__}" + (f": {detail}" if detail else "")
    if len(line) > _MAX_LEN:
        line = line[: _MAX_LEN - 1] + "…"
    return f"{line} (details in {get_paths().cache / LOG_FILE})"


def log_unexpected(error: BaseException, where: str) -> None:
    """Append the traceback of an unexpected error to the log file; never raises."""
    if isinstance(error, TuiSpeechError):
        return
    try:
        path = get_paths().cache / LOG_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        text = "".join(traceback.format_exception(error))
        with path.open("a", encoding="utf-8") as f:
            f.write(f"--- {stamp} {where}\n{text}\n")
    except OSError:
        pass


class ReportsWorkerErrors:
    """Mixin for widgets that run workers: failed workers are sent to the app's one handler.

    Textual calls ``on_worker_state_changed`` of every class in the MRO, so a widget may still
    handle the other worker states itself.
    """

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state is WorkerState.ERROR and worker.error is not None:
            self.post_message(ErrorRaised(worker.error, worker.name))  # type: ignore[attr-defined]
