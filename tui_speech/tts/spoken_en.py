"""English written forms a person reads out as other words: the English G2P reads these.

- abbreviations ("St." saint or street, "Fig. 3": :mod:`tui_speech.tts.abbreviations`);
- web and e-mail addresses: "example.com/docs" is "example dot com slash docs", not the letters
  H T T P S and a colon, with full stops (pauses) inside; "help@example.org", "help at example
  dot org";
- temperatures and angles: "20°C" and "20℃" are "20 degrees Celsius" (the degree sign was
  dropped as a symbol, leaving "twenty C").

:func:`spoken_forms` gives each as (start, end, words): the span as written and the words to say;
the G2P gives misaki those words' phonemes for the span, so the preview still shows the text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from tui_speech.tts.abbreviations import spoken_forms as abbreviations

_TOP_LEVEL = r"(?:com|org|net|edu|gov|io|dev|app|ai|co|uk|de|fr|cn|jp|info|me)"
#: A web address: with its scheme or www, or a host with a common top-level domain. ASCII
#: only, so an address inside Chinese text ends where the Chinese does.
_URL_CHARS = r"[A-Za-z0-9._~:/?#@!$&*+,;=%-]"
_WEB = re.compile(
    rf"(?<![A-Za-z0-9@./-])(?:(?:https?://|www\.){_URL_CHARS}+"
    rf"|[A-Za-z0-9][A-Za-z0-9-]*(?:\.[A-Za-z0-9-]+)*\.{_TOP_LEVEL}(?![A-Za-z0-9-])"
    rf"(?:/{_URL_CHARS}*)?)"
)
_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
#: A number with degrees ("20°C", "-5 °F", "45°").
_DEGREES = re.compile(r"(?<![\w.])([-−+]?\d+(?:[.,]\d+)?)\s?(?:°\s?([CF](?![A-Za-z]))?|([℃℉]))")
_SCALES = {"C": "Celsius", "F": "Fahrenheit", "℃": "Celsius", "℉": "Fahrenheit"}
#: How the marks inside an address are said.
_ADDRESS_MARKS = {
    ".": "dot",
    "/": "slash",
    "@": "at",
    ":": "colon",
    "-": "dash",
    "_": "underscore",
    "=": "equals",
    "&": "and",
    "#": "hash",
    "?": "question mark",
    "~": "tilde",
    "+": "plus",
    "%": "percent",
}
#: Marks a sentence may end an address with ("see example.com."), not part of it.
_TRAILING = ".,;:!?"


def spoken_forms(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, words) for each written form in ``text`` that is said as other words, in
    text order, none overlapping another."""
    found = sorted([*abbreviations(text), *_addresses(text), *_degrees(text)])
    end = 0
    for start, stop, words in found:
        if start >= end:
            yield start, stop, words
            end = stop


def address_spans(text: str) -> list[tuple[int, int]]:
    """Where ``text`` has web and e-mail addresses: (start, end), in text order (the Mandarin
    G2P gives each to the English one whole)."""
    spans: list[tuple[int, int]] = []
    for pattern in (_EMAIL, _WEB):
        for match in pattern.finditer(text):
            end = match.start() + len(match.group().rstrip(_TRAILING))
            if not any(a <= match.start() < b for a, b in spans):  # an e-mail's host
                spans.append((match.start(), end))
    return sorted(spans)


def _addresses(text: str) -> Iterator[tuple[int, int, str]]:
    for start, end in address_spans(text):
        yield start, end, spoken_address(text[start:end])


def spoken_address(address: str) -> str:
    """The words of a web or e-mail address: its scheme left out, its marks said."""
    address = re.sub(r"^https?://", "", address).rstrip("/")
    words = []
    for part in re.split(r"([^\w]|_)", address):
        if not part:
            continue
        if part.lower() == "www":
            words.append("w w w")
        else:
            words.append(_ADDRESS_MARKS.get(part, part))
    return " ".join(words)


def _degrees(text: str) -> Iterator[tuple[int, int, str]]:
    for match in _DEGREES.finditer(text):
        number, scale = match.group(1).replace("−", "-"), match.group(2) or match.group(3)
        unit = "degree" if number.lstrip("-+") == "1" else "degrees"
        words = f"{number} {unit}" + (f" {_SCALES[scale]}" if scale else "")
        yield match.start(), match.end(), words
