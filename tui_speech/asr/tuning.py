"""Which wav2vec2 path runs fastest on this CPU, measured once per CPU and remembered.

Two choices are measured, each the first time it is needed, and kept in ``onnx/tuning.json``
beside the model's export, keyed by :func:`cpu_key` (CPU model, instruction-set flags, cores,
onnxruntime and torch versions): a machine with other flags measures for itself.

- ``backend``: the fp32 backend ``transcribe`` takes by default – onnxruntime on the export or
  PyTorch – timed on one window of the same input (:func:`default_backend` builds the export
  first when the model has none, or a broken one);
- ``draft``: whether the live partials run on the int8 variant or on the finals' recogniser
  (:func:`draft_is_faster`): int8 kernels are fast with VNNI and may lose without it.

Finals are never touched: they stay on fp32 (or the precision the user asked for).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import platform
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui_speech.asr.model import ONNX_FILE, ModelInfo, onnx_file
from tui_speech.tts.tuning import read_cpuinfo, simd_flags

if TYPE_CHECKING:
    from tui_speech.asr.recognizer import Recognizer

log = logging.getLogger(__name__)

RECORD_NAME = "tuning.json"
#: Seconds of audio a trial decodes: a few windows' worth of the real model's compute.
BACKEND_TRIAL_SECONDS = 6.0
#: A live partial decodes at most ``ListenSettings.window`` (8 s) and usually less.
DRAFT_TRIAL_SECONDS = 4.0
#: The draft goes to int8 only for a real gain: a few percent is within one measurement's noise.
MIN_GAIN = 1.1
ROUNDS = 2


def cpu_key(cpuinfo: dict[str, str] | None = None, n_cores: int | None = None) -> str:
    """What the fastest path depends on: the CPU model and its instruction-set flags (a CPU
    without VNNI gets a key of its own), the cores, and the onnxruntime and torch builds."""
    from importlib.metadata import PackageNotFoundError, version

    from tui_speech.asr.backends import default_threads

    info = read_cpuinfo() if cpuinfo is None else cpuinfo
    cpu = info.get("model name") or platform.processor() or platform.machine()
    flags = hashlib.sha256(" ".join(sorted(info.get("flags", "").split())).encode()).hexdigest()
    builds = []
    for package in ("onnxruntime", "torch"):
        with contextlib.suppress(PackageNotFoundError):
            builds.append(f"{package}:{version(package)}")
    return "|".join((cpu, f"flags:{flags[:12]}", f"cores:{n_cores or default_threads()}", *builds))


def record_path(folder: Path) -> Path:
    """``onnx/tuning.json`` in the model folder ``folder``."""
    return folder / ONNX_FILE.parent / RECORD_NAME


def read_record(folder: Path, key: str | None = None) -> dict[str, Any]:
    """This CPU's entry (``key``: :func:`cpu_key`); empty when it has none or the file is bad."""
    try:
        records = json.loads(record_path(folder).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    entry = records.get(key or cpu_key()) if isinstance(records, dict) else None
    return entry if isinstance(entry, dict) else {}


def _remember(folder: Path, what: str, result: dict[str, Any], key: str | None = None) -> None:
    """Add ``what`` to this CPU's entry, keeping other CPUs' (atomic; a read-only model folder
    only costs the next process a measurement)."""
    from tui_speech.fileio import atomic_write_text

    path = record_path(folder)
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        records = {}
    if not isinstance(records, dict):
        records = {}
    key = key or cpu_key()
    entry = records.get(key)
    if not isinstance(entry, dict):
        entry = {}
    records[key] = {**entry, what: result, "flags": simd_flags()}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps(records, indent=2))
    except OSError as exc:
        log.warning("could not record the ASR measurement in %s: %s", path, exc)


def _trial(seconds: float, rate: int) -> Any:
    import numpy as np

    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * rate)) / rate
    return (rng.standard_normal(len(t)) * 0.1 * (0.6 + 0.4 * np.sin(2 * np.pi * 2 * t))).astype(
        np.float32
    )


def time_recognizer(recognizer: Recognizer, samples: Any, rounds: int = ROUNDS) -> float:
    """Best wall time of one window of ``samples``, after a first call that sizes the arena."""
    recognizer.window_logits(samples)
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        recognizer.window_logits(samples)
        best = min(best, time.perf_counter() - started)
    return best


def _trim() -> None:
    """Hand a freed model's heap back to the OS before the next one loads."""
    import gc

    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)


def measure_backend(info: ModelInfo, threads: int | None = None) -> dict[str, Any]:
    """Time fp32 PyTorch and fp32 onnxruntime on the same window, one model in memory at a
    time; the faster is the default (onnx on a tie: it loads faster)."""
    from tui_speech.asr.backends import load_backend
    from tui_speech.asr.recognizer import Recognizer

    samples = _trial(BACKEND_TRIAL_SECONDS, info.sample_rate)
    seconds = {}
    for name in ("onnx", "torch"):
        recognizer = Recognizer(load_backend(name, info, threads))
        seconds[name] = round(time_recognizer(recognizer, samples), 4)
        del recognizer
        _trim()
    best = "torch" if seconds["torch"] * MIN_GAIN < seconds["onnx"] else "onnx"
    return {"choice": best, "seconds": seconds, "trial_s": BACKEND_TRIAL_SECONDS}


def chosen_backend(folder: Path) -> str | None:
    """The measured default backend for this CPU of the model in ``folder``, or None before a
    measurement."""
    choice = read_record(folder).get("backend", {}).get("choice")
    return choice if choice in ("onnx", "torch") else None


@dataclass(frozen=True)
class FirstUse:
    """How a face follows :func:`default_backend`: ``on_start`` hears one line when an export
    is built (once per model), ``on_step`` the share of it done (0..1)."""

    on_start: Callable[[str], None] = lambda _line: None
    on_step: Callable[[float], None] = lambda _done: None


@contextlib.contextmanager
def _model_lock(info: ModelInfo) -> Iterator[None]:
    """The store's lock when the model is in the store (a pull must not swap the folder under
    an export, two transcribes must not export at once); none for a folder of the user's."""
    from tui_speech.config import get_paths
    from tui_speech.hub import store

    models = get_paths().models.resolve()
    folder = info.path.resolve()
    if not folder.is_relative_to(models):
        yield
        return
    with store.model_lock("/".join(folder.relative_to(models).parts[:2])):
        yield


def default_backend(
    info: ModelInfo,
    *,
    export: bool = True,
    threads: int | None = None,
    hooks: FirstUse | None = None,
) -> str:
    """The fp32 backend ``transcribe`` runs with no ``--backend``: the one measured fastest on
    this CPU. Builds the ONNX export first when the model has none, or one that is broken or
    older than the weights (``export=False``: never; then onnx only if an export is there).
    Blocking: the first call on a model takes as long as an export (a minute or two for the
    real model) plus two trial windows."""
    from tui_speech.asr.export import export_is_sound, export_onnx

    hooks = hooks or FirstUse()
    if not export:  # the rule without first use: an export there is used
        has_export = (info.path / ONNX_FILE).is_file()
        return (chosen_backend(info.path) or "onnx") if has_export else "torch"
    with _model_lock(info):
        if not export_is_sound(info):
            hooks.on_start(
                f"building the ONNX export of {info.name} for faster transcription (once per model)"
            )
            export_onnx(info, on_step=hooks.on_step)
            _trim()
        choice = chosen_backend(info.path)
        if choice is None:
            result = measure_backend(info, threads)
            _remember(info.path, "backend", result)
            choice = result["choice"]
    return choice


def draft_is_faster(recognizer: Recognizer, threads: int | None = None) -> bool:
    """Whether live partials should run on the int8 variant: only when it exists and was
    measured faster than ``recognizer`` (the finals' one) on this CPU. Measured once per CPU
    and finals' setting (a few seconds for the real model), then read from the record."""
    from tui_speech.asr.backends import load_backend
    from tui_speech.asr.recognizer import Recognizer

    info = recognizer.info
    if not (info.path / onnx_file("int8")).is_file():
        return False
    finals = f"{recognizer.backend.name}-{getattr(recognizer.backend, 'precision', 'fp32')}"
    if finals == "onnx-int8":
        return False
    what = f"draft:{finals}"
    # A rebuilt (or replaced) variant is measured again: the record names the file it timed.
    stat = (info.path / onnx_file("int8")).stat()
    variant = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    recorded = read_record(info.path).get(what, {})
    if recorded.get("int8_file") == variant and recorded.get("choice") in ("int8", "finals"):
        return bool(recorded["choice"] == "int8")
    samples = _trial(DRAFT_TRIAL_SECONDS, info.sample_rate)
    int8 = Recognizer(load_backend("onnx", info, threads, "int8"))
    seconds = {"int8": time_recognizer(int8, samples), finals: time_recognizer(recognizer, samples)}
    del int8
    faster = seconds["int8"] * MIN_GAIN < seconds[finals]
    result = {
        "choice": "int8" if faster else "finals",
        "seconds": {k: round(v, 4) for k, v in seconds.items()},
        "trial_s": DRAFT_TRIAL_SECONDS,
        "int8_file": variant,
    }
    _remember(info.path, what, result)
    return faster
