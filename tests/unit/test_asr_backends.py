"""Both backends against transformers itself: pipeline text, softmax of the logits, ONNX parity."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tui_speech.asr.backends import load_backend
from tui_speech.asr.model import ONNX_FILE, load_model_info
from tui_speech.asr.recognizer import Recognizer
from tui_speech.errors import UsageError

LENGTHS = (400, 7_777, 16_000, 52_345)  # one frame, odd sizes, a few seconds


def speechlike(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n) / 16_000
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 3 * t)
    return (rng.standard_normal(n) * 0.1 * envelope).astype(np.float32)


@pytest.fixture(scope="module")
def recognizers(random_model: Path) -> dict[str, Recognizer]:
    return {name: Recognizer.load(str(random_model), name, threads=1) for name in ("torch", "onnx")}


@pytest.fixture(scope="module")
def reference(random_model: Path):
    from transformers import pipeline

    return pipeline("automatic-speech-recognition", model=str(random_model), device="cpu")


@pytest.mark.parametrize("backend", ["torch", "onnx"])
def test_text_equals_the_transformers_pipeline(recognizers, reference, backend: str) -> None:
    for seed, n in enumerate(LENGTHS):
        audio = speechlike(n, seed)
        ours = recognizers[backend].decode(audio)
        assert ours.text == reference(audio.copy())["text"]
        assert ours.text  # a random model emits characters: the comparison is not vacuous
        assert ours.duration == pytest.approx(n / 16_000)


def test_character_probabilities_match_an_independent_softmax(random_model: Path) -> None:
    import torch
    from transformers import Wav2Vec2FeatureExtractor, Wav2Vec2ForCTC

    audio = speechlike(30_000, 7)
    features = Wav2Vec2FeatureExtractor.from_pretrained(str(random_model))
    model = Wav2Vec2ForCTC.from_pretrained(str(random_model)).eval()
    inputs = features(audio, sampling_rate=16_000, return_tensors="pt")
    with torch.no_grad():
        probs = torch.softmax(model(inputs.input_values).logits[0].double(), dim=-1).numpy()
    transcript = Recognizer.load(str(random_model), "torch", alternatives=2).decode(audio)
    assert len(transcript.chars) > 5
    vocab = load_model_info(random_model).vocab
    for c in transcript.chars:
        f0, f1 = round(c.t0 / 0.02), round(c.t1 / 0.02)
        span = probs[f0:f1]
        token = vocab.index(c.char)
        assert (span.argmax(axis=1) == token).all()
        assert c.confidence == pytest.approx(span[:, token].mean(), abs=1e-5)
        assert c.min_confidence == pytest.approx(span[:, token].min(), abs=1e-5)
        mean = span.mean(axis=0)
        mean[[token, 0]] = -1  # neither the winner nor the blank is an alternative
        best = np.argsort(-mean)[:2]
        assert [a for a, _ in c.alternatives] == [vocab[i] for i in best]
        assert [p for _, p in c.alternatives] == pytest.approx(mean[best].tolist(), abs=1e-5)


def test_onnx_export_matches_pytorch_logits(random_model: Path, recognizers) -> None:
    assert (random_model / ONNX_FILE).stat().st_size > 10_000
    for seed, n in enumerate(LENGTHS):
        audio = speechlike(n, seed + 10)
        torch_logits = recognizers["torch"].window_logits(audio)
        onnx_logits = recognizers["onnx"].window_logits(audio)
        assert (
            onnx_logits.shape
            == torch_logits.shape
            == (
                load_model_info(random_model).frames_for(n),
                len(recognizers["torch"].info.vocab),
            )
        )
        assert np.abs(onnx_logits - torch_logits).max() < 1e-4


def test_unknown_backend_is_a_usage_error(random_model: Path) -> None:
    with pytest.raises(UsageError, match="unknown backend 'tensorflow'"):
        load_backend("tensorflow", load_model_info(random_model))


def test_weights_that_do_not_load_are_a_one_line_error(random_model: Path, tmp_path: Path) -> None:
    import shutil

    from tui_speech.errors import ModelMissingError

    broken = tmp_path / "broken"
    shutil.copytree(random_model, broken)
    (broken / "model.safetensors").write_bytes(b"\0" * 100)
    with pytest.raises(ModelMissingError) as err:
        Recognizer.load(str(broken), "torch")
    assert "cannot load the weights" in err.value.message and "\n" not in err.value.message


def test_bf16_precision_stays_close_to_fp32_and_is_torch_only(random_model: Path) -> None:
    audio = speechlike(20_000, 3)
    fp32 = Recognizer.load(str(random_model), "torch", threads=1).window_logits(audio)
    bf16 = Recognizer.load(str(random_model), "torch", threads=1, precision="bf16")
    low = bf16.window_logits(audio)
    assert low.dtype == np.float32 and low.shape == fp32.shape
    assert 0 < np.abs(low - fp32).max() < 0.1  # really lower precision, still close
    with pytest.raises(UsageError, match="for the torch backend"):
        Recognizer.load(str(random_model), "onnx", precision="bf16")
