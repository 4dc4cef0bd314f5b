"""CTC prefix beam search (``--beam WIDTH``), optionally biased towards hotwords.

pyctcdecode pins ``numpy<2`` and cannot be installed beside this project's NumPy, so the
search is a small one of our own: the classic prefix beam search (blank / non-blank prefix
probabilities, repeated tokens need a blank between them), with a
:class:`~tui_speech.asr.hotwords.ContextGraph` score carried by each prefix when hotwords are
given (the bonus of each matched token counts in the ranking; a failed match takes it back).

It is kept cheap enough to run on every live partial (bench/hotwords.py times it against
greedy decoding of the same logits):

- per frame, only tokens within ``PRUNE`` (natural log) of the frame's best are expanded, at
  most ``TOP_TOKENS`` of them; beams more than ``BEAM_PRUNE`` below the best are dropped;
- runs of frames with a single candidate (CTC's long stretches of sure blank, a sure
  character held over several frames) are one step: their log-probabilities add up exactly;
  a frame whose other tokens together fall below the candidate floor is known to have one
  from its best alone, so only the few unsure frames are compared over the vocabulary;
- a step of sure blank moves every beam's score by the same amount: no new ranking; the
  context graph's moves are a table built once per graph;
- with hotwords alone (no ``--beam``), a window where no term can start is decoded greedily;
- when the best prefix is the greedy text, the greedy characters are the answer; otherwise only
  the stretch of frames where the two differ is aligned again (Viterbi forced alignment), so
  every character keeps a span of frames. Timing, confidence (the mean probability of the
  character's token over its span), minimum and alternatives are defined as in greedy decoding.

Each window is searched on its own; a character that straddles a window edge can therefore be
split or repeated – rare with the 4 s context, and absent for audio shorter than one window.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from typing import NamedTuple

import numpy as np

from tui_speech.asr.ctc import CharResult, GreedyDecoder, _Span, softmax
from tui_speech.asr.hotwords import ContextGraph, Hotword
from tui_speech.asr.recognizer import SILENCE_RMS, Progress, Recognizer

#: Beam width when hotwords are given without ``--beam`` (4 fixed fewer terms at weight 3 on
#: bench/hotwords.py).
DEFAULT_WIDTH = 8
#: Tokens expanded per frame at most.
TOP_TOKENS = 8
#: Tokens less likely than the frame's best by more than this factor (e^5 ~ 150) are not
#: expanded: on bench/hotwords.py a cut at e^10 changed no transcript and took 4x the time.
PRUNE = 5.0
#: Beams this far (natural log) below the best are dropped: a path must survive until it
#: reaches a term and earns its bonus (6 fixed fewer terms at weight 3 on bench/hotwords.py).
BEAM_PRUNE = 10.0
_NEG = -1e30
_LOG_FLOOR = 1e-30


def _lse(a: float, b: float) -> float:
    if a < b:
        a, b = b, a
    return a if b <= _NEG else a + math.log1p(math.exp(b - a))


# A step is one frame, or a run of frames whose single candidate is one token:
# (tokens, their log-probs in the first frame, the log-prob of the run's other frames).
_Step = tuple[list[int], list[float], float]


def _run_starts(values: np.ndarray) -> np.ndarray:
    """Where each run of equal values begins (np.r_ costs more than the work here)."""
    starts = np.flatnonzero(values[1:] != values[:-1]) + 1
    return np.concatenate(([0], starts))


class _Frames(NamedTuple):
    """What the search needs of each frame, computed once per window."""

    winner: np.ndarray  # (frames,) the argmax token: the greedy path
    best: np.ndarray  # (frames,) its probability
    unsure: np.ndarray  # the frames that may have more than one candidate
    keep: np.ndarray  # (len(unsure), vocab) their candidates: within PRUNE of the best

    @classmethod
    def of(cls, probs: np.ndarray, normalised: bool = True, prune: float = PRUNE) -> _Frames:
        """``normalised``: each row sums to 1 (softmax output), so no pass to sum it."""
        n = len(probs)
        winner = probs.argmax(axis=1)
        best = probs[np.arange(n), winner]
        floor = best * math.exp(-prune)
        others = 1.0 - best if normalised else probs.sum(axis=1) - best
        # Where all other tokens together stay below half the floor, the best is the only
        # candidate: most frames (sure blanks) are settled without a pass over the vocabulary.
        # The half is a margin far above float32 rounding of the sum.
        unsure = np.flatnonzero(others >= 0.5 * floor)
        return cls(winner, best, unsure, probs[unsure] >= floor[unsure, None])

    def may_start(self, tokens: np.ndarray) -> bool:
        """Whether any of ``tokens`` is a candidate in any frame."""
        if not len(tokens):
            return False
        return bool((self.winner[:, None] == tokens).any() or self.keep[:, tokens].any())


def _steps(probs: np.ndarray, frames: _Frames | None = None) -> list[_Step]:
    """The frames of ``probs`` (frames, vocab) as search steps (see the module docstring)."""
    n = len(probs)
    if n == 0:
        return []
    winner, best, unsure, keep = frames if frames is not None else _Frames.of(probs, False)
    count = keep.sum(axis=1)
    several = np.flatnonzero(count > 1)
    frame_of = unsure[several]  # the frames with several candidates
    # Frames in one run share a key: a single candidate's token; any other frame its own.
    key = winner.copy()
    key[frame_of] = -1 - frame_of
    starts = _run_starts(key)
    log_best = np.log(np.maximum(best, _LOG_FLOOR))
    run_sum = np.add.reduceat(log_best, starts).tolist()
    at = {f: m for m, f in enumerate(frame_of.tolist())}
    if at:
        # Their candidates all at once (each frame's tokens ascending, as flatnonzero of
        # its row gives them).
        rows, cols = np.nonzero(keep[several])
        logs = np.log(np.maximum(probs[frame_of[rows], cols], _LOG_FLOOR)).tolist()
        cols_list = cols.tolist()
        ends = np.cumsum(count[several]).tolist()
    steps: list[_Step] = []
    first_of_run = log_best[starts].tolist()
    for j, s in enumerate(starts.tolist()):
        m = at.get(s)
        if m is None:
            first = first_of_run[j]
            steps.append(([int(winner[s])], [first], run_sum[j] - first))
            continue
        lo, hi = ends[m - 1] if m else 0, ends[m]
        if hi - lo <= TOP_TOKENS:
            steps.append((cols_list[lo:hi], logs[lo:hi], 0.0))
            continue
        row = probs[s]
        toks = np.asarray(cols_list[lo:hi])
        toks = toks[np.argpartition(-row[toks], TOP_TOKENS - 1)[:TOP_TOKENS]]
        steps.append((toks.tolist(), np.log(np.maximum(row[toks], _LOG_FLOOR)).tolist(), 0.0))
    return steps


def _search(
    steps: list[_Step], blank: int, width: int, context: ContextGraph | None
) -> tuple[int, ...]:
    # The per-step work is a few dozen candidates: plain Python with _lse written out beats
    # numpy's per-call cost here (bench/hotwords.py). The order of every sum is the classic
    # loop's, so the search's floats (and hence its ties) are the same on every path.
    log1p, exp, neg = math.log1p, math.exp, _NEG
    # The graph's moves as a table (state -> moves of the tokens it knows, the move of all
    # others): a lookup per new prefix instead of a call.
    table = context.moves() if context is not None else [({}, (0, 0.0))]

    # prefix -> [p_blank, p_token, context state, context score]
    beams: dict[tuple[int, ...], list] = {(): [0.0, neg, 0, 0.0]}
    for toks, lps, rest in steps:
        if len(toks) == 1:
            tok = toks[0]
            if len(beams) == 1:
                # One path and one candidate (most steps: sure blanks, sure characters).
                ((prefix, (pb, pnb, state, cscore)),) = beams.items()
                p = lps[0] + rest
                if tok == blank:
                    beams = {prefix: [_lse(pb, pnb) + p, neg, state, cscore]}
                    continue
                if prefix and tok == prefix[-1]:
                    if pb <= neg:
                        beams = {prefix: [neg, pnb + p, state, cscore]}
                        continue
                    if pnb > neg:
                        ext = prefix + (tok,)
                        known, other = table[state]
                        new_state, gain = known.get(tok, other)
                        beams = {
                            prefix: [neg, pnb + p, state, cscore],
                            ext: [neg, pb + p, new_state, cscore + gain],
                        }
                        continue
                    source = pb
                else:
                    source = _lse(pb, pnb)
                known, other = table[state]
                new_state, gain = known.get(tok, other)
                beams = {prefix + (tok,): [neg, source + p, new_state, cscore + gain]}
                continue
            if tok == blank:
                # Every beam extends with blank: no new prefix, the same sums as the loop below.
                p = lps[0]
                nxt = {}
                for prefix, (pb, pnb, state, cscore) in beams.items():
                    if pb < pnb:
                        pb, pnb = pnb, pb
                    total = pb if pnb <= neg else pb + log1p(exp(pnb - pb))
                    nxt[prefix] = [total + p + rest, neg, state, cscore]
                # No new prefix, and every score moved by the same amount: the ranking and
                # the floor stay as they were (up to rounding), so no new ranking is needed.
                beams = nxt
                continue
        nxt = {}
        for prefix, (pb, pnb, state, cscore) in beams.items():
            if pb >= pnb:
                total = pb if pnb <= neg else pb + log1p(exp(pnb - pb))
            else:
                total = pnb if pb <= neg else pnb + log1p(exp(pb - pnb))
            last = prefix[-1] if prefix else -1
            known, other = table[state]
            for tok, p in zip(toks, lps, strict=True):
                if tok == blank:
                    e = nxt.get(prefix)
                    if e is None:
                        nxt[prefix] = [total + p, neg, state, cscore]
                    else:
                        e[0] = _lse(e[0], total + p)
                    continue
                if tok == last:
                    # A repeat collapses into the prefix; only a blank-ending path extends.
                    e = nxt.get(prefix)
                    if e is None:
                        nxt[prefix] = [neg, pnb + p, state, cscore]
                    else:
                        e[1] = _lse(e[1], pnb + p)
                    source = pb
                else:
                    source = total
                if source <= neg:
                    continue
                ext = prefix + (tok,)
                e = nxt.get(ext)
                if e is None:
                    new_state, gain = known.get(tok, other)
                    nxt[ext] = [neg, source + p, new_state, cscore + gain]
                else:
                    e[1] = _lse(e[1], source + p)
        if rest:
            # The run's other frames: the single candidate again, nothing else.
            if toks[0] == blank:
                for e in nxt.values():
                    e[0] += rest
            else:
                for e in nxt.values():
                    e[0], e[1] = neg, e[1] + rest
        beams = _prune(nxt, width)
    if context is None:
        return max(beams.items(), key=lambda kv: _lse(kv[1][0], kv[1][1]))[0]
    return max(
        beams.items(),
        key=lambda kv: _lse(kv[1][0], kv[1][1]) + kv[1][3] + context.finalize(kv[1][2]),
    )[0]


def _prune(nxt: dict[tuple[int, ...], list], width: int) -> dict[tuple[int, ...], list]:
    """The ``width`` best beams (prefix and context score), none ``BEAM_PRUNE`` below the
    best, best first."""
    log1p, exp, neg = math.log1p, math.exp, _NEG
    scored = []
    for k, (a, b, _, cscore) in nxt.items():
        if a < b:
            a, b = b, a
        scored.append(((a if b <= neg else a + log1p(exp(b - a))) + cscore, k))
    scored.sort(reverse=True)
    floor = scored[0][0] - BEAM_PRUNE
    return {k: nxt[k] for s, k in scored[:width] if s >= floor}


def prefix_beam_search(
    log_probs: np.ndarray, blank: int, width: int, context: ContextGraph | None = None
) -> tuple[int, ...]:
    """The most probable token sequence (collapsed, no blanks) under CTC, with the context
    graph's bonuses when one is given."""
    probs = np.exp(np.asarray(log_probs, dtype=np.float64))
    return _search(_steps(probs), blank, max(1, int(width)), context)


def force_align(log_probs: np.ndarray, tokens: tuple[int, ...], blank: int) -> np.ndarray:
    """Viterbi CTC alignment: the token id (or blank) each frame is assigned to."""
    n = len(log_probs)
    states = [blank]
    for t in tokens:
        states += [t, blank]
    ns = len(states)
    # A skip over a blank is allowed between two different tokens only.
    skip_ok = [i >= 2 and states[i] != blank and states[i] != states[i - 2] for i in range(ns)]
    # Plain Python over the few states of a stretch: numpy's per-call cost is larger here.
    rows = log_probs[:, states].tolist()
    score = [_NEG] * ns
    score[0] = rows[0][0]
    if ns > 1:
        score[1] = rows[0][1]
    back: list[list[int]] = [[0] * ns]
    for f in range(1, n):
        row, prev = rows[f], score
        score, moves = [0.0] * ns, [0] * ns
        for i in range(ns):
            best, move = prev[i], 0
            if i >= 1 and prev[i - 1] > best:
                best, move = prev[i - 1], 1
            if skip_ok[i] and prev[i - 2] > best:
                best, move = prev[i - 2], 2
            score[i], moves[i] = best + row[i], move
        back.append(moves)
    end = ns - 1 if ns == 1 or score[-1] >= score[-2] else ns - 2
    path = np.empty(n, np.int64)
    for f in range(n - 1, -1, -1):
        path[f] = states[end]
        end -= back[f][end]
    return path


def _collapse(path: np.ndarray, blank: int) -> tuple[int, ...]:
    if len(path) == 0:
        return ()
    starts = _run_starts(path)
    return tuple(t for t in path[starts].tolist() if t != blank)


def _spans(path: np.ndarray, blank: int) -> list[tuple[int, int]]:
    """(start, end) frames of each non-blank run in an alignment."""
    if len(path) == 0:
        return []
    starts = _run_starts(path)
    ends = np.append(starts[1:], len(path))
    return [(s, e) for s, e in zip(starts.tolist(), ends.tolist(), strict=True) if path[s] != blank]


def align(
    probs: np.ndarray, tokens: tuple[int, ...], blank: int, greedy: np.ndarray | None = None
) -> np.ndarray:
    """A frame alignment of ``tokens``: the greedy path (``greedy``, the argmax per frame)
    where the tokens agree with it, forced alignment of the stretch in between where not."""
    if greedy is None:
        greedy = probs.argmax(axis=1)
    seen = _collapse(greedy, blank)
    if seen == tokens:
        return greedy
    # Common prefix and suffix with the greedy text, then one token of slack on each side
    # so that a repeat at the border gets the blank it needs.
    p = 0
    while p < min(len(seen), len(tokens)) and seen[p] == tokens[p]:
        p += 1
    s = 0
    while s < min(len(seen), len(tokens)) - p and seen[-1 - s] == tokens[-1 - s]:
        s += 1
    p, s = max(0, p - 1), max(0, s - 1)
    spans = _spans(greedy, blank)
    lo = spans[p - 1][1] if p > 0 else 0
    hi = spans[len(seen) - s][0] if s > 0 else len(greedy)
    part = tokens[p : len(tokens) - s]
    path = greedy.copy()
    if hi > lo:
        log_part = np.log(np.maximum(probs[lo:hi], _LOG_FLOOR))
        path[lo:hi] = force_align(log_part, part, blank) if part else blank
    if hi < lo or _collapse(path, blank) != tokens:
        path = force_align(np.log(np.maximum(probs, _LOG_FLOOR)), tokens, blank)
    return path


def chars_of_path(decoder: GreedyDecoder, probs: np.ndarray, path: np.ndarray) -> list[CharResult]:
    """The characters of an alignment, each defined as greedy decoding defines it (times from
    ``decoder.frames_seen``)."""
    out: list[CharResult] = []
    for start, end in _spans(path, decoder.blank_id):
        token = int(path[start])
        real = probs[start:end, token]
        span = _Span(
            token,
            decoder.frames_seen + start,
            end - start,
            float(real.sum()),
            float(real.min()),
            probs[start:end].sum(axis=0),
        )
        out.extend(decoder._close(span))
    decoder.frames_seen += len(path)
    return out


class BeamRecognizer(Recognizer):
    """A :class:`Recognizer` whose windows are decoded by prefix beam search, biased towards
    ``hotwords`` when given (terms the model cannot spell are left out, with a warning in
    :attr:`warnings`)."""

    def __init__(
        self, *args, beam_width: int = 0, hotwords: Iterable[Hotword] = (), **kwargs
    ) -> None:
        super().__init__(*args, **kwargs)
        # 0: hotwords alone (no --beam): a window in which no term's first token is ever a
        # candidate is decoded greedily (no bonus can change it); others are searched with
        # DEFAULT_WIDTH beams.
        self.only_hotwords = int(beam_width) <= 0
        self.beam_width = DEFAULT_WIDTH if self.only_hotwords else int(beam_width)
        self.hotwords = tuple(hotwords)
        index = {tok: i for i, tok in enumerate(self.info.vocab) if tok}
        graph, warnings = ContextGraph.build(
            self.hotwords, index, self.info.lower_case, self.info.delimiter_id
        )
        self.context: ContextGraph | None = graph if len(graph) else None
        self._first_tokens = np.array(graph.first_tokens, np.int64)  # a term can start with
        self.warnings: tuple[str, ...] = warnings

    def draft(self, threads: int | None = None) -> Recognizer:
        """The draft (see :meth:`Recognizer.draft`), searching as this one does."""
        draft = super().draft(threads)
        if isinstance(draft, BeamRecognizer) and draft is not self:
            draft.beam_width, draft.hotwords = self.beam_width, self.hotwords
            draft.only_hotwords = self.only_hotwords
            draft.context, draft.warnings = self.context, ()
            draft._first_tokens = self._first_tokens
        return draft

    def iter_chars(
        self, blocks: Iterable[np.ndarray], progress: Progress | None = None
    ) -> Iterator[CharResult]:
        """Characters per window, beam-searched and aligned (lazy)."""
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
                yield from self.search(decoder, probs)
            offset = window.end_sample
            if progress is not None:
                progress(offset / self.sample_rate)

    def window_chars(self, samples: np.ndarray, prompt: str = "") -> tuple[CharResult, ...]:
        """Characters of one live window (a partial), searched as finals are."""
        logits = self.window_logits(samples)
        if len(logits) == 0:
            return ()
        return tuple(self.search(self.new_decoder(), softmax(logits)))

    def search(self, decoder: GreedyDecoder, probs: np.ndarray) -> list[CharResult]:
        """The characters of the best prefix of ``probs`` (frames, vocab)."""
        blank = self.info.blank_id
        frames = _Frames.of(probs)
        # Hotwords alone: a window where no term's first token is ever a candidate (as
        # _steps keeps them) is decoded greedily: no bonus can change it.
        if self.only_hotwords and not frames.may_start(self._first_tokens):
            return decoder.feed(probs) + decoder.flush()
        tokens = _search(_steps(probs, frames), blank, self.beam_width, self.context)
        if tokens == _collapse(frames.winner, blank):
            return decoder.feed(probs) + decoder.flush()  # the greedy characters, as they are
        return chars_of_path(decoder, probs, align(probs, tokens, blank, frames.winner))
