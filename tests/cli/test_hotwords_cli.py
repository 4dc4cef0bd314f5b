"""``--hotwords FILE`` as a user runs it: ``transcribe`` and a live ``listen --stdin`` read a
term the trained tiny model misreads as it was said once the term is listed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.asr_fixtures import RATE, with_noise, write_wav

PHRASE, TERM = "谢谢你的帮助", "帮助"
HOP = 320  # the tiny model reads its phrases best in phase with its frames


@pytest.fixture
def misread(phrase_clips) -> np.ndarray:
    # Faint noise (45 dB SNR) makes the tiny model drop 帮 ("谢谢你的助").
    return with_noise(phrase_clips[PHRASE], 45.0, seed=0)


@pytest.fixture
def terms(tmp_path: Path) -> Path:
    path = tmp_path / "terms.txt"
    path.write_text(f"# meeting terms\n{TERM}\n学校\t1.5\n", encoding="utf-8")
    return path


def test_transcribe_with_hotwords_reads_the_misread_term(
    cli, trained_model, misread, terms, tmp_path
) -> None:
    wav = write_wav(tmp_path / "clip.wav", misread)
    args = ["transcribe", str(wav), "--model", str(trained_model), "--backend", "torch"]
    plain = cli(*args, "-f", "json")
    assert plain.returncode == 0, plain.stderr.decode()
    heard = json.loads(plain.stdout)["text"]
    assert TERM not in heard  # the misreading the term list is for
    biased = cli(*args, "-f", "json", "--hotwords", str(terms))
    assert biased.returncode == 0, biased.stderr.decode()
    doc = json.loads(biased.stdout)
    assert doc["text"] == PHRASE
    # The characters the term brought in keep times, confidence and alternatives.
    chars = doc["chars"] if "chars" in doc else doc["segments"][0]["chars"]
    bang = next(c for c in chars if c["char"] == "帮")
    assert 0 < bang["t0"] < bang["t1"] and 0 < bang["confidence"] < 1
    assert [c["char"] for c in chars] == list(PHRASE)
    assert all(a["t1"] <= b["t0"] for a, b in zip(chars, chars[1:], strict=False))


def test_a_bad_hotwords_file_is_one_line_before_the_model_loads(
    cli, trained_model, misread, tmp_path
) -> None:
    wav = write_wav(tmp_path / "clip.wav", misread)
    bad = tmp_path / "bad.txt"
    bad.write_text("帮助\tloud\n", encoding="utf-8")
    r = cli("transcribe", str(wav), "--model", str(trained_model), "--hotwords", str(bad))
    err = r.stderr.decode()
    assert r.returncode != 0 and "line 1" in err and "Traceback" not in err
    missing = cli("transcribe", str(wav), "--hotwords", str(tmp_path / "none.txt"))
    assert missing.returncode != 0 and "no hotwords file" in missing.stderr.decode()


def test_listen_stdin_with_hotwords_reads_the_term_in_the_final(
    cli, trained_model, phrase_clips, terms
) -> None:
    # At 40 dB the tiny model ends this phrase live as 我们去学很; 学校 is on the list.
    clip = with_noise(phrase_clips["我们去学校"], 40.0, seed=1)
    gap = np.zeros(RATE, np.float32)
    audio = np.concatenate([gap, clip, np.zeros(RATE + (-len(clip)) % HOP, np.float32)])
    pcm = (np.clip(audio, -1, 1) * 32767).round().astype("<i2").tobytes()
    args = ["listen", "--model", str(trained_model), "--backend", "torch", "--stdin"]
    args += ["--format", "jsonl", "--draft", "off", "--no-session"]

    def run(*extra: str) -> list[dict]:
        r = cli(*args, *extra, stdin=pcm)
        assert r.returncode == 0, r.stderr.decode()
        return [json.loads(x) for x in r.stdout.decode().splitlines() if x.strip()]

    plain = [e["text"] for e in run() if e["type"] == "final"]
    assert "学校" not in "".join(plain)
    events = run("--hotwords", str(terms))
    assert [e["text"] for e in events if e["type"] == "final"] == ["我们去学校"]
