"""Dataset layouts and the validation report a user reads before training."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.asr_fixtures import write_wav
from tests.asr_models import save_random_model
from tui_speech.asr.dataset import open_dataset
from tui_speech.errors import UsageError


@pytest.fixture(scope="module")
def vocab_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_random_model(tmp_path_factory.mktemp("ft-vocab") / "model")


def _noise(seconds: float, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal(int(seconds * 16_000)) * 0.1).astype(
        np.float32
    )


@pytest.fixture
def broken_dataset(tmp_path: Path) -> Path:
    root = tmp_path / "broken"
    (root / "clips").mkdir(parents=True)
    write_wav(root / "clips/good.wav", _noise(1.0))
    write_wav(root / "clips/silent.wav", _noise(1.0, 1))
    write_wav(root / "clips/blip.wav", _noise(0.1))
    write_wav(root / "clips/long.wav", np.zeros(31 * 16_000, np.float32))
    write_wav(root / "clips/rare.wav", _noise(1.0, 2))
    (root / "clips/broken.wav").write_text("not audio at all")
    rows = [
        "path\ttext",
        "clips/good.wav\t今天天气很好",
        "clips/missing.wav\t你好",
        "clips/broken.wav\t你好",
        "clips/silent.wav\t，。！",
        "clips/blip.wav\t今天天气很好",
        "clips/long.wav\t你好",
        "clips/rare.wav\t你好鑫",
    ]
    (root / "transcripts.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return root


def test_validation_reports_every_broken_row_by_line_and_fix_rejects_them(
    cli, broken_dataset: Path, vocab_model: Path
):
    run = cli("dataset", "validate", str(broken_dataset), "--model", str(vocab_model))
    out, err = run.stdout.decode(), run.stderr.decode()
    assert run.returncode == 1, err
    lines = out.splitlines()
    assert lines[0].startswith("transcripts.tsv:3: missing:")
    assert lines[1].startswith("transcripts.tsv:4: unreadable:")
    assert lines[2].startswith("transcripts.tsv:5: empty:")
    assert lines[3].startswith("transcripts.tsv:6: too-short: 0.10 s")
    assert lines[4].startswith("transcripts.tsv:7: too-long: 31.0 s")
    assert lines[5] == "transcripts.tsv:8: vocab: not in the model's vocabulary: 鑫"
    assert len(lines) == 6
    assert "train: 1 good clips" in err and "6 with problems" in err
    assert "Traceback" not in err

    fixed = cli("dataset", "validate", str(broken_dataset), "--model", str(vocab_model), "--fix")
    assert fixed.returncode == 0, fixed.stderr.decode()
    rejects = (broken_dataset / "rejects.tsv").read_text(encoding="utf-8").splitlines()
    assert rejects[0] == "split\tline\tpath\treason"
    assert rejects[1:] == [
        "train\t3\tclips/missing.wav\tmissing",
        "train\t4\tclips/broken.wav\tunreadable",
        "train\t5\tclips/silent.wav\tempty",
        "train\t6\tclips/blip.wav\ttoo-short",
        "train\t7\tclips/long.wav\ttoo-long",
        "train\t8\tclips/rare.wav\tvocab",
    ]
    again = cli("dataset", "validate", str(broken_dataset), "--model", str(vocab_model))
    assert again.returncode == 0
    assert "train: 1 good clips (0.0 min), 0 with problems" in again.stderr.decode()


def test_new_characters_can_be_allowed_for_extending_the_vocabulary(
    broken_dataset: Path, vocab_model: Path
):
    from tui_speech.asr.dataset_check import check_split
    from tui_speech.asr.model import load_model_info

    report = check_split(
        open_dataset(broken_dataset), "train", load_model_info(vocab_model), "extend"
    )
    assert report.new_chars == ("鑫",)
    assert [e.text for e in report.good] == ["今天天气很好", "你好鑫"]


def test_common_voice_layout(tmp_path: Path):
    root = tmp_path / "cv"
    (root / "clips").mkdir(parents=True)
    write_wav(root / "clips/a.mp3.wav", _noise(1.0))
    (root / "train.tsv").write_text(
        "client_id\tpath\tsentence\tup_votes\nx\ta.mp3.wav\t今天天气很好。\t2\n", encoding="utf-8"
    )
    (root / "test.tsv").write_text("client_id\tpath\tsentence\n", encoding="utf-8")
    dataset = open_dataset(root)
    assert dataset.layout == "common-voice" and dataset.splits() == ("train", "test")
    (row,) = dataset.rows("train")
    assert (row.line, row.path, row.text) == (
        2,
        root.resolve() / "clips/a.mp3.wav",
        "今天天气很好。",
    )
    with pytest.raises(UsageError, match="has no dev split"):
        dataset.rows("dev")


def test_a_folder_that_is_no_dataset_says_what_is_expected(tmp_path: Path):
    with pytest.raises(UsageError, match="needs a transcripts.tsv"):
        open_dataset(tmp_path)
    (tmp_path / "transcripts.tsv").write_text("clips/a.wav 你好\n", encoding="utf-8")
    with pytest.raises(UsageError, match=r"transcripts.tsv:1: expected path<TAB>text"):
        open_dataset(tmp_path).rows("train")
