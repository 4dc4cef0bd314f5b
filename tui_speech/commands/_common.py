"""Helpers shared by command modules (standard library only: imported at start-up)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from typing import Any

from tui_speech.asr.model import DEFAULT_MODEL  # light: no numpy, no model
from tui_speech.errors import Action, ActionName, TuiSpeechError, UsageError

#: ``--model`` of every command that transcribes (transcribe, listen): the rule is
#: ``asr.model.default_model``.
MODEL_HELP = (
    f"repo id, directory, or 'embedded' (default: {DEFAULT_MODEL} if it is in the store, else "
    "the first stored ASR model, else the embedded Whisper base)"
)


def read_text_arg(text: str) -> str:
    """TEXT as given, or stdin when it is ``-`` (decoded as UTF-8)."""
    if text != "-":
        return text
    data = sys.stdin.buffer.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"standard input is not UTF-8 text (byte {exc.start})") from None


def add_hotwords_option(parser: Any, default: str | None = None) -> None:
    """``--hotwords FILE``, the same in every command that transcribes."""
    from tui_speech.asr.hotwords import DEFAULT_WEIGHT  # light: no numpy

    parser.add_argument(
        "--hotwords",
        default=default,
        metavar="FILE",
        help="terms to bias the beam search towards: one per line, optionally "
        f"TERM<TAB>WEIGHT (bonus per character, default {DEFAULT_WEIGHT:g}; the embedded "
        "Whisper writes a term where it heard, unsure, something that sounds like it, and "
        "uses no weights)",
    )


def add_written_options(parser: Any, defaults: Any = None) -> None:
    """``--punct``, ``--itn`` and ``--script``: how heard characters are written, the same in
    ``transcribe``, ``listen`` and ``sessions export`` (``defaults``: a WrittenOptions)."""
    from tui_speech.asr.script import SCRIPTS  # light: no numpy, no OpenCC
    from tui_speech.asr.written import PUNCT_CHOICES, WrittenOptions

    d = defaults or WrittenOptions()
    group = parser.add_argument_group("written text")
    group.add_argument(
        "--punct",
        choices=PUNCT_CHOICES,
        default=d.punct,
        help=f"auto: ，at pauses, 。 or ？ at the end of what was said; none: as heard ({d.punct})",
    )
    group.add_argument(
        "--itn",
        action=argparse.BooleanOptionalAction,
        default=d.itn,
        help="numbers, dates, times, money and percentages in digits (二百五十六页 -> 256页)",
    )
    group.add_argument(
        "--script",
        choices=SCRIPTS,
        default=d.script,
        help=f"script of the written text; tw and hk take their regions' words too ({d.script})",
    )


def written_options(args: Any) -> Any:
    """The written-text flags as a WrittenOptions."""
    from tui_speech.asr.written import WrittenOptions

    return WrittenOptions(punct=args.punct, itn=args.itn, script=args.script)


def written_text(spans: Iterable[Any]) -> Any:
    """Rich text of written spans: heard ones coloured by their confidence, inserted marks
    (nobody heard them) dimmed."""
    from rich.text import Text

    text = Text()
    for s in spans:
        style = "dim" if s.confidence is None else confidence_colour(s.confidence)
        text.append(s.text, style=style)
    return text


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
        "pick-language": f"--lang {action.value or 'LANG'}",
        "pick-source": "--stdin, e.g. arecord -f S16_LE -r 16000 -c 1 -t raw | ..., or --file",
        "describe-raw": f"--{action.value}"
        if action.value in ("pcm", "rate", "channels")
        else "--pcm, --rate and --channels",
        "save-audio": "-o out.wav, or -o - | aplay",
        "no-vad": "--no-vad",
        "restart": "--restart",
        "rename-output": "--out",
        "import-bundle": "`tui-speech models bundle` elsewhere, `tui-speech models import` here",
        "list-sessions": "`tui-speech sessions list`",
        "list-devices": "`tui-speech devices`",
        "validate-dataset": (
            f"`tui-speech dataset validate {action.value or 'DATA'} --model {model}`"
        ),
    }
    return words[action.name]


def error_line(error: TuiSpeechError) -> str:
    """The one line the CLI prints for ``error``: its reason, its hint, and the flag or command
    that carries the hint out (``reason; hint (--flag)``)."""
    return error.line(_cli_words)


def print_error(error: TuiSpeechError) -> None:
    print(f"tui-speech: error: {error_line(error)}", file=sys.stderr)


#: The CLI's colour for each step of the confidence scale (``asr.confidence``), lowest first;
#: the TUI paints the same steps with its theme's ``$confidence-0`` .. ``$confidence-4``.
CONFIDENCE_COLOURS = ("red", "dark_orange", "yellow", "chartreuse3", "green")


def confidence_colour(confidence: float) -> str:
    """The rich colour of a character with this confidence."""
    from tui_speech.asr.confidence import bucket

    return CONFIDENCE_COLOURS[bucket(confidence)]


def confidence_text(chars: Iterable[Any], dim_from: int | None = None) -> Any:
    """Rich text: each character (``.char``, ``.confidence``) coloured by its step of the
    confidence scale; from ``dim_from`` on (an uncommitted partial), dimmed."""
    from rich.text import Text

    text = Text()
    for i, c in enumerate(chars):
        dim = dim_from is not None and i >= dim_from
        text.append(c.char, style="dim" if dim else confidence_colour(c.confidence))
    return text
