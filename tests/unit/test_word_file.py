"""The sorted word file: what is written is what is read, and a damaged file is refused."""

from __future__ import annotations

import json
from pathlib import Path

from tui_speech.tts import word_file
from tui_speech.tts.word_file import open_word_file, write_word_file

ENTRIES = {
    "read": {"DEFAULT": "ɹˈid", "VBD": "ɹˈɛd"},
    "Read": "ɹˈid",
    "lighthouse": "lˈIthˌWs",
    "银行": "in↗xa↗ŋ",
    "a": "ɐ",
    "": "empty key",
}


def _encode(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


def test_what_is_written_is_read_back(tmp_path: Path):
    path = tmp_path / "words.bin"
    write_word_file(path, ENTRIES, _encode, {"total": 7})
    words = open_word_file(path, json.loads)
    assert words is not None
    assert words.meta == {"total": 7}
    assert dict(words) == ENTRIES
    assert words["read"]["VBD"] == "ɹˈɛd" and words.get("银行") == "in↗xa↗ŋ"
    assert "Lighthouse" not in words and words.get("Lighthouse", "x") == "x"
    assert len(words) == len(ENTRIES)
    assert list(words) == sorted(ENTRIES, key=lambda k: k.encode())


def test_lookups_stay_right_past_the_memo_limit(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(word_file, "MEMO_LIMIT", 3)
    path = tmp_path / "words.bin"
    entries = {f"w{i:04d}": i for i in range(500)}
    write_word_file(path, entries, lambda n: b"%d" % n)
    words = open_word_file(path, int)
    assert words is not None
    for _ in range(2):
        assert all(words[w] == n for w, n in entries.items())
    assert len(words._memo) <= 3


def test_a_damaged_or_missing_file_is_refused(tmp_path: Path):
    path = tmp_path / "words.bin"
    assert open_word_file(path, json.loads) is None  # absent
    write_word_file(path, ENTRIES, _encode)
    whole = path.read_bytes()
    for damaged in (whole[: len(whole) // 2], whole + b"x", b"", b"tswords1" + b"\0" * 8,
                    b"notwords" + whole[8:]):  # fmt: skip
        path.write_bytes(damaged)
        assert open_word_file(path, json.loads) is None
