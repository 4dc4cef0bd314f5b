"""Shared fixtures: every test runs with its own TUI_SPEECH_HOME, never the user's folders."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# No per-CPU Kokoro measurement in the background of the test processes (it would crowd a
# small CI machine and, started by a session fixture, tune the shared model store for every
# later test); the tuning tests switch it back on. Set at import, before any fixture runs.
os.environ["TUI_SPEECH_TUNE"] = "0"
# Nor the voice-pause probe (tts.voice_pauses): a test's speech would change with whether an
# earlier synthesis had measured its voice. tests/unit/test_voice_pauses.py switches it on.
os.environ["TUI_SPEECH_PAUSES"] = "0"

#: Fixture modules every test can use by name, without importing them (helpers such as
#: ``write_wav`` are imported explicitly). One definition each, so a session fixture
#: (a trained model, the fake Hub's repos) is built once per run, not once per module.
pytest_plugins = [
    "tests.asr_fixtures",
    "tests.hub_fixtures",
    "tests.kokoro_fixtures",
    "tests.pulse_fixtures",
]


@pytest.fixture(scope="session")
def shared_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model store shared by the session, so the embedded model is assembled once."""
    return tmp_path_factory.mktemp("shared-home")


_SHARED_READY: set[Path] = set()


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared_models: Path) -> Path:
    """Point TUI_SPEECH_HOME at a fresh folder whose model store holds the embedded model."""
    home = tmp_path / "home"
    embedded = shared_models / "cache" / "models" / "embedded"
    # Once per session, whichever fixture touched the shared store first (the Whisper one
    # assembles only its own model there): every home must start from the same store.
    if shared_models not in _SHARED_READY:
        _SHARED_READY.add(shared_models)
        monkeypatch.setenv("TUI_SPEECH_HOME", str(shared_models))
        from tui_speech.hub.embedded import embedded_model_path
        from tui_speech.tts.durations import timed_model

        # Its timed copy too (tts.durations), so each test's home links it instead of copying.
        timed_model(embedded_model_path())
    target = home / "cache" / "models" / "embedded"
    target.parent.mkdir(parents=True)
    # Hard links keep the 90 MB model shared; the .verified marker matches (same inode).
    shutil.copytree(embedded, target, copy_function=os.link)
    monkeypatch.setenv("TUI_SPEECH_HOME", str(home))
    return home


@pytest.fixture
def cli_env(isolated_home: Path) -> dict[str, str]:
    """Environment for running the CLI as a subprocess in the isolated home."""
    env = dict(os.environ)
    env["TUI_SPEECH_HOME"] = str(isolated_home)
    env["PYTHONUNBUFFERED"] = "1"
    return env


@pytest.fixture
def cli(cli_env: dict[str, str]):
    """Run ``tui-speech ARGS`` as a user would (a subprocess); returns CompletedProcess (bytes)."""
    import subprocess

    def run(*args: str, stdin: bytes | None = None, timeout: float = 300):
        return subprocess.run(
            [sys.executable, "-m", "tui_speech", *args],
            input=stdin,
            capture_output=True,
            env=cli_env,
            timeout=timeout,
            cwd=ROOT,
        )

    return run
