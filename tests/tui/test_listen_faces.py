"""``tui-speech listen`` and the Listen pane are two faces of one live session
(``tui_speech.asr.live``): the same options give the same session, and they fail alike."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from textual.widgets import Input, Static

from tests.asr_fixtures import speech_with_pauses
from tests.asr_models import PHRASES
from tests.conftest import ROOT
from tests.tui.helpers import settle, wait_until
from tests.tui.test_listen import register_model
from tui_speech.config import listen_settings_path
from tui_speech.tui.listen.pane import ListenPane

HOP = 320  # the tiny model's frame
#: Every option differs from its default. Those that shape the session file (VAD, record,
#: backend, threads) show in it; the rest shape only partials, which are not saved:
#: ``test_the_flags_and_listen_toml_are_the_same_settings`` covers those.
OPTIONS = {
    "--backend": "onnx",
    "--draft": "off",
    "--compute-budget": 0,
    "--threads": 1,
    "--min-silence": 0.6,
    "--vad-pad": 0.25,
    "--vad-threshold": 0.45,
    "--window": 4.0,
    "--stable": 3,
    "--partial-every": 0.5,
    "--max-utterance": 20.0,
    "--queue": 32,
    "--hotwords": "terms.txt",
    "--punct": "none",
    "--script": "tw",
}


def listen_toml(options: dict[str, object], record: bool) -> str:
    """The same options as the Listen pane reads them."""
    lines = [f"record = {'true' if record else 'false'}"]
    for flag, value in options.items():
        key = flag.lstrip("-").replace("-", "_")
        lines.append(f"{key} = {json.dumps(value)}")
    return "\n".join(lines) + "\n"


def test_the_flags_and_listen_toml_are_the_same_settings(tmp_path):
    """What the pane reads from listen.toml is what the CLI makes of the same flags, for
    every setting there is; both hand it to the same LiveSession."""
    import argparse
    from dataclasses import fields

    from tui_speech.commands import listen
    from tui_speech.config import ListenSettings, load_listen_settings

    parser = argparse.ArgumentParser()
    listen.add_parser(parser.add_subparsers())
    options = {**OPTIONS, "--model": "local/tiny", "--precision": "int8"}
    flags = [str(x) for kv in options.items() for x in kv]
    args = parser.parse_args(["listen", "--record", "--no-vad", "--itn", *flags])
    from_cli = listen.settings_from(args)
    listen_settings_path().parent.mkdir(parents=True, exist_ok=True)
    toml = listen_toml(options, record=True) + "vad = false\nitn = true\n"
    listen_settings_path().write_text(toml, encoding="utf-8")
    from_pane = load_listen_settings()
    assert from_pane == from_cli
    # Every setting was set away from its default, so none can be missing from either face.
    defaults = ListenSettings()
    unset = [f.name for f in fields(ListenSettings) if getattr(from_pane, f.name) == getattr(
        defaults, f.name)]  # fmt: skip
    assert unset == []


def test_a_mistake_in_listen_toml_is_reported_not_ignored():
    from tui_speech.config import load_listen_settings
    from tui_speech.errors import UsageError

    listen_settings_path().parent.mkdir(parents=True, exist_ok=True)
    for text, message in [
        ("windw = 4\n", "unknown setting 'windw'"),
        ('window = "4"\n', "window must be a float"),
        ("window = 0.5\n", "window must be at least 1 s"),
        ('draft = "on"\n', "draft must be one of auto, off"),
        ("record = 1\n", "record must be a bool"),
        ("window = [\n", "is not readable TOML"),
    ]:
        listen_settings_path().write_text(text, encoding="utf-8")
        with pytest.raises(UsageError, match=message):
            load_listen_settings()


def sessions(home: Path) -> set[Path]:
    return set((home / "data" / "sessions").glob("*.jsonl"))


def read_session(path: Path) -> tuple[dict, list[dict]]:
    head, *finals = (json.loads(line) for line in path.read_text("utf-8").splitlines())
    return head, finals


@pytest.mark.slow
async def test_both_faces_make_the_same_session_from_the_same_options(
    make_app,
    trained_model,
    phrase_clips,
    cli_env,
    isolated_home,
    tmp_path,
):
    clips = {p: phrase_clips[p] for p in PHRASES[:2]}
    wav = tmp_path / "two.wav"
    sf.write(wav, speech_with_pauses(clips, HOP), 16_000, subtype="PCM_16")
    # No model named in either face: both take the store's only ASR model (the default rule).
    model_id = register_model(trained_model)

    terms = tmp_path / "terms.txt"
    terms.write_text("学校\t2\n", encoding="utf-8")
    options = {**OPTIONS, "--hotwords": str(terms)}
    flags = [str(x) for kv in options.items() for x in kv]
    cli = subprocess.run(
        [sys.executable, "-m", "tui_speech", "listen", "--file", str(wav), "--realtime",
         "--record", "--itn", "--format", "jsonl", *flags],
        capture_output=True, env=cli_env, cwd=ROOT, timeout=300,
    )  # fmt: skip
    assert cli.returncode == 0, cli.stderr.decode()
    (from_cli,) = sessions(isolated_home)

    listen_settings_path().parent.mkdir(parents=True, exist_ok=True)
    toml = listen_toml(options, record=True) + "itn = true\n"
    listen_settings_path().write_text(toml, encoding="utf-8")
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f2")
        await settle(pilot)
        state = str(app.query_one("#listen-state", Static).visual)
        assert f"ASR model: {model_id}" in state  # what it says is what it will use
        pane = app.query_one(ListenPane)
        await pilot.press("f5")
        app.screen.query_one(Input).value = str(wav)
        await pilot.press("enter")
        await wait_until(pilot, lambda: pane.transcript is not None, timeout=180)
        await settle(pilot)
    (from_pane,) = sessions(isolated_home) - {from_cli}

    head_cli, finals_cli = read_session(from_cli)
    head_pane, finals_pane = read_session(from_pane)
    assert len(finals_cli) == 2 and all(f["text"] for f in finals_cli)  # one per phrase
    assert finals_pane == finals_cli  # text, times, every character's confidence
    same = ("type", "model", "source")
    assert {k: head_pane[k] for k in same} == {k: head_cli[k] for k in same}
    assert head_cli["model"] == model_id and head_cli["source"] == str(wav)
    # --record / record = true: both kept the audio, sample for sample.
    audio_cli, rate = sf.read(from_cli.with_suffix(".flac"), dtype="float32")
    audio_pane, _ = sf.read(from_pane.with_suffix(".flac"), dtype="float32")
    assert rate == 16_000 and len(audio_cli) > 16_000
    np.testing.assert_array_equal(audio_pane, audio_cli)


def broken_silero(root: Path) -> Path:
    """A silero-vad package without its model file, found before the real one."""
    package = root / "silero_vad"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    return root


async def test_without_a_vad_both_faces_stop_with_the_same_error(
    make_app,
    trained_model,
    cli_env,
    isolated_home,
    tmp_path,
    monkeypatch,
):
    wav = tmp_path / "quiet.wav"
    sf.write(wav, np.zeros(16_000, np.float32), 16_000, subtype="PCM_16")
    fake = broken_silero(tmp_path / "site")

    env = {**cli_env, "PYTHONPATH": str(fake)}
    cli = subprocess.run(
        [sys.executable, "-m", "tui_speech", "listen", "--model", str(trained_model),
         "--file", str(wav)],
        capture_output=True, env=env, cwd=ROOT, timeout=120,
    )  # fmt: skip
    err = cli.stderr.decode()
    assert cli.returncode == 3, err
    (line,) = err.strip().splitlines()
    assert line.startswith("tui-speech: error: voice activity detection is unavailable")
    assert line.endswith(" (--no-vad)")  # the fix, as the CLI's flag
    said = line.removeprefix("tui-speech: error: ").removesuffix(" (--no-vad)")

    monkeypatch.delitem(sys.modules, "silero_vad", raising=False)
    monkeypatch.syspath_prepend(str(fake))
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f2")
        app.query_one(ListenPane).model = str(trained_model)
        await pilot.press("f5")
        app.screen.query_one(Input).value = str(wav)
        await pilot.press("enter")
        await settle(pilot)
        errors = [n.message for n in app._notifications if n.severity == "error"]
        # The same reason and hint; the fix as the pane's setting.
        assert errors == [f"{said} (vad = false in listen.toml)"]
        assert "stopped" in str(app.query_one("#listen-status", Static).visual)
    assert not sessions(isolated_home)  # neither face left an empty session behind

    # With the VAD off (the flag, the setting) both listen, silence and all.
    r = subprocess.run(
        [sys.executable, "-m", "tui_speech", "listen", "--model", str(trained_model),
         "--file", str(wav), "--no-vad", "--format", "jsonl"],
        capture_output=True, env=env, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr.decode()
    listen_settings_path().parent.mkdir(parents=True, exist_ok=True)
    listen_settings_path().write_text("vad = false\n", encoding="utf-8")
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f2")
        pane = app.query_one(ListenPane)
        pane.model = str(trained_model)
        await pilot.press("f5")
        app.screen.query_one(Input).value = str(wav)
        await pilot.press("enter")
        await wait_until(pilot, lambda: pane.transcript is not None, timeout=120)
        await settle(pilot)
        assert not [n for n in app._notifications if n.severity == "error"]
