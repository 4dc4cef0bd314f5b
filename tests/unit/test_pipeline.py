"""The synthesis pipeline: chunking rules, laziness, and real audio from the embedded model."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from tui_speech.errors import UsageError
from tui_speech.tts import pipeline as pipeline_module
from tui_speech.tts.g2p import G2PToken
from tui_speech.tts.pipeline import (
    FIRST_CHUNK_PHONEMES,
    Pipeline,
    chunk_tokens,
    iter_sentences,
    pause_after,
    shape_pauses,
)
from tui_speech.tts.vocab import MAX_PHONEMES, encode

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


def test_first_chunk_is_short_and_later_chunks_grow_but_never_exceed_the_model_limit():
    sentences = [_words(30) for _ in range(40)]
    chunks = list(chunk_tokens(sentences))
    sizes = [len(encode("".join(t.phonemes + t.whitespace for t in c).strip())) for c in chunks]
    assert sizes[0] <= FIRST_CHUNK_PHONEMES
    assert sizes[1] > sizes[0] and max(sizes) <= MAX_PHONEMES
    assert sum(len(c) for c in chunks) == 40 * 30  # nothing lost or repeated


def test_chunks_end_at_a_clause_mark_when_one_is_near():
    sentence = _words(3) + [G2PToken(",", ",", " ")] + _words(10)
    first = next(chunk_tokens([sentence]))
    assert first[-1].grapheme == ","


def test_a_run_on_token_longer_than_the_model_limit_is_cut():
    giant = G2PToken("x", "a" * 1200, "")
    chunks = list(chunk_tokens([[giant]]))
    assert "".join(t.phonemes for c in chunks for t in c) == "a" * 1200
    assert all(len("".join(t.phonemes for t in c)) <= MAX_PHONEMES for c in chunks)


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
    assert next(Pipeline("en-us").plan(text)).graphemes == "and then the story"
    assert len(calls) == 1 and len(calls[0]) <= pipeline_module.MAX_SENTENCE_CHARS


def test_long_runs_are_cut_at_clause_marks_or_spaces_and_nothing_is_lost():
    text = ("word " * 70 + "clause, ") * 3
    pieces = list(iter_sentences(text))
    assert all(len(p) <= pipeline_module.MAX_SENTENCE_CHARS for p in pieces)
    assert " ".join(pieces).split() == text.split()
    assert pieces[0].endswith("clause,") or pieces[0].endswith("word")


def test_empty_text_and_unspeakable_text_are_errors_before_any_audio():
    with pytest.raises(UsageError, match="empty"):
        next(Pipeline("en-us")("   \n"))
    with pytest.raises(UsageError, match="no speakable"):
        next(Pipeline("en-us")("😀 🎉"))


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
    shaped = shape_pauses(padded, 0.2)
    lead, tail = _silent_edges(shaped)
    assert lead == pytest.approx(0.05, abs=0.002) and tail == pytest.approx(0.2, abs=0.002)
    assert abs(shaped[0]) == 0 and abs(shaped[-1]) == 0  # faded edges: no click
    short = np.concatenate([np.zeros(240), tone, np.zeros(240)]).astype(np.float32)
    assert len(shape_pauses(short, 0.4)) == len(short)  # silence is cut, never added


@pytest.mark.slow
def test_a_phrase_cut_between_words_does_not_pause_for_a_second():
    text = "The old lighthouse keeper climbed the stairs every evening, counting each step."
    chunks = list(Pipeline("en-us")(text))
    assert len(chunks) >= 3 and not chunks[0].graphemes.endswith(",")  # cut between words
    gaps = [
        _silent_edges(a.audio)[1] + _silent_edges(b.audio)[0] for a, b in itertools.pairwise(chunks)
    ]
    assert gaps[0] < 0.15  # mid-phrase: a breath, not Kokoro's ~1 s of padding
    assert max(gaps) < 0.3
    assert _silent_edges(chunks[-1].audio)[1] <= 0.41
