"""The fine-tuning workflow as a user runs it: synth -> finetune -> evaluate -> transcribe.

The base is the committed trained tiny model. It was trained on clips rendered one way and is
brittle: the same phrases rendered by ``dataset synth`` (our Kokoro pipeline, other speeds)
come out nearly all wrong, which is exactly the domain gap fine-tuning is for.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.asr_models import TRAINED_DIR


@pytest.fixture(scope="module")
def synth_dataset(tmp_path_factory: pytest.TempPathFactory, shared_models: Path) -> Path:
    """Two phrases at two speeds, made by `tui-speech dataset synth` (about 10 s)."""
    import os
    import subprocess
    import sys

    root = tmp_path_factory.mktemp("ft-cli")
    (root / "lines.txt").write_text("今天天气很好\n我们去学校\n", encoding="utf-8")
    env = {**os.environ, "TUI_SPEECH_HOME": str(shared_models), "HF_HUB_OFFLINE": "1"}
    run = subprocess.run(
        [sys.executable, "-m", "tui_speech", "dataset", "synth", "--text", str(root / "lines.txt")]
        + ["-o", str(root / "data"), "--speeds", "1.0,1.2", "--noise", "30"],
        capture_output=True,
        env=env,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr.decode()
    assert "[4/4] 00003.wav" in run.stderr.decode()
    return root / "data"


def test_synth_writes_16k_clips_a_train_and_a_dev_split(synth_dataset: Path):
    import soundfile as sf

    train = (synth_dataset / "transcripts.tsv").read_text(encoding="utf-8").splitlines()
    dev = (synth_dataset / "dev.tsv").read_text(encoding="utf-8").splitlines()
    assert dev == ["clips/00000.wav\t今天天气很好"]
    assert train == [
        "clips/00001.wav\t今天天气很好",
        "clips/00002.wav\t我们去学校",
        "clips/00003.wav\t我们去学校",
    ]
    info = sf.info(str(synth_dataset / "clips/00001.wav"))
    assert (info.samplerate, info.channels, info.subtype) == (16_000, 1, "PCM_16")
    assert 0.8 < info.duration < 4


def _cer(cli, data: Path, model: str) -> float:
    run = cli("evaluate", "--data", str(data), "--split", "train", "--model", model, "--json")
    assert run.returncode == 0, run.stderr.decode()
    return json.loads(run.stdout)["cer"]


def test_finetuning_lowers_the_error_rate_and_registers_a_usable_model(cli, synth_dataset: Path):
    before = _cer(cli, synth_dataset, str(TRAINED_DIR))
    assert before > 0.6
    run = cli(
        "finetune", "--data", str(synth_dataset), "--base", str(TRAINED_DIR), "--out", "demo",
        "--epochs", "8", "--lr", "1e-3", "--batch-seconds", "1.0", "--freeze-feature-encoder",
        "--log-every", "4",
    )  # fmt: skip
    err = run.stderr.decode()
    assert run.returncode == 0, err
    assert run.stdout.decode().strip() == "local/demo"
    # 8 epochs of the 3 training clips, packed into batches of at most 1 s of audio.
    assert re.search(r"training from step 0 of (8|16|24) \(3 clips\)", err), err
    assert "epoch 8: dev CER" in err and "audio-s/s" in err and "ETA" in err
    after = _cer(cli, synth_dataset, "local/demo")
    assert after < before / 2, (before, after)

    listed = cli("models", "list")
    assert "local/demo" in listed.stdout.decode() and " asr " in listed.stdout.decode()
    said = cli("transcribe", str(synth_dataset / "clips/00002.wav"), "--model", "local/demo")
    assert said.returncode == 0, said.stderr.decode()
    assert said.stdout.decode().strip()
    exported = cli("models", "export", "local/demo")
    assert exported.returncode == 0, exported.stderr.decode()
    onnx = cli(
        "transcribe", str(synth_dataset / "clips/00002.wav"), "--model", "local/demo",
        "--backend", "onnx",
    )  # fmt: skip
    assert onnx.stdout == said.stdout


def test_evaluate_prints_cer_confusions_and_calibration(cli, synth_dataset: Path):
    run = cli("evaluate", "--data", str(synth_dataset), "--model", str(TRAINED_DIR))
    out = run.stdout.decode()
    assert run.returncode == 0, run.stderr.decode()
    assert out.splitlines()[0] == "asr-tiny-zh on data (dev)"
    assert out.splitlines()[1].startswith("CER ") and "over 6 characters in 1 clips" in out
    assert "calibration (confidence bin: characters, mean confidence, accuracy):" in out
    assert "expected calibration error" in out


def test_finetune_errors_are_one_line(cli, tmp_path: Path):
    run = cli("finetune", "--data", str(tmp_path), "--base", str(TRAINED_DIR), "--out", "x")
    err = run.stderr.decode()
    assert run.returncode == 2
    assert err.startswith("tui-speech: error: ") and "transcripts.tsv" in err
    assert len(err.strip().splitlines()) == 1


def test_ctrl_c_writes_a_checkpoint_and_the_same_command_resumes(cli_env, tmp_path: Path):
    import signal
    import subprocess
    import sys

    from tests.asr_models import save_random_model
    from tests.conftest import ROOT
    from tests.unit.test_ft_finetune import make_dataset

    base = save_random_model(tmp_path / "base")
    data = make_dataset(tmp_path / "data")
    command = [sys.executable, "-m", "tui_speech", "finetune", "--data", str(data)]
    command += ["--base", str(base), "--out", "ctrlc", "--epochs", "50", "--batch-seconds", "1.5"]
    command += ["--log-every", "1", "--threads", "1"]
    proc = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=cli_env, cwd=ROOT)
    assert proc.stderr is not None
    for line in proc.stderr:
        if line.startswith("step 2/"):
            proc.send_signal(signal.SIGINT)
            break
    rest = proc.stderr.read()
    assert proc.wait(timeout=60) == 130, rest
    assert "finishing this step, then writing a checkpoint" in rest
    assert "run the same command again to resume" in rest and "Traceback" not in rest
    stopped_at = int(rest.split("stopped at step ")[1].split()[0])
    assert stopped_at >= 2
    again = subprocess.run(
        command + ["--max-steps", str(stopped_at + 1)], capture_output=True, text=True,
        env=cli_env, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert f"resuming from step {stopped_at} of " in again.stderr
    assert f"step {stopped_at + 1}/" in again.stderr
    assert f"stopped at step {stopped_at + 1} (--max-steps)" in again.stderr
