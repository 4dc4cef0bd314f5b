"""``tui-speech sessions list|show|export|rm``: the sessions ``listen`` wrote.

``list`` shows one line per session (id, start, length, utterances, the start of its text);
``show ID`` prints its utterances with their times; ``export ID --format srt|vtt|txt|json``
writes it through the same writers as ``transcribe``, with the same ``--punct``, ``--itn`` and
``--script`` (each utterance ends with its mark); ``rm ID`` deletes it and its recorded
audio; ``correct ID N OLD NEW`` writes NEW where utterance N says OLD, beside what was heard,
as the Listen pane's editor does. ``ID`` may be a unique prefix or ``last``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tui_speech.commands._common import add_written_options, written_options

EXPORT_FORMATS = ("txt", "json", "jsonl", "srt", "vtt")


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser("sessions", help="list, show, export and remove live sessions")
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    sub.add_parser("list", help="one line per session")
    show = sub.add_parser("show", help="a session's utterances with times")
    show.add_argument("id", metavar="ID", help="session id, a unique prefix, or 'last'")
    export = sub.add_parser("export", help="a session as txt, json, jsonl, srt or vtt")
    export.add_argument("id", metavar="ID", help="session id, a unique prefix, or 'last'")
    export.add_argument("--format", "-f", choices=EXPORT_FORMATS, default="txt")
    export.add_argument("-o", "--output", type=Path, default=None, help="file (default stdout)")
    add_written_options(export)
    rm = sub.add_parser("rm", help="delete a session and its recorded audio")
    rm.add_argument("id", metavar="ID", help="session id, a unique prefix, or 'last'")
    fix = sub.add_parser(
        "correct",
        help="write NEW where utterance N says OLD (kept beside what was heard; "
        "NEW = the heard text takes the correction back)",
    )
    fix.add_argument("id", metavar="ID", help="session id, a unique prefix, or 'last'")
    fix.add_argument("utterance", metavar="N", type=int, help="the utterance, 1 = the first")
    fix.add_argument("old", metavar="OLD", help="the text to replace, as written now")
    fix.add_argument("new", metavar="NEW", help="what it should say ('' deletes it)")
    return p


def _clock(seconds: float) -> str:
    m, s = divmod(seconds, 60)
    return f"{int(m):02d}:{s:05.2f}"


def run(args: argparse.Namespace) -> int:
    from tui_speech.asr.sessions import delete_session, final_text, find_session, list_sessions
    from tui_speech.config import get_paths

    folder = get_paths().sessions
    if args.action == "list":
        sessions = list_sessions(folder)
        if not sessions:
            print("no sessions yet; `tui-speech listen` starts one", file=sys.stderr)
            return 0
        print(f"{'ID':<20} {'STARTED':<21} {'LENGTH':>8} {'UTTS':>5}  TEXT")
        for s in sessions:
            text = s.text if len(s.text) <= 30 else s.text[:29] + "…"
            audio = " [audio]" if s.audio else ""
            audio += f" [{s.corrected} corrected]" if s.corrected else ""
            print(
                f"{s.id:<20} {s.started:<21} {_clock(s.duration):>8} {len(s.finals):>5}  "
                f"{text}{audio}"
            )
        return 0
    info = find_session(folder, args.id)
    if args.action == "rm":
        removed = delete_session(info)
        n = len(info.finals)
        audio = " and its audio" if any(p.suffix == ".flac" for p in removed) else ""
        plural = "" if n == 1 else "s"
        print(f"deleted session {info.id} ({n} utterance{plural}{audio})", file=sys.stderr)
        return 0
    if args.action == "correct":
        from tui_speech.asr.corrections import correct_text

        correct_text(info.path, args.utterance - 1, args.old, args.new)
        print(final_text(find_session(folder, info.id).finals[args.utterance - 1]))
        return 0
    if args.action == "show":
        print(f"session {info.id} · started {info.started} · {info.source} · {info.model}")
        for f in info.finals:
            # As written: the user's corrections (Listen pane, enter) over what was heard.
            print(f"[{_clock(float(f['t0']))} → {_clock(float(f['t1']))}] {final_text(f)}")
        return 0
    from tui_speech.asr.formats import render_session

    text = render_session(info, args.format, written_options(args))
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text, encoding="utf-8")
    return 0
