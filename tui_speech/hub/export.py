"""``models export``: build ONNX variants of models in the store, with a parity record.

The builders and parity checks belong to the engines (``tui_speech.asr.export`` for wav2vec2,
``tui_speech.hub.kokoro_variants`` for the embedded Kokoro, ``tui_speech.hub.kokoro_export`` for
Kokoro-82M's PyTorch weights); this module picks the right one for
a model id, holds the model's lock so a pull cannot swap the folder mid-export, and for wav2vec2
writes the parity record next to the graph (``onnx/model.onnx.json``; int8 and fp16 variants
likewise). Builders write to a temp file and rename, so a failed export leaves nothing behind.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tui_speech.errors import UsageError
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
    from tui_speech.asr.export import export_with_parity
    from tui_speech.asr.model import load_model_info

    path, measured = export_with_parity(load_model_info(folder, model_id), quantize)
    manifest = store.read_manifest(model_id)
    parity = {
        "variant": measured.pop("variant"),
        "source_commit": manifest.commit if manifest else None,
        **measured,
        "size": path.stat().st_size,
        "created": store.now(),
    }
    atomic_write_text(path.with_name(path.name + ".json"), json.dumps(parity, indent=2))
    return ExportResult(model_id, path, parity)


def build_variant_graph(base: Path, quantize: str) -> Path:
    """The int8 / fp16 graph beside ``base``: :func:`tui_speech.asr.export.build_variant_graph`
    (kept here for the callers that import it from this module)."""
    from tui_speech.asr.export import build_variant_graph as build

    return build(base, quantize)
