"""Write a :class:`~tui_speech.asr.recognizer.Transcript` as txt, json, jsonl, srt or vtt.

- ``txt``: the text and a newline.
- ``json``: ``{text, language, duration, model, source, confidence, chars: [{char, t0, t1,
  confidence, min_confidence, alternatives: [[char, p], ...]}]}`` (times in seconds).
- ``jsonl``: one JSON object per cue (``{source, start, end, text, confidence, chars}``) –
  the same cues as the subtitles, so a script can stream them.
- ``srt`` / ``vtt``: cues split where the speaker pauses (a gap of ``pause_s`` between two
  characters) and when a cue reaches ``max_chars`` characters or ``max_s`` seconds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tui_speech.asr.ctc import CharResult
from tui_speech.asr.recognizer import Transcript

FORMATS = ("txt", "json", "jsonl", "srt", "vtt")
PAUSE_S = 0.5
MAX_CHARS = 24
MAX_S = 6.0


@dataclass(frozen=True)
class Cue:
    """One subtitle: text shown from ``start`` to ``end`` seconds."""

    start: float
    end: float
    chars: tuple[CharResult, ...]

    @property
    def text(self) -> str:
        return "".join(c.char for c in self.chars).strip()


def split_cues(
    chars: tuple[CharResult, ...] | list[CharResult],
    pause_s: float = PAUSE_S,
    max_chars: int = MAX_CHARS,
    max_s: float = MAX_S,
) -> list[Cue]:
    """Group characters into cues at pauses and length limits; spaces never start a cue."""
    cues: list[Cue] = []
    current: list[CharResult] = []

    def close() -> None:
        while current and not current[-1].char.strip():
            current.pop()
        if current:
            cues.append(Cue(current[0].t0, current[-1].t1, tuple(current)))
        current.clear()

    for c in chars:
        if current and (
            c.t0 - current[-1].t1 >= pause_s
            or len(current) >= max_chars
            or c.t1 - current[0].t0 > max_s
        ):
            close()
        if not current and not c.char.strip():
            continue
        current.append(c)
    close()
    return cues


def _round(x: float) -> float:
    return round(float(x), 4)


def char_dict(c: CharResult) -> dict[str, Any]:
    """A character as JSON-ready data."""
    return {
        "char": c.char,
        "t0": _round(c.t0),
        "t1": _round(c.t1),
        "confidence": _round(c.confidence),
        "min_confidence": _round(c.min_confidence),
        "alternatives": [[a, _round(p)] for a, p in c.alternatives],
    }


def to_json(t: Transcript) -> str:
    data = {
        "text": t.text,
        "language": t.language,
        "duration": _round(t.duration),
        "model": t.model,
        "source": t.source,
        "confidence": _round(t.confidence),
        "chars": [char_dict(c) for c in t.chars],
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def to_jsonl(t: Transcript) -> str:
    lines = []
    for cue in split_cues(t.chars):
        conf = sum(c.confidence for c in cue.chars) / len(cue.chars)
        item = {
            "source": t.source,
            "start": _round(cue.start),
            "end": _round(cue.end),
            "text": cue.text,
            "confidence": _round(conf),
            "chars": [char_dict(c) for c in cue.chars],
        }
        lines.append(json.dumps(item, ensure_ascii=False) + "\n")
    return "".join(lines)


def timestamp(seconds: float, sep: str) -> str:
    """``HH:MM:SS,mmm`` (srt, sep=",") or ``HH:MM:SS.mmm`` (vtt, sep=".")."""
    ms = max(0, round(seconds * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def to_srt(t: Transcript) -> str:
    blocks = [
        f"{i}\n{timestamp(c.start, ',')} --> {timestamp(c.end, ',')}\n{c.text}\n"
        for i, c in enumerate(split_cues(t.chars), start=1)
    ]
    return "\n".join(blocks)


def to_vtt(t: Transcript) -> str:
    blocks = [
        f"{timestamp(c.start, '.')} --> {timestamp(c.end, '.')}\n{c.text}\n"
        for c in split_cues(t.chars)
    ]
    return "WEBVTT\n\n" + "\n".join(blocks)


def render(t: Transcript, fmt: str) -> str:
    """The transcript in format ``fmt`` (one of FORMATS)."""
    writers = {"txt": lambda t: t.text + "\n", "json": to_json, "jsonl": to_jsonl}
    writers.update({"srt": to_srt, "vtt": to_vtt})
    if fmt not in writers:
        raise ValueError(f"unknown format {fmt!r}")
    return writers[fmt](t)
