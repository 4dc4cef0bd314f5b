"""Writing audio: whole files (WAV/FLAC/OGG/Opus/MP3), files written as chunks arrive, and a
WAV stream.

Every format is libsndfile's (through soundfile), which encodes block by block: a draft of any
length streams into a compressed file in bounded memory.

File writers go through a temp file renamed into place, so an interrupted synthesis never
leaves a truncated file under the user's chosen name.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import BinaryIO

import numpy as np

from tui_speech.errors import UsageError
from tui_speech.fileio import new_part_file

FORMATS = {
    ".wav": ("WAV", "PCM_16"),
    ".flac": ("FLAC", "PCM_16"),
    ".ogg": ("OGG", "VORBIS"),
    ".opus": ("OGG", "OPUS"),  # Opus takes 24 kHz as it is (8, 12, 16, 24 or 48 kHz)
    ".mp3": ("MP3", "MPEG_LAYER_III"),
}


def output_format(path: Path) -> tuple[str, str]:
    """(soundfile format, subtype) for ``path``'s extension, or a UsageError."""
    try:
        return FORMATS[path.suffix.lower()]
    except KeyError:
        valid = ", ".join(FORMATS)
        raise UsageError(
            f"cannot write {path.name!r}: use one of {valid} (or -o - for a WAV stream)"
        ) from None


def check_writable(path: Path) -> None:
    """Fail before any work if ``path`` cannot be written (missing folder, no permission)."""
    output_format(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise UsageError(f"cannot write {path}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise UsageError(f"cannot write {path}: permission denied")
    if path.is_dir():
        raise UsageError(f"cannot write {path}: it is a folder")


def to_pcm16(audio: np.ndarray) -> bytes:
    """float32 [-1, 1] -> little-endian 16-bit PCM bytes (clipped)."""
    clipped = np.clip(np.nan_to_num(audio, nan=0.0), -1.0, 1.0)
    return (clipped * 32767.0).round().astype("<i2").tobytes()


class AudioFileWriter:
    """Append chunks to an audio file; ``close()`` renames it into place, ``abort()`` drops it."""

    def __init__(self, path: Path, sample_rate: int, channels: int = 1) -> None:
        import soundfile as sf

        check_writable(path)
        fmt, subtype = output_format(path)
        self.path = path
        self._tmp = new_part_file(path)
        try:  # a Ctrl+C while the file opens (before anyone holds this writer) leaves no .part
            self._file = sf.SoundFile(
                self._tmp, "w", samplerate=sample_rate, channels=channels, format=fmt,
                subtype=subtype,
            )  # fmt: skip
        except BaseException:
            self._tmp.unlink(missing_ok=True)
            raise
        self.frames = 0

    def write(self, audio: np.ndarray) -> None:
        self._file.write(np.clip(audio, -1.0, 1.0).astype(np.float32))
        self.frames += len(audio)

    def close(self) -> None:
        self._file.close()
        os.replace(self._tmp, self.path)

    def abort(self) -> None:
        self._file.close()
        self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> AudioFileWriter:
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def write_audio(path: Path, audio: np.ndarray, sample_rate: int) -> Path:
    """Write a whole array to ``path`` (format from the extension), atomically."""
    with AudioFileWriter(Path(path), sample_rate) as writer:
        writer.write(audio)
    return Path(path)


# A WAV header whose sizes say "unknown, read to the end": players that stream (aplay, sox,
# ffmpeg) accept it, and it can be sent before the length of the audio is known.
_UNKNOWN_SIZE = 0xFFFFFFFF


def wav_stream_header(sample_rate: int, channels: int = 1, bits: int = 16) -> bytes:
    block_align = channels * bits // 8
    return (
        b"RIFF" + struct.pack("<I", _UNKNOWN_SIZE) + b"WAVE"
        + b"fmt " + struct.pack("<IHHIIHH", 16, 1, channels, sample_rate,
                                sample_rate * block_align, block_align, bits)
        + b"data" + struct.pack("<I", _UNKNOWN_SIZE)
    )  # fmt: skip


class WavStreamWriter:
    """16-bit PCM WAV on a byte stream (stdout), flushed chunk by chunk."""

    def __init__(self, stream: BinaryIO, sample_rate: int) -> None:
        self._stream = stream
        self._stream.write(wav_stream_header(sample_rate))
        self._stream.flush()

    def write(self, audio: np.ndarray) -> None:
        self._stream.write(to_pcm16(audio))
        self._stream.flush()
