"""Session fixtures for the ASR tests: tiny models and Kokoro-synthesised Mandarin clips.

tests/conftest.py registers this module as a plugin (``pytest_plugins``): tests ask for the
fixtures by name and import the helpers (``write_wav``, ``noise_dataset``...) they need.
Everything here is built once per test session: models in a second, the clips in ~10 s.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.asr_models import PHRASES, TRAINED_DIR, save_random_model, synthesize

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
__all__ = ["random_model", "trained_model", "phrase_clips", "write_wav", "with_noise", "RATE"]

RATE = 16_000
#: The training speed of the clips the tests replay (also the fastest to synthesise).
CLIP_VOICE, CLIP_SPEED = "jf_alpha", 1.1


@pytest.fixture(scope="session")
def random_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random-weight tiny Wav2Vec2ForCTC with a Chinese vocab and its ONNX export."""
    from tui_speech.asr.export import export_onnx
    from tui_speech.asr.model import load_model_info

    folder = save_random_model(tmp_path_factory.mktemp("asr-random") / "model")
    export_onnx(load_model_info(folder))
    return folder


@pytest.fixture(scope="session")
def trained_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the committed trained tiny model, with an ONNX export beside it."""
    from tui_speech.asr.export import export_onnx
    from tui_speech.asr.model import load_model_info

    folder = tmp_path_factory.mktemp("asr-trained") / "model"
    shutil.copytree(TRAINED_DIR, folder)
    export_onnx(load_model_info(folder))
    return folder


@pytest.fixture(scope="session")
def phrase_clips(shared_models: Path) -> dict[str, np.ndarray]:
    """Each training phrase spoken by Kokoro, float32 16 kHz."""
    with pytest.MonkeyPatch.context() as mp:
        # The embedded Kokoro lives in the session's shared store (see tests/conftest.py).
        mp.setenv("TUI_SPEECH_HOME", str(shared_models))
        return {p: synthesize(p, CLIP_VOICE, CLIP_SPEED) for p in PHRASES}


def write_wav(path: Path, audio: np.ndarray, rate: int = RATE, subtype: str = "PCM_16") -> Path:
    import soundfile as sf

    sf.write(str(path), audio, rate, subtype=subtype)
    return path


def with_noise(audio: np.ndarray, snr_db: float, seed: int = 0) -> np.ndarray:
    """``audio`` plus white noise at ``snr_db`` dB signal-to-noise ratio."""
    rng = np.random.default_rng(seed)
    power = float(np.mean(audio**2))
    noise = rng.standard_normal(len(audio)).astype(np.float32)
    noise *= np.sqrt(power / 10 ** (snr_db / 10))
    return (audio + noise).astype(np.float32)


def speech_with_pauses(clips: dict[str, np.ndarray], hop: int) -> np.ndarray:
    """Phrases between one-second pauses, each starting on the model's frame grid (the tiny
    model, trained on whole clips, only reads them back exactly in that phase)."""
    parts = [np.zeros(RATE, np.float32)]
    for clip in clips.values():
        parts += [clip, np.zeros(RATE + (-len(clip)) % hop, np.float32)]
    return np.concatenate(parts)


def live_blocks(audio: np.ndarray, block_s: float = 0.1) -> list[list]:
    """The audio as a live source would deliver it: one 16 kHz block per batch."""
    from tui_speech.asr.stream import Block

    n = int(block_s * RATE)
    return [[Block(audio[i : i + n], i / RATE, 0.0)] for i in range(0, len(audio), n)]


def noise_dataset(root: Path, texts: tuple[str, ...] | list[str], dev: bool = True) -> Path:
    """A fine-tuning dataset folder: one noise clip per text (lengths 1 s, 1.125 s, ...),
    ``transcripts.tsv``, and the first row again as ``dev.tsv`` when ``dev``."""
    (root / "clips").mkdir(parents=True)
    rng = np.random.default_rng(0)
    rows = []
    for i, text in enumerate(texts):
        audio = (rng.standard_normal(16_000 + 2_000 * i) * 0.1).astype(np.float32)
        write_wav(root / f"clips/{i}.wav", audio)
        rows.append(f"clips/{i}.wav\t{text}\n")
    (root / "transcripts.tsv").write_text("".join(rows), encoding="utf-8")
    if dev:
        (root / "dev.tsv").write_text(rows[0], encoding="utf-8")
    return root
