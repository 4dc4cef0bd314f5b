"""Float variants of the embedded int8 Kokoro, built from the same weights, with audio parity.

The embedded model's MatMulInteger / ConvInteger kernels need VNNI to be fast. This module

1. builds float variants (``tts.dequant``): ``fp32``, and ``fp16`` (weights stored in half
   precision and cast up when onnxruntime loads it: half the disk, the same float kernels),
   saved atomically next to the int8 model in the store;
2. checks their audio against int8 and records it in a manifest beside each variant.

Which variant (and thread split) runs on a machine is measured by ``tts.tuning``.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from tui_speech.fileio import atomic_write_text, atomic_writer
from tui_speech.tts.dequant import REWRITE_VERSION, dequantize_model

log = logging.getLogger(__name__)

VARIANT_FILES = {"fp32": "kokoro-v1.0.fp32.onnx", "fp16": "kokoro-v1.0.fp16.onnx"}
MANIFEST_SUFFIX = ".manifest.json"
#: A variant whose log spectrogram correlates less than this with int8's is never chosen.
#: Sound variants measure 0.91-0.99 (int8's rounding moves a few phoneme durations by a frame,
#: which misaligns the rest); a broken rewrite gives noise or silence, far below.
MIN_CORRELATION = 0.8
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


def manifest_path(path: Path) -> Path:
    return path.with_name(path.name + MANIFEST_SUFFIX)


def read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def is_current(path: Path) -> bool:
    """A variant counts only if its manifest says it was built from today's int8 by this rewrite
    and the file is the one the manifest describes (not truncated or replaced)."""
    from tui_speech.hub.embedded import expected_sha256

    info = read_json(manifest_path(path))
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
        _write_streamed(model, f)
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
    atomic_write_text(manifest_path(target), json.dumps(manifest, indent=2))
    return target


def _write_streamed(model: Any, f: Any) -> None:
    """Serialise ``model`` one initializer at a time instead of in one 325 MB string (the
    model is left without its initializers: it is consumed).

    Protobuf merges concatenated messages (repeated fields append, message fields merge), so
    the model without its initializers followed by one ``ModelProto(graph=[initializer])`` per
    weight parses as the whole model. It keeps the build's peak memory below what ``speak``
    may use, since a first ``speak`` builds the variant in the background.
    """
    import onnx

    weights = list(model.graph.initializer)
    del model.graph.initializer[:]
    f.write(model.SerializeToString())
    for tensor in weights:
        piece = onnx.ModelProto()
        piece.graph.initializer.append(tensor)
        f.write(piece.SerializeToString())


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
