"""Written forms read as a person reads them: abbreviations, names with 's, numbered lists,
quotations, web and e-mail addresses, degrees."""

from __future__ import annotations

import re

import pytest

from tui_speech.tts.g2p import phonemize
from tui_speech.tts.pipeline import Pipeline
from tui_speech.tts.sentences import iter_sentences


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        (
            "Dr. Smith met Mr. Jones at 3 p.m. on St. Patrick's Day. Then he left.",
            ["Dr. Smith met Mr. Jones at 3 p.m. on St. Patrick's Day.", "Then he left."],
        ),
        (
            "We paid a lot, i.e. too much. The U.S. economy grew.",
            ["We paid a lot, i.e. too much.", "The U.S. economy grew."],
        ),
        ("See Fig. 3 and No. 5, approx. 10 pages.", ["See Fig. 3 and No. 5, approx. 10 pages."]),
        ("J. K. Rowling wrote it.", ["J. K. Rowling wrote it."]),
        ("1. Buy milk\n2. Call the bank", ["1. Buy milk", "2. Call the bank"]),
        ('"Stop!" she shouted. "Why?" he asked.', ['"Stop!" she shouted.', '"Why?" he asked.']),
        ("I was going to call... but then it rang.", ["I was going to call... but then it rang."]),
        # Where the text does start a new sentence, it still does.
        ("It was 10 a.m. John was late.", ["It was 10 a.m.", "John was late."]),
        (
            "We packed tents, ropes, etc. Then we left.",
            ["We packed tents, ropes, etc.", "Then we left."],
        ),
        ("Wait... Nobody came.", ["Wait...", "Nobody came."]),
        ("张先生说：“好的。”然后 Mr. Li 也来了。", ["张先生说：“好的。”", "然后 Mr. Li 也来了。"]),
        ("El Sr. García llegó. La Dra. Ruiz no.", ["El Sr. García llegó.", "La Dra. Ruiz no."]),
    ],
)
def test_a_full_stop_after_an_abbreviation_ends_no_sentence(text: str, sentences: list[str]):
    assert list(iter_sentences(text)) == sentences


def test_a_title_is_spoken_with_its_name_in_one_chunk():
    chunks = list(Pipeline("en-us").plan("Dr. Smith is here. He came by train from the coast."))
    assert chunks[0].graphemes.startswith("Dr. Smith is here.")


def test_an_inline_override_of_an_abbreviation_wins_over_its_reading():
    assert _word("[St.](/sˈɛnt/) Patrick came.", "St.") == "sˈɛnt"


def _word(text: str, grapheme: str) -> str:
    return next(t.phonemes for t in phonemize(text, "en-us").tokens if t.grapheme == grapheme)


@pytest.mark.parametrize(
    ("text", "written", "words"),
    [
        ("We met on St. Patrick's Day.", "St.", "saint"),
        ("The shop on Baker St. is old.", "St.", "street"),
        ("Prof. Lee spoke.", "Prof.", "professor"),
        ("They climbed Mt. Everest.", "Mt.", "mount"),
        ("John Smith Jr. came.", "Jr.", "junior"),
        ("See Fig. 3 below.", "Fig.", "figure"),
        ("It is approx. 20 metres.", "approx.", "approximately"),
        ("It opens on Jan. 5 again.", "Jan.", "january"),
        (
            "See https://example.com/docs today.",
            "https://example.com/docs",
            "example dot com slash docs",
        ),
        ("Visit www.python.org.", "www.python.org", "w w w dot python dot org"),
        ("Write to help@example.org now.", "help@example.org", "help at example dot org"),
        ("It was 20°C at noon.", "20°C", "20 degrees Celsius"),
        ("It was 20℃ at noon.", "20℃", "20 degrees Celsius"),
        ("It was 68 °F at noon.", "68 °F", "68 degrees Fahrenheit"),
        ("Turn it 90° now.", "90°", "90 degrees"),
        ("Come at 9am today.", "9am", "9 a.m."),
        ("Leave at 10:30pm.", "10:30pm", "10:30 p.m."),
        ("World War II ended.", "II", "two"),
        ("Read Chapter IV now.", "IV", "four"),
        ("Read Part V now.", "V", "five"),
        ("Prices rose 10-15% last year.", "10-15%", "10 to 15 percent"),
        ("It ran from 2019-2021 here.", "2019-2021", "2019 to 2021"),
        ("It opened on 2024-03-05 here.", "2024-03-05", "March fifth, 2024"),
        ("It closed on 2024-12-31 here.", "2024-12-31", "December thirty-first, 2024"),
        ("It is 5 km away.", "5 km", "5 kilometers"),
        ("It is 1 km away.", "1 km", "1 kilometer"),
        ("Drive at 100 km/h there.", "100 km/h", "100 kilometers per hour"),
        ("The room is 20 m² in size.", "20 m²", "20 square meters"),
        ("It is 3x faster now.", "3x", "3 times"),
        ("It costs ¥300 there.", "¥300", "300 yen"),
        ("We meet on Fri. at noon.", "Fri.", "friday"),
        ("Type I diabetes.", "I", "one"),
        ("Louis XIV ruled.", "XIV", "the fourteenth"),
        ("Queen Elizabeth II spoke.", "II", "the second"),
        (
            "Call 800-555-0199 now.",
            "800-555-0199",
            "eight zero zero, five five five, zero one nine nine",
        ),
        (
            "Dial +44 20 7946 0958 now.",
            "+44 20 7946 0958",
            "plus four four, two zero, seven nine four six, zero nine five eight",
        ),
    ],
)
def test_written_forms_are_read_as_the_words_they_stand_for(text: str, written: str, words: str):
    result = phonemize(text, "en-us")
    assert _word(text, written) == phonemize(words, "en-us").phonemes
    assert "." not in result.phonemes[:-1]  # no full stop (a pause) inside the sentence
    assert not result.warnings  # the degree sign is read, not skipped


def test_a_word_that_is_not_an_abbreviation_there_is_left_to_misaki():
    # "Fig." before no number is the fruit's name cut short, not "figure".
    assert _word("I ate a Fig. It was sweet.", "Fig") != phonemize("figure", "en-us").phonemes


def test_a_sentence_ending_in_an_address_keeps_its_full_stop_out_of_the_address():
    tokens = phonemize("Read it on example.com.", "en-us").tokens
    assert [t.grapheme for t in tokens][-2:] == ["example.com", "."]


@pytest.mark.parametrize(
    ("text", "reading"),
    [
        ("今天20°C。", "今天二十摄氏度。"),
        ("明天25℃。", "明天二十五摄氏度。"),
        ("夜里-5℃。", "夜里零下五摄氏度。"),
        ("室外70°F。", "室外华氏七十度。"),
        ("转45°。", "转四十五度。"),
        ("比分是3:2。", "比分是三比二。"),
        ("会议9:30开始。", "会议九点三十开始。"),
        ("全程42.195km。", "全程四十二点一九五公里。"),
        ("他跑了2h。", "他跑了两小时。"),
        ("限速120km/h。", "限速一百二十公里每小时。"),
    ],
)
def test_mandarin_degrees_scores_and_units_are_read_as_words(text: str, reading: str):
    from tui_speech.tts.zh_numbers import normalize

    assert normalize(text) == reading

    # A number is one token (the preview shows 20°C), its reading one run of phonemes, so its
    # tone sandhi may differ from the words' (两小时): the syllables are the same.
    def syllables(text: str) -> str:
        return re.sub(r"[ ↗↓↘→]", "", phonemize(text, "zh").phonemes)

    assert syllables(text) == syllables(reading)


def test_a_language_that_cannot_read_the_degree_sign_says_it_skipped_it():
    assert "°" in " ".join(phonemize("Hace 20°C hoy.", "es").warnings)


def test_a_number_in_a_latin_name_is_no_unit_in_mandarin():
    from tui_speech.tts.zh_numbers import normalize

    assert normalize("iPhone 5s很旧。") == "iPhone 五s很旧。"  # not 五秒


def test_an_address_inside_chinese_is_read_whole_in_english():
    tokens = phonemize("我的邮箱是wang@example.com，网址是www.example.cn。", "zh").tokens
    read = {t.grapheme: t.phonemes for t in tokens}
    assert read["wang@example.com"] == phonemize("wang at example dot com", "en-us").phonemes
    assert "." not in read["www.example.cn"]  # no full stop (a pause) inside the address


def test_letters_that_only_look_like_numerals_are_left_as_words():
    assert _word("I am here at 9.", "am") == "ɐm"  # not "a.m."
    assert _word("They gave him an IV drip.", "IV") != phonemize("four", "en-us").phonemes
    assert _word("Rocky VI", "VI") != phonemize("the sixth", "en-us").phonemes  # not a monarch
    assert _word("Then Charles I said no.", "I") == _word("Then I said no.", "I")
    assert _word("A 3 x 4 grid.", "x") != phonemize("times", "en-us").phonemes  # a product
    # A score falls, a telephone number has four digits after three: not ranges.
    assert _word("They won 3-2 today.", "3-2") != phonemize("3 to 2", "en-us").phonemes
    assert _word("Call 555-1234 now.", "555-1234") != phonemize("555 to 1234", "en-us").phonemes


def test_a_title_in_a_language_espeak_reads_makes_no_full_stop():
    assert phonemize("El Sr. García llegó.", "es").phonemes.count(".") == 1
