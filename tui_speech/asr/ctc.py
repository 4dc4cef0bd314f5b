"""Greedy CTC decoding with per-character timing, confidence and alternatives.

For each output frame the model gives logits over the vocabulary; a softmax turns them into
probabilities and the most probable token wins the frame. Consecutive frames won by the same
token form one *span*; spans of the blank are dropped, every other span is one character
(``|``, the word delimiter, becomes a space) – exactly the collapsing transformers' CTC tokenizer
does, so the text matches its ``decode``.

Per character:

- ``t0``/``t1``: first frame of the span x frame length, and one past its last frame
  (20 ms frames for wav2vec2);
- ``confidence``: the mean, over the span's frames, of the winning token's probability;
  ``min_confidence`` is the smallest of those probabilities (one doubtful frame shows there);
- ``alternatives``: the ``k`` other tokens (not the blank, not the winner) with the highest
  probability averaged over the same frames, most probable first.

:class:`GreedyDecoder` is incremental: feed it logits window by window (chunked files, live
audio) and it stitches spans that cross a window edge, so a character is never doubled or split.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DEFAULT_ALTERNATIVES = 3


@dataclass(frozen=True)
class CharResult:
    """One recognised character with its timing (seconds) and how sure the model was."""

    char: str
    t0: float
    t1: float
    confidence: float
    min_confidence: float
    alternatives: tuple[tuple[str, float], ...] = ()


def softmax(logits: np.ndarray) -> np.ndarray:
    """Probabilities over the last axis, float32, stable for large logits."""
    x = np.asarray(logits, dtype=np.float32)
    x = x - x.max(axis=-1, keepdims=True)
    np.exp(x, out=x)
    x /= x.sum(axis=-1, keepdims=True)
    return x


@dataclass
class _Span:
    """The span still open at the end of the frames fed so far."""

    token: int
    start: int  # global frame index
    count: int
    win_sum: float
    win_min: float
    prob_sum: np.ndarray  # (vocab,) sum of probabilities over the span's frames


class GreedyDecoder:
    """Incremental greedy CTC decoder (see the module docstring for the definitions)."""

    def __init__(
        self,
        vocab: tuple[str, ...],
        blank_id: int,
        frame_seconds: float,
        delimiter_id: int | None = None,
        alternatives: int = DEFAULT_ALTERNATIVES,
        lower_case: bool = False,
    ) -> None:
        self.vocab = vocab
        self.blank_id = blank_id
        self.frame_seconds = frame_seconds
        self.alternatives = max(0, int(alternatives))
        text = [" " if i == delimiter_id else tok for i, tok in enumerate(vocab)]
        self._text = [t.lower() for t in text] if lower_case else text
        # Tokens that may be offered as alternatives: not the blank, not empty vocab holes.
        self._offerable = np.array([i != blank_id and bool(t) for i, t in enumerate(vocab)])
        self.frames_seen = 0
        self._open: _Span | None = None

    def reset(self) -> None:
        """Forget everything fed so far (a new utterance starts at frame 0)."""
        self.frames_seen = 0
        self._open = None

    def feed_logits(self, logits: np.ndarray) -> list[CharResult]:
        """Decode the next frames (logits, shape (frames, vocab)); return characters now final."""
        return self.feed(softmax(logits))

    def feed(self, probs: np.ndarray) -> list[CharResult]:
        """Decode the next frames (probabilities, shape (frames, vocab)); see feed_logits."""
        probs = np.asarray(probs, dtype=np.float32)
        if probs.ndim != 2 or probs.shape[1] != len(self.vocab):
            raise ValueError(
                f"expected (frames, {len(self.vocab)}) probabilities, got {probs.shape}"
            )
        n = len(probs)
        if n == 0:
            return []
        winners = probs.argmax(axis=1)
        win_prob = probs[np.arange(n), winners]
        # Span boundaries inside this block: where the winning token changes.
        starts = np.flatnonzero(np.r_[True, winners[1:] != winners[:-1]])
        ends = np.r_[starts[1:], n]
        sums = np.add.reduceat(probs, starts, axis=0)
        out: list[CharResult] = []
        for j, (s, e) in enumerate(zip(starts.tolist(), ends.tolist(), strict=True)):
            token = int(winners[s])
            w = win_prob[s:e]
            span = _Span(
                token, self.frames_seen + s, e - s, float(w.sum()), float(w.min()), sums[j]
            )
            if j == 0 and self._open is not None and self._open.token == token:
                # The same token continues across the window edge: one span, not two.
                prev = self._open
                span = _Span(
                    token,
                    prev.start,
                    prev.count + span.count,
                    prev.win_sum + span.win_sum,
                    min(prev.win_min, span.win_min),
                    prev.prob_sum + span.prob_sum,
                )
            elif self._open is not None:
                out.extend(self._close(self._open))
            self._open = span
        self.frames_seen += n
        return out

    def skip(self, frames: int) -> list[CharResult]:
        """Advance over ``frames`` frames known to hold nothing (as if all were blank)."""
        out = self.flush()
        self.frames_seen += max(0, frames)
        return out

    def flush(self) -> list[CharResult]:
        """Close the open span (end of audio) and return its character, if any."""
        span, self._open = self._open, None
        return self._close(span) if span is not None else []

    def _close(self, span: _Span) -> list[CharResult]:
        if span.token == self.blank_id:
            return []
        mean = span.prob_sum / span.count
        alts: tuple[tuple[str, float], ...] = ()
        if self.alternatives:
            ranked = np.where(self._offerable, mean, -1.0)
            ranked[span.token] = -1.0
            k = min(self.alternatives, len(ranked) - 1)
            top = np.argpartition(-ranked, k - 1)[:k] if k > 0 else np.array([], int)
            top = top[np.argsort(-ranked[top], kind="stable")]
            alts = tuple((self._text[i], float(mean[i])) for i in top.tolist() if ranked[i] >= 0)
        return [
            CharResult(
                char=self._text[span.token],
                t0=round(span.start * self.frame_seconds, 6),
                t1=round((span.start + span.count) * self.frame_seconds, 6),
                confidence=span.win_sum / span.count,
                min_confidence=span.win_min,
                alternatives=alts,
            )
        ]


def trim_spaces(chars: list[CharResult]) -> list[CharResult]:
    """Drop leading and trailing spaces, as the tokenizer's ``strip()`` does to its text."""
    start, end = 0, len(chars)
    while start < end and not chars[start].char.strip():
        start += 1
    while end > start and not chars[end - 1].char.strip():
        end -= 1
    return chars[start:end]


def decode_logits(
    logits: np.ndarray,
    vocab: tuple[str, ...],
    blank_id: int,
    frame_seconds: float,
    delimiter_id: int | None = None,
    alternatives: int = DEFAULT_ALTERNATIVES,
) -> list[CharResult]:
    """Greedy-decode one whole utterance's logits (frames, vocab) in one call."""
    dec = GreedyDecoder(vocab, blank_id, frame_seconds, delimiter_id, alternatives)
    return trim_spaces(dec.feed_logits(logits) + dec.flush())
