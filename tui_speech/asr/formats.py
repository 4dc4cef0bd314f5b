"""Write a :class:`~tui_speech.asr.recognizer.Transcript` as txt, json, jsonl, srt or vtt.

What was heard and what is written (:mod:`tui_speech.asr.written`: punctuation, numbers,
script, per :class:`~tui_speech.asr.written.WrittenOptions`) are both kept where there is room:

- ``txt``: the written text and a newline.
- ``json``: ``{text, written, language, duration, model, source, confidence, chars: [{char,
  t0, t1, confidence, min_confidence, alternatives: [[char, p], ...]}], spans: [{text, t0, t1,
  confidence, heard, chars[, corrected]}]}`` (times in seconds): ``text`` and ``chars`` are what
  was heard, ``written`` and ``spans`` what is written, each span naming the heard characters
  (indices into ``chars``) it came from; an inserted mark has confidence null and no
  characters. In a corrected session (``sessions export``) ``chars`` stay the model's and the
  user's text is a span with ``corrected`` true over the characters it replaced (their time
  span; confidence 1.0, a person's; text "" where the user deleted them).
- ``jsonl``: one JSON object per cue (``{source, start, end, text, written, confidence, chars,
  spans}``) – the same cues as the subtitles, so a script can stream them.
- ``srt`` / ``vtt``: the written text in cues split where the speaker pauses (a gap of
  ``pause_s`` between two characters) and when a cue reaches ``max_chars`` characters or
  ``max_s`` seconds; a mark stays with the cue before it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tui_speech.asr.ctc import CharResult
from tui_speech.asr.recognizer import Transcript
from tui_speech.asr.written import AS_HEARD, Span, Written, WrittenOptions, span_dict
from tui_speech.tts.captions import timestamp

#: Utterances as ``(start, end)`` ranges of character indices (a session's finals).
Utterances = list[tuple[int, int]] | None

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
    spans: tuple[Span, ...] = ()
    """The written spans of the cue; none: the cue is written as heard."""
    first: int = 0
    """Index of the cue's first character in the transcript."""

    @property
    def heard(self) -> str:
        return "".join(c.char for c in self.chars).strip()

    @property
    def text(self) -> str:
        if not self.spans:
            return self.heard
        return "".join(s.text for s in self.spans).strip()


def cue_ranges(
    chars: tuple[CharResult, ...] | list[CharResult],
    pause_s: float = PAUSE_S,
    max_chars: int = MAX_CHARS,
    max_s: float = MAX_S,
) -> list[tuple[int, int]]:
    """The cues of ``chars`` as index ranges (see :func:`split_cues`)."""
    ranges: list[tuple[int, int]] = []
    start: int | None = None
    end = 0  # one past the last character that is not a space

    def close() -> None:
        nonlocal start
        if start is not None and end > start:
            ranges.append((start, end))
        start = None

    for i, c in enumerate(chars):
        if start is not None and (
            c.t0 - chars[end - 1].t1 >= pause_s
            or i - start >= max_chars
            or c.t1 - chars[start].t0 > max_s
        ):
            close()
        if start is None:
            if not c.char.strip():
                continue
            start = i
        if c.char.strip():
            end = i + 1
    close()
    return ranges


def split_cues(
    chars: tuple[CharResult, ...] | list[CharResult],
    pause_s: float = PAUSE_S,
    max_chars: int = MAX_CHARS,
    max_s: float = MAX_S,
) -> list[Cue]:
    """Group characters into cues at pauses and length limits; spaces never start a cue."""
    return [
        Cue(chars[a].t0, chars[b - 1].t1, tuple(chars[a:b]))
        for a, b in cue_ranges(chars, pause_s, max_chars, max_s)
    ]


def written_cues(
    chars: tuple[CharResult, ...], written: Written, utterances: Utterances = None
) -> list[Cue]:
    """Cues with their written spans. Cut at pauses and length limits, or, given
    ``utterances`` (the VAD already cut at the pauses), per utterance at the length limits."""
    if utterances is None:
        ranges = cue_ranges(chars)
    else:
        ranges = [
            (s + a, s + b)
            for s, e in utterances
            for a, b in cue_ranges(chars[s:e], pause_s=float("inf"))
        ]
    owner = {}  # heard index -> its cue
    for k, (a, b) in enumerate(ranges):
        owner.update(dict.fromkeys(range(a, b), k))
    spans: list[list[Span]] = [[] for _ in ranges]
    k = -1
    for span in written.spans:
        # A span goes with the cue of its first heard character, a mark with the cue before it.
        k = next((owner[i] for i in span.heard if i in owner), k)
        if k >= 0:
            spans[k].append(span)
    return [
        Cue(chars[a].t0, chars[b - 1].t1, tuple(chars[a:b]), tuple(spans[k]), a)
        for k, (a, b) in enumerate(ranges)
    ]


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


def to_json(t: Transcript, written: Written) -> str:
    data = {
        "text": t.text,
        "written": written.text,
        "language": t.language,
        "duration": _round(t.duration),
        "model": t.model,
        "source": t.source,
        "confidence": _round(t.confidence),
        "chars": [char_dict(c) for c in t.chars],
        "spans": [span_dict(s, t.chars) for s in written.spans],
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def to_jsonl(t: Transcript, written: Written, utterances: Utterances = None) -> str:
    lines = []
    for cue in written_cues(t.chars, written, utterances):
        conf = sum(c.confidence for c in cue.chars) / len(cue.chars)
        first = cue.first
        item = {
            "source": t.source,
            "start": _round(cue.start),
            "end": _round(cue.end),
            "text": cue.heard,
            "written": cue.text,
            "confidence": _round(conf),
            "chars": [char_dict(c) for c in cue.chars],
            # A span's characters are counted from the cue's first character.
            "spans": [span_dict(s, t.chars, first) for s in cue.spans],
        }
        lines.append(json.dumps(item, ensure_ascii=False) + "\n")
    return "".join(lines)


def to_srt(t: Transcript, written: Written, utterances: Utterances = None) -> str:
    blocks = [
        f"{i}\n{timestamp(c.start, ',')} --> {timestamp(c.end, ',')}\n{c.text}\n"
        for i, c in enumerate(written_cues(t.chars, written, utterances), start=1)
    ]
    return "\n".join(blocks)


def to_vtt(t: Transcript, written: Written, utterances: Utterances = None) -> str:
    blocks = [
        f"{timestamp(c.start, '.')} --> {timestamp(c.end, '.')}\n{c.text}\n"
        for c in written_cues(t.chars, written, utterances)
    ]
    return "WEBVTT\n\n" + "\n".join(blocks)


def render(
    t: Transcript,
    fmt: str,
    options: WrittenOptions = AS_HEARD,
    utterances: Utterances = None,
    written: Written | None = None,
) -> str:
    """The transcript in format ``fmt`` (one of FORMATS), written with ``options``.

    ``utterances``: what the speaker said as one (a session's finals), else found from pauses;
    ``written``: the written form when the caller has it already (else made here).
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    if written is None:
        from tui_speech.asr.written import write_transcript

        written = write_transcript(t, options, utterances)
    if fmt == "txt":
        return written.text + "\n"
    if fmt == "json":
        return to_json(t, written)
    writers = {"jsonl": to_jsonl, "srt": to_srt, "vtt": to_vtt}
    return writers[fmt](t, written, utterances)


def render_session(info: Any, fmt: str, options: WrittenOptions = AS_HEARD) -> str:
    """A stored live session in format ``fmt``: the model's characters as heard, the written
    text with the user's corrections as spans over them (``sessions export`` and the Listen
    pane's export of a session)."""
    from tui_speech.asr.written import export_session

    transcript, written, utterances = export_session(info, options)
    return render(transcript, fmt, utterances=utterances, written=written)
