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


def _steps(probs: np.ndarray, prune: float = PRUNE) -> list[_Step]:
    """The frames of ``probs`` (frames, vocab) as search steps (see the module docstring)."""
    n = len(probs)
    if n == 0:
        return []
    best = probs.max(axis=1)
    keep = probs >= (best * math.exp(-prune))[:, None]
    count = keep.sum(axis=1)
    winner = probs.argmax(axis=1)
    single = count == 1
    # Frames in one run share a key: a single candidate's token; any other frame its own.
    key = np.where(single, winner, -1 - np.arange(n))
    starts = _run_starts(key)
    log_best = np.log(np.maximum(best, _LOG_FLOOR))
    run_sum = np.add.reduceat(log_best, starts)
    steps: list[_Step] = []
    for s, total in zip(starts.tolist(), run_sum.tolist(), strict=True):
        if single[s]:
            first = float(log_best[s])
            steps.append(([int(winner[s])], [first], total - first))
            continue
        row = probs[s]
        toks = np.flatnonzero(keep[s])
        if len(toks) > TOP_TOKENS:
            toks = toks[np.argpartition(-row[toks], TOP_TOKENS - 1)[:TOP_TOKENS]]
        steps.append((toks.tolist(), np.log(np.maximum(row[toks], _LOG_FLOOR)).tolist(), 0.0))
    return steps


def _search(
    steps: list[_Step], blank: int, width: int, context: ContextGraph | None
) -> tuple[int, ...]:
    moves: dict[tuple[int, int], tuple[int, float]] = {}

    def step(state: int, tok: int) -> tuple[int, float]:
        # The graph's move, remembered: beams revisit the same (state, token) many times.
        if context is None:
            return 0, 0.0
        move = moves.get((state, tok))
        if move is None:
            move = moves[(state, tok)] = context.forward(state, tok)
        return move

    # prefix -> [p_blank, p_token, context state, context score]
    beams: dict[tuple[int, ...], list] = {(): [0.0, _NEG, 0, 0.0]}
    for toks, lps, rest in steps:
        if len(toks) == 1 and len(beams) == 1:
            # One path and one candidate (most steps: sure blanks, sure characters).
            ((prefix, (pb, pnb, state, cscore)),) = beams.items()
            tok, p = toks[0], lps[0] + rest
            if tok == blank:
                beams = {prefix: [_lse(pb, pnb) + p, _NEG, state, cscore]}
                continue
            if prefix and tok == prefix[-1]:
                if pb <= _NEG:
                    beams = {prefix: [_NEG, pnb + p, state, cscore]}
                    continue
                if pnb > _NEG:
                    ext = prefix + (tok,)
                    new_state, gain = step(state, tok)
                    beams = {
                        prefix: [_NEG, pnb + p, state, cscore],
                        ext: [_NEG, pb + p, new_state, cscore + gain],
                    }
                    continue
                source = pb
            else:
                source = _lse(pb, pnb)
            new_state, gain = step(state, tok)
            beams = {prefix + (tok,): [_NEG, source + p, new_state, cscore + gain]}
            continue
        nxt: dict[tuple[int, ...], list] = {}
        for prefix, (pb, pnb, state, cscore) in beams.items():
            total = _lse(pb, pnb)
            last = prefix[-1] if prefix else -1
            for tok, p in zip(toks, lps, strict=True):
                if tok == blank:
                    e = nxt.get(prefix)
                    if e is None:
                        nxt[prefix] = [total + p, _NEG, state, cscore]
                    else:
                        e[0] = _lse(e[0], total + p)
                    continue
                if tok == last:
                    # A repeat collapses into the prefix; only a blank-ending path extends.
                    e = nxt.get(prefix)
                    if e is None:
                        nxt[prefix] = [_NEG, pnb + p, state, cscore]
                    else:
                        e[1] = _lse(e[1], pnb + p)
                    source = pb
                else:
                    source = total
                if source <= _NEG:
                    continue
                ext = prefix + (tok,)
                e = nxt.get(ext)
                if e is None:
                    if context is None:
                        nxt[ext] = [_NEG, source + p, 0, 0.0]
                    else:
                        new_state, gain = step(state, tok)
                        nxt[ext] = [_NEG, source + p, new_state, cscore + gain]
                else:
                    e[1] = _lse(e[1], source + p)
        if rest:
            # The run's other frames: the single candidate again, nothing else.
            for e in nxt.values():
                if toks[0] == blank:
                    e[0] += rest
                else:
                    e[0], e[1] = _NEG, e[1] + rest
        scored = sorted(((_lse(e[0], e[1]) + e[3], k) for k, e in nxt.items()), reverse=True)
        floor = scored[0][0] - BEAM_PRUNE
        beams = {k: nxt[k] for s, k in scored[:width] if s >= floor}
    if context is None:
        return max(beams.items(), key=lambda kv: _lse(kv[1][0], kv[1][1]))[0]
    return max(
        beams.items(),
        key=lambda kv: _lse(kv[1][0], kv[1][1]) + kv[1][3] + context.finalize(kv[1][2]),
    )[0]


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
        self.warnings: tuple[str, ...] = warnings

    def draft(self, threads: int | None = None) -> Recognizer:
        """The draft (see :meth:`Recognizer.draft`), searching as this one does."""
        draft = super().draft(threads)
        if isinstance(draft, BeamRecognizer) and draft is not self:
            draft.beam_width, draft.hotwords = self.beam_width, self.hotwords
            draft.only_hotwords = self.only_hotwords
            draft.context, draft.warnings = self.context, ()
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

    def _term_may_start(self, probs: np.ndarray) -> bool:
        """Whether a term's first token is a candidate anywhere (as :func:`_steps` keeps)."""
        if self.context is None:
            return False
        floor = probs.max(axis=1) * math.exp(-PRUNE)
        return bool((probs[:, self.context.first_tokens] >= floor[:, None]).any())

    def search(self, decoder: GreedyDecoder, probs: np.ndarray) -> list[CharResult]:
        """The characters of the best prefix of ``probs`` (frames, vocab)."""
        blank = self.info.blank_id
        greedy = probs.argmax(axis=1)
        if self.only_hotwords and not self._term_may_start(probs):
            return decoder.feed(probs) + decoder.flush()
        tokens = _search(_steps(probs), blank, self.beam_width, self.context)
        if tokens == _collapse(greedy, blank):
            return decoder.feed(probs) + decoder.flush()  # the greedy characters, as they are
        return chars_of_path(decoder, probs, align(probs, tokens, blank, greedy))
