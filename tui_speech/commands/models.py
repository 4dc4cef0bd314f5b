"""``tui-speech models``: the model store from the command line.

``list [--json]``, ``pull ID [--revision R] [--voices a,b]``, ``rm ID [--variant V]``,
``prune [--dry-run]``, ``verify ID``, ``path ID``, ``bundle ID -o FILE.tar``,
``import FILE.tar|DIR``, ``export ID [--quantize int8|fp16]``. Results go to stdout, progress
and notes to stderr.
"""

from __future__ import annotations

import argparse
import json
import threading
from dataclasses import asdict
from typing import Any

from tui_speech.commands._common import info
from tui_speech.errors import TuiSpeechError


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "models",
        help="download, verify, remove, bundle and import models",
        description="Manage the model store: Hugging Face Hub downloads (HF_ENDPOINT and "
        "HF_TOKEN are honoured) that resume and verify, and offline bundles.",
    )
    actions = p.add_subparsers(dest="models_action", metavar="ACTION", required=True)
    ls = actions.add_parser("list", help="known and downloaded models")
    ls.add_argument("--json", action="store_true", help="machine-readable list")
    pull = actions.add_parser("pull", help="download a model (resumes; verifies SHA-256)")
    pull.add_argument("id", help="e.g. hexgrad/Kokoro-82M, or any Wav2Vec2ForCTC repo")
    pull.add_argument("--revision", help="branch, tag or commit (default: main)")
    pull.add_argument(
        "--voices", help="Kokoro voice packs to add, e.g. af_heart,zf_xiaoxiao (or 'all')"
    )
    rm = actions.add_parser("rm", help="remove a model, or one variant of it")
    rm.add_argument("id")
    rm.add_argument("--variant", help="torch, onnx, onnx-int8 or onnx-fp16")
    prune = actions.add_parser("prune", help="delete partial downloads and interrupted snapshots")
    prune.add_argument("--dry-run", action="store_true", help="only show what would go")
    verify = actions.add_parser("verify", help="check every file's SHA-256")
    verify.add_argument("id")
    path = actions.add_parser("path", help="print a model's folder")
    path.add_argument("id")
    bundle = actions.add_parser("bundle", help="write a model to a tar for offline machines")
    bundle.add_argument("id")
    bundle.add_argument("-o", "--output", required=True, help="FILE.tar to write")
    imp = actions.add_parser("import", help="add a model from a bundle (tar or unpacked folder)")
    imp.add_argument("source", help="FILE.tar or DIR")
    export = actions.add_parser(
        "export", help="build ONNX variants with a parity check (wav2vec2, embedded Kokoro)"
    )
    export.add_argument("id")
    export.add_argument(
        "--quantize",
        choices=("int8", "fp16"),
        help="build onnx/model.int8.onnx or model.fp16.onnx (wav2vec2), the fp16 Kokoro",
    )
    return p


def run(args: argparse.Namespace) -> int:
    handler = {
        "list": _list,
        "pull": _pull,
        "rm": _rm,
        "prune": _prune,
        "verify": _verify,
        "path": _path,
        "bundle": _bundle,
        "import": _import,
        "export": _export,
    }[args.models_action]
    return handler(args)


def _mb(n: int) -> str:
    return f"{n / 1e6:,.1f} MB" if n >= 1e5 else f"{n / 1e3:,.1f} kB"


def _list(args: argparse.Namespace) -> int:
    from tui_speech.hub.manage import list_models

    entries = list_models()
    if args.json:
        print(json.dumps([asdict(e) for e in entries], indent=2, ensure_ascii=False))
        return 0
    print(f"{'MODEL':<54} {'KIND':<4} {'SIZE':>10}  VARIANTS, VOICES, COMMIT, STATE")
    for e in entries:
        if not e.present:
            state, detail = "-", f"not pulled: tui-speech models pull {e.id}"
        elif e.source == "embedded" and not e.size:
            state, detail = "built in", "onnx-int8  assembled on first use"
        else:
            state = _mb(e.size)
            at = f"@{e.commit[:8]}" if e.commit else ""
            checked = {True: "verified", False: "DAMAGED", None: ""}[e.verified]
            voices = f"{e.voices} voices" if e.voices else ""
            used = f"used {e.last_used[:10]}" if e.last_used else ""
            parts = [",".join(e.variants), voices, at, checked, used]
            detail = "  ".join(p for p in parts if p)
        print(f"{e.id:<54} {e.kind:<4} {state:>10}  {detail}")
    return 0


class _Bars:
    """A rich progress display on stderr: the whole pull, and the file in flight."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
        )
        self.total: Any = None
        self.file: Any = None
        self.current: str | None = None

    def __call__(self, event: Any) -> None:
        if event.stage == "waiting":
            info(f"waiting for another pull of {event.model_id} to finish")
        elif event.stage == "downloading":
            if self.total is None:
                self.progress.start()
                self.total = self.progress.add_task("total", total=event.total)
            if event.file != self.current:
                if self.file is not None:
                    self.progress.remove_task(self.file)
                self.current = event.file
                self.file = self.progress.add_task(event.file, total=event.file_total)
            self.progress.update(self.total, completed=event.done)
            self.progress.update(self.file, completed=event.file_done)

    def stop(self) -> None:
        if self.total is not None:
            self.progress.stop()


def _pull(args: argparse.Namespace) -> int:
    from tui_speech.hub.pull import pull

    voices = [v.strip() for v in args.voices.split(",") if v.strip()] if args.voices else None
    bars = _Bars()
    cancel = threading.Event()
    outcome: dict[str, Any] = {}

    finished = threading.Event()

    def work() -> None:
        try:
            outcome["result"] = pull(args.id, args.revision, voices, bars, cancel)
        except BaseException as exc:  # handed to the main thread, which reports it
            outcome["error"] = exc
        finally:
            finished.set()

    # The download runs in a thread so Ctrl-C can ask it to stop cleanly (partial files kept).
    # Waiting on an Event rather than Thread.join: a join interrupted by Ctrl-C may return
    # early on later calls, before the worker is done.
    threading.Thread(target=work, name="models-pull", daemon=True).start()
    try:
        while not finished.wait(0.2):
            pass
    except KeyboardInterrupt:
        cancel.set()
        finished.wait()
    finally:
        bars.stop()
    if "error" in outcome:
        raise outcome["error"]
    result = outcome["result"]
    fetched = f", {_mb(result.fetched)} downloaded" if result.fetched else ", nothing to download"
    info(f"{result.model_id}: {result.files} files, {_mb(result.size)}{fetched}")
    print(result.path)
    return 0


def _rm(args: argparse.Namespace) -> int:
    from tui_speech.hub.manage import remove

    removed = remove(args.id, args.variant)
    what = f"{args.variant} variant of {args.id}" if args.variant else args.id
    info(f"removed {what} ({len(removed)} item{'s' if len(removed) != 1 else ''})")
    return 0


def _prune(args: argparse.Namespace) -> int:
    from tui_speech.hub.store import prune, unregistered

    items = prune(dry_run=args.dry_run)
    verb = "would remove" if args.dry_run else "removed"
    for item in items:
        print(f"{verb} {item.path}  ({_mb(item.size)}, {item.why})")
    total = sum(i.size for i in items)
    info(f"{verb} {len(items)} item(s), {_mb(total)}" if items else "nothing to prune")
    for item in unregistered():
        info(
            f"kept {item.path} ({_mb(item.size)}): not registered by tui-speech; "
            "delete it yourself if you do not need it"
        )
    return 0


def _verify(args: argparse.Namespace) -> int:
    from tui_speech.hub.manage import verify

    report = verify(args.id)
    for name in report.bad:
        print(f"DAMAGED  {name}")
    for name in report.missing:
        print(f"MISSING  {name}")
    if not report.ok:
        count = len(report.bad) + len(report.missing)
        raise TuiSpeechError(
            f"{args.id}: {count} of {report.checked} files damaged or missing; "
            f"repair with: tui-speech models pull {args.id}"
        )
    print(f"ok  {args.id}: {report.checked} files match their SHA-256")
    return 0


def _path(args: argparse.Namespace) -> int:
    from tui_speech.hub.store import require

    print(require(args.id))
    return 0


def _bundle(args: argparse.Namespace) -> int:
    from pathlib import Path

    from tui_speech.hub.bundle import create

    result = create(args.id, Path(args.output))
    info(f"bundled {result.model_id}: {result.files} files, {_mb(result.size)}")
    print(result.path)
    return 0


def _import(args: argparse.Namespace) -> int:
    from pathlib import Path

    from tui_speech.hub.bundle import import_bundle

    result = import_bundle(Path(args.source))
    info(f"imported {result.model_id}: {result.files} files, {_mb(result.size)}, verified")
    print(result.path)
    return 0


def _export(args: argparse.Namespace) -> int:
    from tui_speech.asr import export as asr_export
    from tui_speech.hub.export import export
    from tui_speech.tts import export as tts_export

    result = export(
        args.id,
        args.quantize,
        on_start=lambda what: info(f"building {what}"),
        builders={"asr": asr_export.build, "tts": tts_export.build},
    )
    parity = result.parity
    if "max_abs_diff" in parity:
        info(
            f"parity with PyTorch: max |diff| of logits {parity['max_abs_diff']:.2e}, "
            f"argmax agreement {parity['argmax_agreement']:.1%}, "
            f"same transcript {parity['text_agreement']:.0%} of inputs"
        )
    spectral = [p.get("spectral_correlation") for p in parity.get("parity", [])]
    if spectral and all(isinstance(c, float) for c in spectral):
        info(f"parity with int8: spectral correlation {min(spectral):.3f} (worst phrase)")
    print(result.path)
    return 0
