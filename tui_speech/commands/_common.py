"""Helpers shared by command modules (standard library only: imported at start-up)."""

from __future__ import annotations

import sys

from tui_speech.errors import UsageError


def read_text_arg(text: str) -> str:
    """TEXT as given, or stdin when it is ``-`` (decoded as UTF-8)."""
    if text != "-":
        return text
    data = sys.stdin.buffer.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"standard input is not UTF-8 text (byte {exc.start})") from None


def warn(message: str) -> None:
    print(f"tui-speech: warning: {message}", file=sys.stderr)


def info(message: str) -> None:
    print(f"tui-speech: {message}", file=sys.stderr)
