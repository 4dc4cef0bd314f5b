"""The audio input devices PortAudio sees, as data (the Listen pane's source picker lists them).

Blocking: importing sounddevice starts PortAudio. Problems are a one-line reason, never an
exception, so a machine without PortAudio or without a microphone still gets a usable list.
"""

from __future__ import annotations

from dataclasses import dataclass

from tui_speech.errors import AudioDeviceError


@dataclass(frozen=True)
class InputDevice:
    """One PortAudio input device."""

    index: int
    name: str
    channels: int
    rate: int  # default sample rate, Hz (0 when PortAudio does not say)
    default: bool = False


def query_input_devices() -> tuple[list[InputDevice], str | None]:
    """The input devices PortAudio sees, and None; or no devices and a one-line reason.

    Blocking (imports sounddevice, which starts PortAudio): call it from a thread worker.
    """
    from tui_speech.audio.playback import load_sounddevice

    try:
        sd = load_sounddevice()
    except AudioDeviceError:
        return [], "PortAudio is missing (apt-get install libportaudio2)"
    try:
        devices = list(sd.query_devices())
    except Exception as exc:  # PortAudioError: the host API failed, not the user's doing
        return [], f"cannot list audio devices ({exc})"
    try:
        default_in = int(sd.default.device[0])
    except (TypeError, ValueError, IndexError):
        default_in = -1
    inputs = [
        InputDevice(
            index=i,
            name=str(d.get("name", f"device {i}")),
            channels=int(d.get("max_input_channels", 0)),
            rate=int(d.get("default_samplerate") or 0),
            default=i == default_in,
        )
        for i, d in enumerate(devices)
        if int(d.get("max_input_channels", 0)) > 0
    ]
    if not inputs:
        return [], "no audio input device found"
    return inputs, None
