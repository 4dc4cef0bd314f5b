"""Numbers inside Mandarin text, read as a native reads them, before G2P.

``number_spans(text)`` cuts the text into :class:`Span` s: plain text (``reading == text``) and
number expressions with the Chinese words to say for them. The span keeps the original text, so
the phoneme preview still shows ``2026年`` where Kokoro is told 二零二六年.

What is read how (the common conventions of spoken Putonghua):

- cardinals by 万 and 亿 groups with 零 for gaps: 325 -> 三百二十五, 10500 -> 一万零五百,
  12 -> 十二;
  a lone 2 before a measure word is 两 (2个 -> 两个), and so is a leading 2 before 千/万/亿;
- years digit by digit (2026年 -> 二零二六年), months and days as cardinals, ``2026-03-05`` and
  ``2026/3/5`` as a date;
- clock times: 8:30 -> 八点三十, 8:05 -> 八点零五, 8:00 -> 八点, 2:15 -> 两点十五; scores and
  ratios (one digit after the colon): 3:2 -> 三比二;
- decimals digit by digit after 点 (3.14 -> 三点一四), percentages (3.5% -> 百分之三点五),
  fractions (1/2 -> 二分之一), negatives (-5 -> 负五), ranges (3-5 -> 三到五), degrees
  (20°C and 20℃ -> 二十摄氏度, -5℃ -> 零下五摄氏度, 70°F -> 华氏七十度, 45° -> 四十五度), units
  in Latin letters (100m -> 一百米, 2km -> 两公里, 120km/h -> 一百二十公里每小时; GB and the
  like stay letters, read in English);
- money: ¥120 -> 一百二十元, $5 -> 五美元, €5 -> 五欧元;
- phone numbers and codes (five or more digits not followed by a measure word and not a round
  amount, or any run that starts with 0) digit by digit, with 1 as 幺: 10086 -> 幺零零八六.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DIGITS = "零一二三四五六七八九"
_PHONE_DIGITS = "零幺二三四五六七八九"

#: Measure words and units after which a long digit run is a quantity, not a code.
_MEASURES = set(
    "个位名只条张本件台辆次回遍岁年月天日周分秒元块角毛米里斤克吨升度倍层楼页章节集部首家间"
    "所座棵株朵颗粒支根把双对套份种类项场门道题句字人口户万亿千百"
)
#: Measure words before which 2 is read 两 (两个, 两本, 两点), not 二.
_LIANG_MEASURES = set("个位名只条张本件台辆次回遍岁天周种项场门道把双对套份家间座棵颗根支人口倍点")

#: Units written in Latin letters after a number, as Mandarin says them (100m -> 一百米). Those
#: said as letters (128GB) are left to the English G2P: a reading here is read as Chinese.
_UNITS = {
    "km/h": "公里每小时",
    "m/s": "米每秒",
    "km²": "平方公里",
    "m²": "平方米",
    "km": "公里",
    "cm": "厘米",
    "mm": "毫米",
    "m": "米",
    "kg": "公斤",
    "mg": "毫克",
    "g": "克",
    "ml": "毫升",
    "mL": "毫升",
    "L": "升",
    "kWh": "千瓦时",
    "kW": "千瓦",
    "GHz": "吉赫兹",
    "MHz": "兆赫",
    "Hz": "赫兹",
    "ms": "毫秒",
    "min": "分钟",
    "h": "小时",
    "s": "秒",
}
_UNIT_PATTERN = "|".join(sorted(map(re.escape, _UNITS), key=len, reverse=True))

_CURRENCY = {"¥": "元", "￥": "元", "$": "美元", "€": "欧元", "£": "英镑"}

_D = r"[0-9０-９]"
_N = rf"{_D}+(?:[,，]{_D}{{3}})*"  # 1,234 with thousands separators
_PATTERNS = [
    ("date", rf"(?P<y>{_D}{{4}})[-/.](?P<m>{_D}{{1,2}})[-/.](?P<d>{_D}{{1,2}})(?!{_D})"),
    ("time", rf"(?P<h>{_D}{{1,2}})[:：](?P<mi>{_D}{{2}})(?:[:：](?P<s>{_D}{{2}}))?(?!{_D})"),
    ("score", rf"(?P<a>{_D}{{1,3}})[:：](?P<b>{_D})(?!{_D})"),
    ("year", rf"(?P<y>{_D}{{4}})(?=年)"),
    ("money", rf"(?P<cur>[¥￥$€£])\s?(?P<n>-?{_N}(?:\.{_D}+)?)"),
    ("percent", rf"(?P<n>-?{_N}(?:\.{_D}+)?)\s?[%％]"),
    ("degrees", rf"(?P<n>-?{_N}(?:\.{_D}+)?)\s?(?P<unit>°\s?[CF]?|℃|℉)"),
    # not after a Latin word: "iPhone 5s" is a name, not five seconds
    (
        "unit",
        rf"(?<![A-Za-z])(?<![A-Za-z]\s)(?P<n>{_N}(?:\.{_D}+)?)\s?(?P<unit>{_UNIT_PATTERN})(?![A-Za-z0-9/²])",
    ),
    ("fraction", rf"(?P<a>{_D}+)/(?P<b>{_D}+)(?!{_D})"),
    ("range", rf"(?P<a>{_N}(?:\.{_D}+)?)\s?[-~～—–]\s?(?P<b>{_N}(?:\.{_D}+)?)(?!{_D})"),
    ("number", rf"(?P<neg>(?<![0-9０-９A-Za-z])[-−])?(?P<n>{_N})(?:\.(?P<frac>{_D}+))?"),
]
# One regex, first pattern wins; group names are prefixed by their kind to stay unique.
_NUMBER_RE = re.compile(
    "|".join(
        f"(?P<{kind}>{pattern.replace('(?P<', f'(?P<{kind}_')})" for kind, pattern in _PATTERNS
    )
)


@dataclass(frozen=True)
class Span:
    """A piece of the text and what to read for it (the same text unless it is a number)."""

    text: str
    reading: str

    @property
    def is_number(self) -> bool:
        return self.text != self.reading


def _int(digits: str) -> int:
    return int(re.sub(r"[,，]", "", digits))


def read_digits(digits: str, phone: bool = False) -> str:
    """Digit by digit: 2026 -> 二零二六 (phone numbers say 1 as 幺)."""
    table = _PHONE_DIGITS if phone else _DIGITS
    return "".join(table[int(d)] for d in digits if d.isdigit())


def _below_10000(n: int, leading: bool) -> str:
    """Read 0 < n < 10000; ``leading`` when nothing bigger comes before it (10 -> 十, not 一十)."""
    out: list[str] = []
    zero = False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit = n // value % 10
        if digit == 0:
            zero = bool(out)
            continue
        if zero:
            out.append("零")
            zero = False
        if unit == "十" and digit == 1 and not out and leading:
            out.append("十")
        else:
            out.append(_DIGITS[digit] + unit)
    return "".join(out)


def read_cardinal(n: int) -> str:
    """A whole number as words: 325 -> 三百二十五, 10086 -> 一万零八十六, 2000 -> 两千."""
    if n == 0:
        return "零"
    if n < 0:
        return "负" + read_cardinal(-n)
    groups = []
    while n:
        groups.append(n % 10000)
        n //= 10000
    out: list[str] = []
    need_zero = False
    for i in range(len(groups) - 1, -1, -1):
        group = groups[i]
        if group == 0:
            need_zero = bool(out)
            continue
        if out and (need_zero or group < 1000):
            out.append("零")
        text = _below_10000(group, leading=not out)
        # A leading 2 before 千 and a 2 right before 万/亿 are said 两 (两千, 两万).
        if not out and text.startswith("二千"):
            text = "两" + text[1:]
        unit = ("", "万", "亿", "万亿")[i] if i < 4 else "万亿"
        if group == 2 and unit:
            text = "两"
        out.append(text + unit)
        need_zero = False
    return "".join(out)


def read_decimal(whole: str, frac: str | None) -> str:
    out = read_cardinal(_int(whole))
    if frac:
        out += "点" + read_digits(frac)
    return out


def _is_code(digits: str, after: str) -> bool:
    """A run read digit by digit: a phone number, a code, an id (10086, 13800138000, 010).

    Five digits or more with no measure word after them are a code, unless they end in round
    zeros (100000 and 20000 are amounts); an eleven-digit run from 1 is a mobile number.
    """
    if len(digits) >= 2 and digits[0] in "0０":
        return True
    if len(digits) == 11 and digits[0] in "1１":
        return True
    if len(digits) < 5 or after in _MEASURES:
        return False
    zeros = len(digits) - len(digits.rstrip("0０"))
    return zeros < (2 if len(digits) <= 6 else 3)


def _number(match: re.Match[str], text: str) -> str:
    n, frac, neg = (match.group(f"number_{name}") for name in ("n", "frac", "neg"))
    after = text[match.end() : match.end() + 1]
    if frac is None and "," not in n and "，" not in n and _is_code(n, after):
        return read_digits(n, phone=True)
    if _int(n) >= 10**16:  # beyond 万亿 there is no everyday word: say the digits
        return ("负" if neg else "") + read_digits(n) + ("点" + read_digits(frac) if frac else "")
    reading = read_decimal(n, frac)
    if reading == "二" and after in _LIANG_MEASURES:
        reading = "两"
    return ("负" if neg else "") + reading


def _amount(number: str) -> str:
    neg = number.startswith("-")
    whole, _, frac = number.lstrip("-").partition(".")
    return ("负" if neg else "") + read_decimal(whole, frac or None)


def _read(match: re.Match[str], text: str) -> str:
    kind = match.lastgroup or "number"

    def g(name: str) -> str:
        return match.group(f"{kind}_{name}")

    if kind == "date":
        return (
            f"{read_digits(g('y'))}年{read_cardinal(int(g('m')))}月{read_cardinal(int(g('d')))}日"
        )
    if kind == "time":
        hour = int(g("h"))
        out = ("两" if hour == 2 else read_cardinal(hour)) + "点"
        minute = int(g("mi"))
        if minute or g("s"):
            out += ("零" if minute < 10 else "") + read_cardinal(minute) + "分"
        if g("s"):
            out += read_cardinal(int(g("s"))) + "秒"
        # 八点三十分 is read 八点三十 (the 分 dropped) unless seconds follow.
        return out[:-1] if out.endswith("分") else out
    if kind == "score":  # a score or a ratio (3:2); a clock's minutes have two digits
        return read_cardinal(int(g("a"))) + "比" + read_cardinal(int(g("b")))
    if kind == "year":
        return read_digits(g("y"))
    if kind == "money":
        return _amount(g("n")) + _CURRENCY[g("cur")]
    if kind == "percent":
        amount = _amount(g("n"))
        if amount.startswith("负"):
            return "负百分之" + amount[1:]
        return "百分之" + amount
    if kind == "degrees":  # 二十摄氏度, 华氏七十度, 四十五度; a temperature below zero 零下五摄氏度
        unit = g("unit").replace(" ", "")
        amount = _amount(g("n"))
        if unit in ("°F", "℉", "°C", "℃") and amount.startswith("负"):
            amount = "零下" + amount[1:]
        if unit in ("°F", "℉"):
            return "华氏" + amount + "度"
        return amount + ("摄氏度" if unit in ("°C", "℃") else "度")
    if kind == "unit":  # 100m -> 一百米, 42.195km -> 四十二点一九五公里
        amount = _amount(re.sub(r"[,，]", "", g("n")))
        return ("两" if amount == "二" else amount) + _UNITS[g("unit")]  # 两公里, 两小时
    if kind == "fraction":
        return read_cardinal(int(g("b"))) + "分之" + read_cardinal(int(g("a")))
    if kind == "range":
        a, b = (re.sub(r"[,，]", "", g(side)) for side in "ab")
        if _is_code(a, "") or _is_code(b, ""):  # 010-12345678: a phone number, not a range
            return read_digits(a, phone=True) + read_digits(b, phone=True)
        return _amount(a) + "到" + _amount(b)
    return _number(match, text)


def number_spans(text: str) -> list[Span]:
    """Cut ``text`` into plain spans and number spans, in order; their texts join to ``text``."""
    spans = []
    pos = 0
    for match in _NUMBER_RE.finditer(text):
        if match.start() > pos:
            spans.append(Span(text[pos : match.start()], text[pos : match.start()]))
        spans.append(Span(match.group(), _read(match, text)))
        pos = match.end()
    if pos < len(text):
        spans.append(Span(text[pos:], text[pos:]))
    return spans


def normalize(text: str) -> str:
    """The text with every number replaced by its reading."""
    return "".join(span.reading for span in number_spans(text))
