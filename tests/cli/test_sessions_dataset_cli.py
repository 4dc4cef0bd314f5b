"""The loop from review to a better model, as a user runs it: ``listen --stdin --record`` with
the trained tiny model, a correction, ``sessions show``, ``dataset from-sessions`` and a short
``finetune`` on what it wrote."""

from __future__ import annotations

import pytest
import soundfile as sf

from tests.asr_fixtures import speech_with_pauses
from tests.asr_models import PHRASES

HOP = 320  # the tiny model's frame: it reads its phrases back exactly only in phase with it


def s16(audio) -> bytes:
    import numpy as np

    return (np.clip(audio, -1, 1) * 32767).round().astype("<i2").tobytes()


@pytest.mark.slow
def test_corrected_recorded_sessions_become_a_dataset_that_finetune_takes(
    cli, trained_model, phrase_clips, isolated_home, tmp_path
) -> None:
    from tui_speech.asr.sessions import list_sessions
    from tui_speech.config import get_paths

    clips = dict(list(phrase_clips.items())[:2])
    audio = s16(speech_with_pauses(clips, HOP))
    listen = ["listen", "--model", str(trained_model), "--backend", "onnx", "--stdin"]
    for extra in (["--record"], []):  # one session with its audio, one without
        run = cli(*listen, *extra, stdin=audio)
        assert run.returncode == 0, run.stderr.decode()
    recorded, plain = list_sessions(get_paths().sessions)
    for info in (recorded, plain):  # what the model heard, as the session file keeps it
        assert [f["text"] for f in info.finals] == list(PHRASES[:2])
    assert recorded.audio is not None and plain.audio is None
    # The user writes 真 over the 很 the model heard in the first utterance of each session.
    for info in (recorded, plain):
        fixed = cli("sessions", "correct", info.id, "1", "很", "真")
        assert fixed.returncode == 0, fixed.stderr.decode()
        assert fixed.stdout.decode() == "今天天气真好\n"
    wrong = cli("sessions", "correct", recorded.id, "1", "再见", "x")
    assert wrong.returncode == 2 and "utterance 1 says “今天天气真好”" in wrong.stderr.decode()

    listed = cli("sessions", "list").stdout.decode()
    assert "[audio] [1 corrected]" in listed and listed.count("[1 corrected]") == 2
    shown = cli("sessions", "show", recorded.id)
    assert shown.returncode == 0, shown.stderr.decode()
    assert "] 今天天气真好" in shown.stdout.decode()

    data = tmp_path / "corrected"
    run = cli("dataset", "from-sessions", "--all", "-o", str(data))
    err = run.stderr.decode()
    assert run.returncode == 0, err
    # The session without audio is named in one line, and gives nothing.
    (skipped,) = [line for line in err.splitlines() if line.startswith("left out:")]
    assert plain.id in skipped and "no recorded audio" in skipped
    rows = (data / "transcripts.tsv").read_text(encoding="utf-8").splitlines()
    assert rows == [f"clips/{recorded.id}-0001.wav\t今天天气真好"]
    # The clip is that utterance's stretch of the recording, not the whole session.
    final = recorded.finals[0]
    clip = sf.info(str(data / "clips" / f"{recorded.id}-0001.wav"))
    assert clip.samplerate == 16_000
    assert clip.duration == pytest.approx(final["t1"] - final["t0"] + 0.2, abs=0.05)

    trained = cli(
        "finetune", "--data", str(data), "--base", str(trained_model), "--out", "corrected",
        "--epochs", "2", "--batch-seconds", "4", "--freeze-feature-encoder", "--threads", "1",
    )  # fmt: skip
    assert trained.returncode == 0, trained.stderr.decode()
    assert trained.stdout.decode().strip() == "local/corrected"
    assert "training from step 0 of 2 (1 clips)" in trained.stderr.decode()
