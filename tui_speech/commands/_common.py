"""Helpers shared by command modules (standard library only: imported at start-up)."""

from __future__ import annotations

import sys

from tui_speech.errors import Action, ActionName, TuiSpeechError, UsageError


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


def _cli_words(action: Action) -> str:
    """How the CLI offers ``action``: the command or flag that does it."""
    model = action.model or "MODEL"
    words: dict[ActionName, str] = {
        "pull-model": f"`tui-speech models pull {model}`",
        "export-model": f"`tui-speech models export {model}"
        + (f" --quantize {action.value}`" if action.value not in ("", "fp32") else "`"),
        "pick-model": "--model",
        "pick-backend": f"--backend {action.value or 'torch'}",
        "pick-device": f"--device {action.value or 'cpu'}",
        "pick-source": "--stdin, e.g. arecord -f S16_LE -r 16000 -c 1 -t raw | ..., or --file",
        "save-audio": "-o out.wav, or -o - | aplay",
        "no-vad": "--no-vad",
        "restart": "--restart",
        "rename-output": "--out",
        "validate-dataset": (
            f"`tui-speech dataset validate {action.value or 'DATA'} --model {model}`"
        ),
    }
    return words[action.name]


def error_line(error: TuiSpeechError) -> str:
    """The one line the CLI prints for ``error``: its reason, its hint, and the flag or command
    that carries the hint out (``reason; hint (--flag)``)."""
    hint = error.hint or ""
    if error.action is not None:
        words = _cli_words(error.action)
        hint = f"{hint} ({words})" if hint else words
    return f"{error.reason}; {hint}" if hint else error.reason


def print_error(error: TuiSpeechError) -> None:
    print(f"tui-speech: error: {error_line(error)}", file=sys.stderr)
