"""User errors: a reason and a hint, each face naming the fix its own way."""

from __future__ import annotations

import subprocess
import sys
import wave

import pytest

from tests.conftest import ROOT
from tui_speech.commands._common import error_line
from tui_speech.errors import ACTIONS, Action, TuiSpeechError, UsageError
from tui_speech.tui.errors import describe_error


@pytest.mark.parametrize("name", ACTIONS)
def test_every_fix_has_words_in_both_faces(name) -> None:
    error = UsageError("it went wrong", "do this", action=Action(name, "owner/model", "int8"))
    cli, tui = error_line(error), describe_error(error)
    assert cli.startswith("it went wrong; do this (") and tui.startswith("it went wrong; do this (")
    assert "\n" not in cli + tui and cli != tui
    # The core's words name no CLI flag; only the CLI's rendering may.
    assert "--" not in error.message and "--" not in tui.removesuffix("`")


def test_message_is_the_one_line_reason_and_hint() -> None:
    assert str(UsageError("bad", "fix it")) == "bad; fix it" == UsageError("bad", "fix it").message
    bare = TuiSpeechError("bad")
    assert bare.hint is None and str(bare) == error_line(bare) == describe_error(bare) == "bad"


def test_the_cli_prints_reason_and_fix_on_one_line(tmp_path) -> None:
    missing, wav = tmp_path / "nope", tmp_path / "a.wav"
    with wave.open(str(wav), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(16_000)
        w.writeframes(b"\0\0" * 1600)
    r = subprocess.run(
        [sys.executable, "-m", "tui_speech", "transcribe", "--model", str(missing), str(wav)],
        capture_output=True, cwd=ROOT, timeout=60,
    )  # fmt: skip
    (line,) = r.stderr.decode().strip().splitlines()
    assert r.returncode == 2
    assert line == (
        f"tui-speech: error: model {missing}: no such directory, and not a repo id; "
        "give a model folder or a repo id like owner/name (--model)"
    )
