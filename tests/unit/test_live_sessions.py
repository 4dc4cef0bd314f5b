"""Session files: appended as finals happen, readable after a torn write, found by prefix."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from tui_speech.asr.ctc import CharResult
from tui_speech.asr.sessions import (
    SessionWriter,
    find_session,
    list_sessions,
    session_cues,
    session_transcript,
)
from tui_speech.errors import UsageError

CHARS = (
    CharResult("你", 1.0, 1.02, 0.9, 0.8, (("我", 0.05),)),
    CharResult("好", 1.4, 1.42, 0.7, 0.6),
)


def test_finals_are_on_disk_at_once_and_a_torn_last_line_is_skipped(tmp_path) -> None:
    w = SessionWriter(tmp_path, "m", "stdin", record=True, sid="s1")
    w.add_audio(np.zeros(16_000, np.float32))
    w.add_final("你好", 0.8, 1.6, CHARS)
    # Readable before close, as after a crash; a half-written line (kill mid-write) is ignored.
    with open(w.path, "a", encoding="utf-8") as f:
        f.write('{"type": "final", "text": "半')
    (info,) = list_sessions(tmp_path)
    assert info.id == "s1" and info.text == "你好" and info.duration == 1.6
    w.close()
    assert sf.info(str(tmp_path / "s1.flac")).frames == 16_000
    t = session_transcript(find_session(tmp_path, "s"))
    assert t.text == "你好" and t.chars[0].alternatives == (("我", 0.05),)
    assert [c.text for c in session_cues(info)] == ["你好"]  # one cue per utterance


def test_an_empty_session_leaves_no_file_and_unknown_ids_are_explained(tmp_path) -> None:
    SessionWriter(tmp_path, "m", "stdin", sid="empty").close()
    assert list_sessions(tmp_path) == []
    for sid in ("a", "b"):
        w = SessionWriter(tmp_path, "m", "stdin", sid=f"x-{sid}")
        w.add_final("好", 0, 1, CHARS[1:])
        w.close()
    with pytest.raises(UsageError, match="matches 2 sessions"):
        find_session(tmp_path, "x-")
    with pytest.raises(UsageError, match="no session 'zz'"):
        find_session(tmp_path, "zz")
    assert find_session(tmp_path, "last").id == "x-b"
