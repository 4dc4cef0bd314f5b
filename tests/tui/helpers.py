"""Waiting helpers shared by the TUI tests."""

from __future__ import annotations

from textual.pilot import Pilot

from tui_speech.tui.speak.pane import G2P_DEBOUNCE_S


async def settle(pilot: Pilot) -> None:
    """Let debounce timers fire and every worker finish, then let messages be handled."""
    await pilot.pause(G2P_DEBOUNCE_S + 0.1)
    await wait_for_workers(pilot)
    await pilot.pause()


async def wait_for_workers(pilot: Pilot) -> None:
    """Wait until every worker has ended.

    An exclusive worker that a newer call of its group replaced ends cancelled; that is the app
    working as meant (the newer one does the job), so it counts as ended, not as a failure."""
    from textual.worker import WorkerCancelled

    for worker in list(pilot.app.workers):
        try:
            await worker.wait()
        except WorkerCancelled:
            pass


async def type_text(pilot: Pilot, text: str) -> None:
    """Put ``text`` in the Speak editor as if typed, then wait for the phoneme preview."""
    editor = pilot.app.query_one("#speak-editor")
    editor.focus()
    editor.insert(text)
    await settle(pilot)


async def wait_until(pilot: Pilot, condition, timeout: float = 60.0) -> None:
    """Pause until ``condition()`` holds (for results that arrive from other threads)."""
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {condition}")
        await pilot.pause(0.05)


def record_playback(monkeypatch) -> list[tuple[int, int]]:
    """Swap the audio player for one that records what it is given, as (samples, rate) per
    chunk: a test machine has no audio device, and the app's playback clock runs all the same."""
    from tui_speech.audio import playback

    played: list[tuple[int, int]] = []

    class RecordingPlayer:
        def play_chunk(self, audio, sample_rate):
            played.append((len(audio), sample_rate))

        def stop(self):
            pass

        def close(self):
            pass

    monkeypatch.setattr(playback, "Player", RecordingPlayer)
    return played
