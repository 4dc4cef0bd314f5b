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
  text are searched (:func:`~tui_speech.asr.biasing.find_sites`): a supported term token
  greedy decoding did not read, whose neighbours in the term are supported beside it; the
  rest stays greedy.

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

import math
from collections.abc import Iterable, Iterator
from typing import NamedTuple

import numpy as np

from tui_speech.asr.alignment import align, chars_of_path, collapse, force_align, run_starts
from tui_speech.asr.biasing import NONE, find_sites, supported, unsupported, weak_terms
from tui_speech.asr.ctc import CharResult, GreedyDecoder, softmax
from tui_speech.asr.hotwords import ContextGraph, Hotword
from tui_speech.asr.recognizer import SILENCE_RMS, Progress, Recognizer

__all__ = ["BeamRecognizer", "force_align", "prefix_beam_search"]

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


class _Frames(NamedTuple):
    """What the search needs of each frame, computed once per window."""

    winner: np.ndarray  # (frames,) the argmax token: the greedy path
    best: np.ndarray  # (frames,) its probability
    unsure: np.ndarray  # the frames that may have more than one candidate
    keep: np.ndarray  # (len(unsure), vocab) their candidates: within PRUNE of the best
    term_at: np.ndarray  # frames where a term's token is supported (see supported) ...
    term_tok: np.ndarray  # ... and that token (a frame may be named once per token)

    @classmethod
    def of(
        cls,
        probs: np.ndarray,
        normalised: bool = True,
        prune: float = PRUNE,
        terms: np.ndarray = NONE,
        blank: int = 0,
    ) -> _Frames:
        """``normalised``: each row sums to 1 (softmax output), so no pass to sum it;
        ``terms``: the tokens of the hotwords (the context graph's)."""
        n = len(probs)
        winner = probs.argmax(axis=1)
        best = probs[np.arange(n), winner]
        others = 1.0 - best if normalised else probs.sum(axis=1) - best
        unsure, keep = _candidates(probs, best, others, prune)
        if len(terms) and n:
            term_at, term_tok = supported(probs, winner, best, terms, blank)
        else:
            term_at, term_tok = NONE, NONE
        return cls(winner, best, unsure, keep, term_at, term_tok)

    @classmethod
    def part(
        cls, probs: np.ndarray, winner: np.ndarray, best: np.ndarray, pairs: tuple, lo: int, hi: int
    ) -> _Frames:
        """The frames ``lo:hi`` of a window (its ``winner``, ``best`` and supported term
        ``pairs`` known), numbered from ``lo``."""
        best = best[lo:hi]
        unsure, keep = _candidates(probs[lo:hi], best, 1.0 - best, PRUNE)
        at, tok = pairs
        inside = (at >= lo) & (at < hi)
        return cls(winner[lo:hi], best, unsure, keep, at[inside] - lo, tok[inside])


def _candidates(
    probs: np.ndarray, best: np.ndarray, others: np.ndarray, prune: float
) -> tuple[np.ndarray, np.ndarray]:
    """(the frames that may have several candidates, their candidates: the tokens within
    ``prune`` of the frame's best). ``others``: each frame's probability besides its best.
    Where all other tokens together stay below half the floor, the best is the only
    candidate: most frames (sure blanks) are settled without a pass over the vocabulary. The
    half is a margin far above float32 rounding of the sum."""
    floor = best * math.exp(-prune)
    unsure = np.flatnonzero(others >= 0.5 * floor)
    return unsure, probs[unsure] >= floor[unsure, None]


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
    starts = run_starts(key)
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
        _steps(probs, frames, context.token_set if context is not None else frozenset()),
        blank,
        max(1, int(width)),
        context,
    )


class BeamRecognizer(Recognizer):
    """A :class:`Recognizer` whose windows are decoded by prefix beam search, biased towards
    ``hotwords`` when given (terms the model cannot spell are left out, with a warning in
    :attr:`warnings`)."""

    def __init__(
        self, *args, beam_width: int = 0, hotwords: Iterable[Hotword] = (), **kwargs
    ) -> None:
        super().__init__(*args, **kwargs)
        # 0: hotwords alone (no --beam): greedy decoding, the sites where a term could change
        # it (see biasing.find_sites) searched with DEFAULT_WIDTH beams.
        self.only_hotwords = int(beam_width) <= 0
        self.beam_width = DEFAULT_WIDTH if self.only_hotwords else int(beam_width)
        self.hotwords = tuple(hotwords)
        index = {tok: i for i, tok in enumerate(self.info.vocab) if tok}
        graph, warnings = ContextGraph.build(
            self.hotwords, index, self.info.lower_case, self.info.delimiter_id
        )
        self.context: ContextGraph | None = graph if len(graph) else None
        self._term_tokens = np.array(graph.tokens, np.int64)
        self._term_set = graph.token_set
        self.warnings: tuple[str, ...] = warnings

    def draft(self, threads: int | None = None) -> Recognizer:
        """The draft (see :meth:`Recognizer.draft`), searching as this one does."""
        draft = super().draft(threads)
        if isinstance(draft, BeamRecognizer) and draft is not self:
            draft.beam_width, draft.hotwords = self.beam_width, self.hotwords
            draft.only_hotwords = self.only_hotwords
            draft.context, draft.warnings = self.context, ()
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
        greedy = collapse(frames.winner, blank)
        pairs = frames.term_at, frames.term_tok
        for _ in range(MAX_RESEARCH + 1):
            steps = _steps(
                probs, frames._replace(term_at=pairs[0], term_tok=pairs[1]), self._term_set
            )
            tokens = _search(steps, blank, self.beam_width, self.context)
            if tokens == greedy:
                return decoder.feed(probs) + decoder.flush()  # the greedy characters, as they are
            path = align(probs, tokens, blank, frames.winner)
            weak = weak_terms(probs, path, tokens, blank, self.context) if self.context else []
            if not weak:
                break
            # A term read with too little evidence: searched again, its tokens unsupported
            # there (no bonus), so the acoustics decide that stretch.
            pairs = unsupported(pairs, frames.winner, weak)
        return chars_of_path(decoder, probs, path)

    def _hotword_search(self, decoder: GreedyDecoder, probs: np.ndarray) -> list[CharResult]:
        """Hotwords alone: greedy decoding, with the sites where a term could change it (see
        :func:`~tui_speech.asr.biasing.find_sites`) searched, each on its own, and spliced in."""
        blank, context = self.info.blank_id, self.context
        assert context is not None
        n = len(probs)
        winner = probs.argmax(axis=1)
        best = probs[np.arange(n), winner]
        pairs = supported(probs, winner, best, self._term_tokens, blank)
        for _ in range(MAX_RESEARCH + 1):
            sites = find_sites(probs, winner, pairs, blank, context)
            if not sites:
                return decoder.feed(probs) + decoder.flush()
            # Greedy tokens outside the sites, the search's inside (sites never cut a run).
            tokens: list[int] = []
            done = 0
            for lo, hi in sites:
                tokens += collapse(winner[done:lo], blank)
                frames = _Frames.part(probs, winner, best, pairs, lo, hi)
                tokens += _search(
                    _steps(probs[lo:hi], frames, self._term_set), blank, self.beam_width, context
                )
                done = hi
            tokens += collapse(winner[done:], blank)
            found = tuple(tokens)
            if found == collapse(winner, blank):
                return decoder.feed(probs) + decoder.flush()  # the greedy characters, as they are
            path = align(probs, found, blank, winner)
            weak = weak_terms(probs, path, found, blank, context)
            if not weak:
                break
            pairs = unsupported(pairs, winner, weak)
        return chars_of_path(decoder, probs, path)
