"""Text -> sentences: where a text's sentences end, and bounded pieces of runs without marks.

The synthesis plan (``tts.pipeline``) and the draft units (``tts.drafts``) read a text in the
sentences found here, lazily, so a 200,000-character text is split as it is spoken. A sentence
ends at its mark, or at a line break that ends a line (a heading, a list item, a paragraph's last
line), not at one that only wraps a long line; a run without marks is cut every
``MAX_SENTENCE_CHARS`` at the best place it has. A mark the sentence runs on after is no end:
an abbreviation's full stop ("Dr. Smith": ``tts.abbreviations``), a quotation's mark or an
ellipsis before a lowercase word ("Stop!" he said; I was... well).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

from tui_speech.tts.abbreviations import ends_sentence
from tui_speech.tts.silences import CLAUSE_MARKS, mark_after

#: Longest piece of text phonemized at once (G2P of a piece costs time before its audio).
MAX_SENTENCE_CHARS = 400
#: Characters of a number: a cut between two tokens made only of these splits the number.
NUMBER_CHARS = frozenset("0123456789.,:%零〇一二三四五六七八九十百千万亿两点")

# A sentence ends at . ! ? … followed by space (so "5.50" and "e.g" stay whole), at CJK marks
# and Devanagari's danda, or at a line break (unless the line was only wrapped: _is_wrapped).
_SENTENCE_END = re.compile(
    r"[.!?…]+[\"”’)\]]*(?=\s|$)|[。！？]+[\"”’」』)）]*|[।॥]+[\"”’)\]]*|\n\s*"
)
#: A quotation's closing marks: after one, a lowercase word goes on with the sentence.
_CLOSING = frozenset('"”’)')
_NEXT_CHAR = re.compile(r"\s*(\S)")
#: A line this wide (columns; a Chinese character takes two) that runs on to the next line was
#: wrapped, not ended: hard-wrapped text (a pasted e-mail, a Markdown file) breaks its lines at
#: 60-100 columns wherever a word ends, while headings, list items and short lines end there.
WRAPPED_LINE_COLUMNS = 50
#: A line that starts a list item, a Markdown heading or a quote starts something new.
_STARTS_ITEM = re.compile(r"[ \t]*(?:[-*+•·–—>#]|\d{1,3}[.)、]|[A-Za-z][.)])(?:[ \t]|$)")


def iter_sentences(text: str) -> Iterator[str]:
    """Lazily yield sentences (with their end marks); blank ones are skipped.

    A run without sentence marks is cut every ``MAX_SENTENCE_CHARS`` (at a clause mark, a space,
    or a word boundary), so text with no punctuation is still phonemized a piece at a time.
    """
    for sentence, _ in sentences_and_breaks(text):
        yield sentence


def sentences_and_breaks(text: str) -> Iterator[tuple[str, bool]]:
    """:func:`iter_sentences`, each sentence with whether a line break ended it without a mark
    (a heading, a list's line): it is followed by a sentence's pause, not a word's."""
    pos = 0
    for match in _SENTENCE_END.finditer(text):
        if _is_wrapped(text, match):
            continue  # the sentence goes on on the next line
        if not _ends_sentence(text, match):
            continue  # "Dr. Smith", "1. Buy milk", "Stop!" he said
        at_break = match.group()[:1].isspace()
        previous = None
        for piece in _bounded(_unwrapped(text[pos : match.end()])):  # lazy: a long run is cut
            if previous is not None:
                yield previous, False
            previous = piece
        if previous is not None:
            yield previous, at_break and mark_after(previous) == "word"
        pos = match.end()
    for piece in _bounded(_unwrapped(text[pos:])):
        yield piece, False


def _ends_sentence(text: str, match: re.Match[str]) -> bool:
    """Whether the end ``match`` found ends its sentence (a line break does; a mark unless the
    sentence runs on after it)."""
    mark = match.group()
    if mark == ".":
        return ends_sentence(text, match.start())
    if mark[:1].isspace() or not (mark[-1] in _CLOSING or mark.strip(".…") == ""):
        return True
    after = _NEXT_CHAR.match(text, match.end())
    return after is None or not after.group(1).islower()


def _is_wrapped(text: str, match: re.Match[str]) -> bool:
    """Whether a line break (``match``) only wraps a long line of a paragraph: one newline,
    after a line of at least :data:`WRAPPED_LINE_COLUMNS` that is no Markdown heading, before a
    line that starts no list item or heading."""
    if match.group().count("\n") != 1 or not match.group().startswith("\n"):
        return False  # a mark, or a blank line: a paragraph ends there
    line = text[text.rfind("\n", 0, match.start()) + 1 : match.start()]
    return (
        _columns(line.strip()) >= WRAPPED_LINE_COLUMNS
        and not line.lstrip().startswith("#")
        and match.end() < len(text)  # the break eats the spaces after it: more text follows
        and not _STARTS_ITEM.match(text, match.start() + 1)
    )


def _columns(line: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)


def _unwrapped(piece: str) -> str:
    """A sentence that ran over wrapped lines, on one line (a space where each break was)."""
    return re.sub(r"[ \t]*\n[ \t]*", " ", piece.strip()) if "\n" in piece.strip() else piece


def _bounded(sentence: str) -> Iterator[str]:
    while len(sentence) > MAX_SENTENCE_CHARS:
        cut = _text_cut(sentence[:MAX_SENTENCE_CHARS])
        if sentence[:cut].strip():
            yield sentence[:cut].strip()
        sentence = sentence[cut:]
    if sentence.strip():
        yield sentence.strip()


def _text_cut(head: str) -> int:
    """Where to cut a run that has no sentence mark: after the last clause mark, else at the
    last space, else (Mandarin without spaces) at the last word boundary that is not inside a
    number."""
    from tui_speech.tts.scripts import HAN_RE

    cut = max(head.rfind(mark) for mark in CLAUSE_MARKS) + 1
    if cut > len(head) // 4:
        return cut
    space = head.rfind(" ") + 1
    if space > len(head) // 4:
        return space
    if HAN_RE.search(head):
        return _last_word_boundary(head)
    return len(head)  # one unbroken word: cut it anyway


def _last_word_boundary(head: str) -> int:
    from tui_speech.tts.jieba_words import ready_jieba  # Mandarin G2P has it ready already

    ends, pos = [], 0
    for word in ready_jieba().cut(head):
        pos += len(word)
        ends.append((pos, word))
    # The last word may run past the cut; drop it, and back off over number words.
    for end, word in reversed(ends[:-1]):
        nxt = head[end : end + 1]
        if not (set(word[-1:]) <= NUMBER_CHARS and nxt and nxt in NUMBER_CHARS):
            return end
    return len(head)
