"""Voice activity detection with silero-vad, run through onnxruntime (no PyTorch needed).

The silero-vad package ships its ONNX model; we only read the file, never import the package
(its ``__init__`` pulls in torch). :class:`SileroVad` scores 32 ms frames (512 samples at
16 kHz) with the model's recurrent state carried across calls. :class:`SpeechSegmenter` turns
those scores into utterances: speech (with a little padding either side) is passed on, silence
is dropped, and a pause of ``min_silence_s`` ends the utterance.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tui_speech.audio.rates import ASR_RATE
from tui_speech.errors import Action, ModelMissingError, UsageError

FRAME = 512  # samples the 16 kHz model scores at a time
CONTEXT = 64  # samples of the previous frame the model sees before each frame


def silero_model_path() -> Path:
    """The ONNX model inside the installed silero-vad package."""
    spec = importlib.util.find_spec("silero_vad")
    folders = list(spec.submodule_search_locations or []) if spec else []
    for folder in folders:
        path = Path(folder) / "data" / "silero_vad.onnx"
        if path.is_file():
            return path
    raise ModelMissingError(
        "the silero-vad model is not installed",
        "pip install silero-vad, or listen without the VAD",
        action=Action("no-vad"),
    )


class SileroVad:
    """Speech probability per 512-sample frame; stateful (call :meth:`reset` between streams)."""

    def __init__(self, path: Path | None = None) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        # The model is tiny: one thread avoids contending with the ASR model for the cores.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(
            str(path or silero_model_path()), options, providers=["CPUExecutionProvider"]
        )
        self.reset()

    def reset(self) -> None:
        self._state = np.zeros((2, 1, 128), np.float32)
        self._context = np.zeros((1, CONTEXT), np.float32)

    def __call__(self, frame: np.ndarray) -> float:
        x = np.concatenate([self._context, frame.reshape(1, FRAME).astype(np.float32)], axis=1)
        out, self._state = self._session.run(
            None, {"input": x, "state": self._state, "sr": np.array(ASR_RATE, np.int64)}
        )
        self._context = x[:, -CONTEXT:]
        return float(out[0, 0])


@dataclass(frozen=True)
class VadSettings:
    """Thresholds: speech starts above ``threshold`` and ends below ``threshold - 0.15`` held
    for ``min_silence_s``; ``pad_s`` of audio is kept either side of speech."""

    threshold: float = 0.5
    min_silence_s: float = 0.5
    pad_s: float = 0.2

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold < 1.0:
            raise UsageError(f"the VAD threshold must be between 0 and 1, not {self.threshold}")
        if self.min_silence_s <= 0 or self.pad_s < 0:
            raise UsageError("the minimum silence must be positive and the padding not negative")


#: What :meth:`SpeechSegmenter.feed` returns: speech samples, their session time, and whether
#: the utterance ends after them.
Piece = tuple[np.ndarray, float, bool]


class SpeechSegmenter:
    """Splits a sample stream into utterances; silence is never passed on."""

    def __init__(
        self, settings: VadSettings | None = None, vad: SileroVad | None = None, align: int = 1
    ) -> None:
        self.settings = settings or VadSettings()
        self.vad = vad or SileroVad()
        # Utterances start on a multiple of ``align`` samples of the session clock (the ASR's
        # hop), so every utterance's frames sit on one 20 ms grid of the session.
        self.align = max(1, align)
        self._pad = int(self.settings.pad_s * ASR_RATE)
        self._min_silence = int(self.settings.min_silence_s * ASR_RATE)
        self._off = max(0.01, self.settings.threshold - 0.15)
        self._pos: int | None = None  # session sample index of the next frame
        self._rest = np.zeros(0, np.float32)
        self._speaking = False
        self._preroll = np.zeros(0, np.float32)  # recent silence, kept to pad a speech start
        self._held: list[np.ndarray] = []  # silence inside speech, passed on if speech resumes
        self._silence = 0  # samples of silence since the last speech frame

    def feed(self, samples: np.ndarray, start_s: float) -> list[Piece]:
        """Score ``samples`` (16 kHz float32 starting at ``start_s``) and return the speech."""
        if self._pos is None:
            self._pos = round(start_s * ASR_RATE)
        data = np.concatenate([self._rest, np.asarray(samples, np.float32)])
        n = len(data) // FRAME
        self._rest = data[n * FRAME :]
        out: list[Piece] = []
        for i in range(n):
            frame = data[i * FRAME : (i + 1) * FRAME]
            out.extend(self._frame(frame, self.vad(frame)))
            self._pos += FRAME
        return out

    def _piece(self, parts: list[np.ndarray], end_pos: int, ends: bool = False) -> Piece:
        audio = np.concatenate(parts) if parts else np.zeros(0, np.float32)
        return audio, (end_pos - len(audio)) / ASR_RATE, ends

    def _frame(self, frame: np.ndarray, p: float) -> list[Piece]:
        assert self._pos is not None
        end = self._pos + FRAME
        if not self._speaking:
            if p >= self.settings.threshold:
                self._speaking, self._silence = True, 0
                start = self._pos - len(self._preroll)  # session index of the pre-roll's start
                first = -(-max(start, self._pos - self._pad) // self.align) * self.align
                lead, self._preroll = self._preroll[first - start :], np.zeros(0, np.float32)
                return [self._piece([lead, frame], end)]
            keep = self._pad + self.align
            self._preroll = np.concatenate([self._preroll, frame])[-keep:]
            return []
        if p >= self._off:
            self._silence = 0
            parts, self._held = [*self._held, frame], []
            return [self._piece(parts, end)]
        self._silence += FRAME
        if self._silence <= self._pad:  # trailing padding goes out at once
            return [self._piece([frame], end)]
        self._held.append(frame)
        if self._silence < self._min_silence:
            return []
        # A long enough pause: the utterance is over; the held silence is dropped.
        self._speaking, self._held, self._preroll = False, [], np.concatenate(self._held)
        return [(np.zeros(0, np.float32), end / ASR_RATE, True)]

    def flush(self) -> list[Piece]:
        """End of stream: what is left of the current utterance, marked as its end."""
        if not self._speaking or self._pos is None:
            return []
        self._speaking = False
        rest, self._rest, self._held = self._rest, np.zeros(0, np.float32), []
        return [self._piece([rest], self._pos + len(rest), True)]
