"""Errors a user can cause.

Each carries a ``reason`` (what went wrong, one line) and, where there is one, a ``hint`` (what to
do, in words that suit any face) and an ``action``: a named fix that each face offers its own way
(the CLI as a command or a flag, the TUI as a key). The core never names CLI flags or TUI keys.
``message`` (and ``str()``) is the plain one-line "reason; hint" for logs and JSON lines.
The CLI prints its rendering and exits non-zero; the TUI shows its own as a notification.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, get_args

#: The fixes a face can offer for an error. Each face words every one of them (a test checks).
ActionName = Literal[
    "pull-model",  # fetch the model into the store (``model``)
    "export-model",  # build the ONNX variant ``value`` (a precision) of ``model``
    "pick-model",  # choose another (ASR) model
    "pick-backend",  # run on the backend ``value`` (torch / onnx)
    "pick-device",  # train on the compute device ``value`` (cpu / cuda)
    "pick-source",  # listen to piped audio or a file instead of a microphone
    "pick-language",  # speak the text as the language ``value`` (a G2P code: zh, ja, ...)
    "describe-raw",  # say the piped raw audio's format (``value``: pcm, rate or channels)
    "save-audio",  # write the audio to a file instead of playing it
    "no-vad",  # listen without the voice-activity detector
    "restart",  # start the fine-tuning run over instead of resuming it
    "rename-output",  # give the fine-tuned model another name
    "validate-dataset",  # check the dataset ``value`` against the model ``model``
    "import-bundle",  # bring a model in from a bundle made on another machine
    "list-sessions",  # show the saved live sessions
    "list-devices",  # show the audio input devices
]

ACTIONS: tuple[ActionName, ...] = get_args(ActionName)


@dataclass(frozen=True)
class Action:
    """A fix for an error, named so that each face can offer it in its own words."""

    name: ActionName
    model: str = ""
    value: str = ""


class TuiSpeechError(Exception):
    """Base class for errors caused by input, environment or missing models.

    ``exit_code`` lets the CLI distinguish classes of failure in scripts.
    """

    exit_code = 1

    def __init__(
        self, reason: str, hint: str | None = None, *, action: Action | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.hint = hint or None
        self.action = action

    @property
    def message(self) -> str:
        """Reason and hint on one line, in no face's words (logs, JSON events)."""
        return self.line()

    def line(self, words: Callable[[Action], str] | None = None) -> str:
        """``reason; hint (words)``: the one line a face shows, where ``words`` says the fix
        (the action) the face's own way: a flag in the CLI, a key in the TUI."""
        hint = self.hint or ""
        if words is not None and self.action is not None:
            fix = words(self.action)
            hint = f"{hint} ({fix})" if hint else fix
        return f"{self.reason}; {hint}" if hint else self.reason

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
