"""Mandarin G2P: Chinese text to the phonemes Kokoro v1.0 was trained on.

The phoneme form is misaki's legacy Mandarin one (pinyin through ``pinyin_to_ipa``, tones as
arrows: → 1, ↗ 2, ↓ 3, ↘ 4, none for the neutral tone). What this module adds to misaki's legacy
path, which read every jieba word's dictionary pinyin as is:

1. numbers, dates, times, money and percentages read as words (:mod:`zh_numbers`), the token's
   grapheme staying the original text (``2026年``) so the phoneme preview lines up;
2. polyphones in context: pypinyin's phrase dictionary per jieba word, plus a small table for
   the words it gets wrong (还钱 huan2, 长得 de5) and a rule for a lone 得 (跑得快 de5,
   我得走 dei3);
3. tone sandhi across the whole clause, not inside one word: 一 (一个 yi2, 一天 yi4, 第一/十一 yi1,
   看一看 neutral), 不 (不是 bu2, 不好 bu4) and runs of third tones inside a word (你好 ni2 hao3,
   展览馆 zhan2 lan2 guan3; across words Kokoro does it itself, see _third_tone_sandhi);
4. erhua: a word-final 儿 colours the syllable before it (哪儿 nar3, 一点儿 dianr3) instead of
   being a syllable of its own, except in words where 儿 means a child (女儿, 婴儿, 儿子);
5. Latin-script runs (我用Python写代码, Wi-Fi, GPU) read by the English G2P.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tui_speech.tts.g2p import _LATIN_RUN_RE, G2PToken, _is_word, _punctuation
from tui_speech.tts.scripts import HAN_RE
from tui_speech.tts.zh_numbers import Span, number_spans

_TONE_ARROWS = {"˧˩˧": "↓", "˧˥": "↗", "˥˩": "↘", "˥": "→"}

#: Words pypinyin's phrase dictionary reads wrongly; jieba words that join to one are merged.
PHRASES: dict[str, str] = {
    "还钱": "huan2 qian2",
    "还债": "huan2 zhai4",
    "还清": "huan2 qing1",
    "还账": "huan2 zhang4",
    "还书": "huan2 shu1",
    "还我": "huan2 wo3",
    "还你": "huan2 ni3",
    "还他": "huan2 ta1",
    "还她": "huan2 ta1",
    "长得": "zhang3 de5",
    "数一数": "shu3 yi5 shu3",
    "数数": "shu3 shu5",
    "一年级": "yi1 nian2 ji2",
    "一楼": "yi1 lou2",
    "一号": "yi1 hao4",
    "对不起": "dui4 bu5 qi3",
}

#: Words ending in 儿 where it is its own syllable (a child, a son), not erhua.
NOT_ERHUA = frozenset(
    "女儿 男儿 婴儿 幼儿 孤儿 健儿 宠儿 少儿 胎儿 患儿 妻儿 侄儿 孙儿 侄孙儿 婴幼儿 混血儿 "
    "流浪儿 体弱儿 脑瘫儿 连体儿 乞儿 聋儿 弃儿 新生儿 独生子女儿 可儿 美儿 祖儿".split()
)

_NUMERALS = set("零〇一二三四五六七八九十百千万亿幺")
_MULTIPLIERS = set("百千万亿")
#: After these, 一 is an ordinal or a count and keeps its first tone (第一, 星期一, 初一).
_ORDINAL_BEFORE = set("第初期周拜")
_DEGREE = set("很太真好多最更挺够")
_PRONOUNS = frozenset("我 你 他 她 它 我们 你们 他们 她们 咱们 大家 谁".split())
#: A lone 得 before these is the complement marker (跑得很快, 说得好): neutral de.
_DE_COMPLEMENT = (
    "很",
    "太",
    "真",
    "非常",
    "特别",
    "更",
    "越",
    "好",
    "不",
    "这么",
    "那么",
    "挺",
    "十分",
)


@dataclass
class _Syllable:
    """One syllable of a clause while its tone is worked out."""

    char: str
    base: str  # pinyin without the tone: "hang", "nv"
    tone: int  # 1-4, 5 for neutral
    numeric: bool  # read out of a number span (325, 2026年)
    atom: int  # which piece of the original text it came from
    word_start: bool = False  # the first syllable of its word
    word_end: bool = False  # the last syllable of its word
    fixed: bool = False  # from PHRASES: the 一 and 不 rules leave it alone
    erhua: bool = False


@dataclass
class _Word:
    """A token of a clause: what the user wrote and what is read for it."""

    grapheme: str
    reading: str
    syllables: list[_Syllable]
    known: bool = True


def _retone(ipa: str) -> str:
    for contour, arrow in _TONE_ARROWS.items():
        ipa = ipa.replace(contour, arrow)
    # the syllabic z/r of zi, ci, si, zhi, chi, shi, ri: Kokoro knows it as ɨ
    ipa = ipa.replace("ɻ̩", "ɨ").replace("ɹ̩", "ɨ")
    return ipa.replace("\u032f", "")  # the non-syllabic mark of diphthongs (ai̯)


def syllable_ipa(pinyin: str, erhua: bool = False) -> str:
    """One pinyin syllable (``hang2``, ``de5``) in Kokoro's phonemes; ``erhua`` r-colours it."""
    from misaki.transcription import pinyin_to_ipa

    ipa = _retone("".join(pinyin_to_ipa(pinyin)[0]))
    if erhua:
        ipa = _r_colour(ipa)
    return ipa


def _r_colour(ipa: str) -> str:
    """哪 na↓ -> na↓ɻ, 点 tjɛ↓n -> tjɛ↓ɻ, 会 xwei↘ -> xwe↘ɻ, 事 ʂɨ↘ -> ʂɚ↘: the coda n, i or ŋ
    gives way to the retroflex r-colouring, as in spoken Putonghua."""
    if "ɨ" in ipa:
        return ipa.replace("ɨ", "ɚ")
    if ipa.endswith("ɚ"):
        return ipa
    ipa = re.sub(r"(?<=[aeəɛ])i(?=[→↗↓↘]?$)", "", ipa)
    ipa = re.sub(r"[nŋ]$", "", ipa)
    return ipa + "ɻ"


class MandarinG2P:
    """Chinese text to Kokoro tokens; ``english`` gives the G2P for Latin-script runs."""

    def __init__(self, english: Callable[[], Any]) -> None:
        from pypinyin import Style, lazy_pinyin

        from tui_speech.tts.jieba_words import ready_jieba

        self._jieba = ready_jieba()
        self._lazy_pinyin = lazy_pinyin
        self._style = Style.TONE3
        self._english = english

    def __call__(self, text: str, overrides: dict[str, str]) -> list[G2PToken]:
        tokens: list[G2PToken] = []
        # Override words are protected from number reading and word splitting.
        pieces = [text]
        if overrides:
            pieces = re.split("(" + "|".join(map(re.escape, overrides)) + ")", text)
        for piece in pieces:
            if piece in overrides:
                tokens.append(G2PToken(piece, overrides[piece], "", override=True))
            elif piece:
                tokens.extend(self._plain(piece))
        return tokens

    # --- splitting the text --------------------------------------------------------------------

    def _plain(self, text: str) -> list[G2PToken]:
        """Clauses of Han characters and numbers; Latin runs, addresses and marks between."""
        from tui_speech.tts.spoken_en import address_spans

        tokens: list[G2PToken] = []
        pos = 0
        for start, end in address_spans(text):  # wang@example.com: read whole, in English
            tokens += self._words_and_marks(text[pos:start])
            tokens += self._english()(text[start:end], {})
            pos = end
        return tokens + self._words_and_marks(text[pos:])

    def _words_and_marks(self, text: str) -> list[G2PToken]:
        tokens: list[G2PToken] = []
        clause: list[Span] = []

        def flush() -> None:
            if clause:
                tokens.extend(self._clause(clause))
                clause.clear()

        for span in number_spans(text):
            if span.is_number:
                clause.append(span)
                continue
            pos = 0
            for match in re.finditer(rf"{HAN_RE.pattern}+|{_LATIN_RUN_RE.pattern}", span.text):
                self._between(span.text[pos : match.start()], tokens, flush)
                if HAN_RE.match(match.group()):
                    clause.append(Span(match.group(), match.group()))
                else:
                    flush()
                    tokens.extend(self._english()(match.group(), {}))
                pos = match.end()
            self._between(span.text[pos:], tokens, flush)
        flush()
        return tokens

    @staticmethod
    def _between(text: str, tokens: list[G2PToken], flush: Callable[[], None]) -> None:
        """Marks and spaces between words: a mark ends the clause (sandhi stops there)."""
        for ch in text:
            if ch.isspace():
                continue
            flush()
            ps = _punctuation(ch)
            tokens.append(G2PToken(ch, ps, " ", known=bool(ps) or not _is_word(ch)))

    # --- one clause ----------------------------------------------------------------------------

    def _clause(self, spans: list[Span]) -> list[G2PToken]:
        words = self._words(spans)
        syllables = [s for w in words for s in w.syllables]
        _fix_chang(syllables)
        _yi_sandhi(syllables)
        _bu_sandhi(syllables)
        _third_tone_sandhi(syllables)
        out = []
        for word in words:
            ps = "".join(syllable_ipa(f"{s.base}{s.tone}", s.erhua) for s in word.syllables)
            out.append(G2PToken(word.grapheme, ps, " ", known=word.known and bool(ps)))
        return out

    def _words(self, spans: list[Span]) -> list[_Word]:
        """jieba words over the clause's reading, never cutting inside a number span."""
        reading = "".join(s.reading for s in spans)
        atom_of: list[int] = []  # reading index -> atom; a number span is one atom
        originals: list[str] = []
        numeric: list[bool] = []
        for span in spans:
            if span.is_number:
                atom_of.extend([len(originals)] * len(span.reading))
                originals.append(span.text)
                numeric.append(True)
            else:
                for ch in span.text:
                    atom_of.append(len(originals))
                    originals.append(ch)
                    numeric.append(False)
        pieces: list[tuple[int, int]] = []
        pos = 0
        for word in self._jieba.lcut(reading, HMM=True):
            start, pos = pos, pos + len(word)
            if pieces and atom_of[start] == atom_of[start - 1]:
                pieces[-1] = (pieces[-1][0], pos)  # the cut fell inside a number: undo it
            else:
                pieces.append((start, pos))
        pieces = _merge_phrases(reading, pieces, atom_of, numeric)
        words = []
        for start, end in pieces:
            atoms = dict.fromkeys(atom_of[start:end])
            grapheme = "".join(originals[a] for a in atoms)
            words.append(self._word(grapheme, reading[start:end], atom_of[start:end], numeric))
        _fix_de(words)
        return _merge_erhua(words)

    def _pinyin(self, text: str) -> list[str]:
        pinyins: list[str] = self._lazy_pinyin(text, style=self._style, neutral_tone_with_five=True)
        return pinyins

    def _word(self, grapheme: str, reading: str, atoms: list[int], numeric: list[bool]) -> _Word:
        fixed = reading in PHRASES
        if fixed:
            pinyins = PHRASES[reading].split()
        else:
            pinyins = self._pinyin(reading)
            if len(pinyins) != len(reading):  # unknown characters came back as one item
                pinyins = [p for ch in reading for p in self._pinyin(ch)[:1]]
        syllables = []
        known = True
        for ch, py, atom in zip(reading, pinyins, atoms, strict=False):
            if not py[-1:].isdigit():  # a character pypinyin does not know
                known = False
                continue
            syllables.append(_Syllable(ch, py[:-1], int(py[-1]), numeric[atom], atom, fixed=fixed))
        if syllables:
            syllables[0].word_start = syllables[-1].word_end = True
        return _Word(grapheme, reading, syllables, known=known)


def _merge_phrases(
    reading: str, pieces: list[tuple[int, int]], atom_of: list[int], numeric: list[bool]
) -> list[tuple[int, int]]:
    """Join neighbouring jieba words that make a word of :data:`PHRASES` (还 + 钱)."""
    out: list[tuple[int, int]] = []
    for piece in pieces:
        if out:
            start, end = out[-1][0], piece[1]
            if reading[start:end] in PHRASES and not any(numeric[a] for a in atom_of[start:end]):
                out[-1] = (start, end)
                continue
        out.append(piece)
    return out


def _fix_de(words: list[_Word]) -> None:
    """A lone 得: 跑得很快 (de5, the complement marker), 我得走了 (dei3, must); else de2."""
    for i, word in enumerate(words):
        if word.reading != "得" or not word.syllables or i + 1 >= len(words):
            continue
        syllable = word.syllables[0]
        nxt = words[i + 1].reading
        if nxt.startswith(_DE_COMPLEMENT):
            syllable.base, syllable.tone = "de", 5
        elif i > 0 and words[i - 1].reading in _PRONOUNS and nxt[:1] not in "了到过":
            syllable.base, syllable.tone = "dei", 3


def _fix_chang(syllables: list[_Syllable]) -> None:
    """长 after a degree word is the adjective long (很长, 太长, 多长): chang2, not zhang3."""
    for prev, s in zip(syllables, syllables[1:], strict=False):
        if s.char == "长" and prev.char in _DEGREE and not s.fixed:
            s.base, s.tone = "chang", 2


def _merge_erhua(words: list[_Word]) -> list[_Word]:
    """A word-final 儿 becomes the r-colouring of the syllable before it (哪儿, 玩儿)."""
    out: list[_Word] = []
    for word in words:
        # jieba sometimes cuts 儿 off (玩 / 儿): it belongs to the word before it.
        if word.reading == "儿" and out and out[-1].syllables:
            prev = out[-1]
            if prev.reading + "儿" not in NOT_ERHUA and not prev.syllables[-1].numeric:
                out[-1] = _Word(
                    prev.grapheme + word.grapheme,
                    prev.reading + word.reading,
                    prev.syllables + word.syllables,
                    prev.known and word.known,
                )
                word = out.pop()
        syl = word.syllables
        if (
            len(syl) >= 2
            and syl[-1].char == "儿"
            and syl[-1].base == "er"
            and word.reading not in NOT_ERHUA
            and not syl[-2].numeric
        ):
            syl[-2].erhua = True
            word.syllables = syl[:-1]
        out.append(word)
    return out


# --- tone sandhi, over a clause's syllables --------------------------------------------------


def _yi_sandhi(syllables: list[_Syllable]) -> None:
    """一: yi1 when counted, ordinal or final; yi2 before a fourth tone; yi4 before the others."""
    for i, s in enumerate(syllables):
        if s.char != "一" or s.fixed:
            continue
        prev = syllables[i - 1] if i > 0 else None
        nxt = syllables[i + 1] if i + 1 < len(syllables) else None
        s.tone = 1
        if nxt is None or nxt.char == "月":
            continue  # 统一。 一月
        if s.word_end and not s.word_start:
            continue  # 统一思想, 唯一的, 万一
        if prev is not None and (prev.char in _NUMERALS or prev.char in _ORDINAL_BEFORE):
            continue  # 十一, 第一, 星期一, 二零二一
        if nxt.char in _NUMERALS and nxt.char not in _MULTIPLIERS:
            continue  # 一二三, 一零
        if s.numeric and nxt.atom == s.atom and nxt.char not in _MULTIPLIERS:
            continue  # 1.5 -> 一点五: a digit, not a count
        if prev is not None and prev.char == "月" and nxt.char in "日号":
            continue  # 三月一日
        if prev is not None and prev.char == nxt.char and not prev.numeric:
            s.tone = 5  # 看一看, 想一想
            continue
        s.tone = 2 if nxt.tone in (4, 5) else 4


def _bu_sandhi(syllables: list[_Syllable]) -> None:
    """不: bu2 before a fourth tone (不是), bu4 elsewhere (不好); a dictionary neutral is kept."""
    for i, s in enumerate(syllables):
        if s.char != "不" or s.tone == 5 or s.fixed:  # 差不多 cha4 bu5 duo1
            continue
        nxt = syllables[i + 1] if i + 1 < len(syllables) else None
        s.tone = 2 if nxt is not None and nxt.tone == 4 else 4


def _third_tone_sandhi(syllables: list[_Syllable]) -> None:
    """In a run of third tones inside one word every one but the last is said as a second
    (你好 ni2 hao3, 展览馆 zhan2 lan2 guan3).

    Across word boundaries the written third tones are kept: Kokoro v1.0 learnt from citation
    tones and realises that phrasal sandhi itself. Measured with bench/intelligibility.py
    (Whisper base, 24 Mandarin items, one Kokoro call each): CER pooled 0.107 within words,
    0.114 across the whole clause, 0.109 with no third-tone sandhi written at all.
    """
    run: list[_Syllable] = []
    for s in [*syllables, None]:
        if s is not None and s.tone == 3 and not (s.word_start and run):
            run.append(s)
            continue
        for earlier in run[:-1]:
            earlier.tone = 2
        run = [s] if s is not None and s.tone == 3 else []
