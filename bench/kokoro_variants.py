"""Speed of the embedded Kokoro's variants (int8 / dequantised fp32 / fp16 weights), side by side.

    .venv/bin/python bench/kokoro_variants.py [--threads 2] [--repeats 5] [--voice jf_alpha]
    .venv/bin/python bench/kokoro_variants.py --tune [--baseline-mb 450]

All variants run in this one process, alternating on every repeat, so a machine shared with
other work slows them alike; the ratios against int8 are the figure. Reported per variant:
wall-clock real-time factor (seconds of compute per second of audio; lower is faster) and CPU
seconds per second of audio (what the variant costs when other processes compete for cores).
Variants missing from the store (TUI_SPEECH_HOME or the user's) are built first.
"""

from __future__ import annotations

import argparse
import statistics
import time

PARAGRAPH = (
    "The old lighthouse keeper climbed the stairs every evening, counting each step out loud. "
    "From the top he could see the harbour, the fishing boats coming home, and the storm "
    "clouds gathering far beyond the cliffs. Nobody in the village remembered a night when "
    "the light had failed."
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--voice", default="jf_alpha")
    parser.add_argument("--variants", default="int8,fp32,fp16")
    parser.add_argument(
        "--tune",
        action="store_true",
        help="instead: the per-CPU measurement Speak makes on first use (variant x threads x "
        "runs on sentence-sized chunks), with the memory each setting would need",
    )
    parser.add_argument(
        "--baseline-mb",
        type=float,
        default=450,
        help="with --tune: RSS of a "
        "speaking process besides one run's activations (G2P, voices, int8)",
    )
    args = parser.parse_args()
    if args.tune:
        tune(args.baseline_mb)
        return

    from tui_speech.hub.embedded import embedded_model_path
    from tui_speech.tts import variants as kokoro_variants
    from tui_speech.tts.engine import OnnxKokoro
    from tui_speech.tts.g2p import phonemize
    from tui_speech.tts.vocab import encode
    from tui_speech.tts.voices import resolve_voice, style_for

    ids = encode(phonemize(PARAGRAPH, "en-us").phonemes)
    style = style_for(resolve_voice(args.voice), len(ids))
    paths = {}
    for kind in args.variants.split(","):
        if kind == "int8":
            paths[kind] = embedded_model_path()
            continue
        path = kokoro_variants.variant_path(kind)
        if not kokoro_variants.is_current(path):
            print(f"building {kind} ...", flush=True)
            kokoro_variants.build_variant(kind)
        paths[kind] = path
    engines = {kind: OnnxKokoro(path, args.threads) for kind, path in paths.items()}
    for engine in engines.values():
        engine.synthesize(ids[:16], style, 1.0)  # allocation and first-run costs

    rtf: dict[str, list[float]] = {k: [] for k in engines}
    cpu: dict[str, list[float]] = {k: [] for k in engines}
    for repeat in range(args.repeats):
        # Rotate the order too, so no variant always runs right after the same neighbour.
        order = list(engines)[repeat % len(engines) :] + list(engines)[: repeat % len(engines)]
        for kind in order:
            c, w = time.process_time(), time.perf_counter()
            audio = engines[kind].synthesize(ids, style, 1.0).audio
            seconds = len(audio) / engines[kind].sample_rate
            rtf[kind].append((time.perf_counter() - w) / seconds)
            cpu[kind].append((time.process_time() - c) / seconds)

    base_rtf, base_cpu = statistics.median(rtf["int8"]), statistics.median(cpu["int8"])
    print(
        f"{len(ids)} phonemes, {seconds:.1f} s of audio, {args.threads} threads, "
        f"{args.repeats} alternating repeats"
    )
    print(
        f"{'variant':8} {'RTF med':>8} {'RTF min':>8} {'CPU s/s':>8} {'speed vs int8 (wall)':>21}"
        f" {'(cpu)':>6}"
    )
    for kind in engines:
        med, best, c = statistics.median(rtf[kind]), min(rtf[kind]), statistics.median(cpu[kind])
        print(
            f"{kind:8} {med:8.3f} {best:8.3f} {c:8.3f} {base_rtf / med:20.2f}x {base_cpu / c:5.2f}x"
        )


def tune(baseline_mb: float) -> None:
    from tui_speech.tts import tuning

    result = tuning.measure(baseline_mb)
    print(f"cores {tuning.cores()}, flags: {result['flags']}")
    print(
        f"chunks of {result['lengths']} phonemes; one run needs {result['run_mb']} MB, "
        f"sessions {result['session_mb']} MB, baseline {result['baseline_mb']} MB"
    )
    print(f"{'variant':8} {'threads':>7} {'runs':>4} {'audio s/s':>9} {'RSS MB':>7}")
    for t in result["trials"]:
        speed = f"{t['audio_s_per_s']:9.2f}" if "audio_s_per_s" in t else f"{'(over)':>9}"
        print(f"{t['variant']:8} {t['threads']:7} {t['runs']:4} {speed} {t['projected_rss_mb']:7}")
    print(
        f"chosen: {result['variant']}, {result['threads']} threads x {result['runs']} runs"
        + (f"; {result['notes']}" if result["notes"] else "")
    )


if __name__ == "__main__":
    main()
