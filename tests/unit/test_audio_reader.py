"""Audio in: any soundfile format, rate and channel count -> mono float32 16 kHz, in blocks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tui_speech.audio.reader import iter_blocks, probe, read_audio
from tui_speech.errors import UsageError


def tone(rate: int, seconds: float, freq: float = 440.0, channels: int = 1) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    mono = (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return np.stack([mono] * channels, axis=1) if channels > 1 else mono


def peak_hz(audio: np.ndarray, rate: int = 16_000) -> float:
    spectrum = np.abs(np.fft.rfft(audio))
    return float(np.fft.rfftfreq(len(audio), 1 / rate)[spectrum.argmax()])


@pytest.mark.parametrize(
    ("fmt", "subtype", "rate", "channels"),
    [
        ("WAV", "PCM_U8", 8_000, 1),
        ("WAV", "PCM_16", 44_100, 2),
        ("WAV", "PCM_24", 48_000, 1),
        ("WAV", "PCM_32", 22_050, 6),
        ("WAV", "FLOAT", 16_000, 1),
        ("FLAC", "PCM_16", 32_000, 2),
        ("OGG", "VORBIS", 24_000, 1),
    ],
)
def test_formats_rates_and_channels_become_mono_16k(
    tmp_path: Path, fmt: str, subtype: str, rate: int, channels: int
) -> None:
    path = tmp_path / f"tone.{fmt.lower()}"
    sf.write(str(path), tone(rate, 1.5, channels=channels), rate, format=fmt, subtype=subtype)
    info = probe(path)
    assert (info.sample_rate, info.channels) == (rate, channels)
    audio = read_audio(path)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert abs(len(audio) - 24_000) <= 2  # 1.5 s at 16 kHz
    assert peak_hz(audio) == pytest.approx(440, abs=2)
    # Level survives the mix-down and resampling (Vorbis and 8-bit are lossy).
    assert np.abs(audio[1000:-1000]).max() == pytest.approx(0.5, abs=0.03)


def test_long_files_stream_in_blocks_equal_to_a_one_shot_resample(tmp_path: Path) -> None:
    import soxr

    rate = 44_100
    rng = np.random.default_rng(0)
    signal = (rng.standard_normal(rate * 12) * 0.1).astype(np.float32)
    path = tmp_path / "long.flac"
    sf.write(str(path), signal, rate, subtype="PCM_24")
    blocks = list(iter_blocks(path, block_seconds=1.0))
    assert len(blocks) >= 11  # read a second at a time, never the whole file
    assert max(len(b) for b in blocks) <= 17_000
    streamed = np.concatenate(blocks)
    whole = soxr.resample(sf.read(str(path), dtype="float32")[0], rate, 16_000, quality="HQ")
    assert len(streamed) == len(whole)
    np.testing.assert_allclose(streamed, whole, atol=1e-4)


def test_not_audio_is_a_one_line_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.wav"
    path.write_text("these are not samples\n")
    with pytest.raises(UsageError) as err:
        read_audio(path)
    assert str(path) in err.value.message and "not an audio file" in err.value.message
    assert "\n" not in err.value.message


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such file"):
        probe(tmp_path / "absent.wav")
    with pytest.raises(UsageError, match="is a directory"):
        probe(tmp_path)


def test_zero_length_audio_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    sf.write(str(path), np.zeros(0, np.float32), 16_000)
    with pytest.raises(UsageError, match="zero length"):
        read_audio(path)


def test_nan_and_inf_samples_are_refused_with_their_position(tmp_path: Path) -> None:
    audio = tone(16_000, 3.0)
    audio[40_000] = np.nan
    path = tmp_path / "nan.wav"
    sf.write(str(path), audio, 16_000, subtype="FLOAT")
    with pytest.raises(UsageError, match=r"NaN or infinite samples \(first at 2\.50 s\)"):
        read_audio(path)
    audio[40_000] = np.inf
    sf.write(str(path), audio, 16_000, subtype="FLOAT")
    with pytest.raises(UsageError, match="NaN or infinite"):
        list(iter_blocks(path))
