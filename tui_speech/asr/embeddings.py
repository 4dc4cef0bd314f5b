"""Hidden-state embeddings of a wav2vec2 model, per frame or mean-pooled.

Layers are numbered as transformers' ``hidden_states``: 0 is the transformer's input (the
projected conv features), ``num_hidden_layers`` the last layer's output. Shapes, with
``H = config.hidden_size``, ``L = config.num_hidden_layers`` and one frame per 20 ms:

=============  ==================  =================
layer          pool="none"         pool="mean"
=============  ==================  =================
N              (frames, H)         (H,)
all            (L + 1, frames, H)  (L + 1, H)
=============  ==================  =================

Long files go through the same overlapping windows as transcription, so every frame sees the
same context it would in one pass; mean pooling keeps only a running sum.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from tui_speech.asr.backends import TorchBackend
from tui_speech.asr.chunking import iter_windows, window_sizes
from tui_speech.asr.recognizer import CHUNK_SECONDS, STRIDE_SECONDS
from tui_speech.errors import UsageError

POOLS = ("mean", "none")


def parse_layer(value: str, num_layers: int) -> int | None:
    """``"all"`` -> None; ``"N"`` -> N (negative counts from the last layer)."""
    if value == "all":
        return None
    try:
        n = int(value)
    except ValueError:
        raise UsageError(
            f"layer {value!r} is not a layer", "give a layer number or 'all'"
        ) from None
    if n < 0:
        n += num_layers + 1
    if not 0 <= n <= num_layers:
        raise UsageError(f"layer {value}: this model has layers 0 to {num_layers}")
    return n


def embed(
    backend: TorchBackend,
    blocks: Iterable[np.ndarray],
    layer: int | None,
    pool: str = "mean",
    chunk_s: float = CHUNK_SECONDS,
    stride_s: float = STRIDE_SECONDS,
) -> np.ndarray:
    """Embeddings of a 16 kHz sample stream (see the module docstring for the shapes)."""
    if pool not in POOLS:
        raise UsageError(f"pooling {pool!r} is unknown", f"use one of {', '.join(POOLS)}")
    info = backend.info
    chunk, stride = window_sizes(chunk_s, stride_s, info.sample_rate, info.hop)
    chosen = slice(None) if layer is None else slice(layer, layer + 1)
    parts: list[np.ndarray] = []
    total: np.ndarray | None = None
    count = 0
    for window in iter_windows(blocks, chunk, stride, info.hop):
        if window.first_frame == 0 and window.keep_to is None:
            if len(window.samples) < info.receptive_field:
                ms = len(window.samples) * 1000 / info.sample_rate
                raise UsageError(f"the audio is too short ({ms:.0f} ms) to embed")
        x = window.samples
        if info.do_normalize:
            x = ((x - x.mean()) / np.sqrt(x.var() + 1e-7)).astype(np.float32)
        states = np.stack(backend.hidden_states(x)[chosen])  # (layers, frames, H)
        states = states[:, window.keep_from : window.keep_to]
        if pool == "mean":
            s = states.sum(axis=1, dtype=np.float64)
            total = s if total is None else total + s
            count += states.shape[1]
        else:
            parts.append(states.astype(np.float32))
    if pool == "mean":
        if total is None or count == 0:
            raise UsageError("no audio frames to embed")
        out = (total / count).astype(np.float32)
    else:
        out = np.concatenate(parts, axis=1)
    return out[0] if layer is not None else out
