"""G2P on known words: what Kokoro will be told to say."""

from __future__ import annotations

import pytest

from tui_speech.errors import UsageError
from tui_speech.tts import g2p
from tui_speech.tts.g2p import phonemize


def _ps(result, word: str) -> str:
    return next(t.phonemes for t in result.tokens if t.grapheme == word)


def test_english_heteronyms_follow_the_grammar():
    past = phonemize("I read the book yesterday.", "en-us")
    future = phonemize("I will read the book tomorrow.", "en-us")
    assert _ps(past, "read") == "ɹˈɛd"
    assert _ps(future, "read") == "ɹˈid"


def test_english_numbers_and_currency_are_read_as_words():
    result = phonemize("It costs $5.50 for 1,234 items.", "en-us")
    assert "dˈɑləɹz" in result.phonemes and "sˈɛnts" in result.phonemes
    assert "θˈWzᵊnd" in result.phonemes
    assert not any(ch.isdigit() for ch in result.phonemes)


def test_british_and_american_differ():
    assert phonemize("tomato", "en-us").phonemes != phonemize("tomato", "en-gb").phonemes


def test_tokens_keep_graphemes_whitespace_and_join_to_the_phoneme_string():
    result = phonemize("Hello, world.", "en-us")
    assert [t.grapheme for t in result.tokens] == ["Hello", ",", "world", "."]
    assert result.tokens[1].whitespace == " "
    assert result.phonemes == "".join(t.phonemes + t.whitespace for t in result.tokens).strip()


def test_a_line_break_keeps_the_words_either_side_apart():
    # A Markdown heading and its paragraph: misaki alone fused "one\n\nGood" into one token.
    r = phonemize("# Chapter one\n\nGood morning.", "en-us")
    assert [t.grapheme for t in r.tokens if t.phonemes] == [
        "Chapter",
        "one",
        "Good",
        "morning",
        ".",
    ]
    assert r.phonemes == phonemize("Chapter one good morning.", "en-us").phonemes


def test_words_outside_the_lexicon_fall_back_to_espeak():
    result = phonemize("The frobnicator glorped.", "en-us")
    assert _ps(result, "frobnicator") and _ps(result, "glorped")
    assert result.unknown_words == ()


def test_mandarin_polyphones_depend_on_the_word():
    bank = phonemize("银行", "zh").phonemes  # háng
    walk = phonemize("行走", "zh").phonemes  # xíng
    assert "xa↗ŋ" in bank
    assert "ɕi↗ŋ" in walk


def test_mandarin_digits_become_chinese_numerals():
    result = phonemize("我有3本书", "zh")
    assert result.phonemes == phonemize("我有三本书", "zh").phonemes


def test_latin_words_inside_chinese_are_read_by_the_english_g2p():
    result = phonemize("我用Python写代码", "zh")
    python = _ps(result, "Python")
    assert python == phonemize("Python", "en-us").phonemes
    assert "P" not in result.phonemes.replace(python, "")  # no raw letters left
    assert [t.grapheme for t in result.tokens][:3] == ["我用", "Python", "写"]


def test_chinese_inside_english_or_spanish_is_read_as_mandarin_not_named():
    # espeak-ng alone says "Chinese letter" for each character.
    for lang in ("en-us", "es"):
        result = phonemize("Open 微信 then 3个", lang)
        assert _ps(result, "微信") == phonemize("微信", "zh").phonemes
        token = next(t for t in result.tokens if t.grapheme == "微信")
        assert token.known and not token.override  # not shown as an override the user wrote
        assert any("read as Mandarin" in w for w in result.warnings)
    assert phonemize("我们去银行。", "en-us").phonemes == phonemize("我们去银行。", "zh").phonemes
    assert "ʧˈIniz" not in phonemize("Hello 银行", "en-us").phonemes


def test_kana_outside_japanese_is_skipped_and_the_warning_names_japanese():
    result = phonemize("Hola ひらがな", "es")
    assert result.phonemes == phonemize("Hola", "es").phonemes
    assert "no pronunciation for: ひらがな (skipped)" in result.warnings
    assert any("Japanese (ja) reads them" in w for w in result.warnings)


def test_chinese_punctuation_becomes_kokoro_marks():
    result = phonemize("你好，世界。", "zh")
    assert "," in result.phonemes and result.phonemes.endswith(".")


@pytest.mark.parametrize(
    ("lang", "text", "expected"),
    [("es", "hola", "ˈola"), ("fr", "bonjour", "bɔ̃ʒˈuʁ"), ("it", "ciao", "ʧˈao")],
)
def test_espeak_languages(lang: str, text: str, expected: str):
    assert phonemize(text, lang).phonemes == expected


def test_hindi_words_keep_their_vowel_signs_and_sentences_end_at_the_danda():
    """Devanagari's vowel signs and virama are combining marks, outside Python's \\w: each
    word was cut into letters (शाम read ʃˈəmˈə, its ā dropped)."""
    result = phonemize("शाम को खिड़की खुली थी। बच्चे मुस्कुराए।", "hi")
    words = [t.grapheme for t in result.tokens if t.phonemes not in (".", ",")]
    assert words == ["शाम", "को", "खिड़की", "खुली", "थी", "बच्चे", "मुस्कुराए"]
    assert result.tokens[0].phonemes == "ʃˈaːm"
    assert result.phonemes.count(".") == 2  # the two dandas; espeak's "r." for ड़ is ɽ
    assert "ɽ" in result.tokens[2].phonemes
    from tui_speech.tts.sentences import iter_sentences

    assert list(iter_sentences("शाम हुई। बच्चे आए।")) == ["शाम हुई।", "बच्चे आए।"]
    assert phonemize("obrigado", "pt-br").phonemes


def test_decomposed_accents_are_read_as_their_letters():
    """Text copied from some editors and PDFs writes é as e + U+0301: the accent was cut out
    of its word (café read as "caf" and a lone "e")."""
    import unicodedata

    for lang, text in (("fr", "Le café était fermé."), ("es", "Él está aquí, mañana.")):
        decomposed = phonemize(unicodedata.normalize("NFD", text), lang)
        assert decomposed.tokens == phonemize(text, lang).tokens
    # An override's word is composed too; its phonemes stay as written (Kokoro's nasal tilde
    # is a combining mark).
    override = phonemize(unicodedata.normalize("NFD", "[café](/kafˈe/) bon"), "fr")
    assert override.tokens[0].grapheme == "café" and override.tokens[0].phonemes == "kafˈe"
    assert phonemize("bon", "fr").phonemes == "bˈɔ̃"


def test_inline_override_sets_a_words_phonemes_in_english_and_mandarin():
    en = phonemize("Say [tomato](/təmˈɑːtO/) now.", "en-us")
    token = next(t for t in en.tokens if t.grapheme == "tomato")
    assert token.phonemes == "təmˈɑːtO" and token.override
    zh = phonemize("我说[你好](/ni↗xau↓/)", "zh")
    token = next(t for t in zh.tokens if t.grapheme == "你好")
    assert token.phonemes == "ni↗xau↓" and token.override


def test_phonemes_outside_kokoros_vocab_are_reported():
    # ASCII "g" is not in Kokoro's vocab (it has "ɡ", U+0261): it would be silently dropped.
    result = phonemize("It is [good](/gʊd/).", "en-us")
    assert result.out_of_vocab == ("g",)
    assert any("not in Kokoro's vocabulary" in w for w in result.warnings)
    assert phonemize("It is good.", "en-us").out_of_vocab == ()


def test_emoji_and_control_characters_are_skipped_with_a_warning():
    result = phonemize("Hi 😀 there\x07.", "en-us")
    assert [t.grapheme for t in result.tokens] == ["Hi", "there", "."]
    assert any("😀" in w for w in result.warnings)


def test_unknown_language_is_a_clear_error():
    with pytest.raises(UsageError, match="unknown language 'xx'"):
        phonemize("hello", "xx")


def test_language_aliases():
    assert g2p.normalise_language("EN_us") == "en-us"
    assert g2p.normalise_language("zh-CN") == "zh"


def test_without_a_spacy_pipeline_english_goes_through_espeak_with_a_warning():
    from tui_speech.tts import g2p_en

    assert g2p_en.find_spacy_pipeline(("no_such_spacy_pipeline",)) is None
    english = g2p_en.EnglishG2P("en-us", spacy_candidates=("no_such_spacy_pipeline",))
    assert english.warning and "espeak-ng" in english.warning
    tokens = english("Hello world.", {})
    assert [t.grapheme for t in tokens] == ["Hello", "world", "."]
    assert all(t.phonemes for t in tokens)


def test_japanese_without_its_frontend_says_what_to_install():
    try:
        import pyopenjtalk  # noqa: F401
    except ImportError:
        with pytest.raises(UsageError, match="pyopenjtalk"):
            phonemize("こんにちは", "ja")
    else:
        assert phonemize("こんにちは", "ja").phonemes


def test_an_override_applies_to_every_occurrence_of_its_word():
    result = phonemize("[good](/ɡʊd/) and good and good.", "en-us")
    goods = [t for t in result.tokens if t.grapheme == "good"]
    assert len(goods) == 3 and all(t.phonemes == "ɡʊd" and t.override for t in goods)


def _word(text: str, grapheme: str) -> str:
    return next(t.phonemes for t in phonemize(text, "en-us").tokens if t.grapheme == grapheme)


def test_a_name_outside_the_lexicon_keeps_its_stem_before_s():
    # misaki has no "Patrick": its two spaCy tokens came out as the "s" alone.
    assert _word("Patrick's car.", "Patrick's") == _word("Patrick car.", "Patrick") + "s"
    assert _word("Kowalski's plan.", "Kowalski's").startswith(_word("Kowalski.", "Kowalski")[:4])


def test_a_time_keeps_misakis_reading_without_its_colon():
    assert _word("It starts at 8:30 today.", "8:30") == "ˈAt θˈɜɹTi"


def test_an_inline_override_of_a_word_ending_in_a_full_stop_applies():
    assert _word("[St.](/sˈɛnt/) Mary came.", "St.") == "sˈɛnt"
    assert _word("[Dr.](/dˈɑk/) Who came.", "Dr.") == "dˈɑk"


def test_overrides_inside_one_another_or_inside_an_address_keep_the_text_whole():
    text = "[New York](/nˈu jˈɔɹk/) and [York](/jˈɔk/) differ; [com](/kˈɑm/) is not example.com."
    tokens = phonemize(text, "en-us").tokens
    read = {t.grapheme: t.phonemes for t in tokens}
    assert read["New York"] == "nˈu jˈɔɹk" and read["York"] == "jˈɔk"
    assert read["example.com"] == phonemize("example dot com", "en-us").phonemes
    assert "".join(t.grapheme + t.whitespace for t in tokens).strip() == (
        "New York and York differ; com is not example.com."
    )
