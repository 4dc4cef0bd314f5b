"""``tui-speech transcribe FILE|DIR...``: Mandarin speech to text with per-character confidence.

Text goes to stdout unless ``-o`` names a file (one input) or a directory (several inputs, a
folder, or an existing directory). Into a directory the batch runner of
:mod:`tui_speech.asr.batch` writes ``<stem>.<format>`` per input and format, mirroring the
inputs' folders, skips inputs already done under the same model and options, reports every bad
file at the end and resumes after Ctrl-C; ``--ray`` runs it on a Ray cluster
(:mod:`tui_speech.asr.cluster`). The format comes from ``--format`` (several: ``srt,json``),
else from the suffix of ``-o``, else txt.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from tui_speech.commands._common import (
    MODEL_HELP,
    add_hotwords_option,
    add_written_options,
    print_error,
    warn,
    written_options,
)
from tui_speech.commands._common import info as info_line
from tui_speech.errors import TuiSpeechError, UsageError

FORMATS = ("txt", "json", "jsonl", "srt", "vtt")
PRECISIONS = ("fp32", "bf16", "int8", "fp16")
#: Files at least this long get a progress bar (when stderr is a terminal).
PROGRESS_MIN_SECONDS = 20.0


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "transcribe",
        help="transcribe Mandarin audio files (wav2vec2 CTC, or the embedded Whisper)",
        description="Transcribe audio files with per-character timing, confidence and "
        "alternatives. Any format soundfile reads, any rate and channel count.",
    )
    p.add_argument(
        "files",
        nargs="+",
        metavar="FILE|DIR",
        type=Path,
        help="audio files, and folders to walk for audio files",
    )
    p.add_argument(
        "--model",
        default=None,
        help=MODEL_HELP,
    )
    p.add_argument(
        "--backend",
        choices=("auto", "torch", "onnx"),
        default="auto",
        help="inference backend; auto takes the one measured fastest on this CPU, building "
        "the ONNX export on first use (see --no-export)",
    )
    p.add_argument(
        "--format",
        "-f",
        type=_format_list,
        default=None,
        metavar="FMT[,FMT]",
        help=f"output format(s): {', '.join(FORMATS)}; several, comma-separated, with -o DIR",
    )
    p.add_argument("-o", "--output", type=Path, default=None, help="output file or directory")
    p.add_argument(
        "--glob",
        default=None,
        metavar="PATTERN",
        help="files to take from folders, e.g. '**/*.wav' (default: common audio suffixes, "
        "in subfolders too)",
    )
    p.add_argument(
        "--ray",
        default=None,
        metavar="auto|ADDRESS",
        help="run the batch on a Ray cluster (pip install 'tui-speech[cluster]'): auto joins "
        "the cluster this machine is in (or starts Ray here); ADDRESS is host:port of its head",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="Ray workers, one model each (default: one per --threads CPUs of the cluster)",
    )
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
        help="CTC prefix beam search of this width (default: greedy; with --hotwords, a "
        "search where a term could change the text)",
    )
    add_hotwords_option(p)
    add_written_options(p)
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
        "--no-export",
        action="store_true",
        help="do not build the model's ONNX export on first use (the faster default backend; "
        "TUI_SPEECH_EXPORT=0 does the same); an export already there is still used",
    )
    p.add_argument(
        "--chunk",
        type=float,
        default=None,
        metavar="S",
        help="window seconds (default 30 with torch, 20 with onnx: bounded memory)",
    )
    p.add_argument(
        "--stride",
        type=float,
        default=None,
        metavar="S",
        help="context seconds on each side of a window (default 4 with torch, 3.33 with "
        "onnx: the windows of transformers' chunk_length_s=20)",
    )
    return p


def _format_list(text: str) -> tuple[str, ...]:
    formats = tuple(dict.fromkeys(f.strip().lower() for f in text.split(",") if f.strip()))
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise argparse.ArgumentTypeError(
            f"unknown format {', '.join(bad) or repr(text)}; choose from {', '.join(FORMATS)}"
        )
    return formats


def _formats(args: argparse.Namespace, to_dir: bool) -> tuple[str, ...]:
    if args.format:
        return tuple(args.format)
    suffix = args.output.suffix.lstrip(".").lower() if args.output and not to_dir else ""
    return (suffix if suffix in FORMATS else "txt",)


def _targets(args: argparse.Namespace) -> tuple[bool, tuple[str, ...]]:
    out: Path | None = args.output
    many = len(args.files) > 1 or any(p.is_dir() for p in args.files)
    to_dir = out is not None and (many or out.is_dir() or str(out).endswith(("/", "\\")))
    formats = _formats(args, to_dir)
    if len(formats) > 1 and not to_dir:
        raise UsageError(f"{len(formats)} formats give a file each: give -o DIR")
    if out is None and many and formats[0] in ("srt", "vtt"):
        raise UsageError(f"several files as {formats[0]}: give -o DIR to get one file each")
    if out is not None and out.exists() and not out.is_dir() and many:
        raise UsageError(f"-o {out} is a file; give a directory for several inputs")
    if (args.ray is not None or args.workers is not None) and not to_dir:
        raise UsageError("--ray writes one file per input: give -o DIR")
    if args.workers is not None and args.workers < 1:
        raise UsageError("--workers must be 1 or more")
    return to_dir, formats


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
    if args.alternatives < 0:
        raise UsageError("--alternatives must be 0 or more")
    to_dir, formats = _targets(args)
    if to_dir:
        return _run_batch(args, formats)
    return _run_files(args, formats[0])


def _run_files(args: argparse.Namespace, fmt: str) -> int:
    """To stdout, or one input to ``-o FILE``: errors as they come, no manifest."""
    from tui_speech.asr.batch import plan_inputs
    from tui_speech.asr.formats import render
    from tui_speech.audio.reader import probe
    from tui_speech.fileio import atomic_write_text

    paths: list[Path] = []
    for path in args.files:  # a file keeps the name given: it is the transcript's source
        if path.is_dir():
            paths.extend(item.source for item in plan_inputs([path], args.glob))
        else:
            paths.append(path)
    # Check every input before loading a model: a typo should not cost a model load.
    status = 0
    inputs = []
    for path in paths:
        try:
            inputs.append(probe(path))
        except TuiSpeechError as exc:
            print_error(exc)
            status = max(status, exc.exit_code)
    if not inputs:
        return status
    recognizer = _load(args)
    for line in getattr(recognizer, "warnings", ()):  # hotwords the model cannot spell
        warn(line)
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
            atomic_write_text(args.output, render(transcript, fmt, written_options(args)))
    if args.output is None:
        _print(results, fmt, written_options(args))
    return status


def _run_batch(args: argparse.Namespace, formats: tuple[str, ...]) -> int:
    """Into ``-o DIR``: the core's batch runner, resumable, failures reported at the end."""
    from tui_speech.asr.batch import (
        BatchHooks,
        BatchSettings,
        LocalEngine,
        model_revision,
        plan_inputs,
        run_batch,
    )
    from tui_speech.asr.formats import render
    from tui_speech.asr.model import find_model
    from tui_speech.asr.whisper import is_embedded

    outdir: Path = args.output
    if args.ray is not None:
        from tui_speech.asr.cluster import import_ray

        import_ray()  # a missing extra is said before any model work
    items = plan_inputs(args.files, args.glob)
    spec = _spec(args)
    if is_embedded(spec.model):
        from tui_speech.hub.embedded import WHISPER_ID, embedded_whisper_dir

        name, folder = WHISPER_ID, embedded_whisper_dir()
    else:
        info = find_model(spec.model, need=spec.backend, precision=_graph_precision(spec))
        name, folder = info.name, info.path
        if Path(spec.model).expanduser().is_dir():  # a Ray worker's folder is not ours
            spec = replace(spec, model=str(info.path))
    written = written_options(args)  # how text is written changes the outputs too
    options = {**spec.text_options(), "written": asdict(written)}
    settings = BatchSettings(name, model_revision(folder), options)
    engine: Any
    if args.ray is not None:
        from tui_speech.asr.cluster import RayEngine

        engine = RayEngine(spec, args.ray, args.workers, settings.revision)
    else:
        engine = LocalEngine(spec)
    done: list[object] = []
    hooks = BatchHooks(done=done.append)
    bar = _BatchBar() if sys.stderr.isatty() else None
    if bar is not None:
        hooks.progress = bar.show
    try:
        report = run_batch(
            items, outdir, formats, settings, engine, hooks, lambda t, f: render(t, f, written)
        )
    except KeyboardInterrupt:
        if bar is not None:
            bar.stop()
        info_line(
            f"interrupted: the {len(done)} file(s) finished in this run are kept in {outdir}; "
            "the same command resumes from there"
        )
        return 130
    finally:
        if bar is not None:
            bar.stop()
    for failure in report.failed:
        print_error(failure.error)
    if getattr(engine, "retried", 0):
        info_line(f"{engine.retried} file(s) run again: their Ray worker was lost")
    info_line(
        f"{len(report.done)} transcribed, {len(report.skipped)} already done, "
        f"{len(report.failed)} failed; outputs in {outdir}"
    )
    return report.exit_code


def _graph_precision(spec) -> str:  # the ONNX graph a backend loads (torch: none)
    return spec.precision if spec.backend == "onnx" else "fp32"


class _BatchBar:
    """One rich bar on stderr for a batch: files, audio hours, RTF and ETA."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn

        self.progress = Progress(
            TextColumn("{task.fields[files]}"),
            BarColumn(),
            TextColumn("{task.fields[hours]}"),
            TextColumn("{task.fields[rate]}"),
            console=Console(stderr=True),
            transient=True,
        )
        self.task = self.progress.add_task("", total=None, files="", hours="", rate="")
        self.progress.start()

    def show(self, p) -> None:  # p: BatchProgress
        rtf, eta = p.rtf, p.eta
        rate = "" if rtf is None else f"RTF {rtf:.2f}  ETA {_clock(eta or 0.0)}"
        self.progress.update(
            self.task,
            total=max(p.seconds_total, 1e-9),
            completed=p.seconds_done,
            files=f"{p.files_done}/{p.files_total} files",
            hours=f"{p.seconds_done / 3600:.2f}/{p.seconds_total / 3600:.2f} h audio",
            rate=rate,
        )

    def stop(self) -> None:
        self.progress.stop()


def _clock(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


def _spec(args: argparse.Namespace):  # -> RecognizerSpec
    from tui_speech.asr.batch import RecognizerSpec
    from tui_speech.asr.hotwords import read_hotwords
    from tui_speech.asr.model import default_model
    from tui_speech.commands import _first_use as first_use

    if args.chunk is not None and args.stride is not None and args.chunk <= 2 * args.stride:
        raise UsageError("--chunk must be more than twice --stride")
    model = args.model or default_model()  # the rule listen and the Listen pane follow
    from tui_speech.asr.whisper import is_embedded

    threads = args.threads
    if threads is None and args.ray is not None:
        threads = 1  # a Ray worker per CPU unless told otherwise
    return RecognizerSpec(
        model=model,
        backend="ctranslate2"  # the embedded Whisper's only one
        if is_embedded(model)
        else first_use.pick_backend(
            args.backend, model, args.precision, threads, export=not args.no_export
        ),
        precision=args.precision,
        threads=threads,
        alternatives=args.alternatives,
        chunk_s=args.chunk,
        stride_s=args.stride,
        beam=args.beam,
        hotwords=read_hotwords(args.hotwords) if args.hotwords else (),
    )


def _load(args: argparse.Namespace):  # -> Recognizer
    return _spec(args).load()


def _print(results: list, fmt: str, options: Any) -> None:
    from tui_speech.asr.formats import render

    if fmt == "json" and len(results) > 1:
        # Several JSON documents back to back are not JSON; an array is.
        body = ",\n".join(render(t, "json", options).rstrip("\n") for t in results)
        sys.stdout.write(f"[\n{body}\n]\n")
        return
    for t in results:
        sys.stdout.write(render(t, fmt, options))
    sys.stdout.flush()
