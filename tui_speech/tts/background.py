"""Measurements that run in a process of their own, at idle priority, after the user's command.

The per-CPU Kokoro tuning (``tts.tuning``) and a voice's pauses (``tts.voice_pauses``) are
measured once and remembered. Neither may slow what the user is waiting for, so each runs as a
child process: in a session of its own (Ctrl+C in the user's terminal, or the parent's exit,
does not end it), with stdout not the parent's (``speak -o - | play`` must see EOF), its stderr
in a log file, and at idle priority once it starts (:func:`become_background`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import threading
from pathlib import Path

log = logging.getLogger(__name__)


def spawn(module: str, args: list[str], log_path: Path, what: str) -> threading.Thread | None:
    """Run ``python -m module args`` in the background; returns at once, with the thread that
    waits for it (and logs "measuring ``what`` failed" with the log's last line if it fails),
    or None when it could not be started (logged)."""
    command = [sys.executable, "-m", module, *args]
    try:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "wb") as err:
            child = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                start_new_session=True, close_fds=True,
            )  # fmt: skip
    except OSError as exc:
        log.warning("could not start measuring %s: %s", what, exc)
        return None
    thread = threading.Thread(
        target=_supervise, args=(child, log_path, what), name="tui-speech-measure", daemon=True
    )
    thread.start()
    return thread


def _supervise(child: subprocess.Popen[bytes], log_path: Path, what: str) -> None:
    """Say why a measurement failed, if this process is still there to hear it."""
    if child.wait():
        lines = log_path.read_text(errors="replace").strip().splitlines()
        log.warning("measuring %s failed: %s", what, " ".join(lines[-1:]))


def become_background() -> None:
    """Idle priority: the measurement only takes cores nobody else wants."""
    with contextlib.suppress(OSError, AttributeError):
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    with contextlib.suppress(OSError):
        os.nice(19)
