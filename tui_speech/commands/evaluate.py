"""``tui-speech evaluate --data DIR --model M``: CER, confusions and calibration on a split.

Transcripts are normalised as for training (see ``tui_speech.asr.normalize``); rows that fail
validation (missing audio, ...) or are listed in ``DIR/rejects.tsv`` are left out and counted.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "evaluate",
        help="character error rate, confusions and calibration of a model on a dataset",
        description="Transcribe a dataset split and score it: CER, the most confused "
        "characters, and mean confidence against accuracy per confidence bin.",
    )
    p.add_argument("--data", type=Path, required=True, help="dataset folder")
    p.add_argument("--split", default=None, help="train, dev or test (default: test, else dev)")
    p.add_argument("--model", default=None, help="repo id (local/NAME too) or model directory")
    p.add_argument("--backend", choices=("torch", "onnx"), default="torch")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--threads", type=int, default=None, help="CPU threads (default: all)")
    return p


def run(args: argparse.Namespace) -> int:
    from tui_speech.asr.dataset import open_dataset
    from tui_speech.asr.dataset_check import check_split
    from tui_speech.asr.evaluate import evaluate, format_report, recognizer_transcriber
    from tui_speech.asr.recognizer import Recognizer
    from tui_speech.audio.reader import read_audio
    from tui_speech.errors import UsageError

    dataset = open_dataset(args.data)
    split = args.split or next((s for s in ("test", "dev") if s in dataset.splits()), "train")
    recognizer = Recognizer.load(args.model, backend=args.backend, threads=args.threads)
    # Characters the model lacks stay in the reference: they are errors it makes.
    report = check_split(dataset, split, recognizer.info, new_chars="unk")
    if not report.good:
        raise UsageError(f"{dataset.root}: the {split} split has no usable clips")
    if report.problems:
        print(
            f"tui-speech: {len(report.problems)} rows skipped (run `tui-speech dataset validate "
            f"{args.data}` for the list)",
            file=sys.stderr,
        )
    examples = ((read_audio(e.row.path), e.text) for e in report.good)
    delimiter = recognizer.info.vocab[recognizer.info.delimiter_id or 0]
    result = evaluate(examples, recognizer_transcriber(recognizer), delimiter)
    if args.json:
        payload = {"model": recognizer.info.name, "data": str(dataset.root), "split": split}
        print(json.dumps({**payload, **result.to_dict()}, ensure_ascii=False, indent=2))
    else:
        print(f"{recognizer.info.name} on {dataset.root.name} ({split})")
        print(format_report(result))
    return 0
