"""The fast default path: the ONNX export built on first use (once, reused, rebuilt when broken,
skipped when asked), and the per-CPU choices of backend and live draft."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.asr_models import PHRASES, TRAINED_DIR
from tui_speech.asr import tuning
from tui_speech.asr.export import DATA_SUFFIX, build_variant_graph
from tui_speech.asr.model import ONNX_FILE, load_model_info, pick_backend
from tui_speech.asr.recognizer import Recognizer
from tui_speech.tts.tuning import read_cpuinfo


class Heard:
    """The hooks a face passes, recording what it was told."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.steps: list[float] = []
        self.hooks = tuning.FirstUse(on_start=self.lines.append, on_step=self.steps.append)


@pytest.fixture
def fresh_model(tmp_path: Path) -> Path:
    """The trained tiny model as `models pull` leaves it: weights, no export."""
    folder = tmp_path / "model"
    shutil.copytree(TRAINED_DIR, folder)
    return folder


def test_first_use_builds_the_export_once_reuses_it_and_rebuilds_a_broken_one(
    fresh_model: Path, phrase_clips
) -> None:
    info = load_model_info(fresh_model)
    heard = Heard()
    assert tuning.default_backend(info, hooks=heard.hooks) in ("onnx", "torch")
    assert len(heard.lines) == 1 and "ONNX export" in heard.lines[0]
    assert heard.steps[-1] == 1.0 and heard.steps == sorted(heard.steps)
    graph = fresh_model / ONNX_FILE
    built = graph.stat().st_mtime_ns
    # The export transcribes as PyTorch does (fp32: the same text).
    clip = phrase_clips[PHRASES[0]]
    onnx_text = Recognizer.load(str(fresh_model), "onnx").decode(clip).text
    assert onnx_text == Recognizer.load(str(fresh_model), "torch").decode(clip).text == PHRASES[0]

    again = Heard()
    tuning.default_backend(info, hooks=again.hooks)
    assert again.lines == [] and again.steps == []
    assert graph.stat().st_mtime_ns == built

    # A broken export (same size, other bytes) is rebuilt.
    data = fresh_model / ONNX_FILE.with_name(ONNX_FILE.name + DATA_SUFFIX)
    raw = bytearray(data.read_bytes())
    raw[len(raw) // 2 : len(raw) // 2 + 64] = bytes(64)  # same size, different weights
    data.write_bytes(bytes(raw))
    heard = Heard()
    tuning.default_backend(info, hooks=heard.hooks)
    assert len(heard.lines) == 1  # rebuilt, and said so
    clip = phrase_clips[PHRASES[1]]
    assert Recognizer.load(str(fresh_model), "onnx").decode(clip).text == PHRASES[1]

    # A file only touched (same bytes, new mtime) is re-hashed, found intact, not rebuilt.
    stat = data.stat()
    os.utime(data, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    touched = Heard()
    tuning.default_backend(info, hooks=touched.hooks)
    assert touched.lines == []


def test_cli_exports_on_first_use_and_honours_no_export(cli, tmp_path: Path, phrase_clips) -> None:
    from tests.asr_fixtures import write_wav

    wav = write_wav(tmp_path / "one.wav", phrase_clips[PHRASES[0]])
    skipped = tmp_path / "skipped"
    shutil.copytree(TRAINED_DIR, skipped)
    proc = cli("transcribe", str(wav), "--model", str(skipped), "--no-export")
    assert proc.returncode == 0, proc.stderr.decode()
    assert PHRASES[0] in proc.stdout.decode()
    assert "export" not in proc.stderr.decode() and not (skipped / "onnx").exists()

    model = tmp_path / "model"
    shutil.copytree(TRAINED_DIR, model)
    first = cli("transcribe", str(wav), "--model", str(model))
    assert first.returncode == 0, first.stderr.decode()
    assert first.stdout.decode() == proc.stdout.decode()  # fp32 on onnx: the same text
    assert first.stderr.decode().count("building the ONNX export") == 1
    assert (model / ONNX_FILE).is_file()


def _other_cpu_key() -> str:
    info = read_cpuinfo()
    flags = set(info.get("flags", "").split())
    other = " ".join(sorted(flags ^ {"avx512_vnni"}))  # the same CPU with(out) VNNI
    return tuning.cpu_key({**info, "flags": other})


def _record(folder: Path, key: str, what: str, choice: str) -> None:
    path = tuning.record_path(folder)
    records = json.loads(path.read_text()) if path.exists() else {}
    entry = records.setdefault(key, {}).setdefault(what, {})
    entry["choice"] = choice
    if what.startswith("draft"):  # the variant file it timed (this one, unchanged)
        stat = (folder / "onnx" / "model.int8.onnx").stat()
        entry["int8_file"] = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    path.write_text(json.dumps(records))


def _unmeasured_copy(model: Path, folder: Path) -> Path:
    """A copy of the shared trained model as pulled: without the per-CPU record that tests
    running `transcribe` on it before may have left there."""
    shutil.copytree(model, folder)
    tuning.record_path(folder).unlink(missing_ok=True)
    return folder


def test_the_backend_choice_is_keyed_by_the_cpu(trained_model: Path, tmp_path: Path) -> None:
    folder = _unmeasured_copy(trained_model, tmp_path / "model")
    assert _other_cpu_key() != tuning.cpu_key()
    # Another CPU's record (its flags differ) is not this one's: onnx, the unmeasured default.
    _record(folder, _other_cpu_key(), "backend", "torch")
    assert pick_backend("auto", str(folder)) == "onnx"
    # Measuring here adds this CPU's entry and keeps the other's.
    measured = tuning.default_backend(load_model_info(folder))
    records = json.loads(tuning.record_path(folder).read_text())
    assert records[tuning.cpu_key()]["backend"]["choice"] == measured
    assert records[_other_cpu_key()]["backend"]["choice"] == "torch"
    # What is recorded for this CPU is what auto runs.
    _record(folder, tuning.cpu_key(), "backend", "torch")
    assert pick_backend("auto", str(folder)) == "torch"


def test_draft_auto_takes_int8_only_where_measured_faster(
    trained_model: Path, tmp_path: Path
) -> None:
    from tui_speech.asr.live import load_models
    from tui_speech.config import ListenSettings

    folder = _unmeasured_copy(trained_model, tmp_path / "model")
    settings = ListenSettings(model=str(folder), backend="onnx", draft="auto")
    # No int8 variant: nothing to measure, the partials run on the finals' recogniser.
    plain = load_models(settings)
    assert plain.draft is plain.recognizer
    assert not tuning.record_path(folder).exists()

    build_variant_graph(folder / ONNX_FILE, "int8")
    measured = load_models(settings)  # measures once and records it
    choice = tuning.read_record(folder)["draft:onnx-fp32"]["choice"]
    assert (measured.draft.backend.precision == "int8") == (choice == "int8")
    for recorded, int8 in (("finals", False), ("int8", True)):
        _record(folder, tuning.cpu_key(), "draft:onnx-fp32", recorded)
        _record(folder, _other_cpu_key(), "draft:onnx-fp32", "finals" if int8 else "int8")
        models = load_models(settings)
        assert (models.draft is not models.recognizer) == int8
        assert models.draft.backend.precision == ("int8" if int8 else "fp32")
