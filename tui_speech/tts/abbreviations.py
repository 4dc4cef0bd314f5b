"""English abbreviations with a full stop: how they are read, and whether the stop ends a sentence.

"Dr. Smith met Mr. Jones on St. Patrick's Day." is one sentence; read as a text is split by
its full stops it was five, each a Kokoro call of its own with a sentence's pause after it
("Dr." spoken alone as an utterance). And misaki reads some abbreviations as letters with a
full stop (Mt. "em tee", Jr. "jay are", Fig. "fig" and a pause) or not at all (St.).

Two uses, one table:
- :func:`ends_sentence` (``tts.sentences``): a full stop after an abbreviation ends no sentence
  when the text runs on as the abbreviation expects (a name after a title, a number after
  "No.", a lowercase word after "e.g." or "etc.");
- :func:`spoken_forms` (the English G2P): the abbreviations to read as their words, where the
  context says which word ("St. Mary" is Saint, "Baker St." is Street). Those misaki already
  reads as words (Mr., Dr., etc., vs., No.) are left to it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

#: Titles before a name ("Prof. Lee", "Mt. Everest"): read as the word, and the stop never ends
#: the sentence when a capitalised word follows. misaki reads the first group itself.
_TITLES_MISAKI_READS = ("Mr", "Mrs", "Ms", "Mx", "Dr")
#: Titles of the other languages read here (espeak-ng reads them): "Sr. García", "Mme. Roux".
_TITLES_ELSEWHERE = ("Sr", "Sra", "Srta", "Dra", "Lic", "Ing", "Mme", "Mlle", "Sig", "Dott")
TITLES = {
    "Prof": "professor",
    "St": "saint",
    "Mt": "mount",
    "Ft": "fort",
    "Rev": "reverend",
    "Gen": "general",
    "Capt": "captain",
    "Cpt": "captain",
    "Lt": "lieutenant",
    "Sgt": "sergeant",
    "Cpl": "corporal",
    "Col": "colonel",
    "Maj": "major",
    "Adm": "admiral",
    "Gov": "governor",
    "Sen": "senator",
    "Rep": "representative",
    "Pres": "president",
    "Fr": "father",
}
#: After a name ("Baker St.", "Acme Inc.", "John Smith Jr."): read as the word.
AFTER_NAMES = {
    "St": "street",
    "Ave": "avenue",
    "Blvd": "boulevard",
    "Rd": "road",
    "Ln": "lane",
    "Hwy": "highway",
    "Jr": "junior",
    "Sr": "senior",
    "Bros": "brothers",
    "Inc": "incorporated",
    "Ltd": "limited",
    "Corp": "corporation",
    "Co": "company",
}
MONTHS = (
    "january february march april may june july august september october november december"
).split()
#: Before a number ("Fig. 3", "Jan. 5", "pp. 10-12"): read as the word; misaki reads "No. 5".
BEFORE_NUMBERS = {
    "Fig": "figure",
    "fig": "figure",
    "Figs": "figures",
    "Vol": "volume",
    "vol": "volume",
    "Ch": "chapter",
    "ch": "chapter",
    "Sec": "section",
    "sec": "section",
    "Eq": "equation",
    "p": "page",
    "pp": "pages",
    **{month[:3].capitalize(): month for month in MONTHS if month != "may"},
    "Sept": "september",
}
_NUMBERED_MISAKI_READS = ("No", "no", "Nos", "nos")
#: Wherever they stand.
ANYWHERE = {
    "approx": "approximately",
    "Approx": "approximately",
    "Dept": "department",
    "dept": "department",
    "Univ": "university",
    "Mon": "monday",
    "Tue": "tuesday",
    "Tues": "tuesday",
    "Wed": "wednesday",
    "Thu": "thursday",
    "Thurs": "thursday",
    "Fri": "friday",
}
#: Abbreviations misaki reads well that are often followed by more of the sentence.
_OTHERS_MISAKI_READS = ("etc", "vs", "cf", "al")

# A word that ends in a full stop: its letters (with inner stops: "e.g", "U.S", "Ph.D").
_WORD_BEFORE_STOP = re.compile(r"(?<![\w.])([A-Za-z]+(?:\.[A-Za-z]+)*)\.$")
_NEXT_WORD = re.compile(r"\s*[\"'“‘(]?(\S)")
_CAPITALISED_BEFORE = re.compile(r"(?<![\w.])[A-Z][\w'’-]*,?\s+$")


def ends_sentence(text: str, stop: int) -> bool:
    """Whether the full stop at ``text[stop]`` ends a sentence. It does not after an
    abbreviation that the rest of the text continues ("Dr. Smith", "Fig. 3", "e.g. this",
    "U.S. economy", "J. K. Rowling"), nor after the number of a numbered list's item at the
    start of a line ("1. Buy milk"); it does at the end of the text and everywhere else."""
    after = _NEXT_WORD.match(text, stop + 1)
    if after is None:
        return True  # the text ends here
    nxt = after.group(1)
    # "1. Buy milk": a list item's number (up to three digits) alone before it on its line.
    head = text[max(0, stop - 6) : stop]
    item = head.rsplit("\n", 1)[-1].strip()
    if ("\n" in head or stop <= 6) and item.isdigit() and len(item) <= 3:
        return False
    found = _WORD_BEFORE_STOP.search(text, max(0, stop - 40), stop + 1)
    if found is None:
        return True
    word = found.group(1)
    if nxt.isdigit():
        return not (word in BEFORE_NUMBERS or word in _NUMBERED_MISAKI_READS or word in ANYWHERE)
    if nxt.islower():  # the sentence goes on after an abbreviation
        return not (
            "." in word
            or len(word) == 1
            or word in ANYWHERE
            or word in AFTER_NAMES
            or word in BEFORE_NUMBERS
            or word in _OTHERS_MISAKI_READS
        )
    if _starts_name(nxt):  # a name, or a new sentence
        return not (
            word in TITLES
            or word in _TITLES_MISAKI_READS
            or word in _TITLES_ELSEWHERE
            or (len(word) == 1 and word.isupper())  # an initial: "J. K. Rowling"
        )
    return True


def spoken_forms(text: str) -> Iterator[tuple[int, int, str]]:
    """The abbreviations of ``text`` to read as words: (start, end, word), the span with its
    full stop, in text order. Which word depends on what stands around it: a title before a
    name ("St. Mary": saint), else a word after a name ("Baker St.": street)."""
    for match in re.finditer(r"(?<![\w.])([A-Za-z]+)\.(?![\w.])", text):
        word = match.group(1)
        after = _NEXT_WORD.match(text, match.end())
        nxt = after.group(1) if after else ""
        spoken = None
        if word in TITLES and _starts_name(nxt):
            spoken = TITLES[word]
        elif word in AFTER_NAMES and _CAPITALISED_BEFORE.search(
            text, max(0, match.start() - 40), match.start()
        ):
            spoken = AFTER_NAMES[word]
        elif word in BEFORE_NUMBERS and nxt.isdigit():
            spoken = BEFORE_NUMBERS[word]
        elif word in ANYWHERE:
            spoken = ANYWHERE[word]
        if spoken is not None:
            yield match.start(), match.end(), spoken


def _starts_name(char: str) -> bool:
    """A capital, or a letter of a script without case (a Chinese name: "Mr. 李")."""
    return char.isalpha() and not char.islower()
