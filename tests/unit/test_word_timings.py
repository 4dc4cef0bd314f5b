"""Word timings from the embedded Kokoro: the timed graph copy, captions, and proof-listen."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from tests.asr_models import TRAINED_DIR, synthesize
from tui_speech.tts import durations
from tui_speech.tts.captions import Timeline, cues, render

#: Sentences with clear pauses (sentence and clause marks) between words and phrases.
ENGLISH = "Hello there. One, two, three. The quick brown fox jumps over the lazy dog."
MANDARIN = "你好。我们去学校。今天天气很好。"


def _engine_pair():
    from tui_speech.hub.embedded import embedded_model_path
    from tui_speech.tts.engine import OnnxKokoro

    source = embedded_model_path()
    return source, OnnxKokoro(source, threads=2), OnnxKokoro(durations.timed_model(source), 2)


def test_timed_copy_sounds_the_same_and_its_durations_fill_the_audio() -> None:
    from tui_speech.tts.g2p import phonemize
    from tui_speech.tts.vocab import encode
    from tui_speech.tts.voices import resolve_voice, style_for

    source, plain, timed = _engine_pair()
    assert timed.model_path != source and durations.is_current(source)
    pack = resolve_voice("jf_alpha")
    for text, speed in (("One, two.", 1.0), ("One, two.", 1.3)):
        ids = encode(phonemize(text, "en-us").phonemes)
        a = plain.synthesize(ids, style_for(pack, len(ids)), speed)
        b = timed.synthesize(ids, style_for(pack, len(ids)), speed)
        assert a.durations is None  # the unmodified model outputs only audio
        assert np.array_equal(a.audio, b.audio)  # bit for bit
        assert b.durations is not None and len(b.durations) == len(ids) + 2
        assert int(b.durations.sum()) * durations.SAMPLES_PER_FRAME == len(b.audio)

    # A damaged copy no longer matches its stamp and is rebuilt, never loaded.
    copy = durations.timed_path(source)
    with copy.open("r+b") as f:
        f.truncate(copy.stat().st_size - 10)
    assert not durations.is_current(source)
    assert durations.timed_model(source) == copy and durations.is_current(source)


def test_the_float_variant_keeps_the_duration_tensor() -> None:
    """The tuning may pick fp32 (tts.variants: the int8 graph dequantized); the rewrite keeps
    the tensor the timed copy outputs."""
    import onnx

    from tui_speech.hub.embedded import embedded_model_path
    from tui_speech.tts.dequant import dequantize_model

    source = embedded_model_path()
    name = durations.find_duration_tensor(durations.graph_nodes(source))
    model = onnx.load(str(source))
    dequantize_model(model, "float32")
    nodes = [durations.Node(n.op_type, tuple(n.input), tuple(n.output)) for n in model.graph.node]
    assert durations.find_duration_tensor(nodes) == name


def _speech_gaps(audio: np.ndarray, rate: int) -> list[tuple[float, float]]:
    """Silences of 120 ms or more between speech, by the audio's energy alone (20 ms frames,
    45 dB below the loudest: a measure of its own, not the one the timings are trimmed by)."""
    frame = rate // 50
    n = len(audio) // frame
    rms = np.sqrt(np.mean(audio[: n * frame].reshape(n, frame).astype(np.float64) ** 2, axis=1))
    loud = np.flatnonzero(rms > rms.max() * 10 ** (-45 / 20))
    gaps = []
    for a, b in zip(loud[:-1], loud[1:], strict=True):
        if (b - a - 1) * frame >= 0.12 * rate:
            gaps.append(((a + 1) * frame / rate, b * frame / rate))
    return gaps


@pytest.mark.parametrize(("text", "lang"), [(ENGLISH, "en-us"), (MANDARIN, "zh")])
def test_every_word_has_a_cue_where_the_audio_says_it_is(text: str, lang: str) -> None:
    from tui_speech.tts.pipeline import Pipeline

    timeline = Timeline()
    chunks = list(Pipeline(lang)(text))
    for chunk in chunks:
        timeline.add(chunk)
    audio = np.concatenate([c.audio for c in chunks])
    rate = chunks[0].sample_rate
    words = timeline.words
    spoken = [t.grapheme for c in chunks for t in c.tokens if durations.is_word(t)]
    assert [w.text for w in words] == spoken and len(words) >= 5
    if lang == "en-us":
        assert [w.text for w in words] == re.findall(r"\w+", text)
    duration = len(audio) / rate
    for prev, word in zip(words, words[1:], strict=False):
        assert prev.end <= word.start + 1e-9
    assert all(0 <= w.start < w.end <= duration + 1e-9 for w in words)
    gaps = _speech_gaps(audio, rate)
    assert len(gaps) >= 2
    for gap_start, gap_end in gaps:
        before = max((w for w in words if w.end <= gap_start + 0.08), key=lambda w: w.end)
        after = min((w for w in words if w.start >= gap_end - 0.08), key=lambda w: w.start)
        assert abs(before.end - gap_start) <= 0.08, (before, gap_start)
        assert abs(after.start - gap_end) <= 0.08, (after, gap_end)
    phrases = cues(words, "phrase")
    assert len(words) > len(phrases) >= 2

    # The files parse with the formats' own readers and hold the same words and times.
    if lang == "en-us":
        import srt

        parsed = list(srt.parse(render(Path("take.srt"), timeline, "word")))
        assert [c.content for c in parsed] == [w.text for w in words]
        assert [round(c.start.total_seconds(), 3) for c in parsed] == [
            round(w.start, 3) for w in words
        ]
    else:
        import io

        import webvtt

        vtt = webvtt.from_buffer(io.StringIO(render(Path("take.vtt"), timeline, "phrase")))
        assert "".join(c.text for c in vtt) == "".join(c.text for c in phrases)
        data = json.loads(render(Path("take.json"), timeline))
        assert [w["text"] for w in data["words"]] == [w.text for w in words]


def test_speak_writes_captions_and_checks_their_name_first(tmp_path: Path) -> None:
    import soundfile as sf
    import srt

    from tui_speech.cli import main

    out, caps = tmp_path / "take.wav", tmp_path / "take.srt"
    assert main(["speak", "One, two.", "-o", str(out), "--captions", str(caps)]) == 0
    parsed = list(srt.parse(caps.read_text(encoding="utf-8")))
    assert [c.content for c in parsed] == ["One,", "two."]  # phrase cues, marks kept
    assert 0 < parsed[-1].end.total_seconds() <= sf.info(str(out)).duration + 1e-3

    other = tmp_path / "other.wav"
    assert main(["speak", "One.", "-o", str(other), "--captions", str(tmp_path / "c.txt")]) != 0
    assert not other.exists()  # refused before any synthesis


def test_proof_listen_marks_a_word_read_the_wrong_way() -> None:
    from tui_speech.asr.proof import proof_listen
    from tui_speech.asr.recognizer import Recognizer
    from tui_speech.tts.g2p import phonemize

    recognizer = Recognizer.load(str(TRAINED_DIR))
    # The recogniser was trained on these phrases as Kokoro says them whole (16 kHz clips).
    right = proof_listen("你好世界", synthesize("你好世界", speed=1.1), 16000, recognizer)
    assert right.chars and not right.marked
    # 世界 read as 学校: the text still says 世界; the recogniser hears otherwise.
    wrong_phonemes = phonemize("学校", "zh").phonemes
    wrong = proof_listen(
        "你好世界", synthesize(f"你好[世界](/{wrong_phonemes}/)", speed=1.1), 16000, recognizer
    )
    assert {c.char for c in wrong.marked} >= {"世", "界"}
    assert wrong.marked_words([(0, 2, "你好"), (2, 4, "世界")])[-1] == "世界"
