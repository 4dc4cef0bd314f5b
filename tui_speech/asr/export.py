"""Export a wav2vec2 CTC model to ONNX (``onnx/model.onnx`` inside the model directory).

The graph takes ``input_values`` (batch, samples) float32, already normalised, and gives
``logits`` (batch, frames, vocab); batch and time are dynamic. The file is written to a
temporary name and renamed into place, so a failed export never leaves a half-written model
that the ONNX backend would try to load.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path

from tui_speech.asr.model import ONNX_FILE, ModelInfo
from tui_speech.errors import TuiSpeechError

DEFAULT_OPSET = 17


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
    fd, tmp_name = tempfile.mkstemp(prefix=".model.", suffix=".onnx.part", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            # The TorchScript exporter: no onnxscript dependency, and it handles wav2vec2's
            # data-dependent shapes (conv output length) with plain dynamic axes.
            torch.onnx.export(
                LogitsOnly().eval(),
                (example,),
                str(tmp),
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
        os.replace(tmp, target)
    except TuiSpeechError:
        raise
    except Exception as exc:
        raise TuiSpeechError(f"ONNX export of {info.name} failed: {exc}".splitlines()[0]) from exc
    finally:
        tmp.unlink(missing_ok=True)
    return target
