"""Kokoro engines behind one small protocol, picked by name.

- ``onnx``: onnxruntime on a Kokoro ONNX export (the embedded int8 model by default).
- ``torch``: ``kokoro.KModel`` when the full PyTorch weights are in the store.

Both take token ids (without the boundary pads), a style vector (1, 256) and a speed, and return
24 kHz float32 audio plus, where the model gives them, per-token durations in frames.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from tui_speech.audio.rates import TTS_RATE
from tui_speech.errors import Action, UsageError
from tui_speech.tts.durations import checked_durations, timed_model
from tui_speech.tts.session_cache import create_session

#: Kokoro's rate under the name engine_torch and pipeline import (one value: audio.rates).
SAMPLE_RATE = TTS_RATE
MIN_SPEED, MAX_SPEED = 0.5, 2.0


@dataclass(frozen=True)
class EngineOutput:
    audio: np.ndarray  # float32, mono, SAMPLE_RATE
    durations: np.ndarray | None = None  # frames per input token (pads included), if known


class KokoroEngine(Protocol):
    name: str
    sample_rate: int
    #: How many synthesize() calls may run at once to use the machine fully.
    parallel_runs: int

    def synthesize(self, token_ids: list[int], style: np.ndarray, speed: float) -> EngineOutput:
        """Audio for one chunk of at most 510 token ids."""
        ...


def check_speed(speed: float) -> float:
    if not (MIN_SPEED <= speed <= MAX_SPEED):
        raise UsageError(f"speed {speed} is out of range; use {MIN_SPEED} to {MAX_SPEED}")
    return float(speed)


def default_threads() -> int:
    """Threads for one inference: every core we may use (affinity-aware)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class OnnxKokoro:
    """Kokoro through onnxruntime (kokoro-onnx export: tokens, style, speed -> audio)."""

    name = "onnx"
    sample_rate = SAMPLE_RATE

    def __init__(
        self,
        model_path: Path,
        threads: int | None = None,
        parallel_runs: int = 1,
        after_first: Callable[[], object] | None = None,
        *,
        cache_graph: bool = False,
    ) -> None:
        import onnxruntime as ort

        #: Called once, after the first synthesis has returned its audio (so whatever it starts
        #: never delays the first sound): the embedded model's tuning starts there.
        self._after_first = after_first

        #: How many chunks the pipeline may synthesize at once (onnxruntime runs are
        #: thread-safe on one session; weights are shared, each run has its own activations).
        self.parallel_runs = max(1, parallel_runs)

        def options() -> ort.SessionOptions:
            made = ort.SessionOptions()
            made.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            made.intra_op_num_threads = threads or default_threads()
            made.inter_op_num_threads = 1
            made.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            return made

        providers = [
            p
            for p in ("CUDAExecutionProvider", "CPUExecutionProvider")
            if p in ort.get_available_providers()
        ]
        self.model_path = model_path
        # ``cache_graph``: the graph onnxruntime optimized last time on this CPU, if any (for
        # the engines ``speak`` and the TUI load; measurement sessions make no copies).
        self._session, self.from_cache = create_session(
            model_path, options, providers, cache=cache_graph
        )
        inputs = {i.name for i in self._session.get_inputs()}
        # Exports differ in the name of the token input.
        self._token_input = "tokens" if "tokens" in inputs else "input_ids"
        self._style_input = "style" if "style" in inputs else "ref_s"  # Kokoro's own export
        self._outputs = [o.name for o in self._session.get_outputs()]
        # Each chunk has its own length, so the arena would keep growing to fit every shape
        # seen; shrinking it after each run keeps the peak memory near that of one chunk.
        self._run_options = ort.RunOptions()
        self._run_options.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")

    def synthesize(self, token_ids: list[int], style: np.ndarray, speed: float) -> EngineOutput:
        feed = {
            self._token_input: np.array([[0, *token_ids, 0]], dtype=np.int64),
            self._style_input: np.asarray(style, dtype=np.float32).reshape(1, -1),
            "speed": np.array([speed], dtype=np.float32),
        }
        outputs = self._session.run(None, feed, self._run_options)
        audio = np.asarray(outputs[0], dtype=np.float32).reshape(-1)
        durations = checked_durations(outputs[1] if len(outputs) > 1 else None, len(audio))
        if self._after_first is not None:
            hook, self._after_first = self._after_first, None
            hook()
        return EngineOutput(audio, durations)


_engines: dict[tuple[str, str], KokoroEngine] = {}
_engines_lock = threading.Lock()


def load_engine(backend: str = "onnx", model: str | Path | None = None) -> KokoroEngine:
    """The engine for ``backend`` on ``model`` (a path; default: the embedded model), cached."""
    with _engines_lock:
        key = (backend, str(model or ""))
        if key in _engines:
            return _engines[key]
        if backend == "onnx":
            engine: KokoroEngine = (
                _embedded_engine()
                if model is None
                else OnnxKokoro(_onnx_model_path(model), cache_graph=True)
            )
        elif backend == "torch":
            from tui_speech.tts.engine_torch import TorchKokoro

            if model is None:
                raise UsageError(
                    "the torch backend needs a Kokoro model directory",
                    "give a pulled Kokoro model or its folder",
                    action=Action("pick-model"),
                )
            engine = TorchKokoro.from_dir(Path(model))
        else:
            raise UsageError(f"unknown TTS backend {backend!r}; choose onnx or torch")
        _engines[key] = engine
        return engine


def _embedded_engine() -> OnnxKokoro:
    """The embedded model as measured fastest on this CPU (variant, threads per run, chunks at
    once: ``tts.tuning``), in its timed copy (``tts.durations``). Until this CPU is measured:
    int8 on every core, one chunk at a time, and a measurement starts in the background after
    the first synthesis."""
    from tui_speech.tts import tuning

    chosen = tuning.current()
    after_first = None if chosen.measured else tuning.start_background
    # The timed copy: the same audio, plus each token's duration (word timings, captions).
    model = timed_model(chosen.model)
    return OnnxKokoro(model, chosen.threads, chosen.runs, after_first, cache_graph=True)


def _onnx_model_path(model: str | Path) -> Path:
    """An ONNX file, or a Kokoro folder holding ``onnx/model.onnx``."""
    path = Path(model)
    if path.is_dir():
        path = path / "onnx" / "model.onnx"
    if not path.is_file():
        from tui_speech.errors import ModelMissingError

        raise ModelMissingError(
            f"no Kokoro ONNX model at {model}",
            "export one",
            action=Action("export-model"),
        )
    return path
