"""Playback through PortAudio (sounddevice), in one long-lived thread with a bounded queue.

``Player.play_chunk`` returns at once; the audio thread writes blocks to the device as they come,
so playback starts with the first synthesized chunk. Where PortAudio or an output device is
missing, constructing a Player raises AudioDeviceError with a one-line hint instead of crashing.
"""

from __future__ import annotations

import queue
import threading
from typing import Any

import numpy as np

from tui_speech.errors import Action, AudioDeviceError

NO_DEVICE_HINT = "save the audio to a file instead, or stream it to another player"
NO_DEVICE_ACTION = Action("save-audio")


def load_sounddevice() -> Any:
    """Import sounddevice, turning a missing PortAudio into a clear AudioDeviceError."""
    try:
        import sounddevice
    except OSError as exc:  # raised by sounddevice when libportaudio is not installed
        raise AudioDeviceError(
            "PortAudio is not installed (apt-get install libportaudio2)",
            NO_DEVICE_HINT,
            action=NO_DEVICE_ACTION,
        ) from exc
    return sounddevice


def default_output_device() -> dict[str, Any]:
    """The default output device's description, or AudioDeviceError."""
    sd = load_sounddevice()
    try:
        info = sd.query_devices(kind="output")
    except Exception as exc:  # PortAudioError / ValueError when there is none
        raise AudioDeviceError(
            "no audio output device found", NO_DEVICE_HINT, action=NO_DEVICE_ACTION
        ) from exc
    if not info or int(info.get("max_output_channels", 0)) < 1:
        raise AudioDeviceError(
            "no audio output device found", NO_DEVICE_HINT, action=NO_DEVICE_ACTION
        )
    return dict(info)


class Player:
    """Streams float32 mono chunks to an output device. ``stop()`` cuts playback short;
    ``wait()`` blocks until everything queued has been played; ``close()`` ends the thread."""

    def __init__(self, device: int | str | None = None, max_chunks: int = 64) -> None:
        self._sd = load_sounddevice()
        if device is None:
            default_output_device()
        self._device = device
        self._queue: queue.Queue[tuple[np.ndarray, int] | None] = queue.Queue(max_chunks)
        self._stop = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self.error: Exception | None = None
        self._thread = threading.Thread(target=self._run, name="tui-speech-playback", daemon=True)
        self._thread.start()

    def play_chunk(self, audio: np.ndarray, sample_rate: int) -> None:
        self._stop.clear()
        self._idle.clear()
        self._queue.put((np.asarray(audio, dtype=np.float32), sample_rate))

    def stop(self) -> None:
        """Stop playing now and drop what is queued."""
        self._stop.set()
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        self._idle.set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._idle.wait(timeout)

    def close(self) -> None:
        self.stop()
        self._queue.put(None)
        self._thread.join(timeout=5)

    def _run(self) -> None:
        stream = None
        rate = None
        try:
            while (item := self._queue.get()) is not None:
                audio, sample_rate = item
                if stream is None or rate != sample_rate:
                    if stream is not None:
                        stream.close()
                    stream = self._sd.OutputStream(
                        samplerate=sample_rate, channels=1, dtype="float32", device=self._device
                    )
                    stream.start()
                    rate = sample_rate
                block = sample_rate // 10  # small writes so stop() takes effect quickly
                for start in range(0, len(audio), block):
                    if self._stop.is_set():
                        break
                    stream.write(audio[start : start + block].reshape(-1, 1))
                if self._queue.empty():
                    self._idle.set()
        except Exception as exc:  # device vanished mid-play: report, don't kill the app
            self.error = AudioDeviceError(f"audio playback failed: {exc}")
            self._idle.set()
        finally:
            if stream is not None:
                stream.close()
