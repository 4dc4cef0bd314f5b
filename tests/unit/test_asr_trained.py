"""The trained tiny model on Kokoro Mandarin: exact text and confidence that means something.

The model is tiny and trained on single clips, so it is only asked what it can know: its own
phrases, and doubt when they are buried in noise or played backwards. Windowing and stitching
of long audio are tested with a model whose right answer is known exactly
(test_asr_stitching.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.asr_fixtures import with_noise
from tests.asr_models import PHRASES
from tui_speech.asr.recognizer import Recognizer


@pytest.fixture(scope="module")
def recognizer(trained_model: Path) -> Recognizer:
    return Recognizer.load(str(trained_model), "torch", threads=2)


@pytest.fixture(scope="module")
def onnx_recognizer(trained_model: Path) -> Recognizer:
    return Recognizer.load(str(trained_model), "onnx", threads=2)


def test_training_phrases_come_back_exactly_and_confidently(
    recognizer, onnx_recognizer, phrase_clips
):
    for phrase, clip in phrase_clips.items():
        for rec in (recognizer, onnx_recognizer):
            t = rec.decode(clip)
            assert t.text == phrase
            assert t.confidence > 0.8, (phrase, t.confidence)
            assert min(c.min_confidence for c in t.chars) > 0.3


def test_times_are_ordered_and_inside_the_audio(recognizer, phrase_clips) -> None:
    clip = phrase_clips[PHRASES[0]]
    t = recognizer.decode(clip)
    starts = [c.t0 for c in t.chars]
    assert starts == sorted(starts)
    assert all(c.t1 > c.t0 for c in t.chars)
    assert t.chars[-1].t1 <= len(clip) / 16_000 + 0.02
    # Speech fills the clip: the characters spread over most of it, not a corner.
    assert t.chars[-1].t0 - t.chars[0].t0 > 0.4 * len(clip) / 16_000


def test_noise_and_altered_audio_lower_the_confidence(recognizer, phrase_clips) -> None:
    clean, noisy, reversed_ = [], [], []
    for i, clip in enumerate(phrase_clips.values()):
        clean.append(recognizer.decode(clip).confidence)
        noisy.append(recognizer.decode(with_noise(clip, snr_db=0, seed=i)).confidence)
        reversed_.append(recognizer.decode(clip[::-1].copy()).confidence)
    assert np.mean(noisy) < np.mean(clean) - 0.15
    assert np.mean(reversed_) < np.mean(clean) - 0.15


def test_silence_gives_an_empty_transcript(recognizer) -> None:
    t = recognizer.decode(np.zeros(32_000, np.float32))
    assert t.text == "" and t.chars == () and t.duration == 2.0
