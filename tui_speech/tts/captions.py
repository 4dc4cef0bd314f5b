"""Captions from word timings: when each word of a take sounds, as SRT, WebVTT or JSON cues.

A take is the pipeline's chunks played one after another; each chunk knows its words' spans
in its own (trimmed) audio (``SpeechChunk.words``). :class:`Timeline` adds the chunks up as
they stream, so the CLI and the TUI place a word at the same time in the same take. Cues are
one per word, or one per phrase: words up to a clause or sentence mark, a pause, or
:data:`PHRASE_MAX_WORDS` words / :data:`PHRASE_MAX_CHARS` characters (what fits a subtitle line).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from tui_speech.errors import Action, UsageError

if TYPE_CHECKING:
    from tui_speech.tts.durations import WordTiming
    from tui_speech.tts.pipeline import SpeechChunk

Unit = Literal["word", "phrase"]
UNITS: tuple[Unit, ...] = ("word", "phrase")
FORMATS = (".srt", ".vtt", ".json")
PHRASE_MAX_WORDS = 8
PHRASE_MAX_CHARS = 42
#: Silence between two words (seconds) that ends a phrase even without a mark.
PHRASE_GAP_S = 0.3
_BREAK_MARKS = frozenset(",;:—….!?，、；：。！？")


@dataclass(frozen=True)
class TimedWord:
    """One word of a take and when it sounds (seconds from the take's start)."""

    text: str
    start: float
    end: float
    #: Index of the chunk it was spoken in, and of its token in that chunk.
    chunk: int
    token: int
    #: Punctuation and space that follow it in the text (kept in phrase cues).
    tail: str = ""

    @property
    def breaks(self) -> bool:
        """A clause or sentence mark follows: a phrase ends here."""
        return any(ch in _BREAK_MARKS for ch in self.text[-1:] + self.tail)


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str


class Timeline:
    """Words of a take in order, with times from its start; :meth:`add` each chunk as it is
    played or written (chunks are laid end to end, as the CLI and the TUI play them)."""

    def __init__(self) -> None:
        self.words: list[TimedWord] = []
        self.duration = 0.0
        #: Chunks with speech but no timings (a model without the durations output).
        self.untimed = 0

    def add(self, chunk: SpeechChunk) -> None:
        untimed = bool(chunk.tokens) and not chunk.words
        self.add_audio(chunk.words, len(chunk.audio), chunk.sample_rate, chunk.index, untimed)

    def add_audio(
        self,
        words: Sequence[WordTiming],
        samples: int,
        rate: int,
        index: int = 0,
        untimed: bool = False,
    ) -> None:
        """A piece of the take: ``samples`` of audio holding ``words`` (times in samples of
        the piece), e.g. a draft's sentence take read back."""
        self.untimed += untimed
        for word in words:
            start, end = self.duration + word.start / rate, self.duration + word.end / rate
            self.words.append(TimedWord(word.text, start, end, index, word.token, word.tail))
        self.duration += samples / rate

    def word_at(self, seconds: float) -> TimedWord | None:
        """The word sounding at ``seconds`` (None in a pause)."""
        import bisect

        i = bisect.bisect_right([w.start for w in self.words], seconds) - 1
        if i >= 0 and seconds < self.words[i].end:
            return self.words[i]
        return None


def cues(words: Sequence[TimedWord], unit: Unit = "phrase") -> list[Cue]:
    """Caption cues for ``words``: one per word, or one per phrase."""
    if unit == "word":
        return [Cue(w.start, w.end, w.text) for w in words]
    out: list[Cue] = []
    group: list[TimedWord] = []

    def flush() -> None:
        if group:
            text = "".join(w.text + w.tail for w in group).strip()
            out.append(Cue(group[0].start, group[-1].end, text))
            group.clear()

    for word in words:
        if group:
            text = "".join(w.text + w.tail for w in group) + word.text
            if (
                word.start - group[-1].end > PHRASE_GAP_S
                or len(group) >= PHRASE_MAX_WORDS
                or len(text.strip()) > PHRASE_MAX_CHARS
            ):
                flush()
        group.append(word)
        if word.breaks:
            flush()
    flush()
    return out


def timestamp(seconds: float, sep: str) -> str:
    """``HH:MM:SS,mmm`` (srt, sep=",") or ``HH:MM:SS.mmm`` (vtt, sep="."): the one subtitle
    clock, for Speak's captions and for transcripts (``asr.formats``)."""
    ms = max(0, round(seconds * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def to_srt(items: Iterable[Cue]) -> str:
    blocks = [
        f"{n}\n{timestamp(c.start, ',')} --> {timestamp(c.end, ',')}\n{c.text}\n"
        for n, c in enumerate(items, 1)
    ]
    return "\n".join(blocks)


def to_vtt(items: Iterable[Cue]) -> str:
    blocks = [f"{timestamp(c.start, '.')} --> {timestamp(c.end, '.')}\n{c.text}\n" for c in items]
    return "WEBVTT\n\n" + "\n".join(blocks)


def to_json(words: Sequence[TimedWord], items: Sequence[Cue], duration: float) -> str:
    def rounded(d: dict[str, object]) -> dict[str, object]:
        return {k: round(v, 3) if isinstance(v, float) else v for k, v in d.items()}

    data = {
        "duration": round(duration, 3),
        "words": [rounded({"text": w.text, "start": w.start, "end": w.end}) for w in words],
        "cues": [rounded(asdict(c)) for c in items],
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def check_caption_path(path: Path) -> Path:
    """A caption file name the writer knows (by its suffix) in a folder that exists: checked
    before any synthesis."""
    if path.suffix.lower() not in FORMATS:
        raise UsageError(
            f"unknown caption format {path.suffix or path.name!r}",
            f"name the file {' or '.join(FORMATS)}",
        )
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise UsageError(f"cannot write {path}: folder {folder} does not exist")
    return path


def render(path: Path, timeline: Timeline, unit: Unit = "phrase") -> str:
    """The caption file's text for ``timeline`` in the format ``path`` names."""
    if timeline.untimed:
        raise UsageError(
            "this Kokoro model gives no word timings, so no captions can be made",
            "use the embedded model (no model given)",
            action=Action("pick-model"),
        )
    suffix = check_caption_path(path).suffix.lower()
    items = cues(timeline.words, unit)
    if suffix == ".srt":
        return to_srt(items)
    if suffix == ".vtt":
        return to_vtt(items)
    return to_json(timeline.words, items, timeline.duration)


def write_captions(path: Path, timeline: Timeline, unit: Unit = "phrase") -> int:
    """Write the caption file atomically; returns the number of cues."""
    from tui_speech.fileio import atomic_write_text

    text = render(path, timeline, unit)
    atomic_write_text(path, text)
    return len(cues(timeline.words, unit))
