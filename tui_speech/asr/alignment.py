"""CTC alignments: which frames each token of a transcript holds, and the characters of an
alignment with timing, confidence and alternatives as greedy decoding defines them."""

from __future__ import annotations

import numpy as np

from tui_speech.asr.ctc import CharResult, GreedyDecoder, _Span

_NEG = -1e30
_LOG_FLOOR = 1e-30


def run_starts(values: np.ndarray) -> np.ndarray:
    """Where each run of equal values begins (np.r_ costs more than the work here)."""
    starts = np.flatnonzero(values[1:] != values[:-1]) + 1
    return np.concatenate(([0], starts))


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


def collapse(path: np.ndarray, blank: int) -> tuple[int, ...]:
    if len(path) == 0:
        return ()
    starts = run_starts(path)
    return tuple(t for t in path[starts].tolist() if t != blank)


def char_spans(path: np.ndarray, blank: int) -> list[tuple[int, int]]:
    """(start, end) frames of each non-blank run in an alignment."""
    if len(path) == 0:
        return []
    starts = run_starts(path)
    ends = np.append(starts[1:], len(path))
    return [(s, e) for s, e in zip(starts.tolist(), ends.tolist(), strict=True) if path[s] != blank]


def align(
    probs: np.ndarray, tokens: tuple[int, ...], blank: int, greedy: np.ndarray | None = None
) -> np.ndarray:
    """A frame alignment of ``tokens``: the greedy path (``greedy``, the argmax per frame)
    where the tokens agree with it, forced alignment of the stretch in between where not."""
    if greedy is None:
        greedy = probs.argmax(axis=1)
    seen = collapse(greedy, blank)
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
    spans = char_spans(greedy, blank)
    lo = spans[p - 1][1] if p > 0 else 0
    hi = spans[len(seen) - s][0] if s > 0 else len(greedy)
    part = tokens[p : len(tokens) - s]
    path = greedy.copy()
    if hi > lo:
        log_part = np.log(np.maximum(probs[lo:hi], _LOG_FLOOR))
        path[lo:hi] = force_align(log_part, part, blank) if part else blank
    if hi < lo or collapse(path, blank) != tokens:
        path = force_align(np.log(np.maximum(probs, _LOG_FLOOR)), tokens, blank)
    return path


def chars_of_path(decoder: GreedyDecoder, probs: np.ndarray, path: np.ndarray) -> list[CharResult]:
    """The characters of an alignment, each defined as greedy decoding defines it (times from
    ``decoder.frames_seen``)."""
    out: list[CharResult] = []
    for start, end in char_spans(path, decoder.blank_id):
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
