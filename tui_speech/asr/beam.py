"""Optional CTC prefix beam search (``transcribe --beam WIDTH``), without a language model.

pyctcdecode pins ``numpy<2`` and cannot be installed beside this project's NumPy, so the
search is a small one of our own: the classic prefix beam search over the frames of a window
(blank / non-blank prefix probabilities, repeated tokens need a blank between them), with
only the few most probable tokens of each frame expanded. The best prefix is then aligned to
the frames by Viterbi forced alignment, which gives every character a span of frames; its
timing, confidence (mean of its probability over the span), minimum and alternatives are
defined exactly as in greedy decoding.

Each window is searched on its own; a character that straddles a window edge can therefore be
split or repeated – rare with the 4 s context, and absent for audio shorter than one window.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator

import numpy as np

from tui_speech.asr.ctc import CharResult, GreedyDecoder, softmax
from tui_speech.asr.recognizer import SILENCE_RMS, Progress, Recognizer

#: Tokens expanded per frame: the rest carry too little probability to change the best path.
TOP_TOKENS = 8
_NEG = -1e30


def _logsumexp(a: float, b: float) -> float:
    if a < b:
        a, b = b, a
    return a if b <= _NEG else a + float(np.log1p(np.exp(b - a)))


def prefix_beam_search(log_probs: np.ndarray, blank: int, width: int) -> tuple[int, ...]:
    """The most probable token sequence (collapsed, no blanks) under CTC."""
    beams: dict[tuple[int, ...], tuple[float, float]] = {(): (0.0, _NEG)}  # (p_blank, p_token)
    for frame in log_probs:
        candidates = np.argpartition(-frame, min(TOP_TOKENS, len(frame) - 1))[:TOP_TOKENS]
        nxt: dict[tuple[int, ...], list[float]] = defaultdict(lambda: [_NEG, _NEG])
        for prefix, (pb, pnb) in beams.items():
            total = _logsumexp(pb, pnb)
            for tok in candidates.tolist():
                p = float(frame[tok])
                if tok == blank:
                    entry = nxt[prefix]
                    entry[0] = _logsumexp(entry[0], total + p)
                    continue
                last = prefix[-1] if prefix else None
                ext = nxt[prefix + (tok,)]
                if tok == last:
                    # A repeat extends only from a blank-ending path; otherwise it collapses.
                    ext[1] = _logsumexp(ext[1], pb + p)
                    same = nxt[prefix]
                    same[1] = _logsumexp(same[1], pnb + p)
                else:
                    ext[1] = _logsumexp(ext[1], total + p)
        ranked = sorted(nxt.items(), key=lambda kv: -_logsumexp(*kv[1]))[:width]
        beams = {k: (v[0], v[1]) for k, v in ranked}
    return max(beams.items(), key=lambda kv: _logsumexp(*kv[1]))[0]


def force_align(log_probs: np.ndarray, tokens: tuple[int, ...], blank: int) -> np.ndarray:
    """Viterbi CTC alignment: the token id (or blank) each frame is assigned to."""
    n = len(log_probs)
    states = [blank]
    for t in tokens:
        states += [t, blank]
    s = np.array(states)
    score = np.full(len(s), _NEG)
    score[0] = log_probs[0, s[0]]
    if len(s) > 1:
        score[1] = log_probs[0, s[1]]
    back = np.zeros((n, len(s)), np.int32)
    # A skip over a blank is allowed between two different tokens only.
    skip_ok = np.zeros(len(s), bool)
    skip_ok[2:] = (s[2:] != blank) & (s[2:] != s[:-2])
    idx = np.arange(len(s))
    for f in range(1, n):
        stay = score
        step = np.r_[_NEG, score[:-1]]
        skip = np.where(skip_ok, np.r_[_NEG, _NEG, score[:-2]], _NEG)
        choices = np.stack([stay, step, skip])
        best = choices.argmax(axis=0)
        back[f] = idx - best
        score = choices[best, idx] + log_probs[f, s]
    end = len(s) - 1 if len(s) == 1 or score[-1] >= score[-2] else len(s) - 2
    path = np.empty(n, np.int64)
    for f in range(n - 1, -1, -1):
        path[f] = s[end]
        end = back[f, end]
    return path


class BeamRecognizer(Recognizer):
    """A :class:`Recognizer` whose windows are decoded by prefix beam search."""

    def __init__(self, *args, beam_width: int = 8, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.beam_width = max(1, int(beam_width))

    def iter_chars(
        self, blocks: Iterable[np.ndarray], progress: Progress | None = None
    ) -> Iterator[CharResult]:
        """Characters per window, beam-searched and force-aligned (lazy)."""
        from tui_speech.asr.chunking import iter_windows

        offset = 0
        for window in iter_windows(blocks, self.chunk, self.stride, self.info.hop):
            if window.keep_to is None and window.first_frame == 0:
                self._check_length(len(window.samples))
            frames = self.info.frames_for(len(window.samples))
            keep_to = frames if window.keep_to is None else min(window.keep_to, frames)
            decoder = self.new_decoder()
            decoder.frames_seen = window.first_frame + window.keep_from
            quiet = float(np.sqrt(np.mean(np.square(window.samples)))) < SILENCE_RMS
            if not quiet and keep_to > window.keep_from:
                probs = softmax(self.window_logits(window.samples)[window.keep_from : keep_to])
                yield from self._aligned(decoder, probs)
            offset = window.end_sample
            if progress is not None:
                progress(offset / self.sample_rate)

    def _aligned(self, decoder: GreedyDecoder, probs: np.ndarray) -> list[CharResult]:
        log_probs = np.log(np.maximum(probs, 1e-30))
        blank = self.info.blank_id
        tokens = prefix_beam_search(log_probs, blank, self.beam_width)
        path = force_align(log_probs, tokens, blank)
        # Make the aligned token win its frames so the greedy span bookkeeping (timing,
        # confidence of that token, alternatives) applies unchanged to the beam's choice.
        shaped = probs.copy()
        rows = np.arange(len(path))
        shaped[rows, path] = shaped.max(axis=1) + 1.0
        spans = decoder.feed(shaped) + decoder.flush()
        out = []
        for c, (start, end) in zip(spans, _spans(path, blank), strict=True):
            token = path[start]
            real = probs[start:end, token]
            alts = self._alternatives(probs[start:end].mean(axis=0), token)
            out.append(CharResult(c.char, c.t0, c.t1, float(real.mean()), float(real.min()), alts))
        return out

    def _alternatives(self, mean: np.ndarray, token: int) -> tuple[tuple[str, float], ...]:
        ranked = mean.copy()
        ranked[[token, self.info.blank_id]] = -1.0
        top = np.argsort(-ranked)[: self.alternatives]
        text = self.new_decoder()._text
        return tuple((text[i], float(mean[i])) for i in top.tolist() if ranked[i] >= 0)


def _spans(path: np.ndarray, blank: int) -> list[tuple[int, int]]:
    """(start, end) frames of each non-blank run in an alignment."""
    out = []
    start = 0
    for f in range(1, len(path) + 1):
        if f == len(path) or path[f] != path[start]:
            if path[start] != blank:
                out.append((start, f))
            start = f
    return out
