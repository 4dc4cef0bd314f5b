"""``tui-speech listen`` as a user runs it: stdin (raw and WAV), EOF and Ctrl-C, kill -9, bad
input, and capture from a real (virtual) PulseAudio microphone through PortAudio."""

from __future__ import annotations

import io
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.asr_models import PHRASES
from tests.pulse_fixtures import ALSA_DEVICE

RATE = 16_000
HOP = 320  # the tiny model's frame: it reads its phrases back exactly only in phase with it
ROOT = Path(__file__).resolve().parents[2]


def speech(clips: dict[str, np.ndarray], n: int = 3, gap_s: float = 1.0, tail: bool = True):
    """``n`` phrases after a second of silence, ``gap_s`` apart (none after the last unless
    ``tail``), each starting on the model's frame grid."""
    parts = [np.zeros(RATE, np.float32)]
    for i, clip in enumerate(list(clips.values())[:n]):
        parts.append(clip)
        if tail or i < n - 1:
            parts.append(np.zeros(int(gap_s * RATE) + (-len(clip)) % HOP, np.float32))
    return np.concatenate(parts)


def s16(audio: np.ndarray) -> bytes:
    return (np.clip(audio, -1, 1) * 32767).round().astype("<i2").tobytes()


def events(stdout: bytes) -> list[dict]:
    return [json.loads(line) for line in stdout.decode().splitlines() if line.strip()]


def finals(evs: list[dict]) -> list[str]:
    return [e["text"] for e in evs if e["type"] == "final"]


def listen_args(model: Path, *extra: str) -> list[str]:
    return ["listen", "--model", str(model), "--backend", "onnx", *extra]


def session_files(home: Path) -> list[Path]:
    return sorted((home / "data" / "sessions").glob("*.jsonl"))


def test_raw_s16le_on_stdin_gives_a_final_per_phrase_and_a_session(
    cli, trained_model, phrase_clips, isolated_home
) -> None:
    r = cli(
        *listen_args(trained_model, "--stdin", "--format", "jsonl"), stdin=s16(speech(phrase_clips))
    )
    assert r.returncode == 0, r.stderr.decode()
    evs = events(r.stdout)
    assert finals(evs) == list(PHRASES[:3])
    final = next(e for e in evs if e["type"] == "final")
    assert set(final) >= {"text", "committed", "chars", "t0", "t1", "latency_s"}
    assert final["chars"][0]["t0"] >= 1.0 - 0.25  # on the session clock: after the silence
    assert {"char", "t0", "t1", "confidence"} <= set(final["chars"][0])
    stats = evs[-1]
    assert stats["type"] == "stats" and stats["overflows"] == 0
    assert stats["audio_s"] == pytest.approx(len(speech(phrase_clips)) / RATE, abs=0.01)
    # Each final went to the session file, in order.
    (path,) = session_files(isolated_home)
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    assert lines[0]["type"] == "session" and lines[0]["id"] == stats["session"]
    assert [x["text"] for x in lines[1:]] == list(PHRASES[:3])


def test_a_wav_stream_on_stdin_is_detected_resampled_and_mixed_down(
    cli, trained_model, phrase_clips
) -> None:
    import soxr

    audio = soxr.resample(speech(phrase_clips, n=2), RATE, 48_000)
    buf = io.BytesIO()
    sf.write(buf, np.stack([audio, audio], axis=1), 48_000, format="WAV", subtype="FLOAT")
    r = cli(*listen_args(trained_model, "--stdin", "--no-session"), stdin=buf.getvalue())
    assert r.returncode == 0, r.stderr.decode()
    # Text mode in a pipe: one line per final, written with its end mark.
    assert r.stdout.decode().splitlines() == [f"{p}。" for p in PHRASES[:2]]


def test_eof_finalises_the_utterance_still_being_spoken(cli, trained_model, phrase_clips) -> None:
    # A long --min-silence: the VAD cannot have ended the last phrase before stdin closed.
    audio = speech(phrase_clips, n=2, gap_s=2.0, tail=False)
    args = listen_args(trained_model, "--stdin", "--format", "jsonl", "--min-silence", "1.5")
    r = cli(*args, stdin=s16(audio))
    assert r.returncode == 0, r.stderr.decode()
    assert finals(events(r.stdout)) == list(PHRASES[:2])


def _start(cli_env: dict[str, str], args: list[str], **kw) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tui_speech", *args],
        stdin=kw.pop("stdin", subprocess.PIPE),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=kw.pop("env", cli_env),
        cwd=ROOT,
    )


def _read_until(proc: subprocess.Popen, done, timeout: float = 60) -> list[dict]:
    """Events from a running listen until ``done(event)`` holds (stdout read line by line)."""
    seen: list[dict] = []
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(json.loads(line))
        if done(seen[-1]):
            return seen
    raise AssertionError(f"listen never got there: {seen[-3:]}")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_finalises_pending_speech_and_exits_0(
    sig, cli_env, trained_model, phrase_clips, isolated_home
) -> None:
    args = listen_args(trained_model, "--stdin", "--format", "jsonl", "--min-silence", "0.8")
    proc = _start(cli_env, args)
    assert proc.stdin is not None
    # The second phrase has no pause after it and stdin stays open: only Ctrl-C ends it.
    proc.stdin.write(s16(speech(phrase_clips, n=2, gap_s=1.5, tail=False)))
    proc.stdin.flush()
    seen = _read_until(proc, lambda e: e["type"] == "final")
    time.sleep(1.0)  # let it take in the rest
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err.decode()
    assert finals(seen + events(out)) == list(PHRASES[:2])
    assert b"Traceback" not in err
    (path,) = session_files(isolated_home)
    assert [json.loads(x)["text"] for x in path.read_text().splitlines()[1:]] == list(PHRASES[:2])


def test_the_session_file_survives_kill_9(cli, cli_env, trained_model, phrase_clips) -> None:
    proc = _start(cli_env, listen_args(trained_model, "--stdin", "--format", "jsonl"))
    assert proc.stdin is not None
    proc.stdin.write(s16(speech(phrase_clips, n=2)))
    proc.stdin.flush()
    _read_until(proc, lambda e: e["type"] == "final")
    proc.kill()  # SIGKILL: no handler, no flush, no close
    proc.communicate(timeout=30)
    shown = cli("sessions", "show", "last")
    assert shown.returncode == 0, shown.stderr.decode()
    assert PHRASES[0] in shown.stdout.decode()


def test_partials_on_the_int8_variant_and_a_broken_one_only_costs_speed(
    cli, trained_model, phrase_clips, tmp_path
) -> None:
    import shutil

    from tui_speech.asr.export import build_variant_graph
    from tui_speech.asr.model import ONNX_FILE

    model = tmp_path / "tiny"
    shutil.copytree(trained_model, model)
    build_variant_graph(model / ONNX_FILE, "int8")
    audio = s16(speech(phrase_clips, n=2))
    r = cli(*listen_args(model, "--stdin", "--format", "jsonl"), stdin=audio)
    assert r.returncode == 0, r.stderr.decode()
    assert finals(events(r.stdout)) == list(PHRASES[:2])
    assert events(r.stdout)[-1]["model_s"] > 0
    (model / "onnx" / "model.int8.onnx").write_bytes(b"not an onnx graph")
    r = cli(*listen_args(model, "--stdin", "--format", "jsonl"), stdin=audio)
    assert r.returncode == 0, r.stderr.decode()
    assert finals(events(r.stdout)) == list(PHRASES[:2])
    assert "warning: partials run on the full model" in r.stderr.decode()
    assert b"Traceback" not in r.stderr


def test_falling_behind_drops_blocks_counts_them_and_carries_on(
    cli_env, trained_model, phrase_clips, tmp_path, isolated_home
) -> None:
    """A reader that stalls (here: whoever reads our stdout) holds up transcription; a live
    source then drops blocks instead of growing without bound, and says how many."""
    import fcntl

    wav = tmp_path / "speech.wav"
    sf.write(wav, speech(phrase_clips, n=3), RATE, subtype="PCM_16")
    args = ["--file", str(wav), "--realtime", "--queue", "1", "--format", "jsonl", "--no-vad"]
    proc = _start(cli_env, listen_args(trained_model, *args, "--partial-every", "0.1"))
    assert proc.stdout is not None
    # A 4 KB pipe that nobody reads for a while: a few partials fill it and the writes block.
    fcntl.fcntl(proc.stdout.fileno(), fcntl.F_SETPIPE_SZ, 4096)
    time.sleep(4.0)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err.decode()
    assert b"Traceback" not in err
    stats = events(out)[-1]
    assert stats["type"] == "stats" and stats["overflows"] > 0
    assert f"{stats['overflows']} audio block(s) dropped" in err.decode()
    # The clock ran on through the drops: the session still covers the whole file.
    assert stats["audio_s"] == pytest.approx(len(speech(phrase_clips, n=3)) / RATE, abs=0.11)
    assert any(e["type"] == "final" for e in events(out))


def test_bad_input_gets_one_line_and_no_traceback(cli, trained_model, phrase_clips) -> None:
    model = listen_args(trained_model)
    # An odd byte count: the stray byte is reported, everything before it transcribed.
    r = cli(*model, "--stdin", "--no-session", stdin=s16(speech(phrase_clips, n=1)) + b"\x01")
    assert r.returncode == 0 and r.stdout.decode().splitlines() == [f"{PHRASES[0]}。"]
    assert b"1 stray byte(s) dropped" in r.stderr
    cases = [
        (["--stdin", "--rate", "0"], b"", 2, "0 Hz is not an audio sample rate; try 16000"),
        (
            ["--stdin", "--channels", "0"],
            b"",
            2,
            "0 is not a channel count; give 1 to 32 (--channels)",
        ),
        (["--rate", "8000"], None, 2, "describe raw audio on stdin; add --stdin"),
        (["--stdin"], b"", 2, "no audio on stdin"),
        (["--stdin"], b"RIFF\x00\x00\x00\x00JUNK", 2, "is not one (no WAVE header)"),
        (["--file", "/nonexistent.wav"], None, 2, "no such file"),
    ]
    for args, stdin, code, message in cases:
        r = cli(*model, *args, stdin=stdin)
        err = r.stderr.decode()
        assert r.returncode == code, (args, err)
        assert message in err and "Traceback" not in err, (args, err)
    r = cli(*model, "--stdin", "--rate", "fast", stdin=b"")
    assert r.returncode == 2 and "invalid int value: 'fast'" in r.stderr.decode()


def test_no_input_device_suggests_stdin_or_file(cli, trained_model) -> None:
    # This machine has no sound card and no sound server outside the PulseAudio test.
    r = cli(*listen_args(trained_model))
    err = r.stderr.decode()
    assert r.returncode == 4 and "--stdin" in err and "--file" in err
    assert len(err.strip().splitlines()) == 1


def test_capture_through_pulseaudio_and_portaudio(
    pulse_env, cli_env, trained_model, phrase_clips, tmp_path, isolated_home
) -> None:
    env = {**cli_env, **pulse_env, "TUI_SPEECH_HOME": str(isolated_home)}
    devices = subprocess.run(
        [sys.executable, "-m", "tui_speech", "devices"], env=env, capture_output=True, cwd=ROOT
    )
    assert devices.returncode == 0 and ALSA_DEVICE in devices.stdout.decode()
    wrong = subprocess.run(
        [sys.executable, "-m", "tui_speech", *listen_args(trained_model, "-d", "no-such-mic")],
        env=env,
        capture_output=True,
        cwd=ROOT,
    )
    assert wrong.returncode == 4 and "no input device named 'no-such-mic'" in wrong.stderr.decode()

    played = speech(phrase_clips)
    wav = tmp_path / "played.wav"
    sf.write(wav, played, RATE, subtype="PCM_16")
    args = listen_args(trained_model, "--device", ALSA_DEVICE, "--format", "jsonl", "--record")
    proc = _start(env, args, stdin=subprocess.DEVNULL)
    assert proc.stderr is not None
    line = proc.stderr.readline().decode()
    assert "listening to microphone: tts_mic" in line, line
    # PulseAudio connects a new capture stream to the source a moment after PortAudio opens it;
    # audio played before that never reaches the recorder and would shift the first utterance.
    time.sleep(1.0)
    subprocess.run(["paplay", "-d", "tts", str(wav)], env=env, check=True, timeout=60)
    time.sleep(1.5)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err.decode()
    evs = events(out)
    got = [e for e in evs if e["type"] == "final"]
    # One utterance per phrase, as far apart as the phrases were played.
    assert len(got) == 3, [e["text"] for e in got]
    starts = np.array([e["t0"] for e in got])
    expected = np.cumsum([0] + [len(c) / RATE + 1.0 for c in list(phrase_clips.values())[:2]])
    if evs[-1]["device_overflows"] == 0:  # input the device lost would shift the clock
        assert np.abs(np.diff(starts) - np.diff(expected)).max() < 0.25, (starts, evs[-1])
    # Speech came through: the characters are the phrases' (the tiny model, fed audio out of
    # phase with its training, may mix them up; the real model would not).
    vocab = set("".join(PHRASES))
    assert all(e["text"] and set(e["text"]) <= vocab for e in got)
    # The recording is what was played (PulseAudio resamples, so compare shapes, not bits)...
    (flac,) = (isolated_home / "data" / "sessions").glob("*.flac")
    recorded, rate = sf.read(flac, dtype="float32")
    assert rate == RATE
    lag = int(round(got[0]["t0"] * RATE)) - int(0.5 * RATE)
    a = recorded[max(0, lag) : max(0, lag) + len(played) + RATE]
    corr = np.correlate(a, played[RATE : RATE + 2 * RATE], mode="valid")
    energy = np.sqrt(np.sum(played[RATE : 3 * RATE] ** 2) * np.sum(a**2))
    assert corr.max() / energy > 0.2
    # ...and each final is the offline decoding of its stretch of that recording.
    from tui_speech.asr.recognizer import Recognizer

    rec = Recognizer.load(str(trained_model), "onnx", threads=1)
    for e in got:
        piece = recorded[round(e["t0"] * RATE) : round(e["t1"] * RATE)]
        assert rec.decode(piece).text == e["text"]
