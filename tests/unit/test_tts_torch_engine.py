"""The PyTorch Kokoro engine on a randomly initialised full-size Kokoro-82M."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.kokoro_fixtures import random_kokoro_dir  # noqa: F401  (fixture)
from tui_speech.errors import ModelMissingError
from tui_speech.tts.engine_torch import TorchKokoro
from tui_speech.tts.vocab import encode

#: Kokoro's decoder makes 600 samples (25 ms at 24 kHz) per predicted duration frame.
SAMPLES_PER_FRAME = 600


@pytest.fixture(scope="module")
def engine(random_kokoro_dir: Path) -> TorchKokoro:  # noqa: F811
    return TorchKokoro.from_dir(random_kokoro_dir, threads=2)


def test_synthesises_24khz_audio_as_long_as_its_durations_and_speed_shortens_it(
    engine: TorchKokoro,
):
    ids = encode("hˈaɪ")  # 3 phonemes: keep the full-size network's work small
    style = np.random.default_rng(0).standard_normal((1, 256)).astype(np.float32) * 0.1

    out = engine.synthesize(ids, style, speed=1.0)
    fast = engine.synthesize(ids, style, speed=2.0)

    assert engine.name == "torch" and engine.sample_rate == 24_000
    for result in (out, fast):
        assert result.audio.dtype == np.float32 and result.audio.ndim == 1
        assert np.isfinite(result.audio).all() and np.abs(result.audio).max() > 0
        assert result.durations is not None and len(result.durations) == len(ids) + 2  # pads
        assert (result.durations >= 1).all()
        assert len(result.audio) == int(result.durations.sum()) * SAMPLES_PER_FRAME
    assert len(fast.audio) < 0.7 * len(out.audio)


def test_missing_or_incomplete_model_dir_is_a_one_line_error(
    tmp_path: Path,
    random_kokoro_dir: Path,  # noqa: F811
):
    with pytest.raises(ModelMissingError, match="no Kokoro model directory") as missing:
        TorchKokoro.from_dir(tmp_path / "nowhere")
    assert "\n" not in str(missing.value)

    only_config = tmp_path / "only-config"
    only_config.mkdir()
    shutil.copy(random_kokoro_dir / "config.json", only_config)
    with pytest.raises(ModelMissingError, match="no .pth weight files"):
        TorchKokoro.from_dir(only_config)

    broken = tmp_path / "broken"
    broken.mkdir()
    shutil.copy(random_kokoro_dir / "config.json", broken)
    (broken / "kokoro-v1_0.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(ModelMissingError, match="cannot load the Kokoro weights") as bad:
        TorchKokoro.from_dir(broken)
    assert "\n" not in str(bad.value)
