"""``models export`` for Kokoro: ONNX of a Kokoro model directory (with per-token durations as
a second output), and the embedded model's float variants (``build``, the TTS builder that
``tui_speech.hub.export.export`` is given).

``<model dir>/onnx/model.onnx`` takes ``input_ids`` [1, T] int64 (pads included), ``style``
[1, 256] float32 and ``speed`` [1] float32, and returns ``waveform`` [samples] float32 and
``duration`` [T] int64 (frames of 600 samples per token), so the Speak pane can show word
timings. It is kokoro's ``KModelForONNX``; the names match what ``OnnxKokoro`` feeds.

The export is written to a temp dir beside ``onnx/`` and renamed into place only after the
parity check against PyTorch has passed the file through onnxruntime, so a failed or
interrupted export leaves nothing behind. ``manifest.json`` records the parity.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np

from tui_speech.errors import Action, ModelMissingError, UsageError
from tui_speech.fileio import swap_dir
from tui_speech.hub.export import ExportResult

ONNX_DIRNAME = "onnx"
MODEL_FILENAME = "model.onnx"
MANIFEST_FILENAME = "manifest.json"
INPUT_NAMES = ["input_ids", "style", "speed"]
OUTPUT_NAMES = ["waveform", "duration"]
#: Parity inputs: token id runs (no pads) and speeds; short, so the check takes seconds.
PARITY_TOKENS = ((50, 83, 156, 43, 102, 16), (16, 56, 123, 61, 102, 4, 47, 158, 69, 135))
PARITY_SPEEDS = (1.0, 1.3)
#: Audio correlation an export must reach. Exports measure ~0.985 on random weights (float32
#: differences in the F0 phase integral and the STFT's atan2); a wrong graph is far below.
MIN_CORRELATION = 0.9


def _load_for_export(model_dir: Path) -> Any:
    from kokoro import KModel

    from tui_speech.tts.engine_torch import REPO_ID, find_weights

    config, weights = find_weights(model_dir)
    try:
        # disable_complex: kokoro's own STFT made of real convolutions, which ONNX can express.
        model = KModel(
            repo_id=REPO_ID, config=str(config), model=str(weights), disable_complex=True
        )
    except (KeyError, ValueError, RuntimeError, AssertionError) as exc:
        raise ModelMissingError(
            f"{model_dir.name} is not a complete Kokoro model (its config or weights do not "
            f"fit Kokoro's architecture: {exc!r})",
            "pull it again",
            action=Action("pull-model"),
        ) from exc
    return model.eval()


def _inputs(tokens: tuple[int, ...], speed: float, seed: int) -> tuple[Any, Any, Any]:
    import torch

    style = np.random.default_rng(seed).standard_normal((1, 256)).astype(np.float32) * 0.1
    return (
        torch.tensor([[0, *tokens, 0]], dtype=torch.long),
        torch.from_numpy(style),
        torch.tensor([speed], dtype=torch.float32),
    )


#: Kokoro's harmonic source draws a random initial phase (``torch.rand``) and additive noise
#: (``torch.randn_like``): two PyTorch runs of one input correlate at only ~0.3. For the parity
#: check both runtimes get the same deterministic stand-in, ``sin(0.7 * i)`` over the flat index
#: i (zeros would not do: an all-zero source makes the STFT phase atan2(0, 0)).
_PSEUDO_NOISE_STEP = 0.7


def _pseudo_noise(shape: Any, dtype: Any = None) -> Any:
    import torch

    size = tuple(shape[0]) if len(shape) == 1 and not isinstance(shape[0], int) else tuple(shape)
    flat = torch.arange(int(np.prod(size)), dtype=torch.float32) * _PSEUDO_NOISE_STEP
    return torch.sin(flat).reshape(size).to(dtype or torch.float32)


@contextmanager
def _torch_with_pseudo_noise() -> Iterator[None]:
    """Replace torch's random draws with :func:`_pseudo_noise` (uniform draws mapped to [0, 1]).
    Patched process-wide for the seconds of the check: exports are rare, explicit acts."""
    import torch

    def rand(*size: Any, dtype: Any = None, **_: Any) -> Any:
        return _pseudo_noise(size, dtype) * 0.5 + 0.5

    def randn_like(x: Any, **_: Any) -> Any:
        return _pseudo_noise(x.shape, x.dtype)

    with mock.patch.object(torch, "rand", rand), mock.patch.object(torch, "randn_like", randn_like):
        yield


def _onnx_with_pseudo_noise(onnx_path: Path) -> bytes:
    """The exported graph with RandomUniformLike / RandomNormalLike replaced by the same
    stand-in as :func:`_torch_with_pseudo_noise`, built from ONNX ops on the input's shape."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load(str(onnx_path))
    consts: dict[str, np.ndarray] = {
        "pn_zero": np.array(0, np.int64),
        "pn_one": np.array(1, np.int64),
        "pn_step": np.array(_PSEUDO_NOISE_STEP, np.float32),
        "pn_half": np.array(0.5, np.float32),
    }
    model.graph.initializer.extend(numpy_helper.from_array(v, k) for k, v in consts.items())
    nodes = []
    for index, node in enumerate(model.graph.node):
        if node.op_type not in ("RandomUniformLike", "RandomNormalLike"):
            nodes.append(node)
            continue
        p = f"pn{index}_"
        nodes += [
            helper.make_node("Shape", [node.input[0]], [p + "shape"]),
            helper.make_node("ReduceProd", [p + "shape"], [p + "n"], keepdims=0),
            helper.make_node("Range", ["pn_zero", p + "n", "pn_one"], [p + "i"]),
            helper.make_node("Cast", [p + "i"], [p + "f"], to=TensorProto.FLOAT),
            helper.make_node("Mul", [p + "f", "pn_step"], [p + "x"]),
            helper.make_node("Sin", [p + "x"], [p + "sin"]),
        ]
        if node.op_type == "RandomUniformLike":
            nodes += [
                helper.make_node("Mul", [p + "sin", "pn_half"], [p + "h"]),
                helper.make_node("Add", [p + "h", "pn_half"], [p + "sin2"]),
            ]
            p_sin = p + "sin2"
        else:
            p_sin = p + "sin"
        nodes.append(helper.make_node("Reshape", [p_sin, p + "shape"], list(node.output)))
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    return model.SerializeToString()


def check_parity(model: Any, onnx_path: Path, threads: int = 2) -> list[dict[str, Any]]:
    """Run PyTorch and the ONNX file on the parity inputs; compare audio and durations.

    Both sides get the same stand-in for Kokoro's random source (see ``_PSEUDO_NOISE_STEP``),
    so the waveforms can be compared sample by sample.
    """
    import onnxruntime as ort
    import torch

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    session = ort.InferenceSession(
        _onnx_with_pseudo_noise(onnx_path), options, providers=["CPUExecutionProvider"]
    )
    results = []
    for index, (tokens, speed) in enumerate(zip(PARITY_TOKENS, PARITY_SPEEDS, strict=True)):
        ids, style, speed_t = _inputs(tokens, speed, seed=index)
        with torch.inference_mode(), _torch_with_pseudo_noise():
            audio, duration = model.forward_with_tokens(ids, style, float(speed))
        ref_audio, ref_dur = audio.reshape(-1).numpy(), duration.reshape(-1).numpy()
        feed = {"input_ids": ids.numpy(), "style": style.numpy(), "speed": speed_t.numpy()}
        onnx_audio, onnx_dur = (o.reshape(-1) for o in session.run(OUTPUT_NAMES, feed))
        n = min(len(ref_audio), len(onnx_audio))
        diff = np.abs(ref_audio[:n] - onnx_audio[:n])
        results.append(
            {
                "tokens": len(tokens) + 2,
                "speed": speed,
                "durations_equal": bool(np.array_equal(ref_dur, onnx_dur)),
                "samples": [int(len(ref_audio)), int(len(onnx_audio))],
                "max_abs_diff": round(float(diff.max()), 6),
                "mean_abs_diff": round(float(diff.mean()), 6),
                "correlation": round(float(np.corrcoef(ref_audio[:n], onnx_audio[:n])[0, 1]), 6),
            }
        )
    return results


def export_kokoro(model_dir: Path, *, opset: int = 17) -> Path:
    """Export ``model_dir`` to ``model_dir/onnx/model.onnx`` (replacing an older export) and
    return its path. Raises ModelMissingError for a missing or incomplete model directory."""
    import torch
    from kokoro.model import KModelForONNX

    model = _load_for_export(model_dir)
    target = model_dir / ONNX_DIRNAME
    started = time.perf_counter()
    staging = Path(tempfile.mkdtemp(prefix=f".{ONNX_DIRNAME}-", suffix=".part", dir=model_dir))
    try:
        onnx_path = staging / MODEL_FILENAME
        with torch.inference_mode(False), torch.no_grad():
            torch.onnx.export(
                KModelForONNX(model).eval(),
                _inputs(PARITY_TOKENS[0], 1.0, seed=0),
                str(onnx_path),
                input_names=INPUT_NAMES,
                output_names=OUTPUT_NAMES,
                dynamic_axes={
                    "input_ids": {1: "tokens"},
                    "waveform": {0: "samples"},
                    "duration": {0: "tokens"},
                },
                opset_version=opset,
                dynamo=False,  # the tracer handles Kokoro's data-dependent alignment
            )
        parity = check_parity(model, onnx_path)
        if not all(p["durations_equal"] and p["correlation"] >= MIN_CORRELATION for p in parity):
            raise ModelMissingError(
                f"the ONNX export of {model_dir.name} does not match PyTorch (durations or "
                "audio differ); it was not installed"
            )
        manifest = {
            "source": str(model_dir.name),
            "format": "onnx",
            "opset": opset,
            "inputs": INPUT_NAMES,
            "outputs": OUTPUT_NAMES,
            "torch": torch.__version__,
            "export_seconds": round(time.perf_counter() - started, 1),
            "size": onnx_path.stat().st_size,
            "parity": parity,
        }
        (staging / MANIFEST_FILENAME).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        # Readers see the old export or the new, never a mix.
        swap_dir(staging, target, target.with_name(f".{target.name}-old-{os.getpid()}"))
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target / MODEL_FILENAME


def build(model_id: str, quantize: str | None, start: Callable[[str], None]) -> ExportResult:
    """``models export`` for a TTS model (a :data:`tui_speech.hub.export.Builder`): float
    variants of the embedded int8 model, or the ONNX export of Kokoro-82M's PyTorch weights."""
    from tui_speech.hub import store
    from tui_speech.hub.embedded import EMBEDDED_ID

    if model_id == EMBEDDED_ID:
        return _export_embedded(quantize, start)
    return _export_kokoro(model_id, store.require(model_id), quantize, start)


def _export_embedded(quantize: str | None, start: Callable[[str], None]) -> ExportResult:
    from tui_speech.hub import store
    from tui_speech.hub.embedded import EMBEDDED_ID
    from tui_speech.tts import tuning, variants

    if quantize == "int8":
        raise UsageError(
            f"{EMBEDDED_ID} is int8 already",
            "export its fp32 (the default) or fp16 variant",
            action=Action("export-model", EMBEDDED_ID, "fp16"),
        )
    kind = quantize or "fp32"
    start(f"{EMBEDDED_ID}: dequantised {kind} variant and audio parity against int8")
    with store.model_lock(EMBEDDED_ID):
        path = variants.build_variant(kind)
    record = variants.read_json(variants.manifest_path(path))
    parity = {k: v for k, v in record.items() if k not in ("rewrite",)}
    if kind == "fp32":
        # Measure this CPU now if it was not yet, so Speak runs the fastest setting from here on.
        fastest = tuning.fastest_embedded_model()
        parity["fastest_on_this_machine"] = "fp32" if fastest == path else "int8"
    return ExportResult(EMBEDDED_ID, path, parity)


def _export_kokoro(
    model_id: str, folder: Path, quantize: str | None, start: Callable[[str], None]
) -> ExportResult:
    from tui_speech.hub import store

    if quantize:
        raise UsageError(
            f"{model_id}: only the fp32 ONNX export is available for Kokoro",
            "export it at full precision",
            action=Action("export-model", model_id),
        )
    start(f"{model_id}: ONNX export with durations and audio parity against PyTorch")
    with store.model_lock(model_id):
        path = export_kokoro(folder)
    manifest = path.with_name(MANIFEST_FILENAME)
    record = json.loads(manifest.read_text(encoding="utf-8")) if manifest.is_file() else {}
    phrases = record.get("parity", [])
    parity = {"min_correlation": min((p["correlation"] for p in phrases), default=None)}
    return ExportResult(model_id, path, {**parity, "phrases": phrases})
