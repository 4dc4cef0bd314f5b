"""Speak benchmark: tui-speech's pipeline against the kokoro-onnx package, in one run.

Same model (the embedded Kokoro-82M int8), same voice pack, same phonemes (misaki's, given to
kokoro-onnx with is_phonemes=True so only synthesis is compared). Both are loaded and warmed up
before timing. Rounds alternate between the two so machine noise hits both alike.

Reports, per system: time to first audio for a three-sentence paragraph (kokoro-onnx:
``create_stream``), total synthesis time (``create``) and real-time factor; then the peak RSS of
a ``tui-speech speak`` process writing a file. Run: ``.venv/bin/python bench/tts.py [--rounds N]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PARAGRAPH = (
    "The old lighthouse keeper climbed the stairs every evening, counting each step as he went. "
    "From the top, he could see the fishing boats returning to the harbour, their lanterns "
    "swaying in the wind. Nobody in the village remembered a night when the light had failed."
)
VOICE = "jf_alpha"


def bench_ours(rounds: int) -> dict[str, list[float]]:
    from tui_speech.tts.g2p import warm_up
    from tui_speech.tts.pipeline import Pipeline

    pipeline = Pipeline("en-us", VOICE)
    pipeline.load()
    warm_up("en-us")
    list(pipeline("Warm up."))
    first, total, audio_s = [], [], []
    for _ in range(rounds):
        start = time.perf_counter()
        seconds = 0.0
        for chunk in pipeline(PARAGRAPH):
            if chunk.index == 0:
                first.append(time.perf_counter() - start)
            seconds += chunk.duration
        total.append(time.perf_counter() - start)
        audio_s.append(seconds)
    return {"first": first, "total": total, "audio": audio_s}


def bench_kokoro_onnx(rounds: int, phonemes: str) -> dict[str, list[float]]:
    from kokoro_onnx import Kokoro

    from tui_speech.hub.embedded import data_file, embedded_model_path

    with tempfile.TemporaryDirectory() as tmp:
        voices = Path(tmp) / "voices.npz"
        voices.write_bytes(data_file("voices_ja.npz").read_bytes())
        kokoro = Kokoro(str(embedded_model_path()), str(voices))
    kokoro.create("wˈɔɹm ˈʌp.", VOICE, is_phonemes=True)

    async def first_stream_chunk() -> float:
        start = time.perf_counter()
        stream = kokoro.create_stream(phonemes, VOICE, is_phonemes=True)
        async for _audio, _rate in stream:
            elapsed = time.perf_counter() - start
            await stream.aclose()
            return elapsed
        raise RuntimeError("kokoro-onnx produced no audio")

    first, total, audio_s = [], [], []
    for _ in range(rounds):
        first.append(asyncio.run(first_stream_chunk()))
        start = time.perf_counter()
        audio, rate = kokoro.create(phonemes, VOICE, is_phonemes=True)
        total.append(time.perf_counter() - start)
        audio_s.append(len(audio) / rate)
    return {"first": first, "total": total, "audio": audio_s}


def peak_rss_of_speak() -> float:
    """Peak resident memory (MB) of a `tui-speech speak` process writing a WAV file."""
    # A child's ru_maxrss includes what it had before exec, i.e. a copy of this (large) bench
    # process; so a small wrapper process starts `speak` and reports its children's peak.
    wrapper = (
        "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
        "capture_output=True); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    text = " ".join([PARAGRAPH] * 3)
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(
            [sys.executable, "-c", wrapper,
             sys.executable, "-m", "tui_speech", "speak", text, "-o", f"{tmp}/o.wav"],
            check=True, capture_output=True, text=True, env=dict(os.environ, TUI_SPEECH_HOME=tmp),
        )  # fmt: skip
    return int(out.stdout.split()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    from tui_speech.tts.g2p import phonemize

    phonemes = phonemize(PARAGRAPH, "en-us").phonemes
    ours: dict[str, list[float]] = {"first": [], "total": [], "audio": []}
    base: dict[str, list[float]] = {"first": [], "total": [], "audio": []}
    for _ in range(args.rounds):  # alternate, one round each, so noise is shared
        for key, values in bench_kokoro_onnx(1, phonemes).items():
            base[key] += values
        for key, values in bench_ours(1).items():
            ours[key] += values

    med = statistics.median
    print(f"cores: {len(os.sched_getaffinity(0))}, rounds: {args.rounds}, text: 3 sentences")
    print(f"{'':14}{'first audio':>12}{'total':>9}{'RTF':>7}")
    for name, r in (("kokoro-onnx", base), ("tui-speech", ours)):
        rtf = med(r["total"]) / med(r["audio"])
        print(f"{name:14}{med(r['first']):>11.2f}s{med(r['total']):>8.2f}s{rtf:>7.2f}")
    print(f"first audio: {med(base['first']) / med(ours['first']):.1f}x sooner (target >= 5x)")
    print(
        f"total time: ours / kokoro-onnx = {med(ours['total']) / med(base['total']):.2f} "
        "(target <= 0.9)"
    )
    print(f"peak RSS of `tui-speech speak`: {peak_rss_of_speak():.0f} MB (target < 700 MB)")


if __name__ == "__main__":
    main()
