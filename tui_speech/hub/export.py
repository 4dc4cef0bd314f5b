"""``models export``: build ONNX variants of models in the store, with a parity record.

The builders belong to the engines (``tui_speech.asr.export`` for wav2vec2,
``tui_speech.hub.kokoro_variants`` for the embedded Kokoro, ``tui_speech.hub.kokoro_export`` for
Kokoro-82M's PyTorch weights); this module picks the right one for
a model id, holds the model's lock so a pull cannot swap the folder mid-export, and for wav2vec2
measures logits parity against PyTorch and writes it next to the graph
(``onnx/model.onnx.json``; int8 and fp16 variants likewise, with argmax and transcript
agreement). Builders write to a temp file and rename, so a failed export leaves
nothing behind.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tui_speech.errors import TuiSpeechError, UsageError
from tui_speech.fileio import atomic_write_text
from tui_speech.hub import store
from tui_speech.hub.catalog import entry_for
from tui_speech.hub.embedded import EMBEDDED_ID
from tui_speech.hub.ids import validate_model_id


@dataclass(frozen=True)
class ExportResult:
    model_id: str
    path: Path
    #: What the parity check measured (max_abs_diff, argmax_agreement, ...); may be empty.
    parity: dict = field(default_factory=dict)


def export(
    model_id: str,
    quantize: str | None = None,
    on_start: Callable[[str], None] | None = None,
) -> ExportResult:
    """Build the ONNX variant of ``model_id`` (``quantize``: None, "int8" or "fp16").

    ``on_start`` hears what is being built once the request is known to be valid (the build
    itself can take minutes). Blocking; call it from a worker.
    """
    start = on_start or (lambda _what: None)
    validate_model_id(model_id)
    if quantize not in (None, "int8", "fp16"):
        raise UsageError(f"unknown --quantize {quantize!r}; use int8 or fp16")
    if model_id == EMBEDDED_ID:
        return _export_embedded(quantize, start)
    folder = store.require(model_id)
    if entry_for(model_id).kind == "tts":
        return _export_kokoro(model_id, folder, quantize, start)
    what = f"{quantize} variant" if quantize else "ONNX export"
    start(f"{model_id}: {what} and parity check against PyTorch")
    with store.model_lock(model_id):
        return _export_wav2vec2(model_id, folder, quantize)


def _export_embedded(quantize: str | None, start: Callable[[str], None]) -> ExportResult:
    from tui_speech.hub import kokoro_variants

    if quantize == "int8":
        raise UsageError(f"{EMBEDDED_ID} is int8 already; export fp32 (default) or --quantize fp16")
    kind = quantize or "fp32"
    start(f"{EMBEDDED_ID}: dequantised {kind} variant and audio parity against int8")
    with store.model_lock(EMBEDDED_ID):
        path = kokoro_variants.build_variant(kind)
    sidecar = path.with_name(path.name + kokoro_variants.MANIFEST_SUFFIX)
    record = json.loads(sidecar.read_text(encoding="utf-8")) if sidecar.is_file() else {}
    parity = {k: v for k, v in record.items() if k not in ("rewrite",)}
    if kind == "fp32":
        # Time fp32 against int8 now, so Speak picks the faster one on this machine from here on.
        fastest = kokoro_variants.fastest_embedded_model()
        parity["fastest_on_this_machine"] = "fp32" if fastest == path else "int8"
    return ExportResult(EMBEDDED_ID, path, parity)


def _export_kokoro(
    model_id: str, folder: Path, quantize: str | None, start: Callable[[str], None]
) -> ExportResult:
    from tui_speech.hub import kokoro_export

    if quantize:
        raise UsageError(
            f"{model_id}: only the fp32 ONNX export is available for Kokoro (drop --quantize)"
        )
    start(f"{model_id}: ONNX export with durations and audio parity against PyTorch")
    with store.model_lock(model_id):
        path = kokoro_export.export_kokoro(folder)
    manifest = path.with_name(kokoro_export.MANIFEST_FILENAME)
    record = json.loads(manifest.read_text(encoding="utf-8")) if manifest.is_file() else {}
    phrases = record.get("parity", [])
    parity = {"min_correlation": min((p["correlation"] for p in phrases), default=None)}
    return ExportResult(model_id, path, {**parity, "phrases": phrases})


def _export_wav2vec2(model_id: str, folder: Path, quantize: str | None) -> ExportResult:
    import numpy as np

    from tui_speech.asr.backends import TorchBackend
    from tui_speech.asr.export import export_onnx
    from tui_speech.asr.model import ONNX_FILE, load_model_info

    info = load_model_info(folder, model_id)
    base = folder / ONNX_FILE
    if quantize is None or not base.is_file():
        export_onnx(info)  # the fp32 graph is also what the smaller variants are made from
    path = base if quantize is None else build_variant_graph(base, quantize)
    # Deterministic inputs: a chirp and noise, 1 s and 2.3 s (two lengths exercise the dynamic
    # time axis). Normalised as the feature extractor would.
    rng = np.random.default_rng(0)
    t1 = np.arange(info.sample_rate) / info.sample_rate
    inputs = [
        np.sin(2 * np.pi * (200 + 800 * t1) * t1),
        rng.standard_normal(int(2.3 * info.sample_rate)),
    ]
    reference, candidate = TorchBackend(info), _onnx_logits(path)
    diffs, agree, frames, same_text = [], 0, 0, 0
    for x in inputs:
        x = ((x - x.mean()) / (x.std() + 1e-7)).astype(np.float32)
        ref, got = reference.logits(x), candidate(x)
        diffs.append(float(np.max(np.abs(ref - got))))
        agree += int(np.sum(ref.argmax(-1) == got.argmax(-1)))
        frames += ref.shape[0]
        same_text += _greedy(ref.argmax(-1), info.blank_id) == _greedy(
            got.argmax(-1), info.blank_id
        )
    manifest = store.read_manifest(model_id)
    parity = {
        "variant": f"onnx-{quantize}" if quantize else "onnx",
        "source_commit": manifest.commit if manifest else None,
        "max_abs_diff": max(diffs),
        "argmax_agreement": agree / max(frames, 1),
        "text_agreement": same_text / len(inputs),
        "inputs": [len(x) for x in inputs],
        "size": path.stat().st_size,
        "created": store.now(),
    }
    atomic_write_text(path.with_name(path.name + ".json"), json.dumps(parity, indent=2))
    return ExportResult(model_id, path, parity)


def build_variant_graph(base: Path, quantize: str) -> Path:
    """``onnx/model.int8.onnx`` or ``model.fp16.onnx`` from the fp32 graph, atomically."""
    import warnings

    import onnx

    target = base.with_name(f"model.{quantize}.onnx")
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.part")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if quantize == "int8":
                from onnxruntime.quantization import QuantType, quantize_dynamic

                # MatMul only: the transformer's products carry the compute, while an integer
                # convolution for the feature encoder is slow on many CPUs for little gain.
                # The quantizer logs advice to the root logger; keep the user's terminal clean.
                logging.disable(logging.WARNING)
                try:
                    quantize_dynamic(
                        base, tmp, op_types_to_quantize=["MatMul"], weight_type=QuantType.QInt8
                    )
                finally:
                    logging.disable(logging.NOTSET)
            else:
                from onnxruntime.transformers.float16 import convert_float_to_float16

                # Inputs and outputs stay float32: callers need not know which variant runs.
                model = convert_float_to_float16(onnx.load(str(base)), keep_io_types=True)
                onnx.save(model, str(tmp))
        os.replace(tmp, target)
    except Exception as exc:
        message = f"building the {quantize} variant failed: {exc}".splitlines()[0]
        raise TuiSpeechError(message) from exc
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _onnx_logits(path: Path) -> Callable:
    import numpy as np
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return lambda x: np.asarray(session.run(None, {name: x[None]})[0][0], dtype=np.float32)


def _greedy(ids: Sequence[int], blank: int) -> list[int]:
    """CTC best path: merge repeats, drop blanks (enough to compare two transcripts)."""
    out: list[int] = []
    previous = None
    for i in ids:
        if i != previous and i != blank:
            out.append(int(i))
        previous = i
    return out
