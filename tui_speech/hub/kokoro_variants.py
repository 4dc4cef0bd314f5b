"""Float variants of the embedded int8 Kokoro, and a per-machine choice of the fastest one.

The embedded model's MatMulInteger / ConvInteger kernels need VNNI to be fast. This module

1. builds float variants from the same weights (``kokoro_dequant``): ``fp32``, and ``fp16``
   (weights stored in half precision and cast up when onnxruntime loads it: half the disk, the
   same float kernels), saved atomically next to the int8 model in the store;
2. checks their audio against int8 and records it in a manifest beside each variant;
3. times the variants once per machine and remembers the fastest (``fastest_embedded_model``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import platform
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from tui_speech.fileio import atomic_write_text, atomic_writer
from tui_speech.hub.kokoro_dequant import REWRITE_VERSION, dequantize_model

log = logging.getLogger(__name__)

VARIANT_FILES = {"fp32": "kokoro-v1.0.fp32.onnx", "fp16": "kokoro-v1.0.fp16.onnx"}
MANIFEST_SUFFIX = ".manifest.json"
CHOICE_FILENAME = "fastest-variant.json"
#: A variant whose log spectrogram correlates less than this with int8's is never chosen.
#: Sound variants measure 0.91-0.99 (int8's rounding moves a few phoneme durations by a frame,
#: which misaligns the rest); a broken rewrite gives noise or silence, far below.
MIN_CORRELATION = 0.8
#: A float variant must beat int8 by this factor: int8 is the verified default, and a few
#: percent is within the noise of one measurement.
MIN_SPEEDUP = 1.05
#: Short phrases (already phonemes) for parity and timing: vowels, fricatives, a pause.
PARITY_PHONEMES = (
    "hˈɛloʊ wˈɜːld.",
    "ðə kwˈɪk bɹˈaʊn fˈɑːks dʒˈʌmps ˌoʊvɚ ðə lˈeɪzi dˈɑːɡ.",
    "sˈʌmtaɪmz, ʃˈiː sˈɪŋz sˈɑːftli tə ðə sˈiː.",
)


def variant_path(kind: str) -> Path:
    """Where the ``fp32`` / ``fp16`` variant of the embedded model lives in the store."""
    from tui_speech.hub.embedded import model_dir

    return model_dir() / VARIANT_FILES[kind]


def _manifest(path: Path) -> Path:
    return path.with_name(path.name + MANIFEST_SUFFIX)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _is_current(path: Path) -> bool:
    """A variant counts only if its manifest says it was built from today's int8 by this rewrite
    and the file is the one the manifest describes (not truncated or replaced)."""
    from tui_speech.hub.embedded import expected_sha256

    info = _read_json(_manifest(path))
    return (
        path.is_file()
        and info.get("source_sha256") == expected_sha256()
        and info.get("rewrite_version") == REWRITE_VERSION
        and info.get("size") == path.stat().st_size
    )


def build_variant(kind: str = "fp32", *, check_parity: bool = True) -> Path:
    """Build the ``fp32`` / ``fp16`` variant of the embedded model into the store (atomically),
    with a manifest recording the rewrite and, if asked, audio parity against int8."""
    import onnx

    from tui_speech.hub.embedded import embedded_model_path, expected_sha256

    source = embedded_model_path()
    target = variant_path(kind)
    started = time.perf_counter()
    model = onnx.load(str(source))
    report = dequantize_model(model, "float16" if kind == "fp16" else "float32")
    with atomic_writer(target) as f:
        f.write(model.SerializeToString())
    del model
    manifest: dict[str, Any] = {
        "source": source.name,
        "source_sha256": expected_sha256(),
        "rewrite_version": REWRITE_VERSION,
        "weights": kind,
        "rewrite": asdict(report),
        "size": target.stat().st_size,
        "build_seconds": round(time.perf_counter() - started, 2),
    }
    if check_parity:
        manifest.update(compare(source, target, rounds=1))
    atomic_write_text(_manifest(target), json.dumps(manifest, indent=2))
    return target


def _log_spectrum(audio: np.ndarray, n_fft: int = 1200, hop: int = 300) -> np.ndarray:
    if len(audio) < n_fft:
        audio = np.pad(audio, (0, n_fft - len(audio)))
    frames = np.lib.stride_tricks.sliding_window_view(audio, n_fft)[::hop] * np.hanning(n_fft)
    return np.log(np.abs(np.fft.rfft(frames, axis=1)) + 1e-4)


def audio_parity(reference: np.ndarray, candidate: np.ndarray) -> dict[str, float]:
    """How close two renderings of the same input are.

    Kokoro's vocoder integrates F0 into the phase of its harmonic source, so tiny pitch
    differences shift the waveform's phase: waveform correlation and SNR are reported but say
    little. The log-spectrogram correlation (50 ms frames) is what the ear compares.
    """
    n = min(len(reference), len(candidate))
    ref, cand = reference[:n].astype(np.float64), candidate[:n].astype(np.float64)
    noise = float(np.sum((ref - cand) ** 2)) or 1e-20
    spec_ref, spec_cand = _log_spectrum(ref), _log_spectrum(cand)
    return {
        "length_ratio": round(len(candidate) / max(len(reference), 1), 4),
        "waveform_correlation": round(float(np.corrcoef(ref, cand)[0, 1]), 4),
        "snr_db": round(10 * float(np.log10(float(np.sum(ref**2)) / noise)), 2),
        "spectral_correlation": round(
            float(np.corrcoef(spec_ref.ravel(), spec_cand.ravel())[0, 1]), 4
        ),
        "max_abs_diff": round(float(np.max(np.abs(ref - cand))), 4),
    }


def compare(
    reference: Path, candidate: Path, *, rounds: int = 2, threads: int | None = None
) -> dict[str, Any]:
    """Parity and speed of ``candidate`` against ``reference`` on the parity phrases.

    Both models run in this process, alternating phrase by phrase, so a busy machine slows both
    alike. Speed is CPU seconds per second of audio (robust when other processes share the
    cores) with the wall-clock real-time factor beside it.
    """
    from tui_speech.tts.engine import OnnxKokoro
    from tui_speech.tts.vocab import encode
    from tui_speech.tts.voices import resolve_voice, style_for

    engines = {
        "reference": OnnxKokoro(reference, threads),
        "candidate": OnnxKokoro(candidate, threads),
    }
    pack = resolve_voice("jf_alpha")
    inputs = [(ids, style_for(pack, len(ids))) for ids in map(encode, PARITY_PHONEMES)]
    for engine in engines.values():  # first runs allocate: keep them out of the timing
        engine.synthesize(inputs[0][0][:8], inputs[0][1], 1.0)
    cpu = dict.fromkeys(engines, 0.0)
    wall = dict.fromkeys(engines, 0.0)
    seconds = dict.fromkeys(engines, 0.0)
    parity: list[dict[str, float]] = []
    for round_ in range(rounds):
        for ids, style in inputs:
            audio = {}
            for name, engine in engines.items():
                c, w = time.process_time(), time.perf_counter()
                audio[name] = engine.synthesize(ids, style, 1.0).audio
                cpu[name] += time.process_time() - c
                wall[name] += time.perf_counter() - w
                seconds[name] += len(audio[name]) / engine.sample_rate
            if round_ == 0:
                parity.append(audio_parity(audio["reference"], audio["candidate"]))
    return {
        "parity": parity,
        "cpu_per_audio_s": {k: round(cpu[k] / seconds[k], 4) for k in engines},
        "rtf": {k: round(wall[k] / seconds[k], 4) for k in engines},
    }


def parity_ok(parity: list[dict[str, float]]) -> bool:
    """Same length within 5 % and spectra that match on every parity phrase."""
    return bool(parity) and all(
        abs(p["length_ratio"] - 1) <= 0.05 and p["spectral_correlation"] >= MIN_CORRELATION
        for p in parity
    )


def machine_key(threads: int) -> str:
    """What the fastest variant depends on: the CPU (model and instruction set), the
    onnxruntime build, the thread count and the rewrite."""
    import onnxruntime

    info: dict[str, str] = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            info.setdefault(key.strip(), value.strip())  # the first core speaks for all
    except OSError:  # not Linux: the processor name has to do
        pass
    cpu = info.get("model name") or platform.processor() or platform.machine()
    flags = hashlib.sha256(" ".join(sorted(info.get("flags", "").split())).encode()).hexdigest()
    return "|".join(
        (
            cpu,
            f"flags:{flags[:12]}",
            f"ort:{onnxruntime.__version__}",
            f"threads:{threads}",
            f"rewrite:{REWRITE_VERSION}",
        )
    )


def _ensure_variant(kind: str, check_parity: bool = True) -> Path:
    path = variant_path(kind)
    return path if _is_current(path) else build_variant(kind, check_parity=check_parity)


def _measure(int8: Path, threads: int) -> dict[str, Any]:
    """Build the fp32 variant if needed, compare it with int8 and pick the faster (if sound)."""
    fp32 = _ensure_variant("fp32", check_parity=False)
    result = compare(int8, fp32, rounds=2, threads=threads)
    manifest = _read_json(_manifest(fp32))
    if "parity" not in manifest:  # built just now without it: this comparison has it
        manifest.update(result)
        atomic_write_text(_manifest(fp32), json.dumps(manifest, indent=2))
    cost = result["cpu_per_audio_s"]
    speedup = cost["reference"] / max(cost["candidate"], 1e-9)
    if not parity_ok(result["parity"]):
        variant, reason = "int8", "fp32 audio differs from int8"
    elif speedup >= MIN_SPEEDUP:
        variant, reason = "fp32", f"fp32 is {speedup:.2f}x faster"
    else:
        variant, reason = "int8", f"fp32 is only {speedup:.2f}x as fast"
    return {
        "variant": variant,
        "reason": reason,
        "speedup_fp32": round(speedup, 3),
        "cpu_per_audio_s": {"int8": cost["reference"], "fp32": cost["candidate"]},
        "rtf": {"int8": result["rtf"]["reference"], "fp32": result["rtf"]["candidate"]},
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


_choice_lock = threading.Lock()
_chosen: dict[tuple[str, str], Path] = {}


def fastest_embedded_model(threads: int | None = None, *, measure: bool = True) -> Path:
    """The fastest variant of the embedded model for this machine (int8 or fp32).

    The first call on a machine builds the fp32 variant and times both (tens of seconds, so
    call it from a worker); the result is kept in ``fastest-variant.json`` in the store, keyed
    by :func:`machine_key`, and in memory, so later calls (any thread, any process) return at
    once. Any failure falls back to the int8 model with a logged reason; it is not remembered
    on disk, so a later process tries again.

    ``measure=False`` never builds, times or waits: it returns a decision already made (if its
    file is in place) or else int8, e.g. for a start-up path that must not stall.
    """
    from tui_speech.hub.embedded import embedded_model_path, model_dir
    from tui_speech.tts.engine import default_threads

    threads = threads or default_threads()
    if not _choice_lock.acquire(blocking=measure):
        return embedded_model_path()  # another thread is measuring right now
    try:
        int8 = embedded_model_path()
        memo_key = (str(int8), str(threads))
        if memo_key in _chosen and _chosen[memo_key].is_file():
            return _chosen[memo_key]
        try:
            key = machine_key(threads)
            choices_file = model_dir() / CHOICE_FILENAME
            choices = _read_json(choices_file)
            choice: Any = choices.get(key)
            known = isinstance(choice, dict) and choice.get("variant") in ("int8", "fp32")
            if not measure:
                if known and (choice["variant"] == "int8" or _is_current(variant_path("fp32"))):
                    return int8 if choice["variant"] == "int8" else variant_path("fp32")
                return int8
            if not known:
                choice = _measure(int8, threads)
                choices[key] = choice
                atomic_write_text(choices_file, json.dumps(choices, indent=2))
                log.info(
                    "embedded Kokoro variant for this machine: %s (%s)",
                    choice["variant"],
                    choice["reason"],
                )
            path = int8 if choice["variant"] == "int8" else _ensure_variant(choice["variant"])
        except Exception as exc:  # any failure: the int8 model always works
            log.warning("using the int8 Kokoro model: the fp32 variant failed (%s)", exc)
            path = int8
        _chosen[memo_key] = path
        return path
    finally:
        _choice_lock.release()
