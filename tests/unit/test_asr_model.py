"""Finding and checking a model: directories, the store, and every way one can be wrong."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tui_speech.asr.model import DEFAULT_MODEL, find_model, load_model_info, resolve_model_dir
from tui_speech.commands._common import error_line
from tui_speech.config import get_paths
from tui_speech.errors import ModelMissingError, UsageError
from tui_speech.tui.errors import describe_error


def test_a_directory_in_save_pretrained_layout_is_described(random_model: Path) -> None:
    info = find_model(str(random_model))
    assert info.path == random_model and info.name == "model"
    assert info.vocab[info.blank_id] == "<pad>" and info.vocab[info.delimiter_id] == "|"
    assert "天" in info.vocab
    assert info.frame_seconds == 0.02 and info.hop == 320
    assert info.do_normalize and info.sample_rate == 16_000
    assert info.frames_for(16_000) == 49 and info.frames_for(info.receptive_field - 1) == 0


def test_a_repo_id_resolves_to_the_store(random_model: Path) -> None:
    target = get_paths().models / "someone" / "tiny-zh"
    shutil.copytree(random_model, target)
    folder, name = resolve_model_dir("someone/tiny-zh")
    assert folder == target and name == "someone/tiny-zh"
    assert find_model("someone/tiny-zh", need="onnx").name == "someone/tiny-zh"


def test_the_missing_default_model_says_what_it_is_how_big_and_how_to_fetch_it() -> None:
    with pytest.raises(ModelMissingError) as err:
        find_model(None)
    assert "~1.3 GB" in err.value.reason and "wav2vec2" in err.value.reason
    # Each face names the fix its own way: the CLI the command, the TUI the Models pane's key.
    assert f"`tui-speech models pull {DEFAULT_MODEL}`" in error_line(err.value)
    assert "F4 Models" in describe_error(err.value) and "--" not in describe_error(err.value)


def test_a_path_that_is_neither_directory_nor_repo_id(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such directory"):
        resolve_model_dir(str(tmp_path / "a" / "b" / "c"))
    (tmp_path / "file.bin").write_bytes(b"x")
    with pytest.raises(UsageError, match="is a file"):
        resolve_model_dir(str(tmp_path / "file.bin"))


def copy_without(src: Path, dst: Path, *names: str) -> Path:
    shutil.copytree(src, dst)
    for name in names:
        target = dst / name
        shutil.rmtree(target) if target.is_dir() else target.unlink()
    return dst


def test_incomplete_directories_name_what_is_missing(random_model: Path, tmp_path: Path) -> None:
    no_weights = copy_without(random_model, tmp_path / "w", "model.safetensors")
    with pytest.raises(ModelMissingError, match="model.safetensors or pytorch_model.bin missing"):
        find_model(str(no_weights))
    no_vocab = copy_without(random_model, tmp_path / "v", "vocab.json")
    with pytest.raises(ModelMissingError, match="vocab.json missing"):
        find_model(str(no_vocab))
    no_config = copy_without(random_model, tmp_path / "c", "config.json")
    with pytest.raises(ModelMissingError, match="no config.json"):
        find_model(str(no_config))
    no_onnx = copy_without(random_model, tmp_path / "o", "onnx")
    with pytest.raises(ModelMissingError, match="no ONNX export") as err:
        find_model(str(no_onnx), need="onnx")
    assert f"`tui-speech models export {no_onnx}`" in error_line(err.value)
    assert "ctrl+e exports it" in describe_error(err.value)


def test_another_architecture_is_refused(random_model: Path, tmp_path: Path) -> None:
    other = copy_without(random_model, tmp_path / "bert")
    (other / "config.json").write_text(
        json.dumps({"model_type": "bert", "architectures": ["BertForMaskedLM"]})
    )
    with pytest.raises(UsageError, match="BertForMaskedLM model, not a wav2vec2 CTC"):
        load_model_info(other)
    (other / "config.json").write_text("{not json")
    with pytest.raises(UsageError, match="not valid JSON"):
        load_model_info(other)


def test_feature_settings_come_from_processor_config_too(
    random_model: Path, tmp_path: Path
) -> None:
    # Newer transformers save the feature extractor inside processor_config.json.
    folder = copy_without(random_model, tmp_path / "p", "preprocessor_config.json")
    section = {"do_normalize": False, "sampling_rate": 16_000}
    (folder / "processor_config.json").write_text(json.dumps({"feature_extractor": section}))
    assert load_model_info(folder).do_normalize is False
