"""Errors a user can cause.

Every one carries a one-line message that says what went wrong and what to do about it.
The CLI prints the message and exits non-zero; the TUI shows it as a notification.
"""

from __future__ import annotations


class TuiSpeechError(Exception):
    """Base class for errors caused by input, environment or missing models.

    ``exit_code`` lets the CLI distinguish classes of failure in scripts.
    """

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(TuiSpeechError):
    """Bad arguments: unknown voice, speed out of range, empty text..."""

    exit_code = 2


class ModelMissingError(TuiSpeechError):
    """A model (or one of its files) is not in the store."""

    exit_code = 3


class AudioDeviceError(TuiSpeechError):
    """No audio device, no PortAudio, or a device that does not exist."""

    exit_code = 4
