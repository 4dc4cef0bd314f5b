"""Simplified -> Traditional script with OpenCC's phrase-level dictionaries.

The model writes Simplified Chinese. OpenCC converts by phrase, not character by character, so
one Simplified character becomes the right one of several Traditional ones in context (发 -> 發
in 发展 but 髮 in 头发; 干 -> 乾 in 干净, 幹 in 干部), and ``tw`` also takes Taiwan's words
(软件 -> 軟體, 鼠标 -> 滑鼠).

Scripts: ``simplified`` (as heard), ``traditional`` (OpenCC standard, s2t), ``tw`` (Taiwan,
with its phrases, s2twp) and ``hk`` (Hong Kong, s2hk).

:func:`to_script` converts a plain string (any face or recogniser can call it);
:func:`script_pieces` also says which input characters each piece of the output came from, so
written spans keep their times when a phrase changes length (U盘 -> 隨身碟).

OpenCC's C++ library (the ``opencc`` wheel) is used rather than opencc-python-reimplemented: the
same dictionaries, newer, and 10x faster per character (bench/written.py).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from tui_speech.asr.pieces import Piece, align_pieces
from tui_speech.config import LISTEN_CHOICES

SCRIPTS = LISTEN_CHOICES["script"]
#: The OpenCC configuration of each script (``simplified`` needs none).
_CONFIGS = {"traditional": "s2t", "tw": "s2twp", "hk": "s2hk"}


@cache
def _converter(script: str) -> Any:
    import opencc

    return opencc.OpenCC(f"{_CONFIGS[script]}.json")


def check_script(script: str) -> str:
    if script not in SCRIPTS:
        raise ValueError(f"unknown script {script!r}; one of {', '.join(SCRIPTS)}")
    return script


def to_script(text: str, script: str) -> str:
    """``text`` (Simplified Chinese) written in ``script`` (one of :data:`SCRIPTS`)."""
    if check_script(script) == "simplified" or not text:
        return text
    return str(_converter(script).convert(text))


def script_pieces(text: str, script: str) -> list[Piece]:
    """``text`` in ``script`` as ``(piece, start, end)``: each piece replaces ``text[start:end]``.

    Most phrases keep their length and map character for character; where one changes length,
    the piece spans the whole phrase. Found by aligning the phrase conversion with a
    character-by-character one (which always keeps the length).
    """
    out = to_script(text, script)
    if len(out) == len(text):
        return [(o, i, i + 1) for i, o in enumerate(out)]
    return align_pieces("".join(to_script(c, script) for c in text), out)
