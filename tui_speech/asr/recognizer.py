"""The recogniser: a loaded model plus greedy CTC decoding, for arrays, streams and files.

The calls other layers build on:

- :meth:`Recognizer.window_logits` – logits (frames, vocab) for one window of 16 kHz samples;
- :meth:`Recognizer.decode` – a float32 16 kHz array in, a frozen :class:`Transcript` out;
- :meth:`Recognizer.iter_chars` – characters from a stream of sample blocks, lazily, in
  overlapping windows (bounded memory; see :mod:`tui_speech.asr.chunking`);
- :meth:`Recognizer.transcribe_file` – any audio file, read block by block.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Self

import numpy as np

from tui_speech.asr.backends import AsrBackend, check_precision, load_backend
from tui_speech.asr.chunking import iter_windows, window_sizes
from tui_speech.asr.ctc import DEFAULT_ALTERNATIVES, CharResult, GreedyDecoder, trim_spaces
from tui_speech.asr.model import DEFAULT_MODEL, ModelInfo, find_model
from tui_speech.errors import UsageError

#: Window length and context on each side. 30 s keeps typical clips to one pass on PyTorch.
#: onnxruntime keeps its arena at the largest window's activations: 20 s windows peak near
#: 1.9 GB for the real model (30 s: 2.2 GB). Their context is transformers' for
#: ``chunk_length_s=20`` (a sixth of the window each side), so the windows are the pipeline's
#: and so is the text (60 s of the full-size model: equal); 2 s of context was 7 % faster
#: but changed the text (bench/asr_speed.py).
CHUNK_SECONDS = 30.0
STRIDE_SECONDS = 4.0
WINDOWS = {"torch": (CHUNK_SECONDS, STRIDE_SECONDS), "onnx": (20.0, 20.0 / 6)}
#: Windows quieter than this (RMS, full scale = 1) are digital silence: normalising them would
#: blow the noise floor up to speech level and the model would "hear" characters in it.
SILENCE_RMS = 10 ** (-70 / 20)
LANGUAGES = {DEFAULT_MODEL: "zh-CN"}

Progress = Callable[[float], None]  # seconds of audio done


@dataclass(frozen=True)
class Transcript:
    """A transcription: the text and, per character, timing, confidence and alternatives."""

    text: str
    chars: tuple[CharResult, ...]
    duration: float  # seconds of audio
    model: str
    language: str = "zh-CN"
    source: str = ""

    @property
    def confidence(self) -> float:
        """Mean character confidence (1.0 for an empty transcript: nothing to doubt)."""
        if not self.chars:
            return 1.0
        return float(np.mean([c.confidence for c in self.chars]))


def checked_samples(samples: np.ndarray) -> np.ndarray:
    """``samples`` as float32, or a one-line error for what no recogniser can transcribe."""
    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim != 1:
        raise UsageError(f"expected mono samples, got an array of shape {samples.shape}")
    if len(samples) == 0:
        raise UsageError("no audio samples to transcribe")
    if not np.isfinite(samples).all():
        raise UsageError("the audio holds NaN or infinite samples")
    return samples


class Recognizer:
    """A wav2vec2 CTC model ready to transcribe (see the module docstring)."""

    def __init__(
        self,
        backend: AsrBackend,
        alternatives: int = DEFAULT_ALTERNATIVES,
        chunk_s: float | None = None,
        stride_s: float | None = None,
    ) -> None:
        self.backend = backend
        self.info: ModelInfo = backend.info
        self.alternatives = alternatives
        default_chunk, default_stride = WINDOWS.get(backend.name, (CHUNK_SECONDS, STRIDE_SECONDS))
        chunk_s = default_chunk if chunk_s is None else chunk_s
        stride_s = default_stride if stride_s is None else stride_s
        try:
            self.chunk, self.stride = window_sizes(
                chunk_s, stride_s, self.info.sample_rate, self.info.hop
            )
        except ValueError:
            raise UsageError(
                f"a {chunk_s} s window with {stride_s} s of context on each side keeps nothing",
                "make the chunk more than twice the stride",
            ) from None

    @classmethod
    def load(
        cls,
        model: str | None = None,
        backend: str = "torch",
        threads: int | None = None,
        precision: str = "fp32",
        **options: float | None,
    ) -> Self:
        """Resolve ``model`` (repo id or directory), check it, and load ``backend`` at
        ``precision`` (torch: fp32, bf16; onnx: fp32, int8, fp16)."""
        check_precision(backend, precision)
        info = find_model(model, need=backend, precision=precision if backend == "onnx" else "fp32")
        return cls(load_backend(backend, info, threads, precision), **options)  # type: ignore[arg-type]

    def draft(self, threads: int | None = None) -> Recognizer:
        """A cheaper recogniser of the same model for live partials: the int8 ONNX variant when
        the model folder has one and this recogniser is not already running it; else ``self``.

        Partials are provisional and re-decoded often, so they may trade a little accuracy for
        speed; finals stay with this recogniser (bench/RESULTS.md has the speeds).
        """
        from tui_speech.asr.model import onnx_file

        already = self.backend.name == "onnx" and getattr(self.backend, "precision", "") == "int8"
        if already or not (self.info.path / onnx_file("int8")).is_file():
            return self
        backend = load_backend("onnx", self.info, threads, "int8")
        return type(self)(backend, self.alternatives)

    @property
    def sample_rate(self) -> int:
        return self.info.sample_rate

    @property
    def budget_window_s(self) -> float:
        """Audio one offline call decodes, for the live compute budget: one window."""
        return self.chunk / self.sample_rate

    def min_samples(self) -> int:
        """The shortest input that gives one output frame."""
        return self.info.receptive_field

    def normalise(self, samples: np.ndarray) -> np.ndarray:
        """What the feature extractor does: zero mean, unit variance (if the model asks)."""
        x = np.asarray(samples, dtype=np.float32)
        if not self.info.do_normalize:
            return x
        # Same formula and epsilon as Wav2Vec2FeatureExtractor.zero_mean_unit_var_norm.
        return ((x - x.mean()) / np.sqrt(x.var() + 1e-7)).astype(np.float32)

    def window_logits(self, samples: np.ndarray) -> np.ndarray:
        """Logits (frames, vocab) for one window of raw 16 kHz float32 samples."""
        if len(samples) < self.min_samples():
            return np.zeros((0, len(self.info.vocab)), np.float32)
        return self.backend.logits(self.normalise(samples))

    def window_chars(self, samples: np.ndarray, prompt: str = "") -> tuple[CharResult, ...]:
        """Characters of one live window, times from its start. ``prompt`` (the committed
        text before the window) is for seq2seq recognisers; CTC has no use for it."""
        decoder = self.new_decoder()
        return tuple(decoder.feed_logits(self.window_logits(samples)) + decoder.flush())

    def new_decoder(self) -> GreedyDecoder:
        """A fresh incremental decoder configured for this model (for streaming callers)."""
        info = self.info
        return GreedyDecoder(
            info.vocab,
            info.blank_id,
            info.frame_seconds,
            info.delimiter_id,
            self.alternatives,
            info.lower_case,
        )

    def iter_chars(
        self, blocks: Iterable[np.ndarray], progress: Progress | None = None
    ) -> Iterator[CharResult]:
        """Characters of a 16 kHz sample stream as windows finish (lazy; bounded memory).

        Leading and trailing spaces are not trimmed here (the stream does not know its end
        until it ends); :meth:`decode` and :meth:`transcribe_file` trim them.
        """
        decoder = self.new_decoder()
        total = 0
        for window in iter_windows(blocks, self.chunk, self.stride, self.info.hop):
            total = window.end_sample
            if window.keep_to is None and window.first_frame == 0:
                self._check_length(len(window.samples))
            frames = self.info.frames_for(len(window.samples))
            keep_to = frames if window.keep_to is None else min(window.keep_to, frames)
            keep = max(0, keep_to - window.keep_from)
            if float(np.sqrt(np.mean(np.square(window.samples)))) < SILENCE_RMS:
                yield from decoder.skip(keep)
            else:
                logits = self.window_logits(window.samples)[window.keep_from : keep_to]
                yield from decoder.feed_logits(logits)
            if progress is not None:
                progress(total / self.sample_rate)
        yield from decoder.flush()

    def _check_length(self, samples: int) -> None:
        if samples < self.min_samples():
            ms = samples * 1000 / self.sample_rate
            need = self.min_samples() * 1000 / self.sample_rate
            raise UsageError(
                f"the audio is too short ({ms:.0f} ms); the model needs at least {need:.0f} ms"
            )

    def _transcript(self, chars: list[CharResult], duration: float, source: str) -> Transcript:
        chars = trim_spaces(chars)
        return Transcript(
            text="".join(c.char for c in chars),
            chars=tuple(chars),
            duration=duration,
            model=self.info.name,
            language=LANGUAGES.get(self.info.name, "zh-CN"),
            source=source,
        )

    def decode(self, samples: np.ndarray) -> Transcript:
        """Transcribe a float32 16 kHz mono array (windowed when longer than one chunk)."""
        samples = checked_samples(samples)
        chars = list(self.iter_chars([samples]))
        return self._transcript(chars, len(samples) / self.sample_rate, "")

    def transcribe_file(self, path: str | Path, progress: Progress | None = None) -> Transcript:
        """Transcribe any audio file soundfile reads (block by block; bounded memory)."""
        from tui_speech.audio.reader import iter_blocks

        seconds = [0.0]

        def counted() -> Iterator[np.ndarray]:
            for block in iter_blocks(path, target_rate=self.sample_rate):
                seconds[0] += len(block) / self.sample_rate
                yield block

        try:
            chars = list(self.iter_chars(counted(), progress))
        except UsageError as exc:
            if str(path) in exc.message:
                raise
            raise UsageError(f"{path}: {exc.message}") from None
        return self._transcript(chars, seconds[0], str(path))
