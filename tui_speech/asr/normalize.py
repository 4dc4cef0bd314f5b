"""Transcript normalisation for training and evaluation, matched to a model's vocabulary.

The Mandarin base model was trained on Common Voice zh-CN text with punctuation stripped and
numbers written out in characters, so a transcript is brought into that shape before its
characters are checked against the vocabulary or turned into CTC labels:

1. Unicode NFKC: full-width Latin letters and digits become ASCII (``Ａ１`` -> ``A1``), and
   full-width punctuation becomes its half-width form.
2. Punctuation and symbols (Unicode categories P* and S*, both widths) are removed (not turned
   into spaces, which would become word delimiters): the model has no tokens for them.
3. Digits become Chinese numerals with cn2an (``3个`` -> ``三个``, ``12.5`` -> ``十二点五``, a year
   ``2024年`` -> ``二零二四年``) – unless the vocabulary itself holds the digits, in which case
   the model was trained on digits and they are kept.
4. Latin letters are lower-cased when the model's tokenizer lower-cases.
5. Runs of white space become the word delimiter (``|``) if the vocabulary has one, else they are
   dropped (Chinese is written without spaces).

What remains may still hold characters the vocabulary lacks; :func:`unknown_chars` lists them.
The way back, digits from characters for people to read, is :mod:`tui_speech.asr.itn`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection

_SPACES = re.compile(r"\s+")
_DIGITS = re.compile(r"[0-9]")
_DELIMITER = "|"


def _strip_symbols(text: str) -> str:
    return "".join(c for c in text if unicodedata.category(c)[0] not in "PS" or c == _DELIMITER)


def _digits_to_chinese(text: str) -> str:
    from tui_speech.asr.itn import DIGIT_NAMES, cn2an_transform

    out = cn2an_transform(text, "an2cn")
    if out is None:
        # cn2an refuses some shapes (very long digit runs); read those digit by digit.
        return _DIGITS.sub(lambda m: DIGIT_NAMES[int(m.group())], text)
    return out


def normalize_text(
    text: str, vocab: Collection[str], lower_case: bool = False, delimiter: str | None = "|"
) -> str:
    """``text`` in the form the model was trained on (see the module docstring)."""
    out = unicodedata.normalize("NFKC", text)
    # Digits go before the symbols: cn2an needs the "." of "12.5" and the "%" of "50%".
    if _DIGITS.search(out) and not all(d in vocab for d in "0123456789"):
        out = _digits_to_chinese(out)
    out = _strip_symbols(out)
    if lower_case:
        out = out.lower()
    joiner = delimiter if delimiter and delimiter in vocab else ""
    return joiner.join(_SPACES.split(out.strip()))


def unknown_chars(text: str, vocab: Collection[str]) -> list[str]:
    """Characters of ``text`` that are not tokens of ``vocab``, in order of first appearance."""
    return list(dict.fromkeys(c for c in text if c not in vocab))
