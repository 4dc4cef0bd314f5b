"""Which characters of a text a rewritten text came from (for ITN and script conversion).

A rewrite (二百五十六页 -> 256页, U盘 -> 隨身碟) is given as ``(piece, start, end)`` pieces: each
output piece replaces ``source[start:end]``, so a written span keeps the times and confidence of
the heard characters it stands for.
"""

from __future__ import annotations

from difflib import SequenceMatcher

Piece = tuple[str, int, int]


def align_pieces(reference: str, out: str) -> list[Piece]:
    """Pieces of ``out`` over a source that ``reference`` matches character for character.

    ``reference`` has one character per source character, written the way ``out`` would write
    it where nothing was rewritten; characters equal in both map one to one, and each run that
    differs becomes one piece over the source characters it replaced.
    """
    pieces: list[Piece] = []
    pending = ""  # output inserted before any source character: joins the first piece

    def add(piece: str, start: int, end: int) -> None:
        nonlocal pending
        pieces.append((pending + piece, start, end))
        pending = ""

    matcher = SequenceMatcher(None, reference, out, autojunk=False)
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op == "equal":
            for k in range(a1 - a0):
                add(out[b0 + k], a0 + k, a0 + k + 1)
        elif a1 > a0:  # replaced (or deleted: an empty piece still covers its characters)
            add(out[b0:b1], a0, a1)
        elif pieces:  # inserted output belongs to the piece before it
            piece, start, end = pieces[-1]
            pieces[-1] = (piece + out[b0:b1], start, end)
        else:
            pending += out[b0:b1]
    if pending:  # an empty source: nothing to hang the output on
        pieces.append((pending, 0, 0))
    return pieces


def compose(first: list[Piece], second: list[Piece]) -> list[Piece]:
    """Two rewrites in a row as one: ``second``'s pieces are over the text ``first`` wrote.

    Pieces of ``second`` that share a piece of ``first`` merge (256 from 二百五十六 stays one
    piece however the second rewrite split it), so every piece covers whole source ranges.
    """
    owner: list[int] = []  # for each character of the first output: its piece in ``first``
    for k, (text, _, _) in enumerate(first):
        owner += [k] * len(text)
    out: list[Piece] = []
    last = -1  # the last piece of ``first`` the previous output piece touched
    for text, a, b in second:
        touched = owner[a:b] or ([owner[a - 1]] if 0 < a <= len(owner) else [])
        lo, hi = (min(touched), max(touched)) if touched else (last + 1, last)
        start = first[lo][1] if lo < len(first) else (out[-1][2] if out else 0)
        end = first[hi][2] if 0 <= hi < len(first) else start
        if out and lo <= last:
            prev, p_start, p_end = out[-1]
            out[-1] = (prev + text, p_start, max(p_end, end))
        else:
            out.append((text, start, end))
        last = max(last, hi)
    return out
