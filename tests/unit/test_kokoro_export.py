"""ONNX export of a Kokoro model directory, with durations, parity and all-or-nothing writes.

Uses the full-size random Kokoro of the torch engine tests (built once per session); its
export takes ~30 s of CPU, about what a narrowed config would cost, since kokoro's decoder
hard-codes its 512/1024-channel blocks whatever the config says.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from tests.kokoro_fixtures import random_kokoro_dir  # noqa: F401  (fixture)
from tui_speech.errors import ModelMissingError
from tui_speech.tts import export as kokoro_export
from tui_speech.tts.vocab import encode


def _linked_copy(source: Path, target: Path) -> Path:
    """A model dir of our own (hard links: the 330 MB weights are only read)."""
    target.mkdir()
    for name in ("config.json", "kokoro-v1_0.pth"):
        os.link(source / name, target / name)
    return target


def test_export_has_durations_matches_pytorch_and_loads_in_the_onnx_engine(
    tmp_path: Path,
    random_kokoro_dir: Path,  # noqa: F811
):
    from tui_speech.tts.engine import OnnxKokoro

    model_dir = _linked_copy(random_kokoro_dir, tmp_path / "Kokoro-82M")

    path = kokoro_export.export_kokoro(model_dir)

    assert path == model_dir / "onnx" / "model.onnx" and path.is_file()
    assert [p.name for p in model_dir.iterdir() if p.name.startswith(".")] == []
    manifest = json.loads((path.parent / "manifest.json").read_text())
    assert manifest["inputs"] == ["input_ids", "style", "speed"]
    assert manifest["outputs"] == ["waveform", "duration"]
    assert len(manifest["parity"]) == 2
    for parity in manifest["parity"]:
        assert parity["durations_equal"]
        assert parity["correlation"] >= kokoro_export.MIN_CORRELATION

    onnx_engine = OnnxKokoro(path, threads=2)
    ids = encode("tˈɛst")  # variable token count: not the length traced at export
    style = np.random.default_rng(3).standard_normal((1, 256)).astype(np.float32) * 0.1
    out = onnx_engine.synthesize(ids, style, 1.0)
    assert out.durations is not None and len(out.durations) == len(ids) + 2
    assert out.audio.dtype == np.float32 and np.isfinite(out.audio).all()
    assert len(out.audio) == int(out.durations.sum()) * 600


def test_a_failed_export_leaves_the_previous_one_and_no_debris(
    tmp_path: Path,
    random_kokoro_dir: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
):
    import torch

    model_dir = _linked_copy(random_kokoro_dir, tmp_path / "Kokoro-82M")
    previous = model_dir / "onnx"
    previous.mkdir()
    (previous / "model.onnx").write_bytes(b"previous export")

    def interrupted(model: object, args: object, f: str, **kwargs: object) -> None:
        Path(f).write_bytes(b"half an onnx file")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch.onnx, "export", interrupted)
    with pytest.raises(KeyboardInterrupt):
        kokoro_export.export_kokoro(model_dir)

    assert (previous / "model.onnx").read_bytes() == b"previous export"
    assert sorted(p.name for p in model_dir.iterdir()) == [
        "config.json",
        "kokoro-v1_0.pth",
        "onnx",
    ]


def test_exporting_a_missing_model_is_a_one_line_error(tmp_path: Path):
    with pytest.raises(ModelMissingError, match="no Kokoro model directory") as error:
        kokoro_export.export_kokoro(tmp_path / "absent")
    assert "\n" not in str(error.value)
