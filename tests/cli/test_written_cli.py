"""Written text as a user gets it: ``--punct``, ``--itn`` and ``--script`` through
``transcribe`` on the trained model, a live ``listen --stdin`` run and ``sessions export``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from tests.asr_fixtures import write_wav
from tests.asr_models import PHRASES
from tests.written_tables import MARKS, paused_speech
from tui_speech.asr.script import to_script

RATE = 16_000
HOP = 320


def _heard(data: dict) -> str:
    """The heard text the spans stand for, in order (spaces after a mark are not written)."""
    return "".join(s["heard"] for s in data["spans"])


def test_transcribe_writes_marks_digits_and_script(
    cli, trained_model, phrase_clips, tmp_path
) -> None:
    audio, _ = paused_speech([phrase_clips[p] for p in PHRASES[:4]])
    wav = write_wav(tmp_path / "pauses.wav", audio)
    model = ["--model", str(trained_model), "--backend", "onnx"]
    r = cli("transcribe", str(wav), *model, "-f", "json")
    assert r.returncode == 0, r.stderr.decode()
    data = json.loads(r.stdout)
    marks = [s["text"] for s in data["spans"] if s["confidence"] is None]
    assert marks == MARKS and data["written"].endswith("。")
    assert all(s["chars"] == [] for s in data["spans"] if s["confidence"] is None)
    for s in data["spans"]:  # every written span names the heard characters it came from
        assert s["heard"] == "".join(data["chars"][i]["char"] for i in s["chars"])
    assert _heard(data) == data["text"].replace(" ", "")

    r = cli("transcribe", str(wav), *model, "-f", "txt", "--punct", "none", "--script", "tw")
    assert r.returncode == 0, r.stderr.decode()
    assert r.stdout.decode() == to_script(data["text"], "tw") + "\n"

    r = cli("transcribe", str(wav), *model, "-f", "srt", "--itn", "--script", "hk")
    assert r.returncode == 0, r.stderr.decode()
    cues = "".join(block.splitlines()[2] for block in r.stdout.decode().strip().split("\n\n"))
    assert cues == to_script(data["written"], "hk")  # the marks stay with their cues

    bad = cli("transcribe", str(wav), *model, "--script", "klingon")
    assert bad.returncode == 2 and "--script" in bad.stderr.decode()


def _speech(clips: list[np.ndarray]) -> np.ndarray:
    parts = [np.zeros(RATE, np.float32)]
    for clip in clips:
        parts += [clip, np.zeros(RATE + (-len(clip)) % HOP, np.float32)]
    return np.concatenate(parts)


def test_listen_writes_each_final_and_sessions_export_the_same(
    cli, trained_model, phrase_clips, isolated_home: Path
) -> None:
    pcm = (_speech([phrase_clips[p] for p in PHRASES[:2]]) * 32767).astype("<i2").tobytes()
    args = ["--model", str(trained_model), "--backend", "onnx", "--format", "jsonl"]
    # --record: the session keeps its audio, where sessions export measures the pauses.
    r = cli("listen", "--stdin", *args, "--record", "--script", "tw", "--itn", stdin=pcm)
    assert r.returncode == 0, r.stderr.decode()
    finals = [json.loads(line) for line in r.stdout.decode().splitlines()]
    finals = [e for e in finals if e["type"] == "final"]
    assert [f["text"] for f in finals] == list(PHRASES[:2])
    for f in finals:  # one utterance each: its full stop, nobody heard it
        assert f["written"] == to_script(f["text"], "tw") + "。"
        assert f["spans"][-1] == {**f["spans"][-1], "text": "。", "confidence": None, "chars": []}

    sid = r.stderr.decode().split("(session ")[1].split(")")[0]
    txt = cli("sessions", "export", sid, "--script", "traditional").stdout.decode()
    assert txt == "".join(to_script(p, "traditional") + "。" for p in PHRASES[:2]) + "\n"
    plain = cli("sessions", "export", sid, "--punct", "none").stdout.decode()
    assert plain == f"{PHRASES[0]} {PHRASES[1]}\n"
    srt = cli("sessions", "export", sid, "-f", "srt").stdout.decode()
    assert [b.splitlines()[2] for b in srt.strip().split("\n\n")] == [p + "。" for p in PHRASES[:2]]

    # A session that heard a number: its characters, written in digits with their times.
    folder = isolated_home / "data" / "sessions"
    chars = [
        {"char": c, "t0": 0.2 * i, "t1": 0.2 * i + 0.1, "confidence": 0.9 - 0.1 * i}
        for i, c in enumerate("我们三点见")
    ]
    final = {"type": "final", "text": "我们三点见", "t0": 0.0, "t1": 1.0, "chars": chars}
    head = {"type": "session", "id": "20990101-000000", "started": "", "model": "m", "source": "s"}
    (folder / "20990101-000000.jsonl").write_text(
        "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in (head, final)), encoding="utf-8"
    )
    data = json.loads(cli("sessions", "export", "2099", "--itn", "-f", "json").stdout)
    assert data["text"] == "我们三点见" and data["written"] == "我们3点见。"
    three = data["spans"][2]
    assert three == {
        "text": "3",
        "t0": 0.4,
        "t1": 0.5,
        "confidence": 0.7,
        "heard": "三",
        "chars": [2],
    }
