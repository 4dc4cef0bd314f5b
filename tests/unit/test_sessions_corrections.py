"""Corrections in a session file: stored beside what was heard, read back as written, undone,
written atomically, and refused while the session is still being recorded."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tui_speech.asr.corrections import correct, sessions_dataset, set_corrections
from tui_speech.asr.ctc import CharResult
from tui_speech.asr.sessions import SessionWriter, find_session, session_cues, session_transcript
from tui_speech.errors import UsageError


def heard(text: str, t: float) -> tuple[CharResult, ...]:
    return tuple(
        CharResult(ch, t + 0.2 * i, t + 0.2 * i + 0.1, 0.5, 0.4, (("天", 0.3),))
        for i, ch in enumerate(text)
    )


def session(folder, record: bool = False, sid: str = "s1"):
    w = SessionWriter(folder, "m", "stdin", record=record, sid=sid)
    if record:
        w.add_audio(np.zeros(16_000 * 4, np.float32))
    w.add_final("今天汽很好", 0.9, 2.0, heard("今天汽很好", 1.0))
    w.add_final("我们去学校", 2.4, 3.5, heard("我们去学校", 2.5))
    w.close()
    return w.path


def test_a_correction_is_stored_beside_the_heard_chars_and_read_as_written(tmp_path) -> None:
    path = session(tmp_path)
    assert correct(path, 0, 2, 3, "天气") == ()  # nothing corrected before
    record = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()][1]
    # What the model heard is untouched; the correction names its run of heard characters.
    assert record["text"] == "今天汽很好" and len(record["chars"]) == 5
    assert record["corrections"] == [{"start": 2, "end": 3, "text": "天气"}]

    info = find_session(tmp_path, "s1")
    assert info.text == "今天天气很好我们去学校" and info.corrected == 1
    t = session_transcript(info)
    assert t.text == "今天天气很好 我们去学校"
    # The written characters share the replaced character's time; the others keep theirs.
    two = [c for c in t.chars if c.t0 >= 1.4 and c.t1 <= 1.5 + 1e-9]
    assert [c.char for c in two] == ["天", "气"] and two[0].confidence == 1.0
    assert two[0].t0 == pytest.approx(1.4) and two[1].t1 == pytest.approx(1.5)
    assert [c.text for c in session_cues(info)] == ["今天天气很好", "我们去学校"]

    # A second correction over a run that holds the first replaces it; undo brings it back.
    before = correct(path, 0, 1, 4, "天天气很")
    assert find_session(tmp_path, "s1").text.startswith("今天天气很好")
    set_corrections(path, 0, before)
    assert find_session(tmp_path, "s1").text.startswith("今天天气很好")
    assert json.loads(path.read_text().splitlines()[1])["corrections"] == [
        {"start": 2, "end": 3, "text": "天气"}
    ]
    # Writing back what was heard removes the correction; a run cutting one in half is refused.
    correct(path, 0, 2, 4, "天气很")
    with pytest.raises(UsageError, match="cuts through a correction"):
        correct(path, 0, 3, 5, "x")
    correct(path, 0, 2, 4, "汽很")
    assert "corrections" not in json.loads(path.read_text().splitlines()[1])


def test_a_run_named_by_its_text_keeps_the_rest_of_a_correction(tmp_path) -> None:
    from tui_speech.asr.corrections import correct_text

    path = session(tmp_path)
    correct(path, 0, 2, 4, "天气真")  # 汽很 -> 天气真
    # 真 lies inside that correction: the rest of it stays as written.
    correct_text(path, 0, "真", "很")
    assert find_session(tmp_path, "s1").finals[0]["corrections"] == [
        {"start": 2, "end": 4, "text": "天气很"}
    ]
    with pytest.raises(UsageError, match="is there 2 times"):
        correct_text(path, 0, "天", "x")
    with pytest.raises(UsageError, match="has no utterance 3"):
        correct_text(path, 2, "我", "x")


def test_a_crash_mid_write_leaves_the_old_file(tmp_path, monkeypatch) -> None:
    path = session(tmp_path / "sessions")
    correct(path, 1, 0, 1, "你")
    old = path.read_bytes()
    import tui_speech.fileio as fileio

    def crash(*_args):
        raise KeyboardInterrupt  # the process dies between writing the new file and renaming

    monkeypatch.setattr(fileio.os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        correct(path, 0, 0, 1, "明")
    assert path.read_bytes() == old
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left behind


def test_a_session_still_being_recorded_is_not_rewritten(tmp_path) -> None:
    w = SessionWriter(tmp_path, "m", "stdin", sid="live")
    w.add_final("你好", 0.0, 1.0, heard("你好", 0.1))
    with pytest.raises(UsageError, match="still being recorded"):
        correct(w.path, 0, 0, 1, "您")
    w.add_final("再见", 1.0, 2.0, heard("再见", 1.1))  # the writer goes on unharmed
    w.close()
    correct(w.path, 0, 0, 1, "您")
    assert find_session(tmp_path, "live").text == "您好再见"


def test_only_corrected_utterances_of_recorded_sessions_become_clips(tmp_path) -> None:
    import soundfile as sf

    folder = tmp_path / "sessions"
    correct(session(folder, record=True, sid="rec"), 0, 2, 3, "天气")
    correct(session(folder, sid="plain"), 0, 2, 3, "天气")
    session(folder, record=True, sid="untouched")
    sessions = [find_session(folder, s) for s in ("plain", "rec", "untouched")]
    result = sessions_dataset(sessions, tmp_path / "data")
    assert (result.clips, result.used, result.no_audio) == (1, ("rec",), ("plain",))
    assert "plain" in result.skipped_line() and "1 without corrections" in result.skipped_line()
    rows = (tmp_path / "data" / "transcripts.tsv").read_text(encoding="utf-8").splitlines()
    assert rows == ["clips/rec-0001.wav\t今天天气很好"]
    clip = sf.info(str(tmp_path / "data" / "clips" / "rec-0001.wav"))
    # The utterance's stretch of the recording (0.9-2.0 s) and a little either side.
    assert clip.samplerate == 16_000 and clip.duration == pytest.approx(1.1 + 0.2, abs=0.01)
    with pytest.raises(UsageError, match="not empty"):
        sessions_dataset([find_session(folder, "rec")], tmp_path / "data")
    with pytest.raises(UsageError, match="recorded without audio"):
        sessions_dataset([find_session(folder, "plain")], tmp_path / "other")


def test_a_corrected_session_exports_what_was_heard_and_the_correction_as_written(
    tmp_path,
) -> None:
    from tui_speech.asr.formats import render_session as export_text
    from tui_speech.asr.written import AS_HEARD, WrittenOptions

    w = SessionWriter(tmp_path, "m", "stdin", sid="s1")
    w.add_final("今天汽很好", 0.9, 2.0, heard("今天汽很好", 1.0))
    w.add_final("我们三点见", 2.4, 3.5, heard("我们三点见", 2.5))
    w.close()
    correct(w.path, 0, 2, 3, "天气")  # 汽 -> 天气
    correct(w.path, 1, 1, 2, "")  # 们 deleted
    info = find_session(tmp_path, "s1")
    model = heard("今天汽很好", 1.0) + (None,) + heard("我们三点见", 2.5)

    options = WrittenOptions(itn=True, script="tw")
    data = json.loads(export_text(info, "json", options))
    # What the model heard, with its confidences and times, not the user's text.
    assert data["text"] == "今天汽很好 我们三点见"
    for c, m in zip(data["chars"], model, strict=True):
        if m is not None:
            assert (c["char"], c["confidence"]) == (m.char, 0.5)
            assert (c["t0"], c["t1"]) == pytest.approx((m.t0, m.t1))
    # Written: marks, digits and Taiwan script around the user's text, which is converted too.
    assert data["written"] == "今天天氣很好。我3點見。"
    assert export_text(info, "txt", options) == "今天天氣很好。我3點見。\n"
    fixes = [s for s in data["spans"] if s.get("corrected")]
    # Each correction is one span over the model's characters it replaced, at their times;
    # its confidence is the user's (1.0), the model's stays in chars.
    assert fixes == [
        {"text": "天氣", "t0": 1.4, "t1": 1.5, "confidence": 1.0, "heard": "汽", "chars": [2],
         "corrected": True},
        {"text": "", "t0": 2.7, "t1": 2.8, "confidence": 1.0, "heard": "们", "chars": [7],
         "corrected": True},
    ]  # fmt: skip
    three = next(s for s in data["spans"] if s["text"] == "3")
    assert (three["heard"], three["chars"], three["confidence"]) == ("三", [8], 0.5)
    for s in data["spans"]:  # every span points at what it came from
        assert s["heard"] == "".join(data["chars"][i]["char"] for i in s["chars"])

    # As heard, the two characters the user wrote over 汽 are still one span.
    plain = json.loads(export_text(info, "json", AS_HEARD))
    assert plain["written"] == "今天天气很好 我三点见"
    assert [s["text"] for s in plain["spans"] if s.get("corrected")] == ["天气", ""]
