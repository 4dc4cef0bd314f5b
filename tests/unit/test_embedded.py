"""The embedded Kokoro model: assembled once, verified, rebuilt when damaged, never used corrupt."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tui_speech.errors import ModelMissingError
from tui_speech.fileio import sha256_file
from tui_speech.hub import embedded


def _fresh_store(home: Path) -> Path:
    """Drop the hard-linked copy the fixture made, so this test assembles its own."""
    folder = home / "cache" / "models" / "embedded"
    for path in sorted(folder.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    return folder


def test_first_use_assembles_a_verified_model_and_later_uses_reuse_it(isolated_home: Path):
    _fresh_store(isolated_home)
    path = embedded.embedded_model_path()
    assert path.is_relative_to(isolated_home)
    assert sha256_file(path) == embedded.expected_sha256()
    marker = json.loads(path.with_name(path.name + ".verified").read_text())
    assert marker["sha256"] == embedded.expected_sha256()
    mtime = path.stat().st_mtime_ns
    assert embedded.embedded_model_path() == path
    assert path.stat().st_mtime_ns == mtime  # reused, not rewritten


def test_a_truncated_model_is_detected_and_rebuilt(isolated_home: Path):
    _fresh_store(isolated_home)
    path = embedded.embedded_model_path()
    data = path.read_bytes()
    path.unlink()  # never write through the shared inode
    path.write_bytes(data[: len(data) // 2])
    rebuilt = embedded.embedded_model_path()
    assert sha256_file(rebuilt) == embedded.expected_sha256()


def test_a_model_with_flipped_bytes_and_no_marker_is_rebuilt(isolated_home: Path):
    _fresh_store(isolated_home)
    path = embedded.embedded_model_path()
    data = bytearray(path.read_bytes())
    data[1000] ^= 0xFF
    path.unlink()
    path.write_bytes(bytes(data))
    path.with_name(path.name + ".verified").unlink()
    assert sha256_file(embedded.embedded_model_path()) == embedded.expected_sha256()


def test_parts_that_do_not_match_the_hash_leave_nothing_behind(tmp_path: Path):
    target = tmp_path / "store" / "model.onnx"
    with pytest.raises(ModelMissingError, match="corrupted"):
        embedded.assemble(target, "0" * 64)
    assert list(target.parent.iterdir()) == []
