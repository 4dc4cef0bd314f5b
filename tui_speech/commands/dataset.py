"""``tui-speech dataset validate|synth|from-sessions``: check a dataset against a model; make
synthetic data; turn corrected live sessions into data.

``validate DIR --model M`` checks every split (or ``--split``) and prints one line per problem
with the split file's line number, then a summary; it exits 1 when a problem remains. ``--fix``
adds the bad rows to ``DIR/rejects.tsv``, which training and evaluation then leave out.

``synth --text lines.txt -o DIR`` renders each line with the embedded Kokoro over ``--voices``
and ``--speeds`` into a dataset (16 kHz clips, ``transcripts.tsv`` and a ``dev.tsv``).

``from-sessions IDS... -o DIR`` (or ``--all``) writes the utterances corrected in the Listen
pane, from sessions recorded with audio (``listen --record``), as a dataset: each utterance's
stretch of the recording and the text as corrected. ``finetune --data DIR`` takes it as it is.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tui_speech.errors import UsageError


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "dataset",
        help="validate a speech dataset, or synthesise one from text",
        description="Datasets for fine-tuning: a folder with transcripts.tsv (path<TAB>text) "
        "or the Common Voice layout (clips/ + train.tsv, dev.tsv, test.tsv).",
    )
    sub = p.add_subparsers(dest="dataset_command", metavar="ACTION", required=True)
    v = sub.add_parser("validate", help="report rows a model cannot train on, by line number")
    v.add_argument("data", metavar="DIR", type=Path)
    v.add_argument("--model", default=None, help="repo id or directory whose vocabulary to use")
    v.add_argument("--split", default=None, help="train, dev or test (default: every split)")
    v.add_argument("--fix", action="store_true", help="add bad rows to DIR/rejects.tsv")
    v.add_argument(
        "--new-chars",
        choices=("reject", "extend", "unk"),
        default="reject",
        help="characters not in the vocabulary: a problem (reject), or allowed as fine-tuning "
        "will extend the vocabulary or map them to <unk>",
    )
    v.add_argument("--min-seconds", type=float, default=0.3, help="shortest clip (default 0.3)")
    v.add_argument("--max-seconds", type=float, default=30.0, help="longest clip (default 30)")
    s = sub.add_parser("synth", help="render lines of text with Kokoro into a dataset")
    s.add_argument("--text", type=Path, required=True, help="UTF-8 file, one phrase a line")
    s.add_argument("-o", "--output", type=Path, required=True, help="new dataset folder")
    s.add_argument(
        "--voices",
        default="jf_alpha",
        help="voices, comma-separated (blends a:0.5,b:0.5; several blends: ';' between)",
    )
    s.add_argument("--speeds", default="1.0", help="comma-separated speeds (default 1.0)")
    s.add_argument("--noise", type=float, default=None, metavar="SNR", help="white noise, dB SNR")
    s.add_argument("--reverb", action="store_true", help="add a synthetic room")
    s.add_argument("--dev-every", type=int, default=5, help="every Nth line also goes to dev")
    s.add_argument("--seed", type=int, default=0)
    fs = sub.add_parser(
        "from-sessions",
        help="the utterances corrected in live sessions (recorded with audio) as a dataset",
    )
    fs.add_argument("ids", metavar="ID", nargs="*", help="session ids, unique prefixes or 'last'")
    fs.add_argument("--all", action="store_true", help="every session with corrections")
    fs.add_argument("-o", "--output", type=Path, required=True, help="new dataset folder")
    return p


def run(args: argparse.Namespace) -> int:
    if args.dataset_command == "synth":
        return _synth(args)
    if args.dataset_command == "from-sessions":
        return _from_sessions(args)
    return _validate(args)


def _validate(args: argparse.Namespace) -> int:
    from tui_speech.asr.dataset import open_dataset, write_rejects
    from tui_speech.asr.dataset_check import check_split
    from tui_speech.asr.model import find_model

    dataset = open_dataset(args.data)
    info = find_model(args.model)
    splits = [args.split] if args.split else list(dataset.splits())
    remaining = 0
    for split in splits:
        report = check_split(
            dataset, split, info, args.new_chars, args.min_seconds, args.max_seconds
        )
        for problem in report.problems:
            print(problem)
        counts = ", ".join(f"{n} {k}" for k, n in sorted(report.counts().items()))
        line = (
            f"{split}: {len(report.good)} good clips ({report.seconds / 60:.1f} min), "
            f"{len(report.problems)} with problems" + (f" ({counts})" if counts else "")
        )
        if report.new_chars:
            line += f"; {len(report.new_chars)} new characters: {''.join(report.new_chars[:40])}"
        print(line, file=sys.stderr)
        if report.counts().get("vocab") and args.new_chars == "reject":
            print(
                f"{split}: `finetune --new-chars extend` (the default) learns the missing "
                "characters; validate with --new-chars extend to allow them",
                file=sys.stderr,
            )
        if args.fix and report.problems:
            path = write_rejects(dataset.root, [(p.row, p.kind) for p in report.problems])
            print(f"{split}: {len(report.problems)} rows added to {path}", file=sys.stderr)
        elif report.problems:
            remaining += len(report.problems)
    if remaining:
        print(
            f"{remaining} rows need attention; --fix leaves them out of training",
            file=sys.stderr,
        )
        return 1
    return 0


def _floats(value: str, flag: str) -> list[float]:
    try:
        out = [float(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise UsageError(f"{flag} {value}: give comma-separated numbers, e.g. 0.9,1.1") from None
    if not out:
        raise UsageError(f"{flag}: give at least one value")
    return out


def parse_voices(value: str) -> list[str]:
    """``--voices``: names separated by commas, or by ``;`` when the voices are blends.

    With commas only, parts holding ``:`` join into one blend (``a:0.5,b:0.5`` is one voice,
    as ``speak --voice`` reads it); ``a:0.5,b:0.5;c`` is a blend and a plain voice.
    """
    if ";" in value:
        return [v.strip() for v in value.split(";") if v.strip()]
    merged: list[str] = []
    for v in (v.strip() for v in value.split(",")):
        if not v:
            continue
        if ":" in v and merged and ":" in merged[-1]:
            merged[-1] += f",{v}"
        else:
            merged.append(v)
    if not merged:
        raise UsageError("--voices: give at least one voice")
    return merged


def _synth(args: argparse.Namespace) -> int:
    from tui_speech.asr.synth_data import read_lines, synthesize_dataset

    lines = read_lines(args.text)
    voices = parse_voices(args.voices)
    speeds = _floats(args.speeds, "--speeds")
    seconds = 0.0
    for clip in synthesize_dataset(
        lines, args.output, voices, speeds, args.noise, args.reverb, args.dev_every, args.seed
    ):
        seconds += clip.seconds
        print(
            f"[{clip.index}/{clip.total}] {clip.path.name} {clip.seconds:.1f} s "
            f"{clip.voice} x{clip.speed:g} ({clip.split}): {clip.text}",
            file=sys.stderr,
        )
    print(f"{args.output}: {seconds / 60:.1f} min of audio", file=sys.stderr)
    return 0


def _from_sessions(args: argparse.Namespace) -> int:
    from tui_speech.asr.corrections import sessions_dataset
    from tui_speech.asr.sessions import find_session, list_sessions
    from tui_speech.config import get_paths

    folder = get_paths().sessions
    if args.all == bool(args.ids):
        raise UsageError("give session ids, or --all for every session with corrections")
    sessions = list_sessions(folder) if args.all else [find_session(folder, i) for i in args.ids]
    if not sessions:
        raise UsageError("no sessions yet; `tui-speech listen --record` starts one with audio")
    result = sessions_dataset(sessions, args.output)
    if result.skipped_line():
        print(result.skipped_line(), file=sys.stderr)
    print(
        f"{result.folder}: {result.clips} corrected utterances ({result.seconds:.1f} s) from "
        f"{len(result.used)} session(s); `tui-speech finetune --data {result.folder}` trains on "
        "them",
        file=sys.stderr,
    )
    return 0
