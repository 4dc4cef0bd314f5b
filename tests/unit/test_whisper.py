"""The embedded recogniser (Whisper base): its assembly, its transcripts, live, and the choice
between it and a wav2vec2 model."""

from __future__ import annotations

import json

import numpy as np

from tests.asr_fixtures import live_blocks
from tests.whisper_fixtures import whisper, whisper_store  # noqa: F401  (fixtures)
from tui_speech.asr.model import DEFAULT_MODEL, default_model
from tui_speech.asr.whisper import cut_loops, drop_marks, word_chars
from tui_speech.config import get_paths
from tui_speech.hub import embedded


def _shares_characters(text: str, sentence: str) -> int:
    return len(set(text) & set(sentence))


def test_the_embedded_whisper_is_assembled_verified_reused_and_rebuilt_when_corrupt():
    folder = embedded.embedded_whisper_dir()  # this test's own store: assembled here
    model = folder / embedded.WHISPER_MODEL_FILE
    assert folder == get_paths().models / embedded.WHISPER_ID
    assert embedded.verify_whisper() is True and embedded.whisper_verified()
    stamp = model.stat().st_mtime_ns
    assert embedded.embedded_whisper_dir() == folder and model.stat().st_mtime_ns == stamp

    size = model.stat().st_size
    model.unlink()  # a new file, not the inode the session's store shares
    model.write_bytes(b"\0" * size)  # same size, wrong bytes: only the hash can tell
    assert embedded.verify_whisper() is False and not embedded.whisper_verified()
    embedded.embedded_whisper_dir()
    assert embedded.verify_whisper() is True

    model.unlink()
    model.write_bytes(b"truncated")
    embedded.embedded_whisper_dir()
    assert model.stat().st_size == size and embedded.verify_whisper() is True
    assert not list(folder.glob(".*.part"))  # no temp file left behind


def test_it_transcribes_synthesized_mandarin_with_times_and_confidences(whisper, phrase_clips):  # noqa: F811
    sentence = "今天天气很好"
    audio = np.concatenate([np.zeros(8000, np.float32), phrase_clips[sentence]])
    t = whisper.decode(audio)
    assert t.model == embedded.WHISPER_ID and t.language == "zh-CN"
    assert _shares_characters(t.text, sentence) >= 3, t.text
    assert t.text == "".join(c.char for c in t.chars)
    duration = len(audio) / 16_000
    for c in t.chars:
        assert 0.0 <= c.t0 <= c.t1 <= duration + 0.05
        assert 0.0 <= c.min_confidence <= c.confidence <= 1.0
        assert c.alternatives == ()  # Whisper gives none; the Listen header says so
    assert [c.t0 for c in t.chars] == sorted(c.t0 for c in t.chars)


def test_whisper_marks_are_left_to_the_pauses_but_a_number_keeps_its_own():
    # Whisper base writes a comma now and then ("很大,"), which doubled the pause's mark.
    heard = word_chars("很大,", 1.0, 1.3, 0.9) + word_chars("3.5%。", 1.3, 1.8, 0.9)
    assert "".join(c.char for c in drop_marks(heard)) == "很大3.5%"


def test_silence_gives_no_text(whisper):  # noqa: F811
    rng = np.random.default_rng(0)
    hiss = (rng.standard_normal(3 * 16_000) * 0.01).astype(np.float32)  # -40 dB: reaches Whisper
    assert whisper.decode(np.zeros(2 * 16_000, np.float32)).text == ""
    assert whisper.decode(hiss).text == ""
    assert whisper.draft().window_chars(hiss, "今天") == ()


def test_characters_of_a_word_share_its_time_and_probability_and_loops_are_cut():
    chars = word_chars("學校", 1.0, 1.4, 0.5)  # Traditional in, Simplified out
    assert [c.char for c in chars] == ["学", "校"]
    assert [(c.t0, c.t1) for c in chars] == [(1.0, 1.2), (1.2, 1.4)]
    assert all(c.confidence == 0.5 for c in chars)
    looped = word_chars("谢谢你" * 6 + "好", 0.0, 7.0, 0.9)
    assert "".join(c.char for c in cut_loops(looped)) == "谢谢你好"


def test_a_live_session_on_it_never_rewrites_committed_text(whisper, phrase_clips):  # noqa: F811
    from tui_speech.asr.stream import LiveStream, LiveTranscriber
    from tui_speech.audio.vad import SpeechSegmenter

    gap = np.zeros(16_000, np.float32)
    spoken = ["谢谢你的帮助", "我喜欢音乐"]
    audio = np.concatenate([gap, phrase_clips[spoken[0]], gap, phrase_clips[spoken[1]], gap])
    stream = LiveStream(whisper, draft=whisper.draft())
    live = LiveTranscriber(stream, SpeechSegmenter(align=whisper.info.hop))
    committed: dict[int, str] = {}
    finals = []
    for event in live.run(live_blocks(audio, 0.5)):
        if event.type == "final":
            finals.append(event)
            continue
        assert event.committed.startswith(committed.get(event.utterance, ""))
        committed[event.utterance] = event.committed
    assert len(finals) == 2
    for final, sentence in zip(finals, spoken, strict=True):
        assert _shares_characters(final.text, sentence) >= 3, final.text
        assert final.t0 <= final.chars[0].t0 and final.chars[-1].t1 <= final.t1 + 0.05


def test_the_wav2vec2_model_is_the_default_once_stored_until_then_the_embedded_one():
    assert default_model() == embedded.WHISPER_ID
    for model_id in ("local/mine", DEFAULT_MODEL):
        folder = get_paths().models / model_id
        folder.mkdir(parents=True)
        (folder / "config.json").write_text(json.dumps({"model_type": "wav2vec2"}), "utf-8")
        assert default_model() == model_id
