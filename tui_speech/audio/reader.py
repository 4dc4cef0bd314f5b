"""Read any audio file soundfile understands as mono float32 at 16 kHz, block by block.

Files are never loaded whole: :func:`iter_blocks` reads a few seconds at a time, mixes the
channels down and resamples through one streaming soxr resampler, so a two-hour recording
costs the same memory as a ten-second one. Every problem a user can cause (not audio, empty,
NaN samples) becomes a :class:`~tui_speech.errors.UsageError` with a one-line message.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tui_speech.audio.rates import ASR_RATE
from tui_speech.errors import UsageError

#: Seconds read per block: large enough to keep soxr and Python overhead small.
BLOCK_SECONDS = 10.0


@dataclass(frozen=True)
class AudioInfo:
    """What a file holds, before any conversion."""

    path: Path
    sample_rate: int
    channels: int
    frames: int
    format: str
    subtype: str

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.frames / self.sample_rate if self.sample_rate else 0.0


def _open(path: Path):  # -> soundfile.SoundFile
    import soundfile as sf

    if not path.exists():
        raise UsageError(f"{path}: no such file")
    if path.is_dir():
        raise UsageError(f"{path} is a directory, not an audio file")
    try:
        return sf.SoundFile(str(path))
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        # libsndfile's own text ("Format not recognised.") is the useful part.
        reason = str(exc).splitlines()[-1].split(": ")[-1].strip() if str(exc) else "unreadable"
        raise UsageError(
            f"{path} is not an audio file soundfile can read ({reason}); "
            "use WAV, FLAC, OGG or another libsndfile format"
        ) from None


def probe(path: str | Path) -> AudioInfo:
    """Describe ``path`` without reading its samples; raise UsageError if it is not audio."""
    path = Path(path)
    with _open(path) as f:
        return AudioInfo(
            path, int(f.samplerate), int(f.channels), int(f.frames), f.format, f.subtype
        )


def iter_blocks(
    path: str | Path, block_seconds: float = BLOCK_SECONDS, target_rate: int = ASR_RATE
) -> Iterator[np.ndarray]:
    """Yield the file as mono float32 blocks at ``target_rate`` (lazy; bounded memory).

    Raises UsageError for a file that is not audio, has no samples, or holds NaN/inf samples
    (the error names the second where the first bad sample sits).
    """
    import soxr

    path = Path(path)
    with _open(path) as f:
        if f.frames == 0:
            raise UsageError(f"{path} holds no audio samples (zero length)")
        rate = int(f.samplerate)
        resampler = (
            None
            if rate == target_rate
            else soxr.ResampleStream(rate, target_rate, 1, dtype="float32", quality="HQ")
        )
        block_frames = max(1, int(block_seconds * rate))
        position = 0
        produced = 0
        while True:
            block = f.read(block_frames, dtype="float32", always_2d=True)
            last = len(block) < block_frames
            if len(block) == 0 and produced == 0 and position == 0:
                raise UsageError(f"{path} holds no audio samples (zero length)")
            # Averaging keeps the level of correlated channels; summing would clip.
            mono = block.mean(axis=1, dtype=np.float32) if block.shape[1] > 1 else block[:, 0]
            bad = ~np.isfinite(mono)
            if bad.any():
                second = (position + int(np.argmax(bad))) / rate
                raise UsageError(
                    f"{path} holds NaN or infinite samples (first at {second:.2f} s); "
                    "re-export it from your audio editor"
                )
            position += len(block)
            out = mono if resampler is None else resampler.resample_chunk(mono, last=last)
            if len(out):
                produced += len(out)
                yield np.ascontiguousarray(out, dtype=np.float32)
            if last:
                break


def read_audio(path: str | Path, target_rate: int = ASR_RATE) -> np.ndarray:
    """The whole file as one mono float32 array; for short files (tests, the TUI's clips)."""
    blocks = list(iter_blocks(path, target_rate=target_rate))
    return np.concatenate(blocks) if blocks else np.zeros(0, np.float32)
