"""Live benchmark of the embedded recogniser: real-time audio through the whole listen path.

    .venv/bin/python bench/whisper_live.py [--seconds 240] [--threads 2] [--budget 1.5]

Mandarin sentences of ``bench/sentences_zh.txt`` spoken by the embedded Kokoro, with 1-2 s
pauses, ``--seconds`` long, are written to a WAV file and played "as live"
(``FileSource(realtime=True)``: each 0.1 s block arrives when its last sample would have been
heard) into the same :class:`~tui_speech.asr.live.LiveSession` ``tui-speech listen`` runs, with
the models ``load_models`` gives for ``--model embedded`` (finals beam 5, partials beam 1).

Reported, as bench/live.py reports them for the CTC model (its ``percentile`` is reused):

- partial latency: per partial, the wall time from the arrival of the newest audio it covers
  to the event (``StreamEvent.latency_s``); p50 / p95, and the same over the first and last
  quarter of the run (growth would mean falling behind);
- lag: how far processing is behind the audio, at every batch; first vs last quarter; max;
- blocks dropped by the capture queue (must be 0);
- committed text rewritten within an utterance (must be 0), and the CER of the finals against
  the sentences spoken (bench/intelligibility.py's scoring);
- compute: the budget ledger (model CPU seconds, partials + finals) against the audio heard.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
os.environ.setdefault("TUI_SPEECH_TUNE", "0")


def speech(seconds: float, voice: str):
    """(16 kHz float32 audio, the sentences in it): items with 1-2 s pauses, cut to length."""
    import numpy as np
    from intelligibility import LANG_SETS, read_items
    from whisper import spoken_zh

    clips = spoken_zh(read_items(LANG_SETS["zh"].sentences), voice)
    rng = np.random.default_rng(0)
    parts, said, total, i = [np.zeros(8000, np.float32)], [], 8000, 0
    while total < seconds * 16_000:
        text, clip = clips[i % len(clips)]
        gap = np.zeros(int(rng.uniform(1.0, 2.0) * 16_000), np.float32)
        parts += [clip, gap]
        said.append(text)
        total += len(clip) + len(gap)
        i += 1
    return np.concatenate(parts), said


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=240.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--budget", type=float, default=1.5, help="compute budget (0: none)")
    ap.add_argument("--voice", default="jf_alpha")
    args = ap.parse_args()

    import soundfile as sf
    from intelligibility import edit_distance, units_zh
    from live import percentile

    from tui_speech.asr.live import LiveHooks, LiveSession, load_models
    from tui_speech.audio.sources import FileSource
    from tui_speech.config import ListenSettings
    from tui_speech.tts.tuning import simd_flags

    tmp = Path(tempfile.mkdtemp(prefix="bench-whisper-live-"))
    audio, said = speech(args.seconds, args.voice)
    wav = tmp / "speech.wav"
    sf.write(wav, audio, 16_000, subtype="PCM_16")
    settings = ListenSettings(
        model="embedded", threads=args.threads, compute_budget=args.budget or 0.0
    )
    models = load_models(settings)
    source = FileSource(wav, realtime=True, max_blocks=64)
    session = LiveSession(models, settings, source, str(wav), save=False)

    events: list[tuple[float, object]] = []  # (wall seconds since start, event)
    lags: list[float] = []
    rewritten = [0]
    committed: dict[int, str] = {}
    began = [0.0]

    def on_event(event) -> None:  # noqa: ANN001
        now = time.monotonic()
        events.append((now - began[0], event))
        if event.type == "partial":
            before = committed.get(event.utterance, "")
            if not event.committed.startswith(before):
                rewritten[0] += 1
            committed[event.utterance] = event.committed

    def on_level(session_s: float, _rms: float) -> None:
        if not began[0]:
            began[0] = source.started
        lags.append(time.monotonic() - source.started - session_s)

    result = session.run(LiveHooks(on_event=on_event, on_level=on_level))
    partials = [(t, e) for t, e in events if e.type == "partial"]
    finals = [e for _, e in events if e.type == "final"]
    lat = [e.latency_s for _, e in partials]
    quarter = max(1, len(lat) // 4)
    lq = max(1, len(lags) // 4)
    ref = [u for s in said for u in units_zh(s)]
    hyp = units_zh("".join(e.text for e in finals))
    cer = edit_distance(ref, hyp) / max(1, len(ref))
    ledger = session.stream.budget
    print(
        f"embedded Whisper live: {len(audio) / 16e3:.0f} s of speech in real time, "
        f"{args.threads} threads, budget {args.budget or 'none'}; CPU flags {simd_flags()}"
    )
    print(
        f"partial latency p50 {percentile(lat, 50):.3f} s  p95 {percentile(lat, 95):.3f} s"
        f"  ({len(lat)} partials); first quarter p50 {percentile(lat[:quarter], 50):.3f} s,"
        f" last quarter p50 {percentile(lat[-quarter:], 50):.3f} s"
    )
    print(
        f"lag first quarter {percentile(lags[:lq], 50):.3f} s  last quarter"
        f" {percentile(lags[-lq:], 50):.3f} s  max {max(lags):.3f} s"
    )
    print(
        f"blocks dropped {result.overflows}; finals {len(finals)}; committed text rewritten"
        f" {rewritten[0]}; CER of the finals {cer:.3f} ({len(said)} sentences)"
    )
    print(
        f"compute: model CPU {ledger.spent:.1f} s for {ledger.heard_s:.1f} s heard"
        f" ({ledger.spent / max(ledger.heard_s, 1e-9):.2f} CPU-s per second)"
    )
    for kind, cost in ledger.models.items():  # per call: what a quieter machine would wait
        fixed, per_s = cost.fit()
        print(f"  {kind}: {cost.n} calls, {fixed:.2f} CPU-s + {per_s:.3f} CPU-s per audio second")


if __name__ == "__main__":
    main()
