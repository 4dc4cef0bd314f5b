"""The written form: punctuation on real speech, numbers and script on known phrases, spans
that keep what was heard."""

from __future__ import annotations

import pytest

from tests.asr_models import PHRASES
from tests.written_tables import ITN, MARKS, SCRIPT, paused_speech
from tui_speech.asr.ctc import CharResult
from tui_speech.asr.itn import to_digits
from tui_speech.asr.punctuation import find_silences
from tui_speech.asr.recognizer import Recognizer
from tui_speech.asr.script import to_script
from tui_speech.asr.written import WrittenOptions, write
from tui_speech.errors import UsageError

RATE = 16_000


@pytest.mark.parametrize(("heard", "written"), ITN)
def test_numbers_are_written_in_digits_and_number_words_are_not(heard: str, written: str) -> None:
    assert to_digits(heard) == written


@pytest.mark.parametrize(("heard", "script", "written"), SCRIPT)
def test_script_conversion_goes_by_phrase(heard: str, script: str, written: str) -> None:
    assert to_script(heard, script) == written


def _chars(text: str, confidences: list[float]) -> list[CharResult]:
    return [
        CharResult(c, i * 0.1, i * 0.1 + 0.05, p, p)
        for i, (c, p) in enumerate(zip(text, confidences, strict=True))
    ]


def test_a_written_span_keeps_the_times_and_lowest_confidence_of_what_it_replaced() -> None:
    chars = _chars("二百五十六页的U盘", [0.9, 0.4, 0.8, 0.7, 0.95, 0.9, 0.9, 0.6, 0.5])
    w = write(chars, WrittenOptions(itn=True, script="tw"))
    assert w.text == "256頁的隨身碟。"
    number, page, _, drive, mark = w.spans
    assert (number.text, number.heard, number.confidence) == ("256", (0, 1, 2, 3, 4), 0.4)
    assert (number.start, number.end) == (chars[0].t0, chars[4].t1)
    assert page.heard == (5,) and drive.heard == (7, 8) and drive.confidence == 0.5
    assert mark.inserted and mark.heard == () and mark.confidence is None


def test_options_are_checked() -> None:
    with pytest.raises(UsageError, match="script must be one of"):
        WrittenOptions(script="cantonese")
    assert write(_chars("三点", [1, 1]), WrittenOptions(punct="none")).text == "三点"


def test_without_the_audio_only_utterance_ends_are_marked() -> None:
    # A session kept without its recording: a long gap between CTC times inside a word is no
    # pause (CTC spikes sit anywhere in a sound), so it gets no comma; each utterance its end.
    chars = _chars("今天天气很好我们去学校", [0.9] * 11)
    chars[1] = CharResult("天", 1.5, 1.55, 0.9, 0.9)
    later = [CharResult(c.char, c.t0 + 2, c.t1 + 2, 0.9, 0.9) for c in chars[2:]]
    chars = chars[:2] + later
    assert write(chars, utterances=[(0, 6), (6, 11)]).text == "今天天气很好。我们去学校。"
    assert write(chars).text == "今天天气很好我们去学校。"


def test_punctuation_on_speech_follows_the_pauses(trained_model, phrase_clips) -> None:
    """Four phrases said with a pause of 0.4 s, none, and 1.2 s between them: a comma at the
    short pause, nothing where there was none, a full stop at the long one and at the end –
    from the trained model's character times and the audio's silences."""
    recognizer = Recognizer.load(str(trained_model), "onnx", threads=1)
    clips = [phrase_clips[p] for p in PHRASES]
    for phrase, clip in zip(PHRASES, clips, strict=True):  # said fluently: one full stop
        chars = recognizer.decode(clip).chars
        assert write(chars, silences=find_silences([clip], RATE)).text == phrase + "。"
    for k in range(0, len(clips), 4):
        audio, junctions = paused_speech(clips[k : k + 4])
        chars = recognizer.decode(audio).chars
        written = write(chars, WrittenOptions(), silences=find_silences([audio], RATE))
        spans = written.spans
        marks = [(i, s.text) for i, s in enumerate(spans) if s.inserted]
        assert [m for _, m in marks] == MARKS, written.text
        assert marks[-1][0] == len(spans) - 1  # the end of the speech gets its mark
        for (i, _), (start, end) in zip(marks, [junctions[0], junctions[2]], strict=False):
            # Each mark stands in its pause: heard before it, heard again after it.
            assert spans[i - 1].end <= start + 0.02 and spans[i + 1].start >= end - 0.02
