"""``tui-speech embed``: .npy files of the documented shapes, and clean errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.asr_fixtures import write_wav


def test_pooled_and_per_frame_embeddings(cli, random_model: Path, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    clip = write_wav(tmp_path / "clip.wav", (rng.standard_normal(32_000) * 0.1).astype(np.float32))
    pooled = tmp_path / "pooled.npy"
    proc = cli("embed", str(clip), "--model", str(random_model), "-o", str(pooled))
    assert proc.returncode == 0, proc.stderr.decode()
    assert np.load(pooled).shape == (32,)  # the tiny model's hidden size, last layer
    frames = tmp_path / "frames.npy"
    proc = cli(
        "embed",
        str(clip),
        "--model",
        str(random_model),
        "--layer",
        "all",
        "--pool",
        "none",
        "-o",
        str(frames),
    )
    assert proc.returncode == 0, proc.stderr.decode()
    every = np.load(frames)
    assert every.shape == (3, 99, 32) and every.dtype == np.float32  # 2 layers + input, 2 s
    np.testing.assert_allclose(every[-1].mean(axis=0), np.load(pooled), atol=1e-5)
    assert "(3, 99, 32)" in proc.stderr.decode()


def test_bad_arguments_are_one_line_errors(cli, random_model: Path, tmp_path: Path) -> None:
    clip = write_wav(tmp_path / "clip.wav", np.full(16_000, 0.1, np.float32))
    proc = cli("embed", str(clip), "--model", str(random_model), "-o", str(tmp_path / "x.txt"))
    assert proc.returncode == 2 and b"name it *.npy" in proc.stderr
    proc = cli(
        "embed",
        str(clip),
        "--model",
        str(random_model),
        "--layer",
        "9",
        "-o",
        str(tmp_path / "x.npy"),
    )
    err = proc.stderr.decode()
    assert proc.returncode == 2 and "layers 0 to 2" in err and "Traceback" not in err
    assert not (tmp_path / "x.npy").exists()
