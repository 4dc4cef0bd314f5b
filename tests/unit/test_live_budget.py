"""Live compute: the cost ledger that thins partials (tui_speech.asr.budget), and partials on
the int8 draft variant while finals stay on the main model."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from tests.asr_fixtures import live_blocks as blocks
from tests.asr_fixtures import speech_with_pauses
from tests.asr_models import PHRASES
from tui_speech.asr.budget import ComputeBudget, CostModel
from tui_speech.asr.export import build_variant_graph
from tui_speech.asr.model import ONNX_FILE
from tui_speech.asr.recognizer import Recognizer
from tui_speech.asr.stream import LiveStream, LiveTranscriber
from tui_speech.audio.vad import SpeechSegmenter

RATE = 16_000


def test_cost_model_separates_call_overhead_from_per_second_cost() -> None:
    model = CostModel()
    for seconds in (0.5, 1.0, 2.0, 4.0):
        model.add(0.01 + 0.2 * seconds, seconds)
    fixed, per_second = model.fit()
    assert fixed == pytest.approx(0.01) and per_second == pytest.approx(0.2)
    # Ten one-second calls cost ten overheads; one ten-second call costs one.
    assert model.cost(10.0, calls=10) == pytest.approx(2.1)
    assert model.cost(10.0) == pytest.approx(2.01)


def test_budget_refuses_a_partial_that_would_pass_the_ratio() -> None:
    budget = ComputeBudget(ratio=1.5, window_s=10.0)
    budget.IDLE_SHARE = 0.0
    assert budget.allows_partial(2.0, 2.0)  # nothing measured yet: the first decode measures
    budget.heard_s = 10.0
    budget.record("main", 0.5, 1.0)  # a final: 0.5 s of model time per second of audio
    budget.record("draft", 0.1, 1.0)  # partials are five times cheaper
    # Offline, 10 s would cost 5 s; 1.5x allows 7.5 s. Spent 0.6 s, plus a 2 s partial (0.2 s)
    # and the 2 s final still owed (1 s): 1.8 s fits.
    assert budget.offline_cost() == pytest.approx(5.0)
    assert budget.allows_partial(2.0, 2.0)
    budget.record("draft", 6.0, 60.0)  # many partials later: 6.6 s spent
    assert not budget.allows_partial(2.0, 2.0)  # 6.6 + 0.2 + 1.0 > 7.5
    budget.heard_s = 20.0  # more audio heard (a pause, say) earns room again
    assert budget.allows_partial(2.0, 2.0)
    assert ComputeBudget(ratio=None).allows_partial(1e6, 1e6)
    with pytest.raises(ValueError):
        ComputeBudget(ratio=0.5)


def test_a_model_far_faster_than_real_time_is_never_thinned() -> None:
    budget = ComputeBudget(ratio=1.5)
    budget.heard_s = 100.0
    budget.record("main", 1.0, 1.0)  # 1 s of model time in 100 s heard: 1 %
    budget.record("draft", 3.0, 3.0)
    assert budget.spent < budget.IDLE_SHARE * budget.heard_s
    assert budget.allows_partial(5.0, 5.0)


@pytest.fixture(scope="module")
def int8_model(trained_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the trained tiny model with its int8 ONNX variant built beside the fp32 one."""
    folder = tmp_path_factory.mktemp("int8") / "tiny"
    shutil.copytree(trained_model, folder)
    build_variant_graph(folder / ONNX_FILE, "int8")
    return folder


def test_the_budget_thins_partials_and_keeps_finals(trained_model, phrase_clips) -> None:
    recognizer = Recognizer.load(str(trained_model), "onnx", threads=1)
    audio = speech_with_pauses(phrase_clips, recognizer.info.hop)
    logits = recognizer.backend.logits

    def full_size_pace(samples: np.ndarray) -> np.ndarray:
        # The tiny model answers in a millisecond, where noise would decide what the ledger
        # sees; this makes it cost CPU like a big model (5 ms a call + 0.1 s per audio second)
        # so the budget is judged on a cost profile that matters, with the real model's output.
        until = time.process_time() + 0.005 + 0.1 * len(samples) / RATE
        while time.process_time() < until:
            pass
        return logits(samples)

    recognizer.backend.logits = full_size_pace  # type: ignore[method-assign]

    def run(budget: ComputeBudget) -> tuple[list, ComputeBudget]:
        stream = LiveStream(recognizer, budget=budget)
        live = LiveTranscriber(stream, SpeechSegmenter(align=recognizer.info.hop))
        return list(live.run(blocks(audio))), budget

    free, unlimited = run(ComputeBudget(ratio=None))
    thinned, budget = run(ComputeBudget(ratio=1.2))
    assert [e.text for e in thinned if e.type == "final"] == list(PHRASES)
    assert [e.text for e in thinned if e.type == "final"] == [
        e.text for e in free if e.type == "final"
    ]
    count = lambda evs: sum(e.type == "partial" for e in evs)  # noqa: E731
    assert 0 < count(thinned) < count(free)
    # Unlimited, the re-decoding costs well over the ratio; the budget holds it to it (the
    # cost model is refitted as calls come in, so allow a little slack).
    assert unlimited.spent > 1.3 * unlimited.offline_cost()
    assert budget.spent <= 1.2 * budget.offline_cost() * 1.1


def test_draft_is_the_int8_variant_when_the_model_has_one(trained_model, int8_model) -> None:
    plain = Recognizer.load(str(trained_model), "onnx", threads=1)
    assert plain.draft() is plain  # no variant: partials run on the model itself
    main = Recognizer.load(str(int8_model), "onnx", threads=1)
    draft = main.draft(threads=1)
    assert draft is not main and draft.backend.precision == "int8"
    assert draft.draft() is draft
    audio = np.random.default_rng(0).standard_normal(RATE).astype(np.float32) * 0.1
    a, b = main.window_logits(audio), draft.window_logits(audio)
    assert a.shape == b.shape and 0 < np.max(np.abs(a - b)) < 0.5 * np.ptp(a)


def test_partials_on_the_draft_finals_on_the_main_model(int8_model, phrase_clips) -> None:
    main = Recognizer.load(str(int8_model), "onnx", threads=1)
    stream = LiveStream(main, draft=main.draft(threads=1))
    audio = speech_with_pauses(phrase_clips, main.info.hop)
    events = list(LiveTranscriber(stream, SpeechSegmenter(align=main.info.hop)).run(blocks(audio)))
    finals = [e for e in events if e.type == "final"]
    assert [f.text for f in finals] == list(PHRASES)
    for final in finals:
        a, b = round(final.t0 * RATE), round(final.t1 * RATE)
        assert final.text == main.decode(audio[a:b]).text
    assert stream.budget.models["draft"].n > 0 and stream.budget.models["main"].n == len(finals)
