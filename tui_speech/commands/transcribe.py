"""``tui-speech transcribe FILE...``: Mandarin speech to text with per-character confidence.

Text goes to stdout unless ``-o`` names a file (one input) or a directory (several inputs, or
an existing directory): there each input gets ``<stem>.<format>``. The format comes from
``--format``, else from the suffix of ``-o``, else txt. A bad file is reported in one line and
the others are still transcribed; the exit status is non-zero if any failed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tui_speech.asr.model import DEFAULT_MODEL  # light: no numpy, no model
from tui_speech.commands._common import print_error
from tui_speech.errors import TuiSpeechError, UsageError

FORMATS = ("txt", "json", "jsonl", "srt", "vtt")
PRECISIONS = ("fp32", "bf16", "int8", "fp16")
#: Files at least this long get a progress bar (when stderr is a terminal).
PROGRESS_MIN_SECONDS = 20.0


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "transcribe",
        help="transcribe audio files (Mandarin, wav2vec2 CTC)",
        description="Transcribe audio files with per-character timing, confidence and "
        "alternatives. Any format soundfile reads, any rate and channel count.",
    )
    p.add_argument("files", nargs="+", metavar="FILE", type=Path)
    p.add_argument(
        "--model",
        default=None,
        help=f"repo id or directory (default: {DEFAULT_MODEL} if it is in the store, "
        "else the first ASR model there)",
    )
    p.add_argument(
        "--backend",
        choices=("auto", "torch", "onnx"),
        default="auto",
        help="inference backend; auto takes onnx when the model has an ONNX export",
    )
    p.add_argument("--format", "-f", choices=FORMATS, default=None, help="output format")
    p.add_argument("-o", "--output", type=Path, default=None, help="output file or directory")
    p.add_argument(
        "--alternatives",
        "-k",
        type=int,
        default=3,
        metavar="K",
        help="alternative characters kept per character (default 3)",
    )
    p.add_argument(
        "--beam",
        type=int,
        default=0,
        metavar="WIDTH",
        help="beam search of this width with pyctcdecode (default: greedy)",
    )
    p.add_argument(
        "--precision",
        choices=PRECISIONS,
        default="fp32",
        help="fp32 (exact); bf16: torch autocast, ~1.5x faster on CPUs with AVX512-BF16/AMX; "
        "int8/fp16: the ONNX variants `models export ID --quantize` builds (int8 ~2x faster "
        "than fp32 ONNX on CPU, small accuracy cost)",
    )
    p.add_argument("--threads", type=int, default=None, help="CPU threads (default: all)")
    p.add_argument(
        "--chunk",
        type=float,
        default=None,
        metavar="S",
        help="window seconds (default 30 with torch, 10 with onnx: bounded memory)",
    )
    p.add_argument(
        "--stride",
        type=float,
        default=None,
        metavar="S",
        help="context seconds on each side of a window (default 4 with torch, 1 with onnx)",
    )
    return p


def _format(args: argparse.Namespace, to_dir: bool) -> str:
    if args.format:
        return args.format
    suffix = args.output.suffix.lstrip(".").lower() if args.output and not to_dir else ""
    return suffix if suffix in FORMATS else "txt"


def _targets(args: argparse.Namespace) -> tuple[bool, str]:
    out: Path | None = args.output
    to_dir = out is not None and (
        len(args.files) > 1 or out.is_dir() or str(out).endswith(("/", "\\"))
    )
    fmt = _format(args, to_dir)
    if out is None and len(args.files) > 1 and fmt in ("srt", "vtt"):
        raise UsageError(f"several files as {fmt}: give -o DIR to get one file each")
    if out is not None and out.exists() and not out.is_dir() and len(args.files) > 1:
        raise UsageError(f"-o {out} is a file; give a directory for several inputs")
    return to_dir, fmt


def _progress_bar(name: str, total: float):  # -> (callback, close)
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:.0f}/{task.total:.0f} s"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    task = bar.add_task(name, total=total)
    bar.start()
    return (lambda done: bar.update(task, completed=done)), bar.stop


def run(args: argparse.Namespace) -> int:
    from tui_speech.asr.formats import render
    from tui_speech.audio.reader import probe
    from tui_speech.fileio import atomic_write_text

    if args.alternatives < 0:
        raise UsageError("--alternatives must be 0 or more")
    to_dir, fmt = _targets(args)
    # Check every input before loading a model: a typo should not cost a model load.
    status = 0
    inputs = []
    for path in args.files:
        try:
            inputs.append(probe(path))
        except TuiSpeechError as exc:
            print_error(exc)
            status = max(status, exc.exit_code)
    if not inputs:
        return status
    recognizer = _load(args)
    results = []
    for audio in inputs:
        show = sys.stderr.isatty() and audio.duration >= PROGRESS_MIN_SECONDS
        update, close = _progress_bar(audio.path.name, audio.duration) if show else (None, None)
        try:
            transcript = recognizer.transcribe_file(audio.path, progress=update)
        except TuiSpeechError as exc:
            print_error(exc)
            status = max(status, exc.exit_code)
            continue
        finally:
            if close is not None:
                close()
        results.append(transcript)
        if args.output is not None:
            target = args.output / f"{audio.path.stem}.{fmt}" if to_dir else args.output
            atomic_write_text(target, render(transcript, fmt))
    if args.output is None:
        _print(results, fmt)
    return status


def _load(args: argparse.Namespace):  # -> Recognizer
    from tui_speech.asr.model import default_model, pick_backend
    from tui_speech.asr.recognizer import Recognizer

    model = args.model or default_model()  # the rule listen and the Listen pane follow
    backend = pick_backend(args.backend, model, args.precision)
    options = {"alternatives": args.alternatives, "chunk_s": args.chunk, "stride_s": args.stride}
    if args.chunk is not None and args.stride is not None and args.chunk <= 2 * args.stride:
        raise UsageError("--chunk must be more than twice --stride")
    if args.beam:
        from tui_speech.asr.beam import BeamRecognizer

        return BeamRecognizer.load(
            model, backend, args.threads, args.precision, beam_width=args.beam, **options
        )
    return Recognizer.load(model, backend, args.threads, args.precision, **options)


def _print(results: list, fmt: str) -> None:
    from tui_speech.asr.formats import render

    if fmt == "json" and len(results) > 1:
        # Several JSON documents back to back are not JSON; an array is.
        body = ",\n".join(render(t, "json").rstrip("\n") for t in results)
        sys.stdout.write(f"[\n{body}\n]\n")
        return
    for t in results:
        sys.stdout.write(render(t, fmt))
    sys.stdout.flush()
