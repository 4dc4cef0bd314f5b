"""Kokoro's phoneme vocabulary: one id per phoneme symbol (178 slots, 114 used in v1.0).

Kokoro silently drops any symbol not in its vocabulary, so callers report those instead.
"""

from __future__ import annotations

import json
from functools import cache

#: Kokoro reads at most 512 positions; two are the boundary pads, so 510 phoneme symbols.
MAX_PHONEMES = 510


@cache
def vocab() -> dict[str, int]:
    from tui_speech.hub.embedded import data_file

    data = json.loads(data_file("vocab.json").read_text(encoding="utf-8"))
    return dict(data["vocab"])


def out_of_vocab(phonemes: str) -> tuple[str, ...]:
    """The distinct symbols of ``phonemes`` that Kokoro would drop, in order of appearance."""
    known = vocab()
    return tuple(dict.fromkeys(ch for ch in phonemes if ch not in known))


def encode(phonemes: str) -> list[int]:
    """Token ids for ``phonemes`` (without the boundary pads); unknown symbols are skipped."""
    known = vocab()
    return [known[ch] for ch in phonemes if ch in known]
