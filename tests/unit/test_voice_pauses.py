"""A voice's own pauses: measured once from Kokoro, recorded, and spoken between chunks."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from tui_speech.tts import voice_pauses
from tui_speech.tts.draft_render import render
from tui_speech.tts.drafts import DraftStore
from tui_speech.tts.engine import EngineOutput, load_engine
from tui_speech.tts.pipeline import Pipeline
from tui_speech.tts.silences import LEAD_IN, pause_after, speech_bounds
from tui_speech.tts.voice_pauses import Gaps
from tui_speech.tts.voices import resolve_voice

# Two sentences of over 60 phoneme tokens each: two chunks, so one gap between them.
TWO_SENTENCES = (
    "The old lighthouse keeper climbed the stairs every evening, counting each step as he "
    "went. Nobody in the village remembered a night when the light had failed."
)


@pytest.fixture()
def pauses_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """The probe and its record switched on (the suite runs with them off), and nothing left
    from another test in this process's memory."""
    monkeypatch.setenv(voice_pauses.PAUSES_ENV, "1")
    monkeypatch.setattr(voice_pauses, "_memory", {})
    monkeypatch.setattr(voice_pauses, "_started", {})


MODEL = "onnx:embedded"  # the record's name for the embedded model through onnxruntime


class CountingEngine:
    """The real embedded engine, counting its calls (to see when a probe runs)."""

    def __init__(self) -> None:
        self.engine = load_engine()
        self.calls = 0

    def synthesize(self, ids: list[int], style: np.ndarray, speed: float) -> EngineOutput:
        self.calls += 1
        return self.engine.synthesize(ids, style, speed)


def _gap_between_chunks(pipeline: Pipeline, text: str) -> float:
    chunks = list(pipeline(text))
    assert len(chunks) == 2
    first, second = (speech_bounds(c.audio) for c in chunks)
    assert first is not None and second is not None
    return (len(chunks[0].audio) - first[1] + second[0]) / chunks[0].sample_rate


def _record(voice: str, lang: str, gaps: Gaps) -> None:
    key = voice_pauses.record_key(MODEL, resolve_voice(voice), lang)
    assert key is not None
    voice_pauses._store(key, dataclasses.asdict(gaps))


@pytest.mark.slow
def test_a_voice_is_measured_once_and_its_record_is_kept(pauses_on: None) -> None:
    engine, pack = CountingEngine(), resolve_voice("jf_alpha")
    gaps = voice_pauses.measure_now(engine, MODEL, pack, "en-us")
    assert gaps is not None and engine.calls == 1
    # Kokoro's own pauses in a paragraph: a full stop clearly longer than a comma.
    assert 0.3 < gaps.sentence < 1.0 and gaps.clause < gaps.sentence
    assert voice_pauses.measure_now(engine, MODEL, pack, "en-us") == gaps
    assert engine.calls == 1  # from the record, no second probe
    voice_pauses._memory.clear()  # a new process reads the file
    assert voice_pauses.cached(MODEL, pack, "en-us") == gaps
    # Another language, another voice or a blend is not this record.
    for voice, lang in (
        ("jf_alpha", "zh"),
        ("jm_kumo", "en-us"),
        ("jf_alpha:0.5,jm_kumo:0.5", "en-us"),
    ):
        assert voice_pauses.cached(MODEL, resolve_voice(voice), lang) is None
    # British English is measured with the same probe as American English.
    assert voice_pauses.cached(MODEL, pack, "en-gb") == gaps


@pytest.mark.slow
def test_chunks_are_joined_with_the_voices_recorded_pause(pauses_on: None) -> None:
    pipeline = Pipeline("en-us", "jf_alpha")
    fixed = _gap_between_chunks(pipeline, TWO_SENTENCES)
    assert fixed == pytest.approx(pause_after("went.") + LEAD_IN, abs=0.02)
    _record("jf_alpha", "en-us", Gaps(sentence=1.1, clause=0.5))
    assert _gap_between_chunks(pipeline, TWO_SENTENCES) == pytest.approx(1.1, abs=0.02)
    # Faster speech pauses less, as Kokoro's own pauses do.
    fast = Pipeline("en-us", "jf_alpha", speed=2.0)
    assert _gap_between_chunks(fast, TWO_SENTENCES) == pytest.approx(0.55, abs=0.02)
    # Switched off: the fixed gap again.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(voice_pauses.PAUSES_ENV, "0")
        assert _gap_between_chunks(pipeline, TWO_SENTENCES) == pytest.approx(fixed, abs=0.005)


@pytest.mark.slow
def test_a_voice_is_measured_in_the_background_after_a_longer_text(pauses_on: None) -> None:
    pipeline = Pipeline("en-us", "jm_kumo")
    pack = resolve_voice("jm_kumo")
    list(pipeline("Hello there."))  # one chunk: no gap was spoken, nothing to measure for
    assert voice_pauses.wait_background(timeout=1) and not voice_pauses._started
    fixed = _gap_between_chunks(pipeline, TWO_SENTENCES)  # this text keeps the fixed gaps...
    assert fixed == pytest.approx(pause_after("went.") + LEAD_IN, abs=0.02)
    assert voice_pauses.cached(MODEL, pack, "en-us") is None
    assert voice_pauses.wait_background(timeout=300)  # ...and a child process measures the voice
    voice_pauses._memory.clear()
    measured = voice_pauses.cached(MODEL, pack, "en-us")
    assert measured is not None
    again = _gap_between_chunks(pipeline, TWO_SENTENCES)
    assert again == pytest.approx(measured.sentence, abs=0.02)


def test_a_damaged_or_unwritable_record_leaves_the_fixed_gaps(
    pauses_on: None, caplog: pytest.LogCaptureFixture
) -> None:
    pack = resolve_voice("jf_alpha")
    record = voice_pauses._cache_file()
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text("{not json", encoding="utf-8")
    assert voice_pauses.cached(MODEL, pack, "en-us") is None
    key = voice_pauses.record_key(MODEL, pack, "en-us")
    record.write_text(json.dumps({key: {"sentence": "long"}}), encoding="utf-8")
    assert voice_pauses.cached(MODEL, pack, "en-us") is None
    voice_pauses._memory.clear()
    record.write_text(json.dumps({key: {"sentence": 50.0, "clause": 0.2}}), encoding="utf-8")
    assert voice_pauses.cached(MODEL, pack, "en-us") is None  # not a pause: not trusted
    voice_pauses._memory.clear()
    # A cache folder that cannot be written (a file where its folder should be): the gaps
    # are still used in this process, and the failure is logged, not raised.
    record.unlink()
    record.parent.rmdir()
    record.parent.write_text("in the way", encoding="utf-8")
    voice_pauses._store(key, {"sentence": 0.5, "clause": 0.2})
    assert "could not save" in caplog.text
    assert voice_pauses.cached(MODEL, pack, "en-us") == Gaps(0.5, 0.2)
    # A language without a probe is never measured; its pauses stay the fixed ones.
    assert voice_pauses.record_key(MODEL, pack, "hi") is None
    assert voice_pauses.measure(load_engine(), pack, "hi") is None


def test_measured_gaps_replace_the_fixed_ones_by_the_mark() -> None:
    gaps = Gaps(sentence=1.0, clause=0.5)
    assert pause_after("as he went.", gaps) == pytest.approx(1.0 - LEAD_IN)
    assert pause_after("我们去学校。", gaps) == pytest.approx(1.0 - LEAD_IN)
    assert pause_after("every evening,", gaps) == pytest.approx(0.5 - LEAD_IN)
    assert pause_after("every evening,", gaps, speed=2.0) == pytest.approx(0.25 - LEAD_IN)
    # A cut between words is no mark: the word pause, whatever the voice.
    assert pause_after("The old lighthouse", gaps) == pause_after("The old lighthouse")
    # A voice that barely pauses at a comma still gets a word's pause (never a clipped tail).
    assert pause_after("so,", Gaps(0.5, 0.0)) == pause_after("The old lighthouse")
    assert np.isclose(pause_after("went."), pause_after("went.", None))


class TimelessEngine(CountingEngine):
    """The real engine giving no durations, as a Kokoro ONNX export without the timed output."""

    def synthesize(self, ids: list[int], style: np.ndarray, speed: float) -> EngineOutput:
        return EngineOutput(super().synthesize(ids, style, speed).audio)


@pytest.mark.slow
def test_an_engine_without_durations_is_probed_once_and_keeps_the_fixed_gaps(
    pauses_on: None,
) -> None:
    engine, pack = TimelessEngine(), resolve_voice("jf_alpha")
    assert voice_pauses.measure_now(engine, "onnx:/models/plain.onnx", pack, "en-us") is None
    assert voice_pauses.measure_now(engine, "onnx:/models/plain.onnx", pack, "en-us") is None
    assert engine.calls == 1  # recorded as not measurable: never probed again


@pytest.mark.slow
def test_a_drafts_sentences_are_joined_with_the_voices_pause(pauses_on: None, tmp_path) -> None:
    store = DraftStore(tmp_path / "drafts")
    draft = store.create("gaps", TWO_SENTENCES + " [pause:300ms] The end.")

    def gaps_of(rendered: list) -> list[float]:
        """Silence between each unit's speech and the next unit's (pause tags included)."""
        spans = []
        for r in rendered:
            bounds = speech_bounds(r.audio) if r.unit.spoken else None
            spans.append((bounds, len(r.audio)))
        out, tail = [], None
        for bounds, length in spans:
            if bounds is None:  # a tag's silence
                tail = (tail or 0) + length
                continue
            if tail is not None:
                out.append((tail + bounds[0]) / 24_000)
            tail = length - bounds[1]
        return out

    fixed = gaps_of(list(render(draft, store)))
    assert fixed[0] == pytest.approx(pause_after("went.") + LEAD_IN, abs=0.02)
    _record("jf_alpha", "en-us", Gaps(sentence=1.1, clause=0.5))
    again = list(render(store.load("gaps"), store))
    assert not any(r.synthesized for r in again)  # the same takes, placed with the voice's gap
    measured = gaps_of(again)
    assert measured[0] == pytest.approx(1.1, abs=0.02)
    assert measured[1] == pytest.approx(fixed[1], abs=0.001)  # the tag alone sets it
    assert fixed[1] == pytest.approx(0.3, abs=0.015)
    # Reading the draft back from its pieces (the export) gives the same audio.
    pieces = np.concatenate([r.piece.read() for r in again])
    np.testing.assert_array_equal(pieces, np.concatenate([r.audio for r in again]))


def test_a_probe_that_fails_is_recorded_and_not_started_again(
    pauses_on: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("no space left on device")

    monkeypatch.setattr(voice_pauses, "measure", broken)
    # The child's idle priority, not this test process's (it would slow every later test).
    monkeypatch.setattr(voice_pauses.background, "become_background", lambda: None)
    with pytest.raises(RuntimeError):
        voice_pauses.main(["--voice", "jf_nezumi", "--lang", "en-us"])
    pack = resolve_voice("jf_nezumi")
    assert voice_pauses.cached(MODEL, pack, "en-us") is None  # the fixed gaps stay
    assert voice_pauses.measure_in_background("onnx", None, "jf_nezumi", pack, "en-us") is None
