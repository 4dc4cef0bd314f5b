"""A pane's playback: one ``Player`` thread, started on first use, never at start-up.

Without an output device (or without PortAudio) ``get`` raises AudioDeviceError with the short
reason; the panes turn that into a one-line explanation and keep working (takes can be saved).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from tui_speech.errors import AudioDeviceError


class LazyPlayer:
    def __init__(self) -> None:
        self._player: Any = None
        self._lock = threading.Lock()
        #: Why there is no playback ("no audio output device found"), once a start has failed.
        self.problem: str | None = None

    def get(self) -> Any:
        """The running ``tui_speech.audio.playback.Player`` (safe to call from workers)."""
        with self._lock:
            if self._player is None:
                from tui_speech.audio.playback import Player

                try:
                    self._player = Player()
                except AudioDeviceError as exc:
                    # The reason only: the hint's fix (save to a file) is the pane's to offer.
                    self.problem = exc.reason
                    raise AudioDeviceError(self.problem) from None
            return self._player

    def stop(self) -> None:
        if self._player is not None:
            self._player.stop()

    def close(self) -> None:
        if self._player is not None:
            self._player.close()
            self._player = None


class PlayClock:
    """Where playback of one take is: seconds since it started, from the wall clock.

    The player writes blocks at the device's rate and blocks while it plays them, so the wall
    clock since the first block follows the sound to within the device's latency; the Speak
    pane reads it to highlight the sounding word. ``stop()`` ends it at once.
    """

    def __init__(self) -> None:
        self._started: float | None = None
        self._length = 0.0

    def start(self, length: float) -> None:
        self._started, self._length = time.monotonic(), length

    def stop(self) -> None:
        self._started = None

    def position(self) -> float | None:
        """Seconds into the take, or None when nothing plays (stopped or played out)."""
        if self._started is None:
            return None
        elapsed = time.monotonic() - self._started
        if elapsed >= self._length:
            self._started = None
            return None
        return elapsed
