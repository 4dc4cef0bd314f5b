"""App-wide messages. Widget-specific messages are nested in their widgets.

Messages are dataclasses (Textual's ``Message.__post_init__`` sets up the message machinery).
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message


@dataclass
class ErrorRaised(Message):
    """A worker or an action failed: bubbles up to the app, whose one handler shows it."""

    error: BaseException
    where: str = ""


@dataclass
class StatusInfo(Message):
    """Something the header shows changed: ``key`` is "tts", "asr" or "audio"."""

    key: str
    value: str
