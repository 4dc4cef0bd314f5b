"""Live transcription benchmark: audio fed in real time through the whole listen pipeline.

Speech with pauses (the tiny test model's Kokoro phrases, 1-2 s apart) is written to a WAV file
and played "as live" (``FileSource(realtime=True)``: each 0.1 s block arrives when its last
sample would have been heard) into VAD + :class:`LiveStream`, as ``tui-speech listen --file F
--realtime`` does. Reported:

- partial latency: for every character (text and start frame) a partial shows, wall time from
  the moment its audio (its ``t1`` on the session clock) was heard to the first partial that
  shows it; p50 / p95;
- lag: how far processing is behind the audio, sampled at every batch; first vs last quarter
  (growth means it would fall further behind forever); blocks dropped by the capture queue;
- compute: model CPU time (process CPU seconds during model calls, so other programs on a busy
  machine do not count) spent live (partials + finals) against one offline ``decode`` of the
  same audio, measured in the same process after the live run; and the budget ledger's own
  view (what it spent against its running estimate of the offline cost).

``--model full`` is the real model's architecture with random weights (bench/asr.py); random
weights emit characters anywhere, so its latency is that of the pipeline, not of speech.

Run: ``.venv/bin/python bench/live.py [--model tiny|full] [--seconds S] [--backend onnx|torch]
[--partial-every S]``
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def speech(seconds: float, home: Path):
    """Kokoro phrases with 1-2 s pauses, ``seconds`` long (16 kHz float32)."""
    import numpy as np

    os.environ["TUI_SPEECH_HOME"] = str(home)
    from tests.asr_models import PHRASES, synthesize

    clips = [synthesize(p, "jf_alpha", 1.1) for p in PHRASES]
    rng = np.random.default_rng(0)
    parts, total, i = [], 0, 0
    while total < seconds * 16_000:
        gap = np.zeros(int(rng.uniform(1.0, 2.0) * 16_000), np.float32)
        parts += [clips[i % len(clips)], gap]
        total += len(clips[i % len(clips)]) + len(gap)
        i += 1
    return np.concatenate(parts)[: int(seconds * 16_000)]


def percentile(values: list[float], q: float) -> float:
    import numpy as np

    return float(np.percentile(values, q)) if values else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", choices=("tiny", "full"), default="tiny")
    ap.add_argument("--backend", choices=("onnx", "torch"), default="onnx")
    ap.add_argument("--seconds", type=float, default=120.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--window", type=float, default=8.0)
    ap.add_argument("--partial-every", type=float, default=0.25)
    ap.add_argument("--draft", choices=("int8", "off"), default="int8")
    ap.add_argument("--budget", type=float, default=1.5, help="compute budget (0: none)")
    args = ap.parse_args()

    import soundfile as sf

    from tui_speech.asr.budget import ComputeBudget
    from tui_speech.asr.export import export_onnx
    from tui_speech.asr.model import load_model_info
    from tui_speech.asr.recognizer import Recognizer
    from tui_speech.asr.stream import LiveStream, LiveTranscriber
    from tui_speech.audio.sources import FileSource
    from tui_speech.audio.vad import SpeechSegmenter

    tmp = Path(tempfile.mkdtemp(prefix="bench-live-"))
    audio = speech(args.seconds, tmp / "home")
    wav = tmp / "speech.wav"
    sf.write(wav, audio, 16_000, subtype="PCM_16")
    if args.model == "full":
        from bench.asr import full_size_model

        folder = full_size_model(tmp / "full")
    else:
        import shutil

        from tests.asr_models import TRAINED_DIR

        folder = tmp / "tiny"
        shutil.copytree(TRAINED_DIR, folder)
    if args.backend == "onnx" or args.draft == "int8":
        export_onnx(load_model_info(folder))
    if args.draft == "int8":
        from tui_speech.asr.export import build_variant_graph
        from tui_speech.asr.model import ONNX_FILE

        build_variant_graph(folder / ONNX_FILE, "int8")
    rec = Recognizer.load(str(folder), args.backend, threads=args.threads)
    draft = rec.draft(args.threads) if args.draft == "int8" else rec

    compute = [0.0]

    def timed(logits):  # model time only: what partials and finals cost
        def run(samples):
            t = time.process_time()
            try:
                return logits(samples)
            finally:
                compute[0] += time.process_time() - t

        return run

    for r in {id(rec): rec, id(draft): draft}.values():
        r.backend.logits = timed(r.backend.logits)  # type: ignore[method-assign]
    stream = LiveStream(
        rec,
        window_s=args.window,
        partial_interval_s=args.partial_every,
        draft=draft,
        budget=ComputeBudget(args.budget or None),
    )
    live = LiveTranscriber(stream, SpeechSegmenter(align=rec.info.hop))
    source = FileSource(wav, realtime=True, max_blocks=64).start()
    first_seen: dict[tuple[str, float], float] = {}
    latencies: list[float] = []
    lags: list[tuple[float, float]] = []
    done, finals, partials = 0, 0, 0
    for batch in source.batches():
        for event in live.process(batch):
            now = time.monotonic()
            if event.type == "final":
                finals += 1
                continue
            partials += 1
            for c in event.chars:
                key = (c.char, round(c.t0, 2))
                if key not in first_seen:
                    first_seen[key] = now
                    latencies.append(now - (source.started + c.t1))
        done = batch[-1].start_s + len(batch[-1].samples) / 16_000
        lags.append((done, time.monotonic() - source.started - done))
    live.flush()
    live_compute = compute[0]
    compute[0] = 0.0
    t = time.perf_counter()
    rec.decode(audio)
    offline_wall = time.perf_counter() - t
    offline = compute[0]

    quarter = max(1, len(lags) // 4)
    lag_first = percentile([x for _, x in lags[:quarter]], 50)
    lag_last = percentile([x for _, x in lags[-quarter:]], 50)
    print(
        f"model {args.model} ({args.backend}, {args.threads} threads, partials on"
        f" {'int8' if draft is not rec else 'the same model'}, budget {args.budget or 'none'}),"
        f" {len(audio) / 16e3:.0f} s"
    )
    print(
        f"partial latency  p50 {percentile(latencies, 50):.3f} s"
        f"  p95 {percentile(latencies, 95):.3f} s  ({len(latencies)} characters)"
    )
    print(
        f"lag  first quarter {lag_first:.3f} s  last quarter {lag_last:.3f} s"
        f"  max {max(x for _, x in lags):.3f} s"
    )
    print(f"blocks dropped {source.overflows}, finals {finals}, partials {partials}")
    print(
        f"compute live {live_compute:.2f} s  offline {offline:.2f} s (wall {offline_wall:.2f} s)"
        f"  ratio {live_compute / max(offline, 1e-9):.2f}x"
    )
    ledger = stream.budget
    print(
        f"budget ledger  spent {ledger.spent:.2f} s  offline estimate {ledger.offline_cost():.2f} s"
        f"  ({ledger.spent / max(ledger.offline_cost(), 1e-9):.2f}x)"
    )


if __name__ == "__main__":
    main()
