"""``tui-speech transcribe`` as a user runs it: text, files, formats, and every bad input."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.asr_fixtures import write_wav
from tests.asr_models import PHRASES

ROOT = Path(__file__).resolve().parents[2]


def lines(stream: bytes) -> list[str]:
    return stream.decode().strip().splitlines()


def assert_clean_error(proc: subprocess.CompletedProcess, code: int, *needles: str) -> str:
    err = proc.stderr.decode()
    assert proc.returncode == code, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err
    return err


@pytest.fixture(scope="module")
def clips_dir(tmp_path_factory: pytest.TempPathFactory, phrase_clips) -> Path:
    """The first two phrases as a 44.1 kHz stereo FLAC and a 16 kHz WAV."""
    import soxr

    folder = tmp_path_factory.mktemp("clips")
    first = soxr.resample(phrase_clips[PHRASES[0]], 16_000, 44_100)
    sf.write(str(folder / "one.flac"), np.stack([first, first], axis=1), 44_100)
    write_wav(folder / "two.wav", phrase_clips[PHRASES[1]])
    return folder


def test_text_goes_to_stdout(cli, trained_model: Path, clips_dir: Path) -> None:
    proc = cli("transcribe", str(clips_dir / "one.flac"), "--model", str(trained_model))
    assert proc.returncode == 0, proc.stderr.decode()
    (line,) = lines(proc.stdout)  # written by default: the heard text with its marks
    assert re.sub("[，。？]", "", line) == PHRASES[0] and line.endswith(("。", "？"))


def test_several_files_to_a_directory_as_srt_with_onnx(
    cli, trained_model: Path, clips_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "subs"
    files = [str(clips_dir / "one.flac"), str(clips_dir / "two.wav")]
    proc = cli(
        "transcribe",
        *files,
        "--model",
        str(trained_model),
        "--backend",
        "onnx",
        "--format",
        "srt",
        "-o",
        str(out),
        "--punct",
        "none",  # the cues as heard (punctuation has tests of its own)
    )
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout == b""
    for name, phrase in (("one.srt", PHRASES[0]), ("two.srt", PHRASES[1])):
        blocks = (out / name).read_text(encoding="utf-8").strip().split("\n\n")
        cues = [b.split("\n") for b in blocks]
        assert [c[0] for c in cues] == [str(i) for i in range(1, len(cues) + 1)]
        assert all(re.fullmatch(r"[\d:,]{12} --> [\d:,]{12}", c[1]) for c in cues)
        assert "".join(c[2] for c in cues) == phrase  # the cues hold the transcript, in order


def test_json_output_named_by_suffix_with_k_alternatives(
    cli, trained_model: Path, clips_dir: Path, tmp_path: Path
) -> None:
    target = tmp_path / "out.json"
    proc = cli(
        "transcribe",
        str(clips_dir / "two.wav"),
        "--model",
        str(trained_model),
        "-o",
        str(target),
        "--alternatives",
        "1",
        "--beam",
        "4",
    )
    assert proc.returncode == 0, proc.stderr.decode()
    data = json.loads(target.read_text(encoding="utf-8"))
    assert data["text"] == PHRASES[1] and data["source"].endswith("two.wav")
    assert [c["char"] for c in data["chars"]] == list(PHRASES[1])
    assert all(len(c["alternatives"]) == 1 and c["confidence"] > 0.5 for c in data["chars"])
    assert data["duration"] == pytest.approx(sf.info(str(clips_dir / "two.wav")).duration, abs=0.01)


def test_bad_files_get_one_line_each_and_the_good_one_is_still_transcribed(
    cli, trained_model: Path, clips_dir: Path, tmp_path: Path
) -> None:
    (tmp_path / "notes.wav").write_text("not audio at all\n")
    write_wav(tmp_path / "empty.wav", np.zeros(0, np.float32))
    write_wav(tmp_path / "tiny.wav", np.full(16, 0.1, np.float32))  # 1 ms
    nan = np.full(8_000, 0.1, np.float32)
    nan[100] = np.nan
    write_wav(tmp_path / "nan.wav", nan, subtype="FLOAT")
    names = ["notes.wav", "empty.wav", "tiny.wav", "nan.wav"]
    proc = cli(
        "transcribe",
        *(str(tmp_path / n) for n in names),
        str(clips_dir / "two.wav"),
        "--model",
        str(trained_model),
        "--punct",
        "none",
    )
    err = assert_clean_error(proc, 2, "not an audio file", "zero length", "too short (1 ms)")
    assert "NaN or infinite samples" in err
    assert len(lines(proc.stderr)) == 4
    assert lines(proc.stdout) == [PHRASES[1]]


def test_silence_is_an_empty_transcript_and_success(
    cli, trained_model: Path, tmp_path: Path
) -> None:
    write_wav(tmp_path / "quiet.wav", np.zeros(48_000, np.float32))
    proc = cli(
        "transcribe", str(tmp_path / "quiet.wav"), "--model", str(trained_model), "--format", "json"
    )
    assert proc.returncode == 0, proc.stderr.decode()
    data = json.loads(proc.stdout)
    assert data["text"] == "" and data["chars"] == [] and data["duration"] == 3.0


def test_the_missing_default_model_tells_how_to_get_it(cli, clips_dir: Path) -> None:
    model = "jonatasgrosman/wav2vec2-large-xlsr-53-chinese-zh-cn"  # with none named: Whisper
    proc = cli("transcribe", "--model", model, str(clips_dir / "two.wav"))
    err = assert_clean_error(proc, 3, "~1.3 GB")
    assert "`tui-speech models pull jonatasgrosman/wav2vec2-large-xlsr-53-chinese-zh-cn`" in err
    assert len(lines(proc.stderr)) == 1


def test_with_no_model_named_the_stored_one_is_used_as_by_listen(
    cli, random_model: Path, clips_dir: Path, tmp_path: Path
) -> None:
    from tui_speech.config import get_paths

    # The default model is not stored but another ASR model is: transcribe and embed take it,
    # by the rule listen and the Listen pane follow, instead of asking to pull the default.
    shutil.copytree(random_model, get_paths().models / "local" / "mine")
    proc = cli("transcribe", str(clips_dir / "two.wav"), "--format", "json")
    assert proc.returncode == 0, proc.stderr.decode()
    assert json.loads(proc.stdout)["duration"] > 0
    out = tmp_path / "e.npy"
    proc = cli("embed", str(clips_dir / "two.wav"), "-o", str(out))
    assert proc.returncode == 0, proc.stderr.decode()
    assert np.load(out).ndim == 1


def test_broken_model_directories(cli, random_model: Path, clips_dir: Path, tmp_path: Path) -> None:
    clip = str(clips_dir / "two.wav")
    partial = tmp_path / "partial"
    shutil.copytree(random_model, partial)
    (partial / "model.safetensors").unlink()
    assert_clean_error(
        cli("transcribe", clip, "--model", str(partial), "--backend", "torch"),
        3,
        "incomplete",
        "model.safetensors",
    )
    shutil.rmtree(partial / "onnx")
    assert_clean_error(
        cli("transcribe", clip, "--model", str(partial), "--backend", "onnx"),
        3,
        "no ONNX export",
        "models export",
    )
    other = tmp_path / "other"
    shutil.copytree(random_model, other)
    (other / "config.json").write_text(json.dumps({"model_type": "whisper"}))
    assert_clean_error(cli("transcribe", clip, "--model", str(other)), 2, "not a wav2vec2 CTC")


def test_int8_precision_runs_the_quantized_variant_once_it_is_built(
    cli, trained_model: Path, clips_dir: Path, tmp_path: Path
) -> None:
    from tui_speech.asr.export import build_variant_graph
    from tui_speech.asr.model import ONNX_FILE

    model = tmp_path / "tiny"
    shutil.copytree(trained_model, model)
    clip = str(clips_dir / "two.wav")
    missing = cli("transcribe", clip, "--model", str(model), "--precision", "int8")
    assert_clean_error(missing, 3, "no int8 variant", "--quantize int8")
    assert len(lines(missing.stderr)) == 1
    wrong = cli(
        "transcribe", clip, "--model", str(model), "--backend", "torch", "--precision", "fp16"
    )
    assert_clean_error(wrong, 2, "ONNX variant", "--backend onnx")
    build_variant_graph(model / ONNX_FILE, "int8")
    proc = cli("transcribe", clip, "--model", str(model), "--precision", "int8", "-f", "json")
    assert proc.returncode == 0, proc.stderr.decode()
    assert json.loads(proc.stdout)["text"] == PHRASES[1]  # the tiny model survives int8


def test_help_is_fast_and_loads_no_heavy_library() -> None:
    code = (
        "import sys; from tui_speech.cli import build_parser; build_parser();"
        "heavy = {'torch', 'transformers', 'onnxruntime', 'numpy', 'soundfile'} & set(sys.modules);"
        "print(sorted(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, cwd=ROOT, check=True)
    assert out.stdout.decode().strip() == "[]"
