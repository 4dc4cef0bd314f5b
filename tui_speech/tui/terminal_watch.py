"""Leave when the terminal does: the app must not outlive the terminal it draws on.

When a terminal closes (an SSH connection drops, a terminal window or tmux pane is killed),
the kernel sends SIGHUP to the terminal's session. A process started under another program
(``make run``) may not be sent it, and Textual's input thread then spins on the hung-up
descriptor at a full core, for ever. So the app polls its terminal once a second: a hang-up
quits it as ctrl+q does, and a SIGHUP quits it the same way, so the draft and the live session
are saved as on any exit.
"""

from __future__ import annotations

import select
import signal
from typing import Any

#: Seconds between two looks at the terminal.
POLL_S = 1.0
_GONE = select.POLLHUP | select.POLLERR | select.POLLNVAL


def terminal_gone(fd: int) -> bool:
    """Whether the terminal on ``fd`` has hung up (or ``fd`` is no longer open)."""
    poller = select.poll()
    poller.register(fd, select.POLLIN)  # hang-ups and errors are reported whatever is asked
    try:
        events = poller.poll(0)
    except OSError:
        return True
    return any(mask & _GONE for _, mask in events)


def watch_terminal(app: Any, fd: int) -> None:
    """From ``app``'s mount on: quit it when the terminal on ``fd`` hangs up or SIGHUP comes
    (unless SIGHUP was ignored by whoever started the app, as ``nohup`` does)."""
    import asyncio

    def check() -> None:
        if terminal_gone(fd):
            app.exit()

    app.set_interval(POLL_S, check)
    if signal.getsignal(signal.SIGHUP) is signal.SIG_DFL:
        asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, app.exit)
