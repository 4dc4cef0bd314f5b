"""``models export``: build ONNX variants of models in the store, with a parity record.

The builders and their parity checks belong to the engines (``tui_speech.asr.export.build`` for
wav2vec2, ``tui_speech.tts.export.build`` for the embedded Kokoro's float variants and
Kokoro-82M's PyTorch weights); the caller passes them in and this module picks the one for a
model id's kind, so the hub, which only stores models, imports no engine. Each builder holds the
model's lock so a pull cannot swap the folder mid-export, writes to a temp file and renames, so
a failed export leaves nothing behind, and records its parity next to the graph.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tui_speech.errors import UsageError
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
#: passes them in, keyed by the catalog's kind ("asr": ``tui_speech.asr.export.build``,
#: "tts": ``tui_speech.tts.export.build``).
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
        raise UsageError(f"unknown precision {quantize!r} for an export", "use int8 or fp16")
    kind = entry_for(model_id).kind
    builder = (builders or {}).get(kind)
    if builder is None:  # a caller's mistake, not the user's
        raise UsageError(f"no ONNX exporter for {kind} models was given")
    return builder(model_id, quantize, start)
