"""asr.batch's plan: which files a folder gives and where their outputs go (no model needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui_speech.asr.batch import plan_inputs
from tui_speech.errors import UsageError


def touch(root: Path, *names: str) -> None:
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b"")


def test_folders_mirror_their_layout_and_shared_stems_keep_their_suffix(tmp_path: Path) -> None:
    touch(tmp_path, "talks/a/x.wav", "talks/b/x.wav", "talks/b/y.flac", "talks/b/y.wav")
    touch(tmp_path, "talks/notes.txt", "talks/.hidden.wav", "talks/b/deep/z.MP3")
    plan = plan_inputs([tmp_path / "talks"])
    assert [(i.key, i.stem) for i in plan] == [
        ("a/x.wav", "a/x"),
        ("b/deep/z.MP3", "b/deep/z"),
        ("b/x.wav", "b/x"),
        ("b/y.flac", "b/y.flac"),  # y.wav and y.flac would both write b/y.srt
        ("b/y.wav", "b/y.wav"),
    ]
    assert plan[0].output(tmp_path / "out", "srt") == tmp_path / "out" / "a" / "x.srt"


def test_files_and_folders_together_are_planned_once_under_their_common_folder(
    tmp_path: Path,
) -> None:
    touch(tmp_path, "one/x.wav", "two/x.wav", "two/sub/y.ogg")
    plan = plan_inputs([tmp_path / "one" / "x.wav", tmp_path / "two", tmp_path / "two/x.wav"])
    assert [i.stem for i in plan] == ["one/x", "two/sub/y", "two/x"]
    assert [i.stem for i in plan_inputs([tmp_path / "two"], glob="*.wav")] == ["x"]


def test_a_folder_without_audio_is_a_usage_error(tmp_path: Path) -> None:
    touch(tmp_path, "docs/readme.txt")
    with pytest.raises(UsageError, match="no audio files"):
        plan_inputs([tmp_path / "docs"])
