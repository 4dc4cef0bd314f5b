"""wav2vec2 inference backends behind one small protocol, picked by name.

- ``torch``: transformers' ``Wav2Vec2ForCTC`` under ``torch.inference_mode``.
- ``onnx``: onnxruntime on ``onnx/model.onnx`` (see :mod:`tui_speech.asr.export`) or, with
  ``precision="int8"|"fp16"``, on the quantized variant beside it; the CUDA provider when
  onnxruntime has it, the CPU provider otherwise.

A backend takes one window of already normalised 16 kHz samples and returns its logits,
(frames, vocab) float32. Heavy libraries are imported when a backend is built, never before.
"""

from __future__ import annotations

import os
import warnings
from typing import Any, Protocol

import numpy as np

from tui_speech.asr.model import (
    ONNX_PRECISIONS,
    TORCH_PRECISIONS,
    WEIGHT_FILES,
    ModelInfo,
    onnx_file,
)
from tui_speech.errors import Action, ModelMissingError, UsageError

BACKENDS = ("torch", "onnx")


class AsrBackend(Protocol):
    name: str
    info: ModelInfo

    def logits(self, samples: np.ndarray) -> np.ndarray:
        """Logits (frames, vocab) for one window of normalised float32 samples."""
        ...


def default_threads() -> int:
    """Intra-op threads: the cores this process may run on (affinity-aware)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _quiet_transformers() -> None:
    # Progress bars and load reports from transformers would interleave with our stderr.
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


class TorchBackend:
    """transformers' Wav2Vec2ForCTC on PyTorch (CPU).

    ``precision="bf16"`` runs the matrix multiplies in bfloat16 under CPU autocast: about twice
    as fast on CPUs with AVX512-BF16 or AMX, at the cost of logits that differ in the second
    decimal (the text rarely changes; confidences shift slightly). fp32 is the default.
    """

    name = "torch"

    def __init__(
        self, info: ModelInfo, threads: int | None = None, precision: str = "fp32"
    ) -> None:
        import torch

        check_precision(self.name, precision)
        self.precision = precision

        _quiet_transformers()
        from transformers import Wav2Vec2ForCTC

        torch.set_num_threads(threads or default_threads())
        self.info = info
        self._torch = torch
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = Wav2Vec2ForCTC.from_pretrained(str(info.path))
        except Exception as exc:  # safetensors, pickle and torch each raise their own types
            first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc)
            raise ModelMissingError(
                f"cannot load the weights in {info.path} ({first}); "
                f"re-fetch the model ({' or '.join(WEIGHT_FILES)})"
            ) from None
        self.model: Any = model.eval()

    def logits(self, samples: np.ndarray) -> np.ndarray:
        x = self._torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32))[None]
        with self._torch.inference_mode():
            if self.precision == "bf16":
                with self._torch.autocast("cpu", dtype=self._torch.bfloat16):
                    return self.model(x).logits[0].float().numpy()
            return self.model(x).logits[0].float().numpy()

    def hidden_states(self, samples: np.ndarray) -> list[np.ndarray]:
        """Every layer's output, (frames, hidden) each: index 0 is the input to layer 1."""
        x = self._torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32))[None]
        with self._torch.inference_mode():
            out = self.model(x, output_hidden_states=True)
        return [h[0].float().numpy() for h in out.hidden_states]


def onnx_providers() -> list[str]:
    """CUDA first when this onnxruntime build has it, CPU always."""
    import onnxruntime as ort

    available = ort.get_available_providers()
    wanted = ["CUDAExecutionProvider", "CPUExecutionProvider"]
    return [p for p in wanted if p in available] or ["CPUExecutionProvider"]


class OnnxBackend:
    """onnxruntime on the model's ONNX export (fp32, or its int8 / fp16 variant)."""

    name = "onnx"

    def __init__(
        self, info: ModelInfo, threads: int | None = None, precision: str = "fp32"
    ) -> None:
        import onnxruntime as ort

        check_precision(self.name, precision)
        self.info = info
        self.precision = precision
        path = info.path / onnx_file(precision)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or default_threads()
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Speed first: pre-packed weights, the arena and memory patterns (onnxruntime's
        # defaults) ran 20 s windows of the full-size model 1.4x faster than without them
        # (bench/asr_speed.py); with 20 s windows `transcribe` peaks near 1.9 GB, inside the
        # 2.5 GB bound.
        try:
            self.session = ort.InferenceSession(str(path), opts, providers=onnx_providers())
        except Exception as exc:  # onnxruntime raises its own untyped Fail/InvalidGraph errors
            first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc)
            raise ModelMissingError(
                f"cannot load {path} ({first})",
                "rebuild it",
                action=Action("export-model", info.name, precision),
            ) from None
        self._input = self.session.get_inputs()[0].name

    def logits(self, samples: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(samples, dtype=np.float32)[None]
        return np.asarray(self.session.run(None, {self._input: x})[0][0], dtype=np.float32)


def check_precision(backend: str, precision: str) -> None:
    """A one-line error for a precision ``backend`` cannot run (before any model is read)."""
    if backend == "torch" and precision not in TORCH_PRECISIONS:
        raise UsageError(
            f"precision {precision} is an ONNX variant (torch runs "
            f"{' or '.join(TORCH_PRECISIONS)})",
            "run it on the onnx backend",
            action=Action("pick-backend", value="onnx"),
        )
    if backend == "onnx" and precision not in ONNX_PRECISIONS:
        raise UsageError(
            f"precision {precision} is for the torch backend; "
            f"onnx runs {', '.join(ONNX_PRECISIONS)}",
            action=Action("pick-backend", value="torch"),
        )


def load_backend(
    name: str, info: ModelInfo, threads: int | None = None, precision: str = "fp32"
) -> AsrBackend:
    """Build backend ``name`` ("torch" or "onnx") for the model ``info`` describes."""
    if name == "torch":
        return TorchBackend(info, threads, precision)
    if name == "onnx":
        return OnnxBackend(info, threads, precision)
    raise UsageError(f"unknown backend {name!r}; use one of: {', '.join(BACKENDS)}")
