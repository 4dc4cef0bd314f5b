"""English written forms a person reads out as other words: the English G2P reads these.

- abbreviations ("St." saint or street, "Fig. 3": :mod:`tui_speech.tts.abbreviations`);
- web and e-mail addresses: "example.com/docs" is "example dot com slash docs", not the letters
  H T T P S and a colon, with full stops (pauses) inside; "help@example.org", "help at example
  dot org";
- telephone numbers (+1 800 555 0199, (800) 555-0199, 800-555-0199) digit by digit, a pause
  between groups (misaki read "five hundred fifty five");
- units after a number: "5 km" is "5 kilometers" (misaki spelled K M), "100 km/h" "100
  kilometers per hour", "20 m²" "20 square meters", "¥300" "300 yen", "3x" "3 times";
- ranges: "10-15%" is "10 to 15%", "2019-2021" "2019 to 2021" (misaki read "ten fifteen");
- dates written as numbers, year first (ISO 8601): "2024-03-05" is "March fifth, 2024";
- times with am/pm written close: "9am" is "9 a.m." (misaki read the "am" of "I am");
- Roman numerals after a word that numbers ("World War II", "Chapter V": two, five) or a
  monarch's or pope's name ("Louis XIV", "Elizabeth II": the fourteenth, the second);
- temperatures and angles: "20°C" and "20℃" are "20 degrees Celsius" (the degree sign was
  dropped as a symbol, leaving "twenty C").

:func:`spoken_forms` gives each as (start, end, words): the span as written and the words to say;
the G2P gives misaki those words' phonemes for the span, so the preview still shows the text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from tui_speech.tts.abbreviations import MONTHS
from tui_speech.tts.abbreviations import spoken_forms as abbreviations


def spoken_forms(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, words) for each written form in ``text`` that is said as other words, in
    text order, none overlapping another (where two start together, the longer)."""
    found = sorted(
        [
            *abbreviations(text),
            *_addresses(text),
            *_degrees(text),
            *_clock_times(text),
            *_phone_numbers(text),
            *_roman_numerals(text),
            *_ranges(text),
            *_iso_dates(text),
            *_units(text),
        ],
        key=lambda form: (form[0], -form[1]),
    )
    end = 0
    for start, stop, words in found:
        if start >= end:
            yield start, stop, words
            end = stop


# --- web and e-mail addresses -----------------------------------------------------------------

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
        yield start, end, _spoken_address(text[start:end])


def _spoken_address(address: str) -> str:
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


# --- telephone numbers ------------------------------------------------------------------------

#: A telephone number: a country code, an area code in brackets, or three groups (3-3-4).
_PHONE = re.compile(
    r"(?<![\w+-])(?:\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ .-]\d{2,4}){1,3}"
    r"|\(\d{3}\)[ .-]?\d{3}[ .-]\d{4}|\d{3}[.-]\d{3}[.-]\d{4})(?![\w-])"
)
_DIGIT_NAMES = "zero one two three four five six seven eight nine".split()


def _phone_numbers(text: str) -> Iterator[tuple[int, int, str]]:
    for match in _PHONE.finditer(text):
        groups = re.findall(r"\d+", match.group())
        said = ", ".join(" ".join(_DIGIT_NAMES[int(d)] for d in group) for group in groups)
        yield match.start(), match.end(), ("plus " if match.group()[0] == "+" else "") + said


# --- ranges ------------------------------------------------------------------------------------

#: Two numbers joined by a dash (10-15, 2019–2021, 1.5-2.5); not a date's or a code's groups.
_RANGE = re.compile(
    r"(?<![\w.,/:-])(\d+(?:\.\d+)?)\s?[-–—]\s?(\d+(?:\.\d+)?)(%?)(?![\w.,/:-]?\d|[-–—])"
)


def _ranges(text: str) -> Iterator[tuple[int, int, str]]:
    for match in _RANGE.finditer(text):
        low, high = match.group(1), match.group(2)
        # A range rises; 3-2 is a score, 555-0123 or 555-1234 a telephone number.
        if high.startswith("0") or float(low) >= float(high):
            continue
        if len(low) == 3 and len(high) == 4 and "." not in low + high:
            continue
        percent = " percent" if match.group(3) else ""
        yield match.start(), match.end(), f"{low} to {high}{percent}"


# --- units ------------------------------------------------------------------------------------

#: Units written after a number, and their names (singular, plural). Only unambiguous ones: "5 m"
#: (meters or million?), "5 s", "5 in" are left to misaki.
_UNITS = {
    "km": ("kilometer", "kilometers"),
    "cm": ("centimeter", "centimeters"),
    "mm": ("millimeter", "millimeters"),
    "kg": ("kilogram", "kilograms"),
    "mg": ("milligram", "milligrams"),
    "g": ("gram", "grams"),
    "ml": ("milliliter", "milliliters"),
    "mL": ("milliliter", "milliliters"),
    "mi": ("mile", "miles"),
    "ft": ("foot", "feet"),
    "lb": ("pound", "pounds"),
    "lbs": ("pound", "pounds"),
    "oz": ("ounce", "ounces"),
    "km/h": ("kilometer per hour", "kilometers per hour"),
    "kph": ("kilometer per hour", "kilometers per hour"),
    "mph": ("mile per hour", "miles per hour"),
    "m/s": ("meter per second", "meters per second"),
    "m²": ("square meter", "square meters"),
    "km²": ("square kilometer", "square kilometers"),
    "m2": ("square meter", "square meters"),
    "KB": ("kilobyte", "kilobytes"),
    "MB": ("megabyte", "megabytes"),
    "GB": ("gigabyte", "gigabytes"),
    "TB": ("terabyte", "terabytes"),
    "Hz": ("hertz", "hertz"),
    "kHz": ("kilohertz", "kilohertz"),
    "MHz": ("megahertz", "megahertz"),
    "GHz": ("gigahertz", "gigahertz"),
    "kW": ("kilowatt", "kilowatts"),
    "kWh": ("kilowatt hour", "kilowatt hours"),
    "ms": ("millisecond", "milliseconds"),
    "min": ("minute", "minutes"),
    "hr": ("hour", "hours"),
    "hrs": ("hour", "hours"),
    "yr": ("year", "years"),
    "yrs": ("year", "years"),
    "x": ("time", "times"),
}
_UNIT = re.compile(
    r"(?<![\w.,])(\d+(?:[.,]\d+)?)\s?("
    + "|".join(sorted(map(re.escape, _UNITS), key=len, reverse=True))
    + r")(?![\w/²])"
)
#: Currencies misaki does not read ($, £ and € it does): "¥300" is "300 yen".
_CURRENCIES = {"¥": ("yen", "yen"), "₹": ("rupee", "rupees"), "₩": ("won", "won")}
_CURRENCY = re.compile(r"([¥₹₩])\s?(\d+(?:[.,]\d+)?)(?!\d)")


def _units(text: str) -> Iterator[tuple[int, int, str]]:
    for match in _UNIT.finditer(text):
        number, unit = match.groups()
        if unit == "x" and match.group().count(" "):
            continue  # "3 x 4" is a product, not "3 times"
        yield match.start(), match.end(), f"{number} {_named(number, _UNITS[unit])}"
    for match in _CURRENCY.finditer(text):
        sign, number = match.groups()
        yield match.start(), match.end(), f"{number} {_named(number, _CURRENCIES[sign])}"


def _named(number: str, names: tuple[str, str]) -> str:
    return names[0] if number == "1" else names[1]


# --- dates ------------------------------------------------------------------------------------

_ISO_DATE = re.compile(r"(?<![\w.,/:-])(\d{4})-(\d{2})-(\d{2})(?![\w.,/:-]?\d)")


def _iso_dates(text: str) -> Iterator[tuple[int, int, str]]:
    for match in _ISO_DATE.finditer(text):
        year, month, day = (int(group) for group in match.groups())
        if 1 <= month <= 12 and 1 <= day <= 31:
            words = f"{MONTHS[month - 1].capitalize()} {_ordinal(day)}, {year}"
            yield match.start(), match.end(), words


def _ordinal(n: int) -> str:
    """1 to 39 as an ordinal word ("fifth", "twenty-first")."""
    if n <= 20:
        return _ORDINALS[n]
    tens, ones = divmod(n, 10)
    ten = ("twenty", "thirty")[tens - 2]
    return f"{ten}-{_ORDINALS[ones]}" if ones else _ORDINALS_OF_TENS[tens - 2]


# --- clock times ------------------------------------------------------------------------------

_CLOCK = re.compile(r"(?<![\w.:])(\d{1,2}(?::\d{2})?)\s?([ap])m(?!\w)", re.IGNORECASE)


def _clock_times(text: str) -> Iterator[tuple[int, int, str]]:
    for match in _CLOCK.finditer(text):
        yield match.start(), match.end(), f"{match.group(1)} {match.group(2).lower()}.m."


# --- Roman numerals ---------------------------------------------------------------------------

#: Roman numerals made of I, V and X (I to XXXIX): M, C, D and L make words too often ("MIX",
#: "CD"); a lone I after a name is the pronoun ("then Charles I said"), not the first.
_ROMAN = re.compile(r"(?<![\w'])([IVX]{1,6})(?![\w'])")
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10}
#: Words after which a numeral counts: read as a number ("Chapter IV", four).
_NUMBERING_WORDS = frozenset(
    "war chapter part act volume vol book episode phase stage type class level grade section "
    "round season scene article appendix figure table unit lesson step".split()
)
#: Names of monarchs and popes, after which a numeral is an ordinal ("Louis XIV").
_REGNAL_NAMES = frozenset(
    "louis henry charles george edward elizabeth richard william james john paul pius "
    "benedict leo gregory innocent clement napoleon peter catherine frederick philip "
    "ferdinand alexander nicholas ivan mary anne victoria wilhelm ludwig otto "
    "felipe juan carlos gustav harald olav christian rama".split()
)
_ORDINALS_OF_TENS = ("twentieth", "thirtieth")
_ORDINALS = (
    "zeroth first second third fourth fifth sixth seventh eighth ninth tenth eleventh "
    "twelfth thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth "
    "twentieth".split()
)


def _roman_value(numeral: str) -> int | None:
    """The value of a Roman numeral of I, V and X, or None if it is not a well-formed one."""
    values = [_ROMAN_VALUES[c] for c in numeral]
    total = sum(
        -v if i + 1 < len(values) and v < values[i + 1] else v for i, v in enumerate(values)
    )
    return total if 0 < total < 40 and _roman(total) == numeral else None


def _roman(n: int) -> str:
    tens, ones = divmod(n, 10)
    digits = ["", "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX"]
    return "X" * tens + digits[ones]


def _roman_numerals(text: str) -> Iterator[tuple[int, int, str]]:
    for match in _ROMAN.finditer(text):
        value = _roman_value(match.group(1))
        before = re.search(r"([A-Za-z]+)\s+$", text[max(0, match.start() - 30) : match.start()])
        if value is None or before is None:
            continue
        word = before.group(1)
        if word.lower() in _NUMBERING_WORDS:
            yield match.start(), match.end(), str(value)
        elif word[:1].isupper() and word.lower() in _REGNAL_NAMES and 1 < value <= 20:
            yield match.start(), match.end(), "the " + _ORDINALS[value]


# --- degrees ----------------------------------------------------------------------------------

#: A number with degrees ("20°C", "-5 °F", "45°").
_DEGREES = re.compile(r"(?<![\w.])([-−+]?\d+(?:[.,]\d+)?)\s?(?:°\s?([CF](?![A-Za-z]))?|([℃℉]))")
_SCALES = {"C": "Celsius", "F": "Fahrenheit", "℃": "Celsius", "℉": "Fahrenheit"}


def _degrees(text: str) -> Iterator[tuple[int, int, str]]:
    for match in _DEGREES.finditer(text):
        number, scale = match.group(1).replace("−", "-"), match.group(2) or match.group(3)
        unit = "degree" if number.lstrip("-+") == "1" else "degrees"
        words = f"{number} {unit}" + (f" {_SCALES[scale]}" if scale else "")
        yield match.start(), match.end(), words
