"""Session fixtures for the embedded Whisper: assembled once into the session's shared store
(tests/conftest.py hard-links that store's ``embedded`` folder into every test's home, so each
test then finds it verified and reused), and loaded once."""

from __future__ import annotations

from pathlib import Path

import pytest

__all__ = ["whisper_store", "whisper"]


@pytest.fixture(scope="session")
def whisper_store(shared_models: Path) -> Path:
    """The shared store with the embedded Kokoro and the embedded Whisper assembled."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TUI_SPEECH_HOME", str(shared_models))
        from tui_speech.hub.embedded import embedded_model_path, embedded_whisper_dir

        embedded_model_path()  # the Kokoro first: conftest assembles it only if none is there
        return embedded_whisper_dir()


@pytest.fixture(scope="session")
def whisper(whisper_store: Path):
    """The embedded recogniser, loaded once (two threads, as on a small CI machine)."""
    from tui_speech.asr.whisper import WhisperRecognizer

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TUI_SPEECH_HOME", str(whisper_store.parents[3]))
        return WhisperRecognizer.load(threads=2)
