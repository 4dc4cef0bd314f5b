"""``tui-speech sessions list|show|export`` on a session ``listen`` wrote."""

from __future__ import annotations

import json

from tests.asr_models import PHRASES
from tests.cli.test_listen_cli import listen_args, s16, speech


def test_list_show_and_export_a_session(cli, trained_model, phrase_clips, tmp_path) -> None:
    assert cli("sessions", "list").stderr.decode().startswith("no sessions yet")
    r = cli(*listen_args(trained_model, "--stdin"), stdin=s16(speech(phrase_clips, n=2)))
    assert r.returncode == 0, r.stderr.decode()

    listing = cli("sessions", "list").stdout.decode().splitlines()
    assert listing[0].startswith("ID") and len(listing) == 2
    sid = listing[1].split()[0]
    assert listing[1].rstrip().endswith("".join(PHRASES[:2]))

    shown = cli("sessions", "show", sid[:10]).stdout.decode().splitlines()
    assert shown[0].startswith(f"session {sid}")
    assert [line.split("] ")[1] for line in shown[1:]] == list(PHRASES[:2])

    srt = cli("sessions", "export", sid, "--format", "srt").stdout.decode()
    assert srt.startswith("1\n00:00:01,") and f"\n{PHRASES[1]}。\n" in srt and "\n2\n" in srt
    vtt = cli("sessions", "export", "last", "-f", "vtt").stdout.decode()
    assert vtt.startswith("WEBVTT") and PHRASES[0] in vtt
    out = tmp_path / "s.json"
    assert cli("sessions", "export", sid, "-f", "json", "-o", str(out)).returncode == 0
    data = json.loads(out.read_text())
    assert data["text"] == f"{PHRASES[0]} {PHRASES[1]}"  # as heard; and as written:
    assert data["written"] == f"{PHRASES[0]}。{PHRASES[1]}。"
    assert data["chars"][0]["alternatives"]
    txt = cli("sessions", "export", sid, "-f", "txt").stdout.decode()
    assert txt == f"{PHRASES[0]}。{PHRASES[1]}。\n"

    missing = cli("sessions", "show", "nope")
    assert missing.returncode == 2 and "no session 'nope'" in missing.stderr.decode()


def test_rm_deletes_a_session_and_its_audio(cli, trained_model, phrase_clips) -> None:
    from tui_speech.asr.sessions import SessionWriter
    from tui_speech.config import get_paths

    audio = s16(speech(phrase_clips, n=1))
    r = cli(*listen_args(trained_model, "--stdin", "--record"), stdin=audio)
    assert r.returncode == 0, r.stderr.decode()
    folder = get_paths().sessions
    (heard,) = folder.glob("*.jsonl")
    assert heard.with_suffix(".flac").is_file()
    other = SessionWriter(folder, "m", "stdin", sid="20990101-000000")  # the newest
    other.add_final("你好", 0.0, 0.5, ())
    other.close()

    for wrong, message in [("nope", "no session 'nope'"), ("2", "'2' matches 2 sessions")]:
        r = cli("sessions", "rm", wrong)
        err = r.stderr.decode()
        assert r.returncode == 2 and message in err and len(err.strip().splitlines()) == 1
    assert len(list(folder.iterdir())) == 3  # nothing was removed

    r = cli("sessions", "rm", heard.stem[:13])  # a unique prefix
    assert r.returncode == 0 and not r.stdout
    assert r.stderr.decode() == f"deleted session {heard.stem} (1 utterance and its audio)\n"
    assert sorted(p.name for p in folder.iterdir()) == ["20990101-000000.jsonl"]

    r = cli("sessions", "rm", "last")
    assert r.returncode == 0
    assert r.stderr.decode() == "deleted session 20990101-000000 (1 utterance)\n"
    assert cli("sessions", "list").stderr.decode().startswith("no sessions yet")


def test_last_is_the_newest_of_two_sessions_started_in_one_second(cli) -> None:
    from tui_speech.asr.sessions import SessionWriter
    from tui_speech.config import get_paths

    for sid, text in [("20990101-000000", "你好"), ("20990101-000000-2", "再见")]:
        w = SessionWriter(get_paths().sessions, "m", "stdin", sid=sid)  # new_session_id's ids
        w.add_final(text, 0.0, 0.5, ())
        w.close()
    listing = cli("sessions", "list").stdout.decode().splitlines()
    assert [line.split()[0] for line in listing[1:]] == ["20990101-000000", "20990101-000000-2"]
    assert cli("sessions", "show", "last").stdout.decode().endswith("] 再见\n")
