"""Inverse text normalisation of Mandarin numbers: 二百五十六页 -> 256页, 百分之五 -> 5%.

The model writes numbers as it hears them, in characters. cn2an (``transform(text, "cn2an")``)
rewrites numbers, dates, times, money, percentages, fractions, decimals and digit-by-digit runs
(phone numbers, 幺 included). It was picked over the other candidates by measurement
(bench/written.py, the table in tests/written_tables.py): chinese2digits writes 百分之五 as 0.05
and 三分之一 as 0.333..., and WeTextProcessing, the most careful with words, needs pynini (a
165 MB wheel), writes 三月五号 as 03/05 and 下午三点十五分 as 3:15p.m., and keeps 三点.

cn2an alone also rewrites numerals that are words (一起 -> 1起, 三心二意 -> 3心2意); four rules
on top keep those as characters:

1. words and idioms with numerals in :data:`WORDS` are never touched;
2. a number ending in 万 or 亿 keeps it (两千三百万 -> 2300万);
3. a number of one character (一 .. 九, 两) stays a character unless it counts a unit that is
   written with digits (点, 月, 号, 岁, %, ...; the GB/T 15835 habit) or follows 第 or 负;
4. a number next to 几 (十几个, 几十个) and two neighbouring digits (三四个: "three or four")
   are estimates and stay characters.

Times cn2an refuses (三点十五分) are rewritten part by part.
"""

from __future__ import annotations

import re
import warnings

from tui_speech.asr.pieces import Piece, align_pieces

#: Words whose numerals are not numbers (a count would read wrongly as digits).
WORDS = (
    "一起 一些 一样 一直 一定 一切 一般 一下 一点儿 一会儿 一边 一旦 一共 一致 一起 一向 一同 "
    "一律 一再 一番 一阵 一方面 一口气 一路 一生 一辈子 统一 唯一 万一 专一 一一 "
    "一模一样 一心一意 三心二意 十全十美 七上八下 乱七八糟 五湖四海 四面八方 一见钟情 "
    "一把手 不管三七二十一 千千万万 零下 星期一 星期二 星期三 星期四 "
    "星期五 星期六 礼拜一 礼拜二 礼拜三 礼拜四 礼拜五 礼拜六 周一 周二 周三 周四 周五 周六 "
    "一月份 老三 老二 小三 二手 二维码 三明治"
).split()
#: Units counted with digits: a one-character number before them becomes a digit.
DIGIT_UNITS = set("点月日号年岁度分秒时块元毛角页章节楼层米克斤倍%")
#: The digits' names, 0 to 9 (normalize.py reads digits out with them too).
DIGIT_NAMES = "零一二三四五六七八九"
_SINGLE = set(DIGIT_NAMES + "〇两")
_DIGIT_VALUES = {c: i for i, c in enumerate(DIGIT_NAMES)}
_NUMERAL = "零〇一二两三四五六七八九十"
_TIME = re.compile(f"([{_NUMERAL}]+)点([{_NUMERAL}]+)分")
#: Private-use characters stand in for protected words while cn2an runs.
_MASK0 = 0xE000


def cn2an_transform(text: str, method: str) -> str | None:
    """cn2an's ``transform`` (``"cn2an"``: to digits, ``"an2cn"``: to characters), or None
    where it refuses the text (the one place the project calls cn2an)."""
    import cn2an

    with warnings.catch_warnings():
        # cn2an warns (and leaves the text) on shapes it refuses, e.g. 三点十五.
        warnings.simplefilter("ignore")
        try:
            return str(cn2an.transform(text, method))
        except (ValueError, KeyError, IndexError):
            return None


def _cn2an(text: str) -> str:
    out = cn2an_transform(text, "cn2an")
    return text if out is None else out


def _times(text: str) -> str:
    def rewrite(m: re.Match[str]) -> str:
        hour = "二" if m.group(1) == "两" else m.group(1)  # cn2an leaves 两点 as it is
        return f"{_cn2an(hour + '点')}{_cn2an(m.group(2) + '分')}"

    return _TIME.sub(rewrite, text)


def _masked(text: str) -> tuple[str, list[str]]:
    found: list[str] = []
    pattern = "|".join(sorted(map(re.escape, set(WORDS)), key=len, reverse=True))

    def mask(m: re.Match[str]) -> str:
        found.append(m.group())
        return chr(_MASK0 + len(found) - 1) * len(m.group())

    return re.sub(pattern, mask, text), found


def _unmasked(text: str, found: list[str]) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        code = ord(text[i]) - _MASK0
        if 0 <= code < len(found):
            out.append(found[code])
            i += len(found[code])
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _estimate(source: str) -> bool:
    """三四 (three or four) and 五六: two neighbouring digits, not a two-digit number."""
    if len(source) != 2 or not all(c in _DIGIT_VALUES for c in source):
        return False
    return _DIGIT_VALUES[source[1]] - _DIGIT_VALUES[source[0]] == 1


def _keep(text: str, piece: Piece) -> bool:
    """Whether the rewrite ``piece`` of ``text`` should be undone (rules 2 and 3)."""
    out, start, end = piece
    source = text[start:end]
    if out == source:
        return False
    before = text[start - 1] if start else ""
    after = text[end] if end < len(text) else ""
    if "几" in (before, after) or _estimate(source):
        return True
    if len(source) == 1 and source in _SINGLE:
        return not (after in DIGIT_UNITS or before in ("第", "负"))
    return False


def _large(text: str, piece: Piece) -> Piece:
    """两千三百万 as 2300万, not 23000000: a number ending in 万 or 亿 keeps that unit."""
    out, start, end = piece
    source = text[start:end]
    if (
        len(source) > 1
        and source[-1] in "万亿"
        and out.isdigit()
        and not set("万亿") & set(source[:-1])
    ):
        head = _cn2an(source[:-1])
        if head.isdigit():
            return (head + source[-1], start, end)
    return piece


def itn_pieces(text: str) -> list[Piece]:
    """``text`` with numbers as digits, as ``(piece, start, end)`` pieces over ``text``."""
    masked, found = _masked(text)
    out = _unmasked(_cn2an(_times(masked)), found)
    pieces = align_pieces(text, out)
    kept: list[Piece] = []
    for piece in pieces:
        _, start, end = piece
        if _keep(text, piece):
            kept += [(text[i], i, i + 1) for i in range(start, end)]
        else:
            kept.append(_large(text, piece))
    return kept


def to_digits(text: str) -> str:
    """``text`` with its numbers written in digits (see the module docstring)."""
    return "".join(p for p, _, _ in itn_pieces(text))
