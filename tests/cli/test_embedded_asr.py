"""On a fresh store (no wav2vec2 model pulled) ``transcribe`` and ``listen --stdin`` work with
the embedded Whisper; ``embed`` says in one line that it needs the wav2vec2 model."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from tests.asr_fixtures import write_wav
from tests.whisper_fixtures import whisper_store  # noqa: F401  (fixture)
from tui_speech.hub.embedded import WHISPER_ID

RATE = 16_000
SPOKEN = ("今天天气很好", "谢谢你的帮助")


@pytest.fixture
def two_sentences(phrase_clips, whisper_store) -> np.ndarray:  # noqa: F811
    gap = np.zeros(RATE, np.float32)
    return np.concatenate([gap, phrase_clips[SPOKEN[0]], gap, phrase_clips[SPOKEN[1]], gap])


def _shares(text: str, sentence: str) -> bool:
    return len(set(text) & set(sentence)) >= 3


def _han(text: str) -> str:
    return re.sub(r"[^\u4e00-\u9fff]", "", text)


def _check_chars(chars: list[dict], duration: float) -> None:
    assert chars
    for c in chars:
        assert 0.0 <= c["t0"] <= c["t1"] <= duration + 0.05
        assert 0.0 <= c["confidence"] <= 1.0


def test_transcribe_with_no_model_pulled_uses_the_embedded_recogniser(
    cli, two_sentences, tmp_path: Path
) -> None:
    wav = write_wav(tmp_path / "two.wav", two_sentences)
    proc = cli("transcribe", str(wav), "--format", "json")
    assert proc.returncode == 0, proc.stderr.decode()
    data = json.loads(proc.stdout)
    assert data["model"] == WHISPER_ID
    assert all(_shares(data["text"], s) for s in SPOKEN), data["text"]
    _check_chars(data["chars"], len(two_sentences) / RATE)
    assert all(c["alternatives"] == [] for c in data["chars"])
    explicit = cli("transcribe", str(wav), "--model", "embedded")
    assert explicit.returncode == 0
    # The text format may punctuate; the characters heard are the same.
    assert _han(explicit.stdout.decode()) == _han(data["text"])
    # Hotwords that sound like words of ordinary speech (天气, 帮助) do not rewrite them.
    terms = tmp_path / "terms.txt"
    terms.write_text("田七\n邦住\n", encoding="utf-8")
    hinted = cli("transcribe", str(wav), "--hotwords", str(terms), "--format", "json")
    assert hinted.returncode == 0, hinted.stderr.decode()
    assert json.loads(hinted.stdout)["text"] == data["text"]
    # A folder of them: the batch runs on the embedded recogniser too, and a rerun skips it.
    folder = tmp_path / "in"
    folder.mkdir()
    wav.rename(folder / "two.wav")
    batch = cli("transcribe", str(folder), "-o", str(tmp_path / "out"), "-f", "txt")
    assert batch.returncode == 0, batch.stderr.decode()
    assert _han((tmp_path / "out" / "two.txt").read_text()) == _han(data["text"])
    again = cli("transcribe", str(folder), "-o", str(tmp_path / "out"), "-f", "txt")
    assert again.returncode == 0 and "1 already done" in again.stderr.decode()


def test_listen_stdin_with_no_model_pulled_gives_a_final_per_sentence(cli, two_sentences) -> None:
    raw = (np.clip(two_sentences, -1, 1) * 32767).round().astype("<i2").tobytes()
    proc = cli("listen", "--stdin", "--format", "jsonl", "--no-session", stdin=raw)
    assert proc.returncode == 0, proc.stderr.decode()
    events = [json.loads(line) for line in proc.stdout.decode().splitlines() if line.strip()]
    finals = [e for e in events if e["type"] == "final"]
    assert len(finals) == 2
    for final, sentence in zip(finals, SPOKEN, strict=True):
        assert _shares(final["text"], sentence), final["text"]
        _check_chars(final["chars"], len(two_sentences) / RATE)
    assert events[-1]["type"] == "stats" and events[-1]["overflows"] == 0


def test_embed_says_in_one_line_that_it_needs_the_wav2vec2_model(cli, tmp_path: Path) -> None:
    wav = write_wav(tmp_path / "tone.wav", np.zeros(RATE, np.float32))
    proc = cli("embed", str(wav), "-o", str(tmp_path / "x.npy"))
    err = proc.stderr.decode().strip()
    assert proc.returncode == 3 and len(err.splitlines()) == 1 and "Traceback" not in err
    assert "wav2vec2" in err and "models pull" in err
