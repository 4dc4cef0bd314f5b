"""Embeddings: the documented shapes, equal to transformers' hidden states."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tui_speech.asr.backends import TorchBackend
from tui_speech.asr.embeddings import embed, parse_layer
from tui_speech.asr.model import load_model_info
from tui_speech.errors import UsageError


@pytest.fixture(scope="module")
def backend(random_model: Path) -> TorchBackend:
    return TorchBackend(load_model_info(random_model), threads=1)


def audio(seconds: float) -> np.ndarray:
    rng = np.random.default_rng(3)
    return (rng.standard_normal(int(seconds * 16_000)) * 0.1).astype(np.float32)


def reference_states(model_dir: Path, clip: np.ndarray) -> np.ndarray:
    import torch
    from transformers import Wav2Vec2FeatureExtractor, Wav2Vec2ForCTC

    features = Wav2Vec2FeatureExtractor.from_pretrained(str(model_dir))
    model = Wav2Vec2ForCTC.from_pretrained(str(model_dir)).eval()
    x = features(clip, sampling_rate=16_000, return_tensors="pt").input_values
    with torch.no_grad():
        states = model(x, output_hidden_states=True).hidden_states
    return np.stack([s[0].numpy() for s in states])


def test_shapes_and_values_match_transformers(backend: TorchBackend, random_model: Path) -> None:
    clip = audio(2.0)
    ref = reference_states(random_model, clip)  # (L + 1, frames, H)
    layers, hidden = backend.info.num_layers, backend.info.hidden_size
    assert ref.shape == (layers + 1, 99, hidden)
    every = embed(backend, [clip], None, "none")
    assert every.shape == ref.shape
    np.testing.assert_allclose(every, ref, atol=1e-5)
    last = embed(backend, [clip], layers, "none")
    np.testing.assert_allclose(last, ref[-1], atol=1e-5)
    pooled = embed(backend, [clip], 1, "mean")
    assert pooled.shape == (hidden,)
    np.testing.assert_allclose(pooled, ref[1].mean(axis=0), atol=1e-5)
    assert embed(backend, [clip], None, "mean").shape == (layers + 1, hidden)


def test_long_audio_in_windows_keeps_one_row_per_frame(backend: TorchBackend) -> None:
    clip = audio(7.3)
    out = embed(backend, [clip[:50_000], clip[50_000:]], 0, "none", chunk_s=2.0, stride_s=0.4)
    assert out.shape == (backend.info.frames_for(len(clip)), backend.info.hidden_size)


def test_layer_arguments() -> None:
    assert parse_layer("all", 24) is None
    assert parse_layer("-1", 24) == 24 and parse_layer("0", 24) == 0
    with pytest.raises(UsageError, match="layers 0 to 24"):
        parse_layer("25", 24)
    with pytest.raises(UsageError, match="layer number or 'all'"):
        parse_layer("last", 24)


def test_too_short_audio_is_refused(backend: TorchBackend) -> None:
    with pytest.raises(UsageError, match="too short"):
        embed(backend, [audio(0.001)], 0, "mean")
