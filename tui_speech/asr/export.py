"""Export a wav2vec2 CTC model to ONNX (``onnx/model.onnx`` inside the model directory).

The graph takes ``input_values`` (batch, samples) float32, already normalised, and gives
``logits`` (batch, frames, vocab); batch and time are dynamic. The weights go to
``model.onnx.data`` beside the graph (ONNX external data): onnxruntime memory-maps them instead
of copying a 1.3 GB protobuf, which keeps ``transcribe --backend onnx`` under 1.6 GB. Both files
are written under temporary names and renamed into place, the graph last, so a failed export
never leaves a half-written model that the ONNX backend would try to load.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from pathlib import Path

from tui_speech.asr.model import ONNX_FILE, ModelInfo
from tui_speech.errors import TuiSpeechError

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
