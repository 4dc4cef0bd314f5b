"""Temp files of atomic writes: a Ctrl+C at any moment leaves none behind."""

from __future__ import annotations

import os
import signal
import tempfile
from pathlib import Path

import numpy as np
import pytest

from tui_speech import fileio
from tui_speech.audio.writer import AudioFileWriter


@pytest.fixture()
def ctrl_c_once_made(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Ctrl+C that arrives just after the temp file exists, before its maker returns (where
    `speak -o FILE` was interrupted in CI and left a .part file)."""
    real = tempfile.mkstemp

    def mkstemp(*args: object, **kwargs: object) -> tuple[int, str]:
        made = real(*args, **kwargs)  # type: ignore[call-overload]
        os.kill(os.getpid(), signal.SIGINT)
        return made

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)


def test_a_ctrl_c_while_a_temp_file_is_made_leaves_nothing(
    tmp_path: Path, ctrl_c_once_made
) -> None:
    tmp_path = tmp_path / "out"  # (the test's home is beside it)
    tmp_path.mkdir()
    with pytest.raises(KeyboardInterrupt):
        fileio.new_part_file(tmp_path / "take.wav")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(KeyboardInterrupt):
        AudioFileWriter(tmp_path / "take.wav", 24_000)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(KeyboardInterrupt), fileio.atomic_writer(tmp_path / "notes.json") as f:
        f.write(b"{}")
    assert list(tmp_path.iterdir()) == []


def test_a_writer_renames_its_part_file_into_place(tmp_path: Path) -> None:
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    with AudioFileWriter(tmp_path / "take.wav", 24_000) as writer:
        writer.write(np.zeros(2_400, np.float32))
    assert [p.name for p in tmp_path.iterdir()] == ["take.wav"]
    mask = os.umask(0)
    os.umask(mask)
    assert (tmp_path / "take.wav").stat().st_mode & 0o777 == 0o666 & ~mask
