"""Where hotwords may act: the acoustic gate, the sites a search can change, the evidence
check (see :mod:`tui_speech.asr.beam`, whose search uses them)."""

from __future__ import annotations

import bisect
import math

import numpy as np

from tui_speech.asr.alignment import char_spans, run_starts
from tui_speech.asr.hotwords import ContextGraph

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
TERM_EVIDENCE = 0.4

NONE = np.zeros(0, np.int64)


def supported(
    probs: np.ndarray, winner: np.ndarray, best: np.ndarray, terms: np.ndarray, blank: int
) -> tuple[np.ndarray, np.ndarray]:
    """(frames, tokens): where a term's token is acoustically supported, i.e. within
    ``TERM_GATE`` of the frame's most probable non-blank token and at least ``TERM_FLOOR``."""
    tp = probs[:, terms]
    rows = np.flatnonzero(tp.max(axis=1) >= TERM_FLOOR)
    if not len(rows):
        return NONE, NONE
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


def weak_terms(
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
    spans = char_spans(path, blank)
    conf = [float(probs[s:e, tokens[i]].mean()) for i, (s, e) in enumerate(spans)]
    return [
        (spans[a - 1][1] if a else 0, spans[b][0] if b < len(spans) else len(path))
        for a, b in found
        if sum(conf[a:b]) < TERM_EVIDENCE * (b - a)
    ]


def unsupported(
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


def find_sites(
    probs: np.ndarray,
    winner: np.ndarray,
    pairs: tuple[np.ndarray, np.ndarray],
    blank: int,
    context: ContextGraph,
) -> list[tuple[int, int]]:
    """Where a hotword could change what greedy decoding reads, as stretches of frames.

    A site is a supported term token (see :func:`supported`) that greedy decoding does not
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
    starts = run_starts(winner)
    real = winner[starts] != blank
    first = starts[real].tolist()  # the greedy characters' first frames ...
    last = (np.append(starts[1:], n)[real]).tolist()  # ... and one past their last
    m = len(first)
    reach = context.longest - 1 or 1
    # A term greedy decoding reads whole is no partner: a second copy of its token beside it
    # could only read the term twice.
    read = context.completed(winner[first].tolist()) if m else []
    whole = np.zeros(n, bool)
    for a, b in read:
        whole[first[a] : last[b - 1]] = True
    # Per token, the frames (ascending) where it is supported outside those, and its
    # probability there: plain lists, as the checks below are a few look-ups each.
    seen: dict[int, tuple[list[int], list[float]]] = {}
    ok = (~whole[at]).tolist()
    for f, t, q, free in zip(at.tolist(), tok.tolist(), probs[at, tok].tolist(), ok, strict=True):
        if free:
            frames, ps = seen.setdefault(t, ([], []))
            frames.append(f)
            ps.append(q)

    def best(t: int, lo: int, hi: int) -> float | None:
        """The highest probability of ``t`` where supported in frames lo:hi, if any."""
        frames, ps = seen.get(t, ([], []))
        i, j = bisect.bisect_left(frames, lo), bisect.bisect_left(frames, hi)
        return max(ps[i:j]) if j > i else None

    sites: list[tuple[int, int]] = []
    for j in moved:
        f, t = int(at[j]), int(tok[j])
        c = bisect.bisect_right(first, f) - 1  # the character at f, or the last before it
        before_c = c - 1 if c >= 0 and f < last[c] else c  # the greedy characters either side
        after_c = c + 1
        lo = last[before_c - 1] if before_c >= 1 else 0
        hi = first[after_c + 1] if after_c + 1 < m else n
        q = float(probs[f, t])
        for before, behind, size in links[t]:
            # The best confidence the term's characters could have: this token's, its
            # neighbours' at their most probable, the others' (longer terms) 1.
            evidence = q + size - 1
            if before is not None:
                near = best(before, lo, f)
                if near is None:
                    continue
                evidence += near - 1
            if behind is not None:
                near = best(behind, f + 1, hi)
                if near is None:
                    continue
                evidence += near - 1
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
