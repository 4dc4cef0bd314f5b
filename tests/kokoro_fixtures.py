"""Session fixtures: randomly initialised Kokoro models in KModel's on-disk format.

tests/conftest.py registers this module as a plugin (``pytest_plugins``): tests ask for the
fixtures by name.
Each model is built once per test session (the full-size one has 82M parameters).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

PARTS = ("bert", "bert_encoder", "predictor", "text_encoder", "decoder")


def write_random_kokoro(folder: Path, config: dict[str, Any], seed: int = 0) -> Path:
    """A Kokoro model directory (config.json + kokoro-v1_0.pth) with random weights."""
    import torch
    from kokoro import KModel

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    # KModel always loads a weights file; an empty one leaves its random initialisation.
    empty = folder.parent / f".{folder.name}-empty.pth"
    torch.save({}, empty)
    torch.manual_seed(seed)
    model = KModel(
        repo_id="hexgrad/Kokoro-82M", config=str(folder / "config.json"), model=str(empty)
    )
    empty.unlink()
    # Random weights predict ~25 frames (0.6 s) per phoneme; a negative bias on the duration
    # head makes that ~6, so tests synthesise short audio from the full-size network.
    with torch.no_grad():
        model.predictor.duration_proj.linear_layer.bias.fill_(-2.0)
    # The file format of hexgrad's kokoro-v1_0.pth: one state dict per sub-module.
    torch.save(
        {part: getattr(model, part).state_dict() for part in PARTS}, folder / "kokoro-v1_0.pth"
    )
    return folder


@pytest.fixture(scope="session")
def random_kokoro_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Full-size Kokoro-82M architecture, random weights."""
    from tui_speech.tts.kokoro_config import kokoro_config

    return write_random_kokoro(
        tmp_path_factory.mktemp("kokoro-random") / "Kokoro-82M", kokoro_config()
    )
