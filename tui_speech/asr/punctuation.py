"""Punctuation from how the audio was spoken: pauses between characters and utterance ends.

A :class:`Punctuator` says which mark goes after which heard character. The one here,
:class:`PausePunctuator`, needs no model; a punctuation model pulled through the model manager
can replace it later by implementing the same protocol.

Its rules:

- the last character of an utterance gets "。", or "？" when it is a question particle (吗, 呢);
- a pause of at least :data:`COMMA_PAUSE_S` between two characters of an utterance gets "，"
  ("？" after a question particle);
- a file has no utterances of its own: a pause of at least :data:`SENTENCE_PAUSE_S` ends one
  (:func:`pause_utterances`). Live sessions pass the utterances their VAD cut.

A pause is the silence in the audio between two characters' CTC times (:func:`find_silences`:
20 ms frames 30 dB below the loud ones), not the gap between the times alone: CTC marks a
character with a short spike that can sit anywhere in its sound, so two characters of fluent
speech can be a second apart (the tiny test model) while the audio between them never falls
silent. So without the audio (a session recorded without ``--record``) there are no commas,
only the end marks of the utterances its VAD cut: a gap between CTC times is no evidence of a
pause, and a comma inside a word is worse than none.

The thresholds were set by measurement (``python -m bench.written punct``): inside Kokoro's
phrases the audio is never silent for more than 0.04 s, and a pause of 0.2-1.0 s measures just
that, so 0.3 s gives a comma to every pause of 0.3 s and more and to nothing said fluently;
the tiny test model's CTC gaps inside a phrase reach 1.8 s, longer than any of the pauses.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # numpy loads with the first audio measured, not at CLI start-up
    import numpy as np

    from tui_speech.asr.ctc import CharResult


#: A pause between two characters at least this long (seconds) gets "，".
COMMA_PAUSE_S = 0.3
#: In a file, a pause at least this long ends an utterance: "。" (a live session's VAD ends
#: one after ``ListenSettings.min_silence`` instead).
SENTENCE_PAUSE_S = 0.7
#: Silence: a 20 ms frame this far below the loud frames (the 90th percentile of frame RMS).
SILENCE_DB = -30.0
FRAME_S = 0.02
#: Particles that end a question.
QUESTION_PARTICLES = frozenset("吗呢么")
COMMA, PERIOD, QUESTION = "，", "。", "？"

#: Utterances as ``(start, end)`` ranges of character indices, end exclusive.
Utterances = Sequence[tuple[int, int]]
#: Silent stretches of the audio as ``(start, end)`` seconds, in order.
Silences = Sequence[tuple[float, float]]


class Punctuator(Protocol):
    """Where marks go: ``{index of a heard character: the mark written after it}``.

    ``silences``: the silent stretches of the audio, when the audio is at hand.
    """

    def marks(
        self, chars: Sequence[CharResult], utterances: Utterances, silences: Silences | None
    ) -> dict[int, str]: ...


def _frame_rms(x: np.ndarray, frame: int) -> np.ndarray:
    import numpy as np

    n = len(x) // frame
    return np.sqrt(np.mean(np.square(x[: n * frame].reshape(n, frame)), axis=1))


def _quiet_runs(rms: np.ndarray, loud: float, min_s: float) -> list[tuple[float, float]]:
    """Runs of frames ``SILENCE_DB`` below ``loud`` (a NaN frame, audio we never got, is not
    quiet), as seconds, at least ``min_s`` long, with speech on both sides: the silence before
    the speech starts or after it ends (so far) is no pause, however a model times the
    characters next to it (the tiny test model puts a clip's last one at its very end)."""
    import numpy as np

    with np.errstate(invalid="ignore"):
        quiet = rms < loud * 10 ** (SILENCE_DB / 20)
    edges = np.flatnonzero(np.diff(np.r_[0, quiet.astype(np.int8), 0]))
    return [
        (s * FRAME_S, e * FRAME_S)
        for s, e in zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True)
        if (e - s) * FRAME_S >= min_s - 1e-9 and 0 < s and e < len(rms)
    ]


def find_silences(
    blocks: Iterable[np.ndarray], rate: int, min_s: float = 0.1
) -> list[tuple[float, float]]:
    """Pauses: silent stretches (at least ``min_s`` long) between speech, in audio given as
    blocks of float samples.

    Memory is one number per 20 ms frame (180 000 for an hour), so long files stream through.
    """
    import numpy as np

    frame = max(1, round(FRAME_S * rate))
    energies: list[np.ndarray] = []
    rest = np.zeros(0, np.float32)
    for block in blocks:
        x = np.concatenate([rest, np.asarray(block, np.float32).reshape(-1)])
        energies.append(_frame_rms(x, frame))
        rest = x[len(x) // frame * frame :]
    rms = np.concatenate(energies) if energies else np.zeros(0)
    if not len(rms):
        return []
    return _quiet_runs(rms, float(np.percentile(rms, 90)), min_s)


class SilenceTracker:
    """The silences of live audio, on the session clock, as it arrives.

    :meth:`watch` wraps a live source (``tui_speech.audio.sources``): its blocks pass through
    unchanged and are measured on the way, so a face can punctuate a final with the pauses the
    audio really had. Memory is one number per 20 ms frame.
    """

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self._frame = max(1, round(FRAME_S * rate))
        self._rms: list[float] = []

    def feed(self, samples: np.ndarray, start_s: float) -> None:
        import numpy as np

        first = round(start_s / FRAME_S)
        values = _frame_rms(np.asarray(samples, np.float32).reshape(-1), self._frame)
        if first > len(self._rms):  # blocks that never came (dropped): unknown, not silent
            self._rms.extend([float("nan")] * (first - len(self._rms)))
        self._rms[first:] = values.tolist()

    def silences(self, min_s: float = 0.1) -> list[tuple[float, float]]:
        import numpy as np

        rms = np.asarray(self._rms, np.float64)
        if not np.isfinite(rms).any():
            return []
        return _quiet_runs(rms, float(np.nanpercentile(rms, 90)), min_s)

    def watch(self, source: Any) -> Any:
        """``source`` with its blocks measured as they pass (every other attribute is its own)."""
        return _Watched(source, self)


class _Watched:
    def __init__(self, source: Any, tracker: SilenceTracker) -> None:
        self._source = source
        self._tracker = tracker

    def __getattr__(self, name: str) -> Any:
        return getattr(self._source, name)

    def batches(self) -> Iterator[Any]:
        for batch in self._source.batches():
            for block in batch:
                self._tracker.feed(block.samples, block.start_s)
            yield batch


def pause_between(a: CharResult, b: CharResult, silences: Silences | None) -> float:
    """How long the speaker paused between characters ``a`` and ``b`` (seconds)."""
    if silences is None:
        return b.t0 - a.t1
    lo, hi = a.t1, b.t0
    longest = 0.0
    # The silences are in order: start at the first that ends after ``lo``.
    for s, e in islice(silences, bisect_left(silences, lo, key=lambda r: r[1]), None):
        if s >= hi:
            break
        longest = max(longest, min(hi, e) - max(lo, s))
    return longest


def _heard(c: CharResult) -> bool:
    return bool(c.char.strip())


def pause_utterances(
    chars: Sequence[CharResult], silences: Silences | None, pause_s: float = SENTENCE_PAUSE_S
) -> list[tuple[int, int]]:
    """The utterances of a file: runs of characters split where the speaker pauses long.
    Without the audio's silences nothing tells a pause, so it is all one utterance."""
    if silences is None:
        return [(0, len(chars))] if chars else []
    out: list[tuple[int, int]] = []
    start = 0
    for i in range(1, len(chars)):
        if pause_between(chars[i - 1], chars[i], silences) >= pause_s:
            out.append((start, i))
            start = i
    if chars:
        out.append((start, len(chars)))
    return out


class PausePunctuator:
    """Marks from pauses and utterance ends (see the module docstring)."""

    def __init__(self, comma_pause_s: float = COMMA_PAUSE_S) -> None:
        self.comma_pause_s = comma_pause_s

    def _end_mark(self, c: CharResult, end: str) -> str:
        return QUESTION if c.char in QUESTION_PARTICLES else end

    def marks(
        self, chars: Sequence[CharResult], utterances: Utterances, silences: Silences | None
    ) -> dict[int, str]:
        out: dict[int, str] = {}
        for start, end in utterances:
            heard = [i for i in range(start, end) if _heard(chars[i])]
            if not heard:
                continue
            pairs = zip(heard, heard[1:], strict=False) if silences is not None else ()
            for a, b in pairs:
                if pause_between(chars[a], chars[b], silences) >= self.comma_pause_s:
                    out[a] = self._end_mark(chars[a], COMMA)
            out[heard[-1]] = self._end_mark(chars[heard[-1]], PERIOD)
        return out
