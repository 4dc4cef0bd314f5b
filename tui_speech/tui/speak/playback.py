"""Playing takes in the Speak pane, and following the sounding word on the waveform.

One long-lived ``Player`` thread (``tui/player.py``), started at the first play, never at
start-up. A take is queued chunk by chunk from a worker, so a long one is read from its pieces as
the player's bounded queue makes room; a clock started with the first chunk moves the
waveform's highlight.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from textual.timer import Timer
from textual.worker import get_current_worker

from tui_speech.errors import Action, AudioDeviceError
from tui_speech.tui.errors import action_words
from tui_speech.tui.player import LazyPlayer, PlayClock
from tui_speech.tui.speak.takes import Take
from tui_speech.tui.speak.waveform import TakeWaveform

if TYPE_CHECKING:
    from tui_speech.tui.speak.pane import SpeakPane

#: Seconds between moves of the highlight: smooth enough to follow speech, cheap to redraw.
FOLLOW_TICK_S = 0.05


def show_take(wave: TakeWaveform, take: Take) -> None:
    """Draw ``take`` on the waveform unless it is the one there already (its marks stay)."""
    if wave.audio is not take.picture[0]:
        wave.show(*take.picture, take.words)


class TakePlayback:
    """The pane's player, and the clock and timer that follow a playing take."""

    def __init__(self, pane: SpeakPane) -> None:
        self.pane = pane
        self._player = LazyPlayer()
        self._clock = PlayClock()
        self._follow_timer: Timer | None = None

    @property
    def problem(self) -> str | None:
        """Why nothing sounds (no output device), once the player failed to start."""
        return self._player.problem

    def player(self) -> Any:
        """The playback thread, or None (with a notice) when there is no audio output."""
        try:
            return self._player.get()
        except AudioDeviceError as exc:
            # Here the fix is always the same: the take is kept and can be saved.
            save = action_words(Action("save-audio"))
            self.pane.post_message(self.pane.Notice(f"{exc.reason}; {save}", "warning"))
            return None

    def play(self, take: Take) -> None:
        """Play ``take`` from its start (a play already queued is cancelled)."""
        self.pane.run_worker(
            partial(self._queue, take),
            name="play_take", group="playback", thread=True, exclusive=True, exit_on_error=False,
        )  # fmt: skip

    def _queue(self, take: Take) -> None:
        """Queue the take for playback; a long one piece by piece, read as the player's
        bounded queue makes room (so F7 must cancel this worker too)."""
        player = self.player()
        if player is None:
            return
        worker = get_current_worker()
        for n, chunk in enumerate(take.chunks()):
            if worker.is_cancelled:
                break
            player.play_chunk(chunk, take.sample_rate)
            if worker.is_cancelled:  # stopped while this waited for room: it must not sound
                player.stop()
                break
            if n == 0:
                self.pane.app.call_from_thread(self.follow, take)

    def follow(self, take: Take) -> None:
        """Show ``take``'s waveform and highlight the sounding word while it plays."""
        show_take(self.pane.query_one(TakeWaveform), take)
        self._clock.start(take.duration)
        if self._follow_timer is None:
            self._follow_timer = self.pane.set_interval(FOLLOW_TICK_S, self._follow_tick)

    def _follow_tick(self) -> None:
        position = self._clock.position()
        self.pane.query_one(TakeWaveform).set_position(position)
        if position is None and self._follow_timer is not None:
            self._follow_timer.stop()
            self._follow_timer = None

    def stop(self) -> None:
        """Silence at once; the caller cancels the workers that would queue more."""
        self._player.stop()
        self._clock.stop()

    def close(self) -> None:
        self._player.close()
