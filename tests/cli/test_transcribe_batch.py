"""``tui-speech transcribe DIR -o OUTDIR``: a batch that resumes, skips, reports and scales out.

The corpus holds the same stems in two folders (a/x0.wav, b/x0.wav...), so outputs that
overwrote each other would show. Every output is compared with what a plain one-file run of
the same input prints.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.asr_fixtures import write_wav
from tests.asr_models import PHRASES

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ".tui-speech-batch.json"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory, phrase_clips) -> Path:
    """Six clips: a/x0..x2 and b/x0..x2 (b holds the phrases in another order)."""
    root = tmp_path_factory.mktemp("corpus")
    for folder, phrases in (("a", PHRASES[:3]), ("b", PHRASES[3:6])):
        (root / folder).mkdir()
        for i, phrase in enumerate(phrases):
            write_wav(root / folder / f"x{i}.wav", phrase_clips[phrase])
    return root


def sources(corpus: Path) -> list[Path]:
    return sorted(corpus.rglob("*.wav"))


@pytest.fixture(scope="module")
def single_runs(corpus: Path, trained_model: Path, tmp_path_factory) -> dict[str, dict]:
    """Each corpus file's JSON from a plain run (files named, text to stdout), by key."""
    env = dict(os.environ, TUI_SPEECH_HOME=str(tmp_path_factory.mktemp("home")))
    files = [str(p) for p in sources(corpus)]
    proc = subprocess.run(
        [sys.executable, "-m", "tui_speech", "transcribe", *files, *model_args(trained_model)]
        + ["-f", "json"],
        capture_output=True,
        env=env,
        cwd=ROOT,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    found = json.loads(proc.stdout)
    return {Path(d["source"]).relative_to(corpus).as_posix(): d for d in found}


def model_args(model: Path) -> list[str]:
    return ["--model", str(model), "--backend", "torch"]


def batch_command(corpus: Path, out: Path, model: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "tui_speech", "transcribe", str(corpus), "-o", str(out)] + [
        *model_args(model),
        "-f",
        "srt,json",
        *extra,
    ]


def manifest_files(out: Path) -> dict[str, dict]:
    try:
        return json.loads((out / MANIFEST).read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError):
        return {}


def assert_outputs_match(out: Path, expected: dict[str, dict]) -> None:
    """Every input has its srt and json, once, equal to the plain run's; nothing half-written."""
    assert set(manifest_files(out)) == set(expected)
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    stems = sorted(k.removesuffix(".wav") for k in expected)
    assert written == sorted([MANIFEST] + [f"{s}.{f}" for s in stems for f in ("json", "srt")])
    for key, plain in expected.items():
        stem = key.removesuffix(".wav")
        assert json.loads((out / f"{stem}.json").read_text(encoding="utf-8")) == plain
        srt = (out / f"{stem}.srt").read_text(encoding="utf-8")
        cues = [block.split("\n")[2] for block in srt.strip().split("\n\n")]
        assert "".join(cues) == plain.get("written", plain["text"])  # subtitles say it as written


def test_ctrl_c_keeps_finished_outputs_and_the_next_run_resumes(
    corpus: Path, trained_model: Path, single_runs: dict, cli_env: dict, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    proc = subprocess.Popen(
        batch_command(corpus, out, trained_model),
        env=cli_env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 240
    while not manifest_files(out) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err.decode()
    assert "Traceback" not in err.decode() and "the same command resumes" in err.decode()
    first = manifest_files(out)
    assert 1 <= len(first) < len(single_runs)  # stopped midway
    assert not list(out.rglob("*.part"))
    finished = [out / name for entry in first.values() for name in entry["outputs"].values()]
    kept = {p: p.stat().st_mtime_ns for p in finished}

    again = subprocess.run(
        batch_command(corpus, out, trained_model), env=cli_env, cwd=ROOT, capture_output=True
    )
    assert again.returncode == 0, again.stderr.decode()
    done = len(single_runs) - len(first)
    assert f"{done} transcribed, {len(first)} already done, 0 failed" in again.stderr.decode()
    assert all(p.stat().st_mtime_ns == t for p, t in kept.items())  # finished ones untouched
    assert_outputs_match(out, single_runs)
    texts = {k: v["text"] for k, v in single_runs.items()}
    assert texts == {
        f"{f}/x{i}.wav": PHRASES[base + i] for f, base in (("a", 0), ("b", 3)) for i in range(3)
    }


def test_a_bad_file_is_reported_at_the_end_and_a_changed_option_redoes_the_rest(
    corpus: Path, trained_model: Path, cli, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("x0.wav", "x1.wav"):
        (folder / name).write_bytes((corpus / "a" / name).read_bytes())
    (folder / "broken.wav").write_text("not audio at all\n")
    out = tmp_path / "out"
    args = ["transcribe", str(folder), "-o", str(out), *model_args(trained_model), "-f", "json"]
    first = cli(*args)
    err = first.stderr.decode().strip().splitlines()
    assert first.returncode == 2 and "Traceback" not in first.stderr.decode()
    assert [line for line in err if "error" in line] == [
        line for line in err if "broken.wav" in line and "not an audio file" in line
    ]
    assert len([line for line in err if "error" in line]) == 1
    assert err[-1].endswith(f"2 transcribed, 0 already done, 1 failed; outputs in {out}")
    one = json.loads((out / "x0.json").read_text(encoding="utf-8"))
    assert one["text"] == PHRASES[0] and all(len(c["alternatives"]) == 3 for c in one["chars"])

    changed = cli(*args, "--alternatives", "1")
    assert "2 transcribed, 0 already done, 1 failed" in changed.stderr.decode()
    one = json.loads((out / "x0.json").read_text(encoding="utf-8"))
    assert one["text"] == PHRASES[0] and all(len(c["alternatives"]) == 1 for c in one["chars"])
    same = cli(*args, "--alternatives", "1")
    assert "0 transcribed, 2 already done, 1 failed" in same.stderr.decode()


def test_without_ray_the_flag_names_the_extra(cli_env: dict, tmp_path: Path, corpus: Path) -> None:
    hidden = tmp_path / "no-ray"
    (hidden / "ray").mkdir(parents=True)
    (hidden / "ray" / "__init__.py").write_text("raise ImportError('No module named ray')\n")
    env = dict(cli_env, PYTHONPATH=str(hidden))
    proc = subprocess.run(
        [sys.executable, "-m", "tui_speech", "transcribe", str(corpus), "-o", str(tmp_path / "o")]
        + ["--ray", "auto"],
        env=env,
        cwd=ROOT,
        capture_output=True,
    )
    err = proc.stderr.decode().strip().splitlines()
    assert proc.returncode == 2 and len(err) == 1, err
    assert "Ray is not installed" in err[0] and "tui-speech[cluster]" in err[0]


def _ray_workers() -> list[int]:
    """Pids of this machine's processes running the batch's Ray actor (by their title)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            title = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if entry.name.isdigit() and title.startswith(b"ray::_Worker"):
            found.append(int(entry.name))
    return found


def test_ray_with_a_worker_killed_midway_transcribes_every_file_once(
    corpus: Path,
    trained_model: Path,
    single_runs: dict,
    cli_env: dict,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import ray

    # A test cluster on this machine alone: no token written into the user's ~/.ray.
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    cli_env["RAY_AUTH_MODE"] = "disabled"
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        address = ray.get_runtime_context().gcs_address
        out = tmp_path / "out"
        proc = subprocess.Popen(
            batch_command(corpus, out, trained_model, "--ray", address),
            env=cli_env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        killed = None
        deadline = time.monotonic() + 240
        while killed is None and proc.poll() is None and time.monotonic() < deadline:
            workers = _ray_workers()
            if workers and manifest_files(out):  # a worker is in the middle of the batch
                killed = workers[0]
                os.kill(killed, signal.SIGKILL)
            time.sleep(0.01)
        _, err = proc.communicate(timeout=240)
    finally:
        ray.shutdown()
    assert killed is not None, f"the batch ended before a worker was killed: {err.decode()}"
    assert proc.returncode == 0, err.decode()
    assert f"{len(single_runs)} transcribed, 0 already done, 0 failed" in err.decode()
    assert "run again: their Ray worker was lost" in err.decode()  # the killed one's files
    assert_outputs_match(out, single_runs)
