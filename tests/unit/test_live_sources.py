"""Live sources: the bounded capture queue (overflows counted, never fatal), raw PCM and WAV
stream decoding across arbitrary read sizes, files paced in real time."""

from __future__ import annotations

import io
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import soundfile as sf

from tui_speech.audio.sources import AudioSource, FileSource, PcmReader, StdinSource
from tui_speech.commands._common import error_line
from tui_speech.errors import UsageError

RATE = 16_000


class Burst(AudioSource):
    """A live source that delivers ``n`` blocks at once, as a device does after a stall."""

    def __init__(self, n: int, max_blocks: int) -> None:
        super().__init__(live=True, max_blocks=max_blocks)
        self.n = n
        self.release = threading.Event()

    def capture(self, emit) -> None:
        for i in range(self.n):
            emit(np.full(1600, i, np.float32))
        self.release.wait(10)


def test_a_live_source_drops_and_counts_blocks_when_the_consumer_falls_behind() -> None:
    source = Burst(10, max_blocks=3).start()
    time.sleep(0.3)  # the consumer is busy: nothing is read while the burst arrives
    source.release.set()
    batches = list(source.batches())
    got = [b for batch in batches for b in batch]
    assert source.overflows == 7 and len(got) == 3
    # The oldest blocks were kept, and the clock counts the dropped ones: times stay true.
    assert [b.samples[0] for b in got] == [0, 1, 2]
    assert source.seconds == pytest.approx(1.0)
    source.stop()


def test_stdin_waits_instead_of_dropping() -> None:
    audio = (np.sin(np.arange(5 * RATE) / 10) * 0.5).astype(np.float32)
    raw = (audio * 32767).astype("<i2").tobytes()
    source = StdinSource(io.BytesIO(raw), max_blocks=2).start()
    time.sleep(0.3)
    got = np.concatenate([b.samples for batch in source.batches() for b in batch])
    assert source.overflows == 0 and len(got) == len(audio)
    assert np.abs(got - audio).max() < 1e-4


@pytest.mark.parametrize("fmt,dtype,scale", [("s16le", "<i2", 32767), ("f32le", "<f4", 1.0)])
def test_raw_pcm_split_anywhere_decodes_the_same(fmt, dtype, scale) -> None:
    rng = np.random.default_rng(0)
    stereo = (rng.uniform(-0.5, 0.5, (3000, 2))).astype(np.float32)
    raw = (stereo * scale).astype(dtype).tobytes()
    reader = PcmReader(fmt, RATE, 2)
    cuts = sorted(rng.choice(len(raw), 20, replace=False))
    pieces = [raw[a:b] for a, b in zip([0, *cuts], [*cuts, len(raw)], strict=True)]
    out = np.concatenate([reader.convert(p) for p in pieces])
    assert reader.stray_bytes == 0
    np.testing.assert_allclose(out, stereo.mean(axis=1), atol=1e-4)


def test_flags_are_checked_before_anything_runs() -> None:
    for args, message in [
        (("s16le", 0, 1), "0 Hz is not an audio sample rate; try 16000 or 48000 (--rate)"),
        (("s16le", 16_000, 0), "0 is not a channel count; give 1 to 32 (--channels)"),
        (
            ("u8", 16_000, 1),
            "raw sample type 'u8' is unknown; use one of s16le, f32le, s32le (--pcm)",
        ),
    ]:
        with pytest.raises(UsageError) as error:
            PcmReader(*args)
        # The core names no flag; the CLI's rendering of the error does.
        assert "--" not in error.value.message and error_line(error.value) == message


def test_a_wav_stream_with_unknown_sizes_is_read_to_its_end() -> None:
    audio = (np.sin(np.arange(RATE) / 7) * 0.3).astype(np.float32)
    buf = io.BytesIO()
    sf.write(buf, audio, 8000, format="WAV", subtype="PCM_16")
    data = bytearray(buf.getvalue())
    data[4:8] = data[40:44] = b"\xff\xff\xff\xff"  # what `arecord -t wav` writes to a pipe
    source = StdinSource(io.BytesIO(bytes(data))).start()
    got = np.concatenate([b.samples for batch in source.batches() for b in batch])
    assert source.wav and source.reader.rate == 8000
    assert len(got) == pytest.approx(2 * RATE, abs=2)  # resampled to 16 kHz


def test_a_file_in_real_time_takes_as_long_as_it_lasts(tmp_path) -> None:
    path = tmp_path / "a.wav"
    sf.write(path, np.zeros(RATE // 2, np.float32), RATE)
    t = time.monotonic()
    source = FileSource(path, realtime=True).start()
    blocks = [b for batch in source.batches() for b in batch]
    assert 0.35 < time.monotonic() - t < 2.0
    assert sum(len(b.samples) for b in blocks) == RATE // 2
    fast = FileSource(path).start()
    assert sum(len(b.samples) for batch in fast.batches() for b in batch) == RATE // 2


def test_help_imports_no_numpy() -> None:
    code = (
        "import sys; from tui_speech.cli import build_parser; build_parser();"
        "print(sorted(m for m in ('numpy', 'torch', 'onnxruntime') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "[]", out.stderr
