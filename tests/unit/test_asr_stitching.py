"""Long audio through overlapping windows: every character once, at its time, whatever the cuts.

A stand-in backend reads its "characters" straight off the samples (each 20 ms frame's mean
value is the token it emits), so the right transcript of any signal is known exactly and the
windowing and stitching are tested on their own.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tui_speech.asr.model import ModelInfo
from tui_speech.asr.recognizer import Recognizer
from tui_speech.errors import UsageError

HOP = 320
VOCAB = ("<pad>", "<s>", "</s>", "<unk>", "|", "今", "天", "气", "好", "你")


class FrameMeanBackend:
    """Emits, for each frame, the token whose id is the frame's mean sample value."""

    name = "fake"

    def __init__(self) -> None:
        self.info = ModelInfo(
            path=Path("."),
            name="fake",
            vocab=VOCAB,
            blank_id=0,
            delimiter_id=4,
            lower_case=False,
            do_normalize=False,  # keep sample values meaningful inside every window
            sample_rate=16_000,
            hop=HOP,
            receptive_field=HOP,
            hidden_size=8,
            num_layers=1,
            config={"conv_kernel": [HOP], "conv_stride": [HOP]},
        )
        self.windows: list[int] = []

    def logits(self, samples: np.ndarray) -> np.ndarray:
        self.windows.append(len(samples))
        frames = len(samples) // HOP
        ids = np.rint(samples[: frames * HOP].reshape(frames, HOP).mean(axis=1)).astype(int)
        out = np.full((frames, len(VOCAB)), -5.0, np.float32)
        out[np.arange(frames), ids] = 5.0
        return out


def signal(seed: int, seconds: float) -> tuple[np.ndarray, str, list[float]]:
    """Runs of tokens (blank gaps, repeats with and without a gap); text and start times."""
    rng = np.random.default_rng(seed)
    samples, text, starts, frame, last = [], [], [], 0, 0
    while frame < seconds * 50:
        token = int(rng.choice([0, 5, 6, 7, 8, 9]))
        run = int(rng.integers(1, 40))  # up to 0.8 s: many runs cross window edges
        if token and token != last:
            text.append(VOCAB[token])
            starts.append(frame * 0.02)
        last = token
        samples.append(np.full(run * HOP, float(token), np.float32))
        frame += run
    return np.concatenate(samples), "".join(text), starts


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize(("chunk", "stride"), [(3.0, 0.6), (1.0, 0.2), (30.0, 4.0)])
def test_windowed_decoding_equals_the_known_transcript(seed: int, chunk: float, stride: float):
    audio, text, starts = signal(seed, 20.0)
    backend = FrameMeanBackend()
    result = Recognizer(backend, chunk_s=chunk, stride_s=stride).decode(audio)
    assert result.text == text.strip()
    assert [c.t0 for c in result.chars] == pytest.approx(starts)
    assert all(c.confidence > 0.99 for c in result.chars)
    # Windows never exceed the chunk: memory is bounded by the window, not the file.
    assert max(backend.windows) <= round(chunk * 16_000)
    if chunk < 20:
        assert len(backend.windows) > 3


def test_a_window_that_keeps_nothing_is_refused_in_plain_words() -> None:
    with pytest.raises(UsageError) as error:
        Recognizer(FrameMeanBackend(), chunk_s=1.0, stride_s=0.5)
    assert error.value.message == (
        "a 1.0 s window with 0.5 s of context on each side keeps nothing; "
        "make the chunk more than twice the stride"
    )


def test_a_stream_of_small_blocks_gives_the_same_characters() -> None:
    audio, text, _ = signal(7, 12.0)
    rec = Recognizer(FrameMeanBackend(), chunk_s=2.0, stride_s=0.4)
    blocks = [audio[i : i + 777] for i in range(0, len(audio), 777)]
    seen: list[float] = []
    chars = list(rec.iter_chars(blocks, progress=seen.append))
    assert "".join(c.char for c in chars).strip() == text
    assert seen == sorted(seen) and seen[-1] == pytest.approx(len(audio) / 16_000)


def test_a_long_file_is_transcribed_in_bounded_memory(tmp_path: Path) -> None:
    import tracemalloc

    import soundfile as sf

    audio, text, _ = signal(11, 600.0)  # 10 minutes: 38 MB as float32 at 16 kHz
    path = tmp_path / "long.wav"
    sf.write(str(path), audio, 16_000, subtype="FLOAT")  # token ids as sample values
    rec = Recognizer(FrameMeanBackend())
    seconds = len(audio) / 16_000
    del audio
    tracemalloc.start()
    try:
        result = rec.transcribe_file(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.text == text and result.duration == pytest.approx(seconds)
    # One 30 s window plus one read block, copies included: far below the file's 38 MB.
    assert peak < 12_000_000
