"""Validation of a dataset split against a model, before any training starts.

Every row is checked once, and every problem is reported with the split file's line number:

- ``missing``: the audio file does not exist;
- ``unreadable``: soundfile cannot read it, or it has no samples;
- ``empty``: the transcript is empty after normalisation (see :mod:`tui_speech.asr.normalize`);
- ``too-short``: shorter than ``min_seconds``, or too short for its text (CTC needs at least one
  20 ms frame per character, two for a repeated one);
- ``too-long``: longer than ``max_seconds`` (one clip that long fills a whole batch);
- ``vocab``: characters the model has no token for (only with ``new_chars="reject"``; with
  ``extend`` or ``unk`` they are collected in :attr:`Report.new_chars` instead).

Checking reads only each file's header, so it is quick even on thousands of clips.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from tui_speech.asr.dataset import Dataset, Row
from tui_speech.asr.model import ModelInfo
from tui_speech.asr.normalize import normalize_text, unknown_chars
from tui_speech.errors import UsageError

MIN_SECONDS = 0.3
MAX_SECONDS = 30.0
NEW_CHAR_POLICIES = ("reject", "extend", "unk")


@dataclass(frozen=True)
class Problem:
    row: Row
    kind: str
    detail: str

    def __str__(self) -> str:
        return f"{self.row.where}: {self.kind}: {self.detail}"


@dataclass(frozen=True)
class Example:
    """A row that passed: its normalised text and its length."""

    row: Row
    text: str
    seconds: float


@dataclass(frozen=True)
class Report:
    split: str
    good: tuple[Example, ...]
    problems: tuple[Problem, ...]
    #: Characters not in the vocabulary, most frequent first (with ``extend``/``unk``).
    new_chars: tuple[str, ...]

    @property
    def seconds(self) -> float:
        return sum(e.seconds for e in self.good)

    def counts(self) -> Counter[str]:
        return Counter(p.kind for p in self.problems)


def vocab_chars(info: ModelInfo) -> frozenset[str]:
    """The tokens a transcript may contain: single characters and the word delimiter."""
    chars = {t for t in info.vocab if len(t) == 1}
    if info.delimiter_id is not None:
        chars.add(info.vocab[info.delimiter_id])
    chars.discard(info.vocab[info.blank_id])
    return frozenset(chars)


def check_split(
    dataset: Dataset,
    split: str,
    info: ModelInfo,
    new_chars: str = "reject",
    min_seconds: float = MIN_SECONDS,
    max_seconds: float = MAX_SECONDS,
    skip_rejected: bool = True,
) -> Report:
    """Check every row of ``split`` against ``info``'s vocabulary and frame rate."""
    from tui_speech.audio.reader import probe

    if new_chars not in NEW_CHAR_POLICIES:
        raise UsageError(
            f"new-character policy {new_chars!r} is unknown",
            f"use one of {', '.join(NEW_CHAR_POLICIES)}",
        )
    vocab = vocab_chars(info)
    delimiter = info.vocab[info.delimiter_id] if info.delimiter_id is not None else None
    good: list[Example] = []
    problems: list[Problem] = []
    unknown: Counter[str] = Counter()
    for row in dataset.rows(split, skip_rejected=skip_rejected):
        text = normalize_text(row.text, vocab, info.lower_case, delimiter)
        if not row.path.is_file():
            problems.append(Problem(row, "missing", f"{row.path} does not exist"))
            continue
        try:
            audio = probe(row.path)
        except UsageError as exc:
            problems.append(Problem(row, "unreadable", exc.message))
            continue
        seconds = audio.duration
        if audio.frames == 0:
            problems.append(Problem(row, "unreadable", f"{row.path.name} holds no samples"))
            continue
        if not text:
            problems.append(Problem(row, "empty", "no transcript left after normalisation"))
            continue
        frames = info.frames_for(int(seconds * info.sample_rate))
        needed = len(text) + sum(a == b for a, b in zip(text, text[1:], strict=False))
        if seconds < min_seconds or frames < needed:
            why = f"{seconds:.2f} s" + (f" for {len(text)} characters" if frames < needed else "")
            problems.append(Problem(row, "too-short", why))
            continue
        if seconds > max_seconds:
            problems.append(Problem(row, "too-long", f"{seconds:.1f} s > {max_seconds:.0f} s"))
            continue
        missing = unknown_chars(text, vocab)
        if missing and new_chars == "reject":
            problems.append(
                Problem(row, "vocab", f"not in the model's vocabulary: {''.join(missing)}")
            )
            continue
        unknown.update(c for c in text if c in missing)
        good.append(Example(row, text, seconds))
    ordered = tuple(c for c, _ in unknown.most_common())
    return Report(split, tuple(good), tuple(problems), ordered)
