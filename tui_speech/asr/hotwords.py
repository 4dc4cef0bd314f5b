"""Hotwords: terms the CTC beam search is nudged towards (contextual biasing).

A hotwords file holds one term per line, optionally ``term<TAB>weight``; blank lines and lines
starting with ``#`` are skipped. The weight is the bonus (natural log, added to a path's
log-probability) for each token of the term that a beam prefix matches.

:class:`ContextGraph` is the prefix trie of the terms' tokens, the shape of the context graphs
in WeNet and sherpa-onnx (our own code): a prefix that walks into the trie earns the bonus of
each token as it is matched, so a term can win against the acoustics *while* it is being
spoken, not only once it is complete. A match that fails (the next token leaves the trie, or
the utterance ends mid-term) takes the bonuses it earned back, so a partial match never
changes the final ranking; only a term matched to its end keeps its bonus. After a failure
the token is tried again from the root, so a term may start right where another attempt broke
off (``深深度`` still matches ``深度``).

Where one term is a prefix of another (``深度``, ``深度学习``), finishing the short one banks
its bonus and the walk goes on towards the long one; failing after that takes back only what
was earned past the short one. Terms that overlap other than as prefixes are matched one at a
time (no Aho-Corasick fail arcs): enough for lists of names and phrases.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from tui_speech.errors import UsageError

#: Bonus per matched token when a term has no weight of its own (tuned on bench/hotwords.py's
#: seeds 0-1). The search gives it only where the acoustics support the token (TERM_GATE in
#: asr.biasing), so it may be large enough to bring back a character dropped into the blank.
DEFAULT_WEIGHT = 6.0
#: Weights above this drown the acoustics: the term would be "heard" in any noise.
MAX_WEIGHT = 10.0


@dataclass(frozen=True)
class Hotword:
    """One term and its bonus per token."""

    term: str
    weight: float = DEFAULT_WEIGHT


def parse_hotwords(text: str, source: str = "hotwords") -> tuple[Hotword, ...]:
    """The terms of a hotwords file's text (see the module docstring), in order, deduplicated."""
    out: dict[str, Hotword] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        term, _, weight_text = line.partition("\t")
        term = term.strip()
        weight = DEFAULT_WEIGHT
        if weight_text.strip():
            try:
                weight = float(weight_text)
            except ValueError:
                weight = float("nan")
            if not 0 < weight <= MAX_WEIGHT:
                raise UsageError(
                    f"{source}, line {number}: weight {weight_text.strip()!r} is not a number "
                    f"in (0, {MAX_WEIGHT:g}]",
                    f"write the term, a tab and a weight such as {DEFAULT_WEIGHT:g}, "
                    "or the term alone",
                )
        if term:
            out[term] = Hotword(term, weight)
    return tuple(out.values())


def read_hotwords(path: str | Path) -> tuple[Hotword, ...]:
    """The terms of a hotwords file (UTF-8)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"no hotwords file at {path}", "write one term per line into it") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = "is not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else "cannot be read"
        raise UsageError(f"the hotwords file {path} {reason}") from None
    return parse_hotwords(text, str(path))


@dataclass
class _Node:
    children: dict[int, int]
    score: float  # bonus earned from the root to here
    banked: float  # of that, what a finished term on the way has made permanent
    end: bool


class ContextGraph:
    """The prefix trie of token sequences with a bonus per token (see the module docstring).

    States are node ids; 0 is the root. :meth:`forward` moves a state by one token and says
    how the context score changes; :meth:`finalize` is the change at the end of an utterance.
    """

    ROOT = 0

    def __init__(self, terms: Iterable[tuple[tuple[int, ...], float]]) -> None:
        self._nodes = [_Node({}, 0.0, 0.0, False)]
        #: The terms as given: (tokens, weight).
        self.terms = tuple((tuple(tokens), float(weight)) for tokens, weight in terms)
        for tokens, weight in self.terms:
            self._add(tokens, weight)
        self._moves: list[tuple[dict[int, tuple[int, float]], tuple[int, float]]] | None = None
        self._token_set: frozenset[int] | None = None
        self._links: dict[int, list[tuple[int | None, int | None, int]]] | None = None

    def __len__(self) -> int:
        """Number of trie nodes besides the root (0: no terms)."""
        return len(self._nodes) - 1

    @property
    def first_tokens(self) -> list[int]:
        """The tokens a match can start with."""
        return list(self._nodes[self.ROOT].children)

    @property
    def tokens(self) -> list[int]:
        """Every token of every term, ascending."""
        return sorted(self.token_set)

    @property
    def token_set(self) -> frozenset[int]:
        """Every token of every term."""
        if self._token_set is None:
            self._token_set = frozenset(tok for node in self._nodes for tok in node.children)
        return self._token_set

    def _add(self, tokens: tuple[int, ...], weight: float) -> None:
        if not tokens:
            return
        node = self.ROOT
        for tok in tokens:
            here = self._nodes[node]
            nxt = here.children.get(tok)
            if nxt is None:
                nxt = len(self._nodes)
                here.children[tok] = nxt
                self._nodes.append(_Node({}, here.score + weight, here.banked, False))
            else:
                # A prefix shared by terms of different weights earns the larger bonus.
                child = self._nodes[nxt]
                child.score = max(child.score, here.score + weight)
            node = nxt
        self._nodes[node].end = True
        self._rebank()

    def _rebank(self) -> None:
        # ``banked`` is the score of the deepest finished term on the path from the root.
        stack = [(self.ROOT, 0.0)]
        while stack:
            node, banked = stack.pop()
            n = self._nodes[node]
            n.banked = n.score if n.end else banked
            stack.extend((c, n.banked) for c in n.children.values())

    def forward(self, state: int, token: int) -> tuple[int, float]:
        """The state after ``token`` and the change of the context score."""
        node = self._nodes[state]
        nxt = node.children.get(token)
        if nxt is not None:
            return self._settle(nxt), self._nodes[nxt].score - node.score
        # The match broke off: take back what was not banked, then try the token afresh.
        back = node.banked - node.score
        start = self._nodes[self.ROOT].children.get(token) if state != self.ROOT else None
        if start is None:
            return self.ROOT, back
        return self._settle(start), back + self._nodes[start].score

    def moves(self) -> list[tuple[dict[int, tuple[int, float]], tuple[int, float]]]:
        """:meth:`forward` as a table: per state, the moves of the tokens the trie knows from
        there (its children, the terms' first tokens) and the one move of every other token
        (the match breaks off and nothing starts). The search looks moves up here instead of
        calling :meth:`forward` per beam and token; built once (the graph does not change)."""
        if self._moves is None:
            special = set(self._nodes[self.ROOT].children)
            self._moves = [
                (
                    {tok: self.forward(state, tok) for tok in special | set(node.children)},
                    (self.ROOT, node.banked - node.score),
                )
                for state, node in enumerate(self._nodes)
            ]
        return self._moves

    @property
    def longest(self) -> int:
        """The most tokens a term has (0: no terms)."""
        return max((len(t) for t, _ in self.terms), default=0)

    def links(self) -> dict[int, list[tuple[int | None, int | None, int]]]:
        """Per token, each (token before it, token after it, the term's length) it has in a
        term, ``None`` at the term's start or end (built once)."""
        if self._links is None:
            links: dict[int, set[tuple[int | None, int | None, int]]] = {}
            for tokens, _ in self.terms:
                for i, tok in enumerate(tokens):
                    before = tokens[i - 1] if i else None
                    after = tokens[i + 1] if i + 1 < len(tokens) else None
                    links.setdefault(tok, set()).add((before, after, len(tokens)))
            self._links = {t: sorted(v, key=repr) for t, v in links.items()}
        return self._links

    def completed(self, tokens: Iterable[int]) -> list[tuple[int, int]]:
        """Where terms are matched to their end in ``tokens``, walking as :meth:`forward`
        does: (start, end) token indices, one pair per finished term."""
        out: list[tuple[int, int]] = []
        state, depth = self.ROOT, 0
        for i, tok in enumerate(tokens):
            nxt = self._nodes[state].children.get(tok)
            if nxt is None:
                depth = 0
                nxt = self._nodes[self.ROOT].children.get(tok) if state != self.ROOT else None
                if nxt is None:
                    state = self.ROOT
                    continue
            depth += 1
            if self._nodes[nxt].end:
                out.append((i + 1 - depth, i + 1))
            state = self._settle(nxt)
            if state == self.ROOT:
                depth = 0
        return out

    def _settle(self, state: int) -> int:
        # A finished term with nothing beyond it: start over from the root (its bonus is kept:
        # the root's score, like every banked one, is never taken back).
        node = self._nodes[state]
        return self.ROOT if node.end and not node.children else state

    def finalize(self, state: int) -> float:
        """The change of the context score when the utterance ends in ``state``."""
        node = self._nodes[state]
        return node.banked - node.score

    @classmethod
    def build(
        cls,
        hotwords: Iterable[Hotword],
        index: Mapping[str, int],
        lower_case: bool = False,
        delimiter: int | None = None,
    ) -> tuple[ContextGraph, tuple[str, ...]]:
        """The graph of ``hotwords`` over a model's tokens (``index``: token text -> id), and a
        warning for each term the model cannot spell (a character it has no token for)."""
        terms, warnings = [], []
        for hw in hotwords:
            text = hw.term.lower() if lower_case else hw.term
            tokens: list[int] = []
            missing = []
            for ch in text:
                if ch.isspace():
                    if delimiter is not None and tokens and tokens[-1] != delimiter:
                        tokens.append(delimiter)
                    continue
                tok = index.get(ch)
                if tok is None:
                    missing.append(ch)
                else:
                    tokens.append(tok)
            if missing:
                warnings.append(
                    f"hotword {hw.term!r} left out: the model has no token for "
                    + ", ".join(repr(c) for c in dict.fromkeys(missing))
                )
                continue
            while tokens and tokens[-1] == delimiter:
                tokens.pop()
            terms.append((tuple(tokens), hw.weight))
        return cls(terms), tuple(warnings)
