"""The synthesis pipeline: chunking rules, laziness, and real audio from the embedded model."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from tui_speech.errors import UsageError
from tui_speech.tts import pipeline as pipeline_module
from tui_speech.tts import sentences as sentences_module
from tui_speech.tts import silences
from tui_speech.tts.engine import load_engine
from tui_speech.tts.g2p import G2PToken
from tui_speech.tts.pipeline import (
    MAX_CHUNK_PHONEMES,
    MIN_CHUNK_PHONEMES,
    Pipeline,
    chunk_sentences,
)
from tui_speech.tts.sentences import iter_sentences
from tui_speech.tts.silences import kept_span, pause_after, shape_speech, speech_bounds
from tui_speech.tts.vocab import MAX_PHONEMES, encode
from tui_speech.tts.voices import resolve_voice, style_for

PARAGRAPH = (
    "The quick brown fox jumps over the lazy dog. Speech synthesis on a small machine should "
    "start quickly, and it should sound clear. This is the third sentence of the paragraph."
)


def _words(n: int, word: str = "tɛst") -> list[G2PToken]:
    return [G2PToken(word, word, " ") for _ in range(n)]


def test_sentences_split_at_marks_but_not_inside_numbers():
    text = "It costs $5.50. Really? Yes!\nNew line 你好。世界"
    assert list(iter_sentences(text)) == [
        "It costs $5.50.", "Really?", "Yes!", "New line 你好。", "世界",
    ]  # fmt: skip


def _sizes(chunks: list[list[G2PToken]]) -> list[int]:
    return [len(encode("".join(t.phonemes + t.whitespace for t in c).strip())) for c in chunks]


def _sentence(n: int, end: str = ".") -> list[G2PToken]:
    return _words(n) + [G2PToken(end, end, " ")]


def test_each_sentence_that_fits_is_one_chunk_and_short_ones_are_merged():
    sentences = [_sentence(12), _sentence(14), _sentence(2), _sentence(3), _sentence(14)]
    chunks = list(chunk_sentences(sentences))
    # The first sentence alone (first audio); the next one whole; the two short ones are
    # merged with the following one; no sentence is cut between its words.
    assert [len(c) for c in chunks] == [13, 15, 3 + 4 + 15]
    assert all(c[-1].grapheme == "." for c in chunks)
    assert min(_sizes(chunks)[1:]) >= MIN_CHUNK_PHONEMES


def test_a_long_first_sentence_is_cut_once_at_its_first_clause_for_early_audio():
    short = _words(8) + [G2PToken(",", ",", " ")] + _sentence(8)  # 85 tokens: kept whole
    assert [len(c) for c in chunk_sentences([short, _sentence(20)])] == [len(short), 21]
    long = _words(12) + [G2PToken(",", ",", " ")] + _words(30) + _sentence(12)  # ~270 tokens
    chunks = list(chunk_sentences([long, _sentence(20)]))
    assert chunks[0][-1].grapheme == ","  # a natural break, where a speaker pauses anyway
    assert len(chunks[0]) == 13 and sum(len(c) for c in chunks) == len(long) + 21


def test_a_sentence_longer_than_a_chunk_is_cut_at_clause_marks_first():
    sentence = (_words(40) + [G2PToken(";", ";", " ")]) * 3 + _sentence(40)
    chunks = list(chunk_sentences([_sentence(3), sentence]))
    assert max(_sizes(chunks)) <= MAX_CHUNK_PHONEMES < MAX_PHONEMES
    assert all(c[-1].grapheme in ";." for c in chunks)
    assert sum(len(c) for c in chunks) == 4 + len(sentence)  # nothing lost or repeated


def test_a_cut_between_words_never_splits_a_number():
    number = [G2PToken("三百", "sa→npai↓", " "), G2PToken("二十五", "ɚ↘ʂɨ↗u↓", " ")]
    words = [G2PToken("本书", "pə↓nʂu→", " ")] * 3
    run = (words + number) * 40  # no clause mark anywhere: cuts fall between words
    chunks = list(chunk_sentences([[G2PToken("好", "xau↓", " ")], run]))
    assert len(chunks) > 2
    for chunk in chunks:
        assert chunk[-1].grapheme != "三百"  # the cut falls after a whole number


def test_a_mandarin_sentence_with_a_number_is_spoken_in_one_piece():
    plan = list(Pipeline("zh").plan("你好。我们班有三百二十五个学生，他们明天去北京。"))
    assert [c.graphemes.replace(" ", "") for c in plan] == [
        "你好。", "我们班有三百二十五个学生，他们明天去北京。",
    ]  # fmt: skip


def test_a_run_on_token_longer_than_the_model_limit_is_cut():
    giant = G2PToken("x", "a" * 1200, "")
    chunks = list(chunk_sentences([[giant]]))
    assert "".join(t.phonemes for c in chunks for t in c) == "a" * 1200
    assert all(len("".join(t.phonemes for t in c)) <= MAX_CHUNK_PHONEMES for c in chunks)


def test_a_huge_text_is_phonemized_lazily(monkeypatch: pytest.MonkeyPatch):
    calls = []
    real = pipeline_module.phonemize

    def counting(text: str, lang: str):
        calls.append(text)
        return real(text, lang)

    monkeypatch.setattr(pipeline_module, "phonemize", counting)
    text = "This is one sentence of a very long book. " * 5000  # 210,000 characters
    plan = Pipeline("en-us").plan(text)
    first = next(plan)
    assert first.phonemes
    assert len(calls) <= 2  # only what the first chunk needs, not 5000 sentences


def test_a_huge_text_without_punctuation_is_phonemized_a_piece_at_a_time(
    monkeypatch: pytest.MonkeyPatch,
):
    calls = []
    real = pipeline_module.phonemize

    def counting(text: str, lang: str):
        calls.append(text)
        return real(text, lang)

    monkeypatch.setattr(pipeline_module, "phonemize", counting)
    text = "and then the story goes on " * 8000  # 216,000 characters, not one mark
    first = next(Pipeline("en-us").plan(text))
    assert len(calls) == 1 and len(calls[0]) <= sentences_module.MAX_SENTENCE_CHARS
    assert len(encode(first.phonemes)) <= MAX_CHUNK_PHONEMES
    assert text.startswith(first.graphemes + " ")  # cut between whole words


def test_a_long_mandarin_run_without_marks_is_cut_between_words_and_numbers():
    text = "我们今天讨论三百二十五个深度学习模型的训练方法" * 50  # 1,200 characters, no mark
    pieces = list(iter_sentences(text))
    assert "".join(pieces) == text
    assert all(len(p) <= sentences_module.MAX_SENTENCE_CHARS for p in pieces)
    for piece in pieces[:-1]:
        assert not piece.endswith(("三", "三百", "二", "二十", "深", "训", "方"))


def test_long_runs_are_cut_at_clause_marks_or_spaces_and_nothing_is_lost():
    text = ("word " * 70 + "clause, ") * 3
    pieces = list(iter_sentences(text))
    assert all(len(p) <= sentences_module.MAX_SENTENCE_CHARS for p in pieces)
    assert " ".join(pieces).split() == text.split()
    assert pieces[0].endswith("clause,") or pieces[0].endswith("word")


def test_empty_text_and_unspeakable_text_are_errors_before_any_audio():
    with pytest.raises(UsageError, match="empty"):
        next(Pipeline("en-us")("   \n"))
    with pytest.raises(UsageError, match="no speakable"):
        next(Pipeline("en-us")("😀 🎉"))


def test_text_in_a_script_the_language_skips_names_the_language_that_reads_it():
    import threading

    with pytest.raises(UsageError) as caught:
        next(Pipeline("en-us")("ひらがなです。"))
    assert "no speakable" in caught.value.reason
    assert "Japanese (ja) reads them" in caught.value.hint
    assert caught.value.action.value == "ja"
    # The engine was loading beside the G2P: the error waits for it, because a process that
    # exits while onnxruntime is mid-load aborts instead of printing the error and exit 2.
    assert "tui-speech-engine-load" not in [t.name for t in threading.enumerate()]


@pytest.mark.slow
def test_english_paragraph_is_spoken_as_24khz_non_silent_audio_of_plausible_length():
    chunks = list(Pipeline("en-us")(PARAGRAPH))
    assert len(chunks) >= 3  # streamed in pieces
    audio = np.concatenate([c.audio for c in chunks])
    assert {c.sample_rate for c in chunks} == {24_000}
    assert np.sqrt(np.mean(audio**2)) > 0.02
    seconds = len(audio) / 24_000
    assert 6 < seconds < 20  # ~30 words at a normal pace
    assert " ".join(c.graphemes for c in chunks) == PARAGRAPH


@pytest.mark.slow
def test_mandarin_is_spoken_and_speed_changes_the_duration():
    normal = np.concatenate([c.audio for c in Pipeline("zh")("今天天气很好，我们去公园散步。")])
    fast = np.concatenate(
        [c.audio for c in Pipeline("zh", speed=2.0)("今天天气很好，我们去公园散步。")]
    )
    assert np.sqrt(np.mean(normal**2)) > 0.02
    assert 1.5 < len(normal) / 24_000 < 8  # 14 syllables
    assert len(fast) < 0.75 * len(normal)


@pytest.mark.slow
def test_phoneme_input_skips_g2p():
    chunks = list(Pipeline("en-us")("həlˈO wˈɜɹld.", is_phonemes=True))
    assert chunks[0].phonemes == "həlˈO wˈɜɹld."
    assert len(np.concatenate([c.audio for c in chunks])) > 0.3 * 24_000


@pytest.mark.slow
def test_a_blend_speaks():
    audio = next(Pipeline("en-us", voice="jf_alpha:0.5,jm_kumo:0.5")("Hello there.")).audio
    assert np.isfinite(audio).all() and np.abs(audio).max() > 0.05


def test_chunks_are_consumed_lazily():
    plan = Pipeline("en-us").plan("One. Two. Three.")
    assert [c.graphemes for c in itertools.islice(plan, 2)] == ["One.", "Two. Three."]


def _silent_edges(audio: np.ndarray, rate: int = 24_000) -> tuple[float, float]:
    loud = np.flatnonzero(np.abs(audio) > 0.01 * np.abs(audio).max())
    return loud[0] / rate, (len(audio) - 1 - loud[-1]) / rate


def test_pauses_follow_the_text_at_each_cut():
    assert pause_after("The old lighthouse") < pause_after("every evening,")
    assert pause_after("every evening,") < pause_after("as he went.")
    assert pause_after("“Come in!”") == pause_after("我们去学校。") == pause_after("as he went.")
    assert pause_after("今天天气很好，") == pause_after("every evening,")
    tone = np.sin(np.arange(4_800) / 3).astype(np.float32)
    padded = np.concatenate([np.zeros(7_200), tone, np.zeros(16_800)]).astype(np.float32)
    shaped, _ = shape_speech(padded, 0.2)
    lead, tail = _silent_edges(shaped)
    assert lead == pytest.approx(silences.LEAD_IN, abs=0.006)
    assert tail == pytest.approx(0.2, abs=0.006)
    assert abs(shaped[0]) == 0 and abs(shaped[-1]) == 0  # faded edges: no click
    short = np.concatenate([np.zeros(240), tone, np.zeros(240)]).astype(np.float32)
    assert len(shape_speech(short, 0.4)[0]) == len(short)  # silence is cut, never added


@pytest.mark.slow
def test_chunks_join_with_the_pause_their_punctuation_calls_for():
    text = (
        "The old lighthouse keeper climbed the stairs every evening, counting each step as he "
        "went. Nobody in the village remembered a night when the light had failed."
    )
    chunks = list(Pipeline("en-us")(text))
    assert [c.graphemes for c in chunks] == [text[:90], text[91:]]  # a sentence each
    gap = _silent_edges(chunks[0].audio)[1] + _silent_edges(chunks[1].audio)[0]
    assert 0.3 < gap < 0.6  # a sentence's pause, not Kokoro's ~1 s of padding
    assert _silent_edges(chunks[-1].audio)[1] <= 0.45


@pytest.mark.slow
def test_trimming_keeps_every_soft_onset_and_tail():
    """Soft consonants (h, f, s, th) open and close these phrases; after the padding is cut,
    the first and last 20 ms of speech are still there, sample for sample."""
    engine, pack = load_engine(), resolve_voice("jf_alpha")
    phrases = ("hˈæv fˈʌn.", "fˈIv sˈɪks.", "θˈæŋks, sˈuzən.", "ʃˈiz hˈɪɹ.")
    for phonemes in phrases:
        ids = encode(phonemes)
        raw = engine.synthesize(ids, style_for(pack, len(ids)), 1.0).audio
        # The speech's own extent, by a stricter rule than the trimmer's: any 1 ms within
        # 60 dB of the loudest millisecond.
        ms = raw[: len(raw) // 24 * 24].reshape(-1, 24)
        rms = np.sqrt((ms.astype(np.float64) ** 2).mean(axis=1))
        loud = np.flatnonzero(rms > rms.max() * 1e-3)
        onset, offset = loud[0] * 24, (loud[-1] + 1) * 24
        fade = int(silences.FADE_S * 24_000)
        for pause in (pause_after("word"), pause_after(phonemes)):
            start, end = kept_span(raw, pause)
            assert start + fade <= onset and offset <= end - fade  # fades touch silence only
            shaped, _ = shape_speech(raw, pause)
            np.testing.assert_array_equal(shaped[fade:-fade], raw[start + fade : end - fade])
            assert np.sum(shaped[onset - start : onset - start + 480] ** 2) == pytest.approx(
                np.sum(raw[onset : onset + 480] ** 2)
            )  # the first 20 ms of speech keep all their energy


def test_speech_bounds_find_quiet_speech_in_padding():
    quiet = (0.002 * np.sin(np.arange(2_400) / 2)).astype(np.float32)  # -40 dB of the vowel
    vowel = (0.5 * np.sin(np.arange(4_800) / 3)).astype(np.float32)
    audio = np.concatenate([np.zeros(7_200), quiet, vowel, quiet, np.zeros(9_600)])
    first, last = speech_bounds(audio.astype(np.float32))
    assert first <= 7_200 and last >= 7_200 + 2 * 2_400 + 4_800


def test_a_line_that_ends_without_a_mark_ends_a_sentence():
    text = "Chapter One\nIt was late. Then\n\nIngredients\n" + "flour and sugar " * 40
    flagged = list(sentences_module.sentences_and_breaks(text))
    assert [s for s, _ in flagged] == list(iter_sentences(text))
    assert [b for _, b in flagged][:4] == [True, False, True, True]
    # A long run cut for size, and the text's end, are no line breaks.
    assert not any(b for _, b in flagged[4:])
    assert "\n".join(s for s, _ in flagged[4:]).count("flour") == 40


@pytest.mark.slow
def test_a_heading_line_is_followed_by_a_sentences_pause_not_a_words():
    text = "Chapter One\nIt was a dark and stormy night, and the rain fell in torrents."
    chunks = list(Pipeline("en-us")(text))
    assert [c.graphemes for c in chunks] == ["Chapter One", text[12:]]
    first, second = speech_bounds(chunks[0].audio), speech_bounds(chunks[1].audio)
    gap = (len(chunks[0].audio) - first[1] + second[0]) / 24_000
    # The pause of "Chapter One." (it was a word's 0.16 s, run into the paragraph).
    assert gap == pytest.approx(pause_after("One.") + silences.LEAD_IN, abs=0.02)


WRAPPED = (
    "The old lighthouse keeper climbed the stairs every evening, counting\n"
    "each step as he went. From the top, he could see the fishing boats\n"
    "returning to the harbour, their lanterns swaying in the wind.\n"
    "\n"
    "Nobody remembered a night when the light had failed."
)


def test_a_hard_wrapped_paragraph_is_read_in_whole_sentences():
    """A pasted e-mail or a Markdown file breaks its lines wherever a word ends; the breaks are
    not sentence ends (a sentence cut there loses its prosody and gets a sentence's pause)."""
    flagged = list(sentences_module.sentences_and_breaks(WRAPPED))
    assert flagged == [
        ("The old lighthouse keeper climbed the stairs every evening, counting each step as "
         "he went.", False),
        ("From the top, he could see the fishing boats returning to the harbour, their "
         "lanterns swaying in the wind.", False),
        ("Nobody remembered a night when the light had failed.", False),
    ]  # fmt: skip
    # Mandarin lines wrap too (a Chinese character is two columns wide).
    zh = "老灯塔看守人每天傍晚都爬上楼梯，一边走一边数着台阶。从塔\n顶上，他能看见渔船回到港口。"
    assert list(iter_sentences(zh)) == [
        "老灯塔看守人每天傍晚都爬上楼梯，一边走一边数着台阶。", "从塔 顶上，他能看见渔船回到港口。",
    ]  # fmt: skip


def test_short_lines_list_items_and_headings_still_end_where_their_line_ends():
    long_line = "This line is long enough to have been wrapped by an editor at"
    text = (
        f"Shopping list\nMilk\n{long_line}\n- a list item starts here\n"
        f"## A Markdown heading that is long enough to look wrapped at all\nIts text.\n"
        f"{long_line}\n\nA new paragraph after a blank line."
    )
    flagged = list(sentences_module.sentences_and_breaks(text))
    assert flagged == [
        ("Shopping list", True),
        ("Milk", True),
        (long_line, True),  # the next line starts a list item
        ("- a list item starts here", True),
        ("## A Markdown heading that is long enough to look wrapped at all", True),
        ("Its text.", False),
        (long_line, True),  # a paragraph ends at the blank line
        ("A new paragraph after a blank line.", False),
    ]


def test_an_english_line_without_a_mark_is_read_as_a_sentence():
    """Short lines are merged into one chunk; in English each line's last word gets Kokoro's
    full stop, so a list is not read as one run-on phrase (the listener, bench/lines_en.txt:
    WER 0.054 -> 0.025 pooled with the wrapped lines joined). Mandarin keeps its lines as
    they are (the listener heard them better so), and raw phonemes stay as written."""
    chunks = list(Pipeline("en-us").plan("Shopping list\nMilk\nEggs\nFresh bread\nThen we go."))
    assert [c.graphemes for c in chunks] == ["Shopping list", "Milk Eggs Fresh bread Then we go."]
    assert chunks[0].phonemes == "ʃˈɑpɪŋ lˈɪst." and chunks[0].end_mark == "sentence"
    stops = [t.grapheme for t in chunks[1].tokens if t.phonemes.endswith(".")]
    assert stops == ["Milk", "Eggs", "bread", "."]  # the last "." is the text's own
    zh = list(Pipeline("zh").plan("购物清单\n牛奶\n鸡蛋\n面包"))
    assert [c.graphemes for c in zh] == ["购物 清单", "牛奶 鸡蛋 面包"]  # (words spaced)
    assert "." not in "".join(c.phonemes for c in zh) and zh[0].end_mark == "sentence"
    raw = list(Pipeline("en-us").plan("mˈɪlk\nˈɛɡz\nbɹˈɛd", is_phonemes=True))
    assert [c.phonemes for c in raw] == ["mˈɪlk", "ˈɛɡz bɹˈɛd"]
