"""Export a wav2vec2 CTC model to ONNX (``onnx/model.onnx`` inside the model directory).

The graph takes ``input_values`` (batch, samples) float32, already normalised, and gives
``logits`` (batch, frames, vocab); batch and time are dynamic. The weights go to
``model.onnx.data`` beside the graph (ONNX external data): onnxruntime memory-maps them instead
of copying a 1.3 GB protobuf, which keeps ``transcribe --backend onnx`` under 1.6 GB. Both files
are written under temporary names and renamed into place, the graph last, so a failed export
never leaves a half-written model that the ONNX backend would try to load.

:func:`export_with_parity` also builds the int8 / fp16 variants (:func:`build_variant_graph`)
and measures each against PyTorch through the recogniser itself – its normalisation and its CTC
decoder – so the parity record describes what ``transcribe --backend onnx`` will do.
:func:`build` is what ``models export`` runs for a wav2vec2 model in the store.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import uuid
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui_speech.asr.model import ONNX_FILE, ModelInfo
from tui_speech.errors import TuiSpeechError

if TYPE_CHECKING:
    from collections.abc import Callable

    import numpy as np

    from tui_speech.asr.recognizer import Recognizer
    from tui_speech.hub.export import ExportResult

DEFAULT_OPSET = 17
DATA_SUFFIX = ".data"


def export_onnx(
    info: ModelInfo,
    out: Path | None = None,
    opset: int = DEFAULT_OPSET,
    on_step: Callable[[float], None] | None = None,
) -> Path:
    """Write the ONNX export of the model ``info`` describes, and its record
    (:func:`write_record`); return its path. ``on_step`` hears the share done after each step
    (load, trace, weights written, record hashed)."""
    import torch

    from tui_speech.asr.backends import TorchBackend

    step = on_step or (lambda _done: None)
    target = out or info.path / ONNX_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    record_file(target).unlink(missing_ok=True)  # the old record no longer describes the files
    model = TorchBackend(info).model
    step(0.1)

    class LogitsOnly(torch.nn.Module):
        # The exporter wants tensors out, not transformers' ModelOutput.
        def __init__(self) -> None:
            super().__init__()
            self.inner = model

        def forward(self, input_values: torch.Tensor) -> torch.Tensor:
            return self.inner(input_values).logits

    # One second of audio traces every op; dynamic axes make the graph length-independent.
    example = torch.zeros(1, info.sample_rate, dtype=torch.float32)
    work = Path(tempfile.mkdtemp(prefix=".export-", dir=target.parent))
    traced = work / "traced.onnx"
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            # The TorchScript exporter: no onnxscript dependency, and it handles wav2vec2's
            # data-dependent shapes (conv output length) with plain dynamic axes.
            torch.onnx.export(
                LogitsOnly().eval(),
                (example,),
                str(traced),
                dynamo=False,
                input_names=["input_values"],
                output_names=["logits"],
                dynamic_axes={
                    "input_values": {0: "batch", 1: "samples"},
                    "logits": {0: "batch", 1: "frames"},
                },
                opset_version=opset,
                do_constant_folding=True,
            )
        step(0.6)
        _externalise(traced, work / target.name, target.name + DATA_SUFFIX)
        step(0.85)
        os.replace(work / (target.name + DATA_SUFFIX), target.with_name(target.name + DATA_SUFFIX))
        os.replace(work / target.name, target)
        write_record(info, target)
        step(1.0)
    except TuiSpeechError:
        raise
    except Exception as exc:
        raise TuiSpeechError(f"ONNX export of {info.name} failed: {exc}".splitlines()[0]) from exc
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


# --- the export's record: is the graph on disk the one we built, from these weights? ----------

RECORD_SUFFIX = ".verified"


def record_file(graph: Path) -> Path:
    """``onnx/model.onnx.verified``: the SHA-256, size and mtime of the graph and its weights,
    and the size and mtime of the PyTorch weights it was made from."""
    return graph.with_name(graph.name + RECORD_SUFFIX)


def _stat(path: Path) -> dict[str, int]:
    stat = path.stat()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _source(info: ModelInfo) -> dict[str, Any]:
    from tui_speech.asr.model import WEIGHT_FILES

    for name in WEIGHT_FILES:
        if (info.path / name).is_file():
            return {"file": name, **_stat(info.path / name)}
    return {}


def _export_files(graph: Path) -> list[Path]:
    return [graph, graph.with_name(graph.name + DATA_SUFFIX)]


def write_record(info: ModelInfo, graph: Path) -> None:
    import json

    from tui_speech.fileio import atomic_write_text, sha256_file

    files = {p.name: {"sha256": sha256_file(p), **_stat(p)} for p in _export_files(graph)}
    record = {"files": files, "source": _source(info)}
    atomic_write_text(record_file(graph), json.dumps(record, indent=2))


def export_is_sound(info: ModelInfo, graph: Path | None = None) -> bool:
    """Whether the fp32 export is complete, unchanged since it was built, and made from the
    weights now in the folder – checked as the embedded model is: sizes and mtimes against its
    record, and a full SHA-256 only when they differ (a touched but intact file is re-recorded).
    An export without a record is not trusted (it may be half of an interrupted copy)."""
    import json

    from tui_speech.fileio import sha256_file

    graph = graph or info.path / ONNX_FILE
    try:
        record = json.loads(record_file(graph).read_text(encoding="utf-8"))
        files, source = record["files"], record["source"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    current = _source(info)
    if current and current != source:  # re-fetched or fine-tuned weights: a stale export
        return False
    rehashed = False
    for path in _export_files(graph):
        want = files.get(path.name) if isinstance(files, dict) else None
        if not isinstance(want, dict) or not path.is_file():
            return False
        if path.stat().st_size != want.get("size"):
            return False
        if path.stat().st_mtime_ns != want.get("mtime_ns"):
            if sha256_file(path) != want.get("sha256"):
                return False
            rehashed = True
    if rehashed:
        with contextlib.suppress(OSError):
            write_record(info, graph)
    return True


def _externalise(src: Path, dst: Path, data_name: str) -> None:
    """Rewrite ``src`` as ``dst`` with every weight in one external file ``data_name``."""
    import onnx

    model = onnx.load(str(src))
    onnx.save_model(
        model,
        str(dst),
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location=data_name,
        size_threshold=1024,
    )


def build_variant_graph(base: Path, quantize: str) -> Path:
    """``onnx/model.int8.onnx`` or ``model.fp16.onnx`` from the fp32 graph, atomically."""
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
                # U8S8, one scale per tensor: per-channel scales ran the full-size model 1.7x
                # slower here (avx512_vnni), so not per channel. Without VNNI the AVX2 kernel
                # adds pairs of u8*s8 products in 16 bits, which saturates unless weights use
                # 7 bits (reduce_range). The quantizer logs advice to the root logger; keep
                # the user's terminal clean.
                logging.disable(logging.WARNING)
                try:
                    quantize_dynamic(
                        base,
                        tmp,
                        op_types_to_quantize=["MatMul"],
                        weight_type=QuantType.QInt8,
                        per_channel=False,
                        reduce_range=not has_vnni(),
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


def has_vnni() -> bool:
    """Whether this CPU has an 8-bit dot-product instruction (x86 VNNI or AMX; Arm's SDOT is
    part of its own kernels)."""
    from tui_speech.tts.tuning import simd_flags

    return bool({"avx512_vnni", "avx_vnni", "amx_int8"} & set(simd_flags().split()))


def parity_inputs(sample_rate: int) -> list[np.ndarray]:
    """Deterministic raw inputs: a chirp and noise, 1 s and 2.3 s (two lengths exercise the
    graph's dynamic time axis)."""
    import numpy as np

    rng = np.random.default_rng(0)
    t = np.arange(sample_rate) / sample_rate
    chirp = np.sin(2 * np.pi * (200 + 800 * t) * t)
    noise = rng.standard_normal(int(2.3 * sample_rate))
    return [chirp.astype(np.float32), noise.astype(np.float32)]


def check_parity(info: ModelInfo, precision: str = "fp32") -> dict[str, Any]:
    """The ONNX graph of ``precision`` against PyTorch on :func:`parity_inputs`.

    Both run inside a :class:`~tui_speech.asr.recognizer.Recognizer`, so the inputs are
    normalised and the logits decoded exactly as transcription does. Measures the largest logit
    difference, the share of frames whose best token agrees, and the share of inputs whose text
    agrees.
    """
    import numpy as np

    from tui_speech.asr.backends import OnnxBackend, TorchBackend
    from tui_speech.asr.recognizer import Recognizer

    reference = Recognizer(TorchBackend(info))
    candidate = Recognizer(OnnxBackend(info, precision=precision))
    inputs = parity_inputs(info.sample_rate)
    diffs, agree, frames, same_text = [], 0, 0, 0
    for x in inputs:
        ref, got = reference.window_logits(x), candidate.window_logits(x)
        diffs.append(float(np.max(np.abs(ref - got))))
        agree += int(np.sum(ref.argmax(-1) == got.argmax(-1)))
        frames += ref.shape[0]
        same_text += _text(reference, ref) == _text(candidate, got)
    return {
        "max_abs_diff": max(diffs),
        "argmax_agreement": agree / max(frames, 1),
        "text_agreement": same_text / len(inputs),
        "inputs": [len(x) for x in inputs],
    }


def export_with_parity(info: ModelInfo, quantize: str | None = None) -> tuple[Path, dict[str, Any]]:
    """Build the fp32 graph (and the ``quantize`` variant, "int8" or "fp16", from it) and
    measure it with :func:`check_parity`; return its path and the measurements."""
    base = info.path / ONNX_FILE
    if quantize is None or not base.is_file():
        export_onnx(info)  # the fp32 graph is also what the smaller variants are made from
    path = base if quantize is None else build_variant_graph(base, quantize)
    parity = check_parity(info, quantize or "fp32")
    return path, {"variant": f"onnx-{quantize}" if quantize else "onnx", **parity}


def build(model_id: str, quantize: str | None, start: Callable[[str], None]) -> ExportResult:
    """``models export`` for a wav2vec2 model in the store (a
    :data:`tui_speech.hub.export.Builder`): the graph or variant and its parity record beside
    it (``onnx/model.onnx.json`` and so on), built under the model's lock so a pull cannot swap
    the folder mid-export."""
    import json

    from tui_speech.asr.model import load_model_info
    from tui_speech.fileio import atomic_write_text
    from tui_speech.hub import store
    from tui_speech.hub.export import ExportResult

    folder = store.require(model_id)
    what = f"{quantize} variant" if quantize else "ONNX export"
    start(f"{model_id}: {what} and parity check against PyTorch")
    with store.model_lock(model_id):
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


def _text(recognizer: Recognizer, logits: np.ndarray) -> str:
    """The transcript ``recognizer``'s own decoder makes of one window's logits."""
    from tui_speech.asr.ctc import trim_spaces

    decoder = recognizer.new_decoder()
    chars = trim_spaces(decoder.feed_logits(logits) + decoder.flush())
    return "".join(c.char for c in chars)
