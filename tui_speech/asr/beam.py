"""CTC prefix beam search (``--beam WIDTH``), optionally biased towards hotwords.

pyctcdecode pins ``numpy<2`` and cannot be installed beside this project's NumPy, so the
search is a small one of our own: the classic prefix beam search (blank / non-blank prefix
probabilities, repeated tokens need a blank between them), with a
:class:`~tui_speech.asr.hotwords.ContextGraph` score carried by each prefix when hotwords are
given (the bonus of each matched token counts in the ranking; a failed match takes it back).

Hotwords are kept from reading terms into audio that does not hold them (bench/hotwords.py
measures both sides; the constants were tuned on seeds 0-1 of its clips):

- acoustic gate: a term's token earns its bonus only in frames where the acoustics support it
  (``TERM_GATE``): within a margin of the frame's most probable character, even under a sure
  blank (CTC drops characters into the blank, which is what the bonus brings back);
- evidence check: a finished term is written only if its characters' mean confidence reaches
  ``TERM_EVIDENCE`` (icefall's keyword search checks the same, ``ac_threshold``); otherwise
  that stretch is searched again without the bonus;
- a bonus for a term begun but never finished must not push out the path the acoustics
  prefer: that beam is kept beside the ``width`` best;
- with hotwords alone (no ``--beam``) only the *sites* where a term could change the greedy
  text are searched (:func:`_sites`): a supported term token greedy decoding did not read,
  whose neighbours in the term are supported beside it; the rest stays greedy.

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
- with hotwords alone, a window without a site is decoded greedily;
- when the best prefix is the greedy text, the greedy characters are the answer; otherwise only
  the stretch of frames where the two differ is aligned again (Viterbi forced alignment), so
  every character keeps a span of frames. Timing, confidence (the mean probability of the
  character's token over its span), minimum and alternatives are defined as in greedy decoding.

Each window is searched on its own; a character that straddles a window edge can therefore be
split or repeated – rare with the 4 s context, and absent for audio shorter than one window.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Iterator
from typing import NamedTuple

import numpy as np

from tui_speech.asr.ctc import CharResult, GreedyDecoder, _Span, softmax
from tui_speech.asr.hotwords import ContextGraph, Hotword
from tui_speech.asr.recognizer import SILENCE_RMS, Progress, Recognizer

#: Beam width of a site's search when hotwords are given without ``--beam`` (8 read the same
#: terms on bench/hotwords.py, slower).
DEFAULT_WIDTH = 4
#: Tokens expanded per frame at most.
TOP_TOKENS = 8
#: Tokens less likely than the frame's best by more than this factor (e^5 ~ 150) are not
#: expanded: on bench/hotwords.py a cut at e^10 changed no transcript and took 4x the time.
PRUNE = 5.0
#: Beams this far (natural log) below the best are dropped: a path must survive until it
#: reaches a term and earns its bonus (6 fixed fewer terms at weight 3 on bench/hotwords.py).
BEAM_PRUNE = 10.0
#: A term's token enters or extends a term (earns its bonus) only in frames where it is within
#: this margin (natural log) of the frame's most probable non-blank token: where the
#: acoustics support it over every other character, however sure the blank is. There it is a
#: candidate even below PRUNE (CTC drops characters into the blank; the bonus brings them
#: back); elsewhere it is read as any token, without a bonus (tuned on bench/hotwords.py).
TERM_GATE = 2.0
#: ... and whose probability is at least this (below it the "best non-blank" is noise).
TERM_FLOOR = 1e-4
#: A finished term is written only if its characters' mean confidence is at least this
#: (icefall's keyword search has the same check, ``ac_threshold``): otherwise the window is
#: searched again with the term's tokens earning nothing in that stretch. Two characters both
#: hidden under the blank are a term the model never heard.
TERM_EVIDENCE = 0.3
#: Searches again after terms failed that check, at most (each drops at least one stretch).
MAX_RESEARCH = 3
_NEG = -1e30
_LOG_FLOOR = 1e-30


def _lse(a: float, b: float) -> float:
    if a < b:
        a, b = b, a
    return a if b <= _NEG else a + math.log1p(math.exp(b - a))


# A step is one frame, or a run of frames whose single candidate is one token:
# (tokens, their log-probs in the first frame, the log-prob of the run's other frames, and
# per token its key into the context graph's moves: the token itself, or -1 for a term's
# token that the acoustics do not support at that frame: it moves the graph as any other
# token does, so it neither enters nor extends a term).
_Step = tuple[list[int], list[float], float, list[int]]
_NONE = np.zeros(0, np.int64)


def _run_starts(values: np.ndarray) -> np.ndarray:
    """Where each run of equal values begins (np.r_ costs more than the work here)."""
    starts = np.flatnonzero(values[1:] != values[:-1]) + 1
    return np.concatenate(([0], starts))


def _supported(
    probs: np.ndarray, winner: np.ndarray, best: np.ndarray, terms: np.ndarray, blank: int
) -> tuple[np.ndarray, np.ndarray]:
    """(frames, tokens): where a term's token is acoustically supported, i.e. within
    ``TERM_GATE`` of the frame's most probable non-blank token and at least ``TERM_FLOOR``."""
    tp = probs[:, terms]
    rows = np.flatnonzero(tp.max(axis=1) >= TERM_FLOOR)
    if not len(rows):
        return _NONE, _NONE
    top = best[rows]
    lost = np.flatnonzero(winner[rows] == blank)
    if len(lost):
        # Where the blank won, the best non-blank token is needed: a pass over those rows.
        sub = probs[rows[lost]]
        sub[:, blank] = 0.0
        top[lost] = sub.max(axis=1)
    ok = tp[rows] >= np.maximum(top * math.exp(-TERM_GATE), TERM_FLOOR)[:, None]
    r, c = np.nonzero(ok)
    return rows[r], terms[c]


class _Frames(NamedTuple):
    """What the search needs of each frame, computed once per window."""

    winner: np.ndarray  # (frames,) the argmax token: the greedy path
    best: np.ndarray  # (frames,) its probability
    unsure: np.ndarray  # the frames that may have more than one candidate
    keep: np.ndarray  # (len(unsure), vocab) their candidates: within PRUNE of the best
    term_at: np.ndarray  # frames where a term's token is supported (see _supported) ...
    term_tok: np.ndarray  # ... and that token (a frame may be named once per token)

    @classmethod
    def of(
        cls,
        probs: np.ndarray,
        normalised: bool = True,
        prune: float = PRUNE,
        terms: np.ndarray = _NONE,
        blank: int = 0,
    ) -> _Frames:
        """``normalised``: each row sums to 1 (softmax output), so no pass to sum it;
        ``terms``: the tokens of the hotwords (the context graph's)."""
        n = len(probs)
        winner = probs.argmax(axis=1)
        best = probs[np.arange(n), winner]
        floor = best * math.exp(-prune)
        others = 1.0 - best if normalised else probs.sum(axis=1) - best
        # Where all other tokens together stay below half the floor, the best is the only
        # candidate: most frames (sure blanks) are settled without a pass over the vocabulary.
        # The half is a margin far above float32 rounding of the sum.
        unsure = np.flatnonzero(others >= 0.5 * floor)
        keep = probs[unsure] >= floor[unsure, None]
        if len(terms) and n:
            term_at, term_tok = _supported(probs, winner, best, terms, blank)
        else:
            term_at, term_tok = _NONE, _NONE
        return cls(winner, best, unsure, keep, term_at, term_tok)

    @classmethod
    def part(
        cls, probs: np.ndarray, winner: np.ndarray, best: np.ndarray, pairs: tuple, lo: int, hi: int
    ) -> _Frames:
        """The frames ``lo:hi`` of a window (its ``winner``, ``best`` and supported term
        ``pairs`` known), numbered from ``lo``."""
        sub, best = probs[lo:hi], best[lo:hi]
        floor = best * math.exp(-PRUNE)
        unsure = np.flatnonzero(1.0 - best >= 0.5 * floor)
        at, tok = pairs
        inside = (at >= lo) & (at < hi)
        return cls(
            winner[lo:hi],
            best,
            unsure,
            sub[unsure] >= floor[unsure, None],
            at[inside] - lo,
            tok[inside],
        )

    def may_start(self, tokens: np.ndarray) -> bool:
        """Whether any of ``tokens`` (terms' first tokens) is supported in any frame."""
        return bool(len(tokens) and np.isin(self.term_tok, tokens).any())


def _steps(
    probs: np.ndarray, frames: _Frames | None = None, terms: frozenset[int] = frozenset()
) -> list[_Step]:
    """The frames of ``probs`` (frames, vocab) as search steps (see the module docstring);
    ``terms``: the hotwords' tokens (``frames`` says where each is supported)."""
    n = len(probs)
    if n == 0:
        return []
    if frames is None:
        frames = _Frames.of(probs, False)
    winner, best, unsure, keep, term_at, term_tok = frames
    count = keep.sum(axis=1)
    several = np.flatnonzero(count > 1)
    frame_of = unsure[several]  # the frames with several candidates
    # Frames in one run share a key: a single candidate's token; any other frame its own.
    key = winner.copy()
    key[frame_of] = -1 - frame_of
    # Supported term tokens are candidates wherever they are supported (the winner of the
    # frame is one anyway); the others of the terms' tokens are candidates without a bonus.
    supported: dict[int, list[int]] = {}
    extra: dict[int, list[int]] = {}
    if len(term_at):
        won = winner[term_at]
        for f, t, w in zip(term_at.tolist(), term_tok.tolist(), won.tolist(), strict=True):
            supported.setdefault(f, []).append(t)
            if t != w:
                extra.setdefault(f, []).append(t)
        if extra:
            ef = np.fromiter(extra, np.int64, len(extra))
            key[ef] = -1 - ef
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
        add = extra.get(s)
        if m is None:
            first = first_of_run[j]
            toks, lps = [int(winner[s])], [first]
            if add is None:
                steps.append((toks, lps, run_sum[j] - first, toks))
                continue
        else:
            lo, hi = ends[m - 1] if m else 0, ends[m]
            if hi - lo <= TOP_TOKENS:
                toks, lps = cols_list[lo:hi], logs[lo:hi]
            else:
                row = probs[s]
                top = np.asarray(cols_list[lo:hi])
                top = top[np.argpartition(-row[top], TOP_TOKENS - 1)[:TOP_TOKENS]]
                toks = top.tolist()
                lps = np.log(np.maximum(row[top], _LOG_FLOOR)).tolist()
            if not terms:
                steps.append((toks, lps, 0.0, toks))
                continue
        if add is not None:
            add = [t for t in add if t not in toks]
            toks = toks + add
            lps = lps + np.log(np.maximum(probs[s, add], _LOG_FLOOR)).tolist()
        here = supported.get(s, ())
        keys = [-1 if t in terms and t not in here else t for t in toks]
        steps.append((toks, lps, 0.0, toks if keys == toks else keys))
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
    back = [context.finalize(i) for i in range(len(table))] if context is not None else None

    # prefix -> [p_blank, p_token, context state, context score]. A prefix reached on
    # several paths keeps the best context score of them (a term's token supported by the
    # acoustics in one frame and not in another: it was supported).
    beams: dict[tuple[int, ...], list] = {(): [0.0, neg, 0, 0.0]}
    for toks, lps, rest, keys in steps:
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
            for tok, p, k in zip(toks, lps, keys, strict=True):
                if tok == blank:
                    e = nxt.get(prefix)
                    if e is None:
                        nxt[prefix] = [total + p, neg, state, cscore]
                    else:
                        e[0] = _lse(e[0], total + p)
                        if cscore > e[3]:
                            e[2], e[3] = state, cscore
                    continue
                if tok == last:
                    # A repeat collapses into the prefix; only a blank-ending path extends.
                    e = nxt.get(prefix)
                    if e is None:
                        nxt[prefix] = [neg, pnb + p, state, cscore]
                    else:
                        e[1] = _lse(e[1], pnb + p)
                        if cscore > e[3]:
                            e[2], e[3] = state, cscore
                    source = pb
                else:
                    source = total
                if source <= neg:
                    continue
                ext = prefix + (tok,)
                e = nxt.get(ext)
                new_state, gain = known.get(k, other)
                if e is None:
                    nxt[ext] = [neg, source + p, new_state, cscore + gain]
                else:
                    e[1] = _lse(e[1], source + p)
                    if cscore + gain > e[3]:
                        e[2], e[3] = new_state, cscore + gain
        if rest:
            # The run's other frames: the single candidate again, nothing else.
            if toks[0] == blank:
                for e in nxt.values():
                    e[0] += rest
            else:
                for e in nxt.values():
                    e[0], e[1] = neg, e[1] + rest
        beams = _prune(nxt, width, back)
    if context is None:
        return max(beams.items(), key=lambda kv: _lse(kv[1][0], kv[1][1]))[0]
    return max(
        beams.items(),
        key=lambda kv: _lse(kv[1][0], kv[1][1]) + kv[1][3] + context.finalize(kv[1][2]),
    )[0]


def _prune(
    nxt: dict[tuple[int, ...], list], width: int, back: list[float] | None = None
) -> dict[tuple[int, ...], list]:
    """The ``width`` best beams (prefix and context score), none ``BEAM_PRUNE`` below the
    best, best first. With ``back`` (per context state, what ending there takes back), the
    beam that would win if the utterance ended now is kept too: a bonus for a term begun but
    never finished must not have pushed out the path the acoustics prefer."""
    log1p, exp, neg = math.log1p, math.exp, _NEG
    scored = []
    for k, (a, b, _, cscore) in nxt.items():
        if a < b:
            a, b = b, a
        scored.append(((a if b <= neg else a + log1p(exp(b - a))) + cscore, k))
    scored.sort(reverse=True)
    floor = scored[0][0] - BEAM_PRUNE
    kept = {k: nxt[k] for s, k in scored[:width] if s >= floor}
    if back is not None and len(scored) > len(kept):
        _, k = max((s + back[nxt[k][2]], k) for s, k in scored)
        if k not in kept:
            kept[k] = nxt[k]
    return kept


def prefix_beam_search(
    log_probs: np.ndarray, blank: int, width: int, context: ContextGraph | None = None
) -> tuple[int, ...]:
    """The most probable token sequence (collapsed, no blanks) under CTC, with the context
    graph's bonuses when one is given."""
    probs = np.exp(np.asarray(log_probs, dtype=np.float64))
    terms = np.array(context.tokens if context is not None else [], np.int64)
    frames = _Frames.of(probs, False, terms=terms, blank=blank)
    return _search(
        _steps(probs, frames, frozenset(terms.tolist())), blank, max(1, int(width)), context
    )


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


def _weak_terms(
    probs: np.ndarray,
    path: np.ndarray,
    tokens: tuple[int, ...],
    blank: int,
    context: ContextGraph,
) -> list[tuple[int, int]]:
    """The stretches of frames holding a term finished in ``tokens`` whose characters' mean
    confidence (as the characters of ``path`` will show it) is below ``TERM_EVIDENCE``: from
    the end of the character before the term to the start of the one after it."""
    found = context.completed(tokens)
    if not found:
        return []
    spans = _spans(path, blank)
    conf = [float(probs[s:e, tokens[i]].mean()) for i, (s, e) in enumerate(spans)]
    return [
        (spans[a - 1][1] if a else 0, spans[b][0] if b < len(spans) else len(path))
        for a, b in found
        if sum(conf[a:b]) < TERM_EVIDENCE * (b - a)
    ]


def _unsupported(
    pairs: tuple[np.ndarray, np.ndarray], winner: np.ndarray, stretches: list[tuple[int, int]]
) -> tuple[np.ndarray, np.ndarray]:
    """Supported term ``pairs`` (frames, tokens) less those inside ``stretches`` (what greedy
    decoding reads stays supported)."""
    at, tok = pairs
    out = np.zeros(len(at), bool)
    for lo, hi in stretches:
        out |= (at >= lo) & (at < hi)
    out &= tok != winner[at]
    return at[~out], tok[~out]


def _sites(
    probs: np.ndarray,
    winner: np.ndarray,
    pairs: tuple[np.ndarray, np.ndarray],
    blank: int,
    context: ContextGraph,
) -> list[tuple[int, int]]:
    """Where a hotword could change what greedy decoding reads, as stretches of frames.

    A site is a supported term token (see :func:`_supported`) that greedy decoding does not
    read there (not merely one frame more of a character it reads), whose neighbours in a
    term are supported too, each no further than the next greedy character on its side,
    and probable enough that the term could pass the evidence check (``TERM_EVIDENCE``):
    only there can a path that finishes a term differ from the greedy one. It covers as many
    greedy characters either side as the longest term has tokens less one (at least one),
    whole, out to the next; sites that overlap are one."""
    at, tok = pairs
    if not len(at):
        return []
    n = len(winner)
    won = winner[at]
    prev = winner[np.maximum(at - 1, 0)]
    after = winner[np.minimum(at + 1, n - 1)]
    shifted = np.flatnonzero((tok != won) & ~((won == blank) & ((tok == prev) | (tok == after))))
    if not len(shifted):
        return []
    # A token whose neighbours in every term are never supported cannot start a site.
    links = context.links()
    present = set(tok.tolist())
    moved = [
        j
        for j, t in zip(shifted.tolist(), tok[shifted].tolist(), strict=True)
        if any((a is None or a in present) and (b is None or b in present) for a, b, _ in links[t])
    ]
    if not moved:
        return []
    starts = _run_starts(winner)
    real = winner[starts] != blank
    first = starts[real].tolist()  # the greedy characters' first frames ...
    last = (np.append(starts[1:], n)[real]).tolist()  # ... and one past their last
    m = len(first)
    reach = context.longest - 1 or 1
    # A term greedy decoding reads whole is no partner: a second copy of its token beside it
    # could only read the term twice.
    read = context.completed(winner[first].tolist()) if m else []
    if read:
        whole = np.zeros(n, bool)
        for a, b in read:
            whole[first[a] : last[b - 1]] = True
        free = ~whole[at]
    else:
        free = np.ones(len(at), bool)
    p = probs[at, tok]
    sites: list[tuple[int, int]] = []
    for j in moved:
        f, t = int(at[j]), int(tok[j])
        c = bisect.bisect_right(first, f) - 1  # the character at f, or the last before it
        before_c = c - 1 if c >= 0 and f < last[c] else c  # the greedy characters either side
        after_c = c + 1
        lo = last[before_c - 1] if before_c >= 1 else 0
        hi = first[after_c + 1] if after_c + 1 < m else n
        for before, behind, size in links[t]:
            # The best confidence the term's characters could have: this token's, its
            # neighbours' at their most probable, the others' (longer terms) 1.
            evidence = float(p[j]) + size - 1
            if before is not None:
                near = free & (at >= lo) & (at < f) & (tok == before)
                if not near.any():
                    continue
                evidence += float(p[near].max()) - 1
            if behind is not None:
                near = free & (at > f) & (at < hi) & (tok == behind)
                if not near.any():
                    continue
                evidence += float(p[near].max()) - 1
            if evidence < TERM_EVIDENCE * size:
                continue
            a, b = before_c - reach, after_c + reach
            sites.append((last[a] if a >= 0 else 0, first[b] if b < m else n))
            break
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(sites):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return merged


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
        # 0: hotwords alone (no --beam): greedy decoding, the sites where a term could change
        # it (see _sites) searched with DEFAULT_WIDTH beams.
        self.only_hotwords = int(beam_width) <= 0
        self.beam_width = DEFAULT_WIDTH if self.only_hotwords else int(beam_width)
        self.hotwords = tuple(hotwords)
        index = {tok: i for i, tok in enumerate(self.info.vocab) if tok}
        graph, warnings = ContextGraph.build(
            self.hotwords, index, self.info.lower_case, self.info.delimiter_id
        )
        self.context: ContextGraph | None = graph if len(graph) else None
        self._first_tokens = np.array(graph.first_tokens, np.int64)  # a term can start with
        self._term_tokens = np.array(graph.tokens, np.int64)
        self._term_set = frozenset(graph.tokens)
        self.warnings: tuple[str, ...] = warnings

    def draft(self, threads: int | None = None) -> Recognizer:
        """The draft (see :meth:`Recognizer.draft`), searching as this one does."""
        draft = super().draft(threads)
        if isinstance(draft, BeamRecognizer) and draft is not self:
            draft.beam_width, draft.hotwords = self.beam_width, self.hotwords
            draft.only_hotwords = self.only_hotwords
            draft.context, draft.warnings = self.context, ()
            draft._first_tokens = self._first_tokens
            draft._term_tokens, draft._term_set = self._term_tokens, self._term_set
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
        if self.only_hotwords and self.context is not None:
            return self._hotword_search(decoder, probs)
        blank = self.info.blank_id
        frames = _Frames.of(probs, terms=self._term_tokens, blank=blank)
        greedy = _collapse(frames.winner, blank)
        pairs = frames.term_at, frames.term_tok
        for _ in range(MAX_RESEARCH + 1):
            steps = _steps(
                probs, frames._replace(term_at=pairs[0], term_tok=pairs[1]), self._term_set
            )
            tokens = _search(steps, blank, self.beam_width, self.context)
            if tokens == greedy:
                return decoder.feed(probs) + decoder.flush()  # the greedy characters, as they are
            path = align(probs, tokens, blank, frames.winner)
            weak = _weak_terms(probs, path, tokens, blank, self.context) if self.context else []
            if not weak:
                break
            # A term read with too little evidence: searched again, its tokens unsupported
            # there (no bonus), so the acoustics decide that stretch.
            pairs = _unsupported(pairs, frames.winner, weak)
        return chars_of_path(decoder, probs, path)

    def _hotword_search(self, decoder: GreedyDecoder, probs: np.ndarray) -> list[CharResult]:
        """Hotwords alone: greedy decoding, with the sites where a term could change it (see
        :func:`_sites`) searched, each on its own, and spliced in."""
        blank, context = self.info.blank_id, self.context
        assert context is not None
        n = len(probs)
        winner = probs.argmax(axis=1)
        best = probs[np.arange(n), winner]
        pairs = _supported(probs, winner, best, self._term_tokens, blank)
        for _ in range(MAX_RESEARCH + 1):
            sites = _sites(probs, winner, pairs, blank, context)
            if not sites:
                return decoder.feed(probs) + decoder.flush()
            # Greedy tokens outside the sites, the search's inside (sites never cut a run).
            tokens: list[int] = []
            done = 0
            for lo, hi in sites:
                tokens += _collapse(winner[done:lo], blank)
                frames = _Frames.part(probs, winner, best, pairs, lo, hi)
                tokens += _search(
                    _steps(probs[lo:hi], frames, self._term_set), blank, self.beam_width, context
                )
                done = hi
            tokens += _collapse(winner[done:], blank)
            found = tuple(tokens)
            if found == _collapse(winner, blank):
                return decoder.feed(probs) + decoder.flush()  # the greedy characters, as they are
            path = align(probs, found, blank, winner)
            weak = _weak_terms(probs, path, found, blank, context)
            if not weak:
                break
            pairs = _unsupported(pairs, winner, weak)
        return chars_of_path(decoder, probs, path)
