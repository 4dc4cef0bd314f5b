"""The app on a real terminal (a pseudo-terminal here): it leaves when its terminal does."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import time

from tests.conftest import ROOT


def _read_until(fd: int, needle: bytes, timeout: float) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while needle not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            seen += os.read(fd, 65536)
    return seen


def test_the_app_quits_when_its_terminal_hangs_up_even_without_sighup(cli_env):
    # As under `make run`, where closing the terminal sent the app no SIGHUP: Textual's input
    # thread then spun on the dead terminal at a full core. SIGHUP is ignored here, so only
    # the app's own watch on its terminal can end it.
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    app = subprocess.Popen(
        [sys.executable, "-m", "tui_speech"],
        stdin=follower, stdout=follower, stderr=follower, cwd=ROOT, start_new_session=True,
        env=dict(cli_env, TERM="xterm-256color"),
        preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN),
    )  # fmt: skip
    os.close(follower)
    try:
        assert b"Speak" in _read_until(leader, b"Speak", 60), "no first frame"
        os.close(leader)  # the terminal goes away
        app.wait(timeout=20)
    finally:
        if app.poll() is None:
            app.kill()
            app.wait()
    assert app.returncode is not None
