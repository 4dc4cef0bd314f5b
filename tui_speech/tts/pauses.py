"""Pause tags in text: ``[pause:1.5s]`` and ``[pause:300ms]`` ask for exactly that silence.

:func:`split_pauses` cuts a text into its spoken pieces and the pauses between them, so the
synthesis plan (``tts.pipeline``) and the draft renderer (``tts.drafts``) read tags one way.
A tag that looks like a pause but is not one (``[pause:fast]``, ``[pause:1.5]``) is a user
error naming the tag and where it is, never text read aloud.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tui_speech.errors import UsageError

#: Longest pause a tag may ask for (seconds): past this it is more likely a typo (15000ms).
MAX_PAUSE_S = 60.0

# Anything in brackets that starts with "pause" is meant as a tag; the strict form is checked
# apart, so a near miss is reported instead of being spoken as "pause one point five".
_TAG_RE = re.compile(r"\[\s*pause\b[^\]\n]*\]", re.IGNORECASE)
_STRICT_RE = re.compile(r"\[pause:(\d+(?:\.\d+)?)(s|ms)\]")


@dataclass(frozen=True)
class Pause:
    """A silence of ``seconds`` asked for by a tag at ``position`` (character offset)."""

    seconds: float
    position: int = 0


def parse_tag(tag: str, position: int = 0) -> Pause:
    """The pause a tag asks for, or a UsageError that names the tag and its position."""
    match = _STRICT_RE.fullmatch(tag.strip())
    where = f"at character {position + 1}"
    if match is None:
        raise UsageError(
            f"malformed pause tag {tag!r} {where}",
            "write it as [pause:1.5s] or [pause:300ms]",
        )
    value = float(match.group(1))
    seconds = value / 1000 if match.group(2) == "ms" else value
    if seconds > MAX_PAUSE_S:
        raise UsageError(
            f"pause tag {tag!r} {where} asks for {seconds:g} s",
            f"a pause is at most {MAX_PAUSE_S:g} s",
        )
    return Pause(seconds, position)


def split_pauses(text: str) -> list[str | Pause]:
    """``text`` as its spoken pieces (str) and the pauses between them, in order.

    Blank pieces are left out; every tag is checked first, so a malformed one anywhere fails
    before any audio is made.
    """
    parts: list[str | Pause] = []
    pos = 0
    for match in _TAG_RE.finditer(text):
        pause = parse_tag(match.group(), match.start())
        if text[pos : match.start()].strip():
            parts.append(text[pos : match.start()])
        parts.append(pause)
        pos = match.end()
    if text[pos:].strip():
        parts.append(text[pos:])
    return parts


def strip_pauses(text: str) -> str:
    """``text`` without its pause tags (for G2P previews: a tag has no phonemes)."""
    return _TAG_RE.sub(" ", text)


def has_pauses(text: str) -> bool:
    return _TAG_RE.search(text) is not None
