"""Kokoro through PyTorch (``kokoro.KModel``) when the full weights are in the store.

A model directory holds ``config.json`` and the weights (``kokoro-v1_0.pth``, or any single
``*.pth``); ``voices/`` beside them holds voice packs, which ``tui_speech.tts.voices`` reads.
Nothing here downloads: KModel gets both local paths, and its ``torch.load`` is
``weights_only=True``, so a weights file cannot run code.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from tui_speech.errors import Action, ModelMissingError
from tui_speech.tts.engine import SAMPLE_RATE, EngineOutput, check_speed, default_threads

REPO_ID = "hexgrad/Kokoro-82M"
PREFERRED_WEIGHTS = "kokoro-v1_0.pth"


def find_weights(path: Path) -> tuple[Path, Path]:
    """``(config.json, weights.pth)`` of a Kokoro model directory, or a one-line error."""
    if not path.is_dir():
        raise ModelMissingError(
            f"no Kokoro model directory at {path}",
            "pull the model, or give the folder that holds config.json and the .pth weights",
            action=Action("pull-model", REPO_ID),
        )
    config = path / "config.json"
    if not config.is_file():
        raise ModelMissingError(f"{path} has no config.json: the Kokoro model there is incomplete")
    preferred = path / PREFERRED_WEIGHTS
    candidates = [preferred] if preferred.is_file() else sorted(path.glob("*.pth"))
    if len(candidates) != 1:
        found = "no" if not candidates else f"{len(candidates)}"
        raise ModelMissingError(
            f"{path} has {found} .pth weight files; it needs {PREFERRED_WEIGHTS} or exactly one"
        )
    return config, candidates[0]


class TorchKokoro:
    """Kokoro-82M in PyTorch: token ids + style + speed -> 24 kHz audio and durations."""

    name = "torch"
    parallel_runs = 1  # torch already spreads one run over every core
    sample_rate = SAMPLE_RATE

    def __init__(self, model: Any, threads: int | None = None) -> None:
        self._model = model.eval()
        self._threads = threads or default_threads()
        # One synthesis at a time: each already uses every core we set torch to.
        self._lock = threading.Lock()

    @classmethod
    def from_dir(cls, path: Path, threads: int | None = None) -> TorchKokoro:
        """Load ``config.json`` + weights from ``path`` (see :func:`find_weights`)."""
        config, weights = find_weights(path)
        try:
            import torch
            from kokoro import KModel
        except ImportError as exc:
            raise ModelMissingError(
                "the PyTorch Kokoro backend needs the torch extra: pip install 'tui-speech[torch]'"
            ) from exc
        _set_threads(torch, threads or default_threads())
        try:
            model = KModel(repo_id=REPO_ID, config=str(config), model=str(weights))
        except Exception as exc:  # any failure here means the weights are unusable
            # A truncated or foreign .pth (the weights-only unpickler refuses it), or a
            # config.json that does not fit the weights. One line, not torch's whole essay.
            detail = (str(exc).strip().splitlines() or [""])[0][:160]
            raise ModelMissingError(
                f"cannot load the Kokoro weights {weights.name} in {path} "
                f"({type(exc).__name__}: {detail}); pull the model again"
            ) from exc
        return cls(model, threads)

    def synthesize(self, token_ids: list[int], style: np.ndarray, speed: float) -> EngineOutput:
        """Audio for one chunk of token ids (without boundary pads; added here, as Kokoro does).

        ``durations`` are frames per token, pads included (600 samples per frame at 24 kHz).
        """
        import torch

        speed = check_speed(speed)
        ids = torch.tensor([[0, *token_ids, 0]], dtype=torch.long)
        ref = torch.from_numpy(np.asarray(style, dtype=np.float32).reshape(1, -1))
        with self._lock, torch.inference_mode():
            _set_threads(torch, self._threads)
            audio, durations = self._model.forward_with_tokens(ids, ref, speed)
        samples = audio.reshape(-1).to(torch.float32).numpy().copy()
        return EngineOutput(samples, durations.reshape(-1).numpy().astype(np.int64))


def _set_threads(torch: Any, threads: int) -> None:
    # torch's thread count is process-wide; set it per call in case another user changed it.
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
