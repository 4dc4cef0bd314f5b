"""Batch benchmark: a folder of many short files against one long file of the same audio.

Both go through the batch runner ``transcribe DIR -o OUT`` uses (asr.batch.run_batch with the
local engine: probe, read, decode, render srt+json, atomic writes, the manifest after every
file), with one recogniser loaded once and shared, so model loading is not counted. The model
is the full-size architecture of jonatasgrosman/wav2vec2-large-xlsr-53-chinese-zh-cn with
random weights (bench/asr.py builds it; speed does not depend on weight values), on PyTorch.

Reported, per system, the median wall time over alternating rounds and:

- the per-file overhead: (folder time - long-file time) / long-file time;
- the time spent outside the model (everything but the backend's forward passes) per file and
  as a share of the folder run: the fixed cost each file adds, whatever the windowing.

The long file is cut into windows (30 s, 4 s of context each side) and so runs more model time
per second of audio than short files do; the first figure includes that, the second does not.

Run: ``.venv/bin/python bench/batch.py [--files 50] [--seconds 3] [--rounds 1] [--threads N]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RATE = 16_000


def speechlike(seconds: float, seed: int):
    """Noise shaped like speech in level (syllable-rate bursts); never digital silence."""
    import numpy as np

    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    t = np.arange(n) / RATE
    envelope = 0.3 + 0.7 * np.abs(np.sin(2 * np.pi * 4.0 * t + rng.uniform(0, 6)))
    return (0.1 * envelope * rng.standard_normal(n)).astype(np.float32)


class Timed:
    """The backend's forward passes, timed (to split model time from the rest)."""

    def __init__(self, backend) -> None:
        self.backend = backend
        self.seconds = 0.0

    def __getattr__(self, name):
        return getattr(self.backend, name)

    def logits(self, samples):
        start = time.perf_counter()
        try:
            return self.backend.logits(samples)
        finally:
            self.seconds += time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=3.0, help="length of each short file")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--model", type=Path, default=None, help="a model folder instead")
    args = parser.parse_args()

    import soundfile as sf

    from bench.asr import full_size_model
    from tui_speech.asr.batch import (
        BatchSettings,
        LocalEngine,
        RecognizerSpec,
        plan_inputs,
        run_batch,
    )
    from tui_speech.tts.tuning import simd_flags

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        model = args.model or root / "model"
        if args.model is None:
            model.mkdir()
            full_size_model(model)
        short, long_dir = root / "short", root / "long"
        short.mkdir()
        long_dir.mkdir()
        clips = [speechlike(args.seconds, i) for i in range(args.files)]
        for i, clip in enumerate(clips):
            sf.write(str(short / f"clip{i:03d}.wav"), clip, RATE, subtype="PCM_16")
        import numpy as np

        sf.write(str(long_dir / "all.wav"), np.concatenate(clips), RATE, subtype="PCM_16")

        spec = RecognizerSpec(str(model), "torch", threads=args.threads)
        engine = LocalEngine(spec)
        recognizer = spec.load()
        timed = Timed(recognizer.backend)
        recognizer.backend = timed  # type: ignore[assignment]
        engine._recognizer = recognizer  # loaded once, shared: loading is not measured
        settings = BatchSettings("bench", "0", spec.text_options())
        recognizer.transcribe_file(short / "clip000.wav")  # warm-up

        times: dict[str, list[float]] = {"folder": [], "long": []}
        model_s: dict[str, list[float]] = {"folder": [], "long": []}
        for r in range(args.rounds):
            for name, folder in (("folder", short), ("long", long_dir)):
                out = root / f"out-{name}-{r}"
                items = plan_inputs([folder])
                timed.seconds = 0.0
                start = time.perf_counter()
                report = run_batch(items, out, ("srt", "json"), settings, engine)
                times[name].append(time.perf_counter() - start)
                model_s[name].append(timed.seconds)
                assert len(report.done) == len(items) and not report.failed

    folder_t, long_t = statistics.median(times["folder"]), statistics.median(times["long"])
    outside = statistics.median(
        t - m for t, m in zip(times["folder"], model_s["folder"], strict=True)
    )
    audio = args.files * args.seconds
    print(f"CPU flags: {simd_flags()}")
    print(f"model: {args.model or 'full-size architecture'}, PyTorch, threads {args.threads}")
    print(f"audio: {args.files} files x {args.seconds:.1f} s = {audio:.0f} s; rounds {args.rounds}")
    print(f"folder of {args.files}: {folder_t:.2f} s (RTF {folder_t / audio:.3f})")
    print(f"one long file:   {long_t:.2f} s (RTF {long_t / audio:.3f})")
    print(f"per-file overhead vs the long file: {100 * (folder_t - long_t) / long_t:+.1f} %")
    print(
        f"outside the model in the folder run: {1000 * outside / args.files:.1f} ms per file, "
        f"{100 * outside / folder_t:.1f} % of its time"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
