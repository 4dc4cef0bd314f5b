"""Engines picked by name: the ONNX engine on a model folder, the torch engine through the
pipeline, and clear errors when a model is not there."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from tests.kokoro_fixtures import random_kokoro_dir  # noqa: F401  (fixture)
from tui_speech.commands._common import error_line
from tui_speech.errors import ModelMissingError, UsageError
from tui_speech.hub.embedded import embedded_model_path
from tui_speech.tts.engine import load_engine
from tui_speech.tts.pipeline import Pipeline


def test_onnx_engine_loads_a_kokoro_folder_with_an_onnx_export(tmp_path: Path):
    folder = tmp_path / "my-kokoro"
    (folder / "onnx").mkdir(parents=True)
    os.link(embedded_model_path(), folder / "onnx" / "model.onnx")
    chunks = list(Pipeline("en-us", backend="onnx", model=str(folder))("Hello."))
    assert np.abs(np.concatenate([c.audio for c in chunks])).max() > 0.05


def test_a_folder_without_an_export_says_how_to_make_one(tmp_path: Path):
    with pytest.raises(ModelMissingError, match="no Kokoro ONNX model") as error:
        load_engine("onnx", tmp_path)
    assert error_line(error.value).endswith("export one (`tui-speech models export MODEL`)")


def test_torch_backend_needs_a_model_and_unknown_backends_are_refused():
    with pytest.raises(UsageError, match="needs a Kokoro model directory") as error:
        load_engine("torch")
    assert "--" not in error.value.message and error_line(error.value).endswith("(--model)")
    with pytest.raises(UsageError, match="unknown TTS backend"):
        load_engine("tensorflow")


@pytest.mark.slow
def test_pipeline_speaks_through_the_torch_engine(random_kokoro_dir: Path):  # noqa: F811
    chunk = next(Pipeline("en-us", backend="torch", model=str(random_kokoro_dir))("Hi there."))
    assert chunk.sample_rate == 24_000
    assert len(chunk.audio) > 0 and np.isfinite(chunk.audio).all()
