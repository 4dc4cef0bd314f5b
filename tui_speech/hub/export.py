"""``models export``: build ONNX variants of models in the store, with a parity record.

The builders and parity checks belong to the engines (``tui_speech.asr.export`` for wav2vec2,
``tui_speech.tts.export.build`` for the embedded Kokoro's float variants and Kokoro-82M's
PyTorch weights, passed in by the caller); this module picks the right one for
a model id, holds the model's lock so a pull cannot swap the folder mid-export, and for wav2vec2
writes the parity record next to the graph (``onnx/model.onnx.json``; int8 and fp16 variants
likewise). Builders write to a temp file and rename, so a failed export leaves nothing behind.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tui_speech.errors import UsageError
from tui_speech.fileio import atomic_write_text
from tui_speech.hub import store
from tui_speech.hub.catalog import entry_for
from tui_speech.hub.ids import validate_model_id


@dataclass(frozen=True)
class ExportResult:
    model_id: str
    path: Path
    #: What the parity check measured (max_abs_diff, argmax_agreement, ...); may be empty.
    parity: dict = field(default_factory=dict)


#: Builds one model's ONNX variant: ``(model_id, quantize, on_start) -> ExportResult``. The
#: builders live with their engines (hub is storage only and imports neither): the caller
#: passes them in, keyed by the catalog's kind ("tts": ``tui_speech.tts.export.build``).
Builder = Callable[[str, str | None, Callable[[str], None]], ExportResult]


def export(
    model_id: str,
    quantize: str | None = None,
    on_start: Callable[[str], None] | None = None,
    *,
    builders: Mapping[str, Builder] | None = None,
) -> ExportResult:
    """Build the ONNX variant of ``model_id`` (``quantize``: None, "int8" or "fp16").

    ``on_start`` hears what is being built once the request is known to be valid (the build
    itself can take minutes). Blocking; call it from a worker.
    """
    start = on_start or (lambda _what: None)
    validate_model_id(model_id)
    if quantize not in (None, "int8", "fp16"):
        raise UsageError(f"unknown --quantize {quantize!r}; use int8 or fp16")
    kind = entry_for(model_id).kind
    if kind == "tts":  # the builder checks the store itself (the embedded model is not pulled)
        builder = (builders or {}).get(kind)
        if builder is None:
            raise UsageError(f"no ONNX exporter for {kind} models was given")
        return builder(model_id, quantize, start)
    folder = store.require(model_id)
    what = f"{quantize} variant" if quantize else "ONNX export"
    start(f"{model_id}: {what} and parity check against PyTorch")
    with store.model_lock(model_id):
        return _export_wav2vec2(model_id, folder, quantize)


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
