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


def export_onnx(info: ModelInfo, out: Path | None = None, opset: int = DEFAULT_OPSET) -> Path:
    """Write the ONNX export of the model ``info`` describes; return its path."""
    import torch

    from tui_speech.asr.backends import TorchBackend

    target = out or info.path / ONNX_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    model = TorchBackend(info).model

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
        _externalise(traced, work / target.name, target.name + DATA_SUFFIX)
        os.replace(work / (target.name + DATA_SUFFIX), target.with_name(target.name + DATA_SUFFIX))
        os.replace(work / target.name, target)
    except TuiSpeechError:
        raise
    except Exception as exc:
        raise TuiSpeechError(f"ONNX export of {info.name} failed: {exc}".splitlines()[0]) from exc
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


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
