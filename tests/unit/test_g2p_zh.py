"""Mandarin G2P on known words: the tones and readings a native speaker says.

Expected phonemes are written as pinyin and turned into Kokoro's form by misaki's own legacy
converter (``ZHG2P.py2ipa``), so each case reads as what a speaker says, not as IPA.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from misaki.zh import ZHG2P

from tui_speech.tts.g2p import phonemize
from tui_speech.tts.zh_numbers import normalize, number_spans, read_cardinal


def ipa(pinyin: str) -> str:
    """``"ni2 hao3"`` in misaki's legacy Mandarin phonemes (what Kokoro v1.0 was trained on)."""
    return "".join(ZHG2P.py2ipa(p) for p in pinyin.split()).replace(chr(815), "")


def said(text: str) -> str:
    """The phonemes for ``text`` without the spaces between words."""
    return phonemize(text, "zh").phonemes.replace(" ", "")


@pytest.mark.parametrize(
    ("text", "pinyin"),
    [
        ("银行行长", "yin2 hang2 hang2 zhang3"),
        ("长大", "zhang3 da4"),
        ("重新", "chong2 xin1"),
        ("音乐", "yin1 yue4"),
        ("快乐", "kuai4 le4"),
        ("行不行", "xing2 bu4 xing2"),
        ("还是", "hai2 shi4"),
        ("还钱", "huan2 qian2"),
        ("觉得", "jue2 de5"),
        ("睡觉", "shui4 jiao4"),
        ("为了", "wei4 le5"),
        ("因为", "yin1 wei4"),
        ("长得高", "zhang3 de5 gao1"),
        ("他的头发很长", "ta1 de5 tou2 fa4 hen3 chang2"),
        ("他还没有还我", "ta1 hai2 mei2 you3 huan2 wo3"),
        ("他跑得很快", "ta1 pao3 de5 hen3 kuai4"),
        ("对不起", "dui4 bu5 qi3"),
        ("差不多", "cha4 bu5 duo1"),
    ],
)
def test_polyphones_are_read_by_their_context(text: str, pinyin: str):
    assert said(text) == ipa(pinyin)


@pytest.mark.parametrize(
    ("text", "pinyin"),
    [
        ("一个", "yi2 ge4"),
        ("一天", "yi4 tian1"),
        ("一起", "yi4 qi3"),
        ("一样", "yi2 yang4"),
        ("第一", "di4 yi1"),
        ("十一", "shi2 yi1"),
        ("统一", "tong3 yi1"),
        ("一二三", "yi1 er4 san1"),
        ("看一看", "kan4 yi5 kan4"),
        ("一月一日", "yi1 yue4 yi1 ri4"),
        ("不是", "bu2 shi4"),
        ("不好", "bu4 hao3"),
        ("不对", "bu2 dui4"),
        ("你好", "ni2 hao3"),
        ("水果", "shui2 guo3"),
        ("展览馆", "zhan2 lan2 guan3"),
    ],
)
def test_tone_sandhi(text: str, pinyin: str):
    assert said(text) == ipa(pinyin)


def test_sandhi_crosses_word_boundaries_but_not_punctuation():
    # 一 + 天 are two jieba words in this sentence; the rule still sees the next syllable.
    assert said("过了一天") == ipa("guo4 le5 yi4 tian1")
    # a comma ends the clause: 好 before it keeps its third tone; across the words 我 / 很 / 好
    # the written tones stay (Kokoro realises phrasal third-tone sandhi itself, measured).
    assert said("你好，我很好") == ipa("ni2 hao3") + "," + ipa("wo3 hen3 hao3")


@pytest.mark.parametrize(
    ("text", "phonemes"),
    [("一点儿", "i↘tjɛ↓ɻ"), ("哪儿", "na↓ɻ"), ("玩儿", "wa↗ɻ"), ("没事儿", "mei↗ʂɚ↘")],
)
def test_erhua_colours_the_syllable_before_it(text: str, phonemes: str):
    assert said(text) == phonemes
    assert [t.grapheme for t in phonemize(text, "zh").tokens] == [text]


@pytest.mark.parametrize(("text", "pinyin"), [("儿子", "er2 zi5"), ("女儿", "nv3 er2")])
def test_er_that_means_a_child_is_its_own_syllable(text: str, pinyin: str):
    assert said(text) == ipa(pinyin)


@pytest.mark.parametrize(
    ("text", "reading"),
    [
        ("325", "三百二十五"),
        ("2026年", "二零二六年"),
        ("3月5日", "三月五日"),
        ("2026-03-05", "二零二六年三月五日"),
        ("8:30", "八点三十"),
        ("8:05", "八点零五"),
        ("2:00", "两点"),
        ("3.5%", "百分之三点五"),
        ("¥120", "一百二十元"),
        ("120元", "一百二十元"),
        ("10086", "幺零零八六"),
        ("13800138000", "幺三八零零幺三八零零零"),
        ("-5", "负五"),
        ("3.14", "三点一四"),
        ("2个", "两个"),
        ("1/2", "二分之一"),
        ("3-5天", "三到五天"),
        ("1,234", "一千二百三十四"),
        ("一共12345人", "一共一万二千三百四十五人"),
        ("COVID-19", "COVID-十九"),
        ("100000000000000000000", "一" + "零" * 20),
    ],
)
def test_numbers_are_read_as_words(text: str, reading: str):
    assert normalize(text) == reading


@pytest.mark.parametrize(
    ("n", "reading"),
    [(10, "十"), (12, "十二"), (110, "一百一十"), (1005, "一千零五"), (1050, "一千零五十"),
     (10500, "一万零五百"), (100000, "十万"), (2000, "两千"), (20000, "两万"),
     (100000001, "一亿零一")],
)  # fmt: skip
def test_cardinals_put_zero_where_a_place_is_empty(n: int, reading: str):
    assert read_cardinal(n) == reading


def test_number_tokens_keep_the_original_text_and_are_said_as_words():
    text = "会议在2026年3月5日8:30开始，预算¥120，完成了3.5%。"
    result = phonemize(text, "zh")
    assert "".join(t.grapheme for t in result.tokens) == text.replace(" ", "")
    assert {"2026年", "8:30", "¥120", "3.5%"} <= {t.grapheme for t in result.tokens}
    assert not any(ch.isdigit() for ch in result.phonemes)
    assert said("8:30") == said("八点三十")
    assert said("¥120") == said("120元") == said("一百二十元")
    assert said("3.5%") == ipa("bai3 fen1 zhi1 san1 dian2 wu3")  # one word: sandhi inside it
    assert "".join(s.text for s in number_spans(text)) == text


def test_phone_numbers_digit_by_digit_and_counts_with_sandhi():
    assert said("10086") == ipa("yao1 ling2 ling2 ba1 liu4")
    assert said("100") == ipa("yi4 bai3")
    assert said("1.5") == ipa("yi1 dian2 wu3")
    assert said("1个") == ipa("yi2 ge4")
    assert said("11个") == ipa("shi2 yi1 ge4")
    assert said("2021年") == ipa("er4 ling2 er4 yi1 nian2")


@pytest.mark.parametrize("word", ["Python", "Wi-Fi", "GPU"])
def test_latin_words_inside_chinese_are_said_in_english(word: str):
    result = phonemize(f"我用{word}写代码", "zh")
    token = next(t for t in result.tokens if t.grapheme == word)
    assert token.phonemes == phonemize(word, "en-us").phonemes
    assert token.known and token.phonemes


def test_ling_written_as_a_circle_is_read():
    assert said("二〇二六年") == said("二零二六年")


def test_tokens_join_to_the_phoneme_string():
    result = phonemize("银行行长说：不行！", "zh")
    assert result.phonemes == "".join(t.phonemes + t.whitespace for t in result.tokens).strip()
    assert result.unknown_words == ()


def test_mandarin_without_latin_loads_neither_english_nor_cn2an():
    code = (
        "import sys; from tui_speech.tts.g2p import phonemize; phonemize('银行行长325元', 'zh');"
        "print(sorted(m for m in ('spacy', 'misaki.en', 'cn2an') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
