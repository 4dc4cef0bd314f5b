"""Hotwords benchmark: what contextual biasing fixes, what it costs, and what it breaks.

Material: the trained tiny test model (tests/asr_models.py) on its Kokoro phrases at the two
training speeds, with faint white noise (40-50 dB SNR, several seeds): enough to make the
tiny model misread parts of phrases, which is what hotwords are for. The hotword list is
four of the phrases' words (``TERMS``); the phrases holding none of them are the term-free set.

Reported, all on the same logits (the model runs once per clip):

- term errors: clips whose greedy text lacks a listed term that the phrase holds; how many of
  those the beam search with the terms listed reads with the term;
- CER on the term-free clips: greedy, beam without hotwords, beam with hotwords;
- decoding time of beam + hotwords against greedy decoding of the same logits (softmax
  included in both), interleaved; per clip the fastest of the repeats, the ratio of the sums;
  also on the logits widened to the full-size model's 3503 tokens (``--vocab``): the
  added tokens lie far below the rest (never a candidate), but greedy decoding and the search
  pay for the width as they would on the real model; both also for the search at
  ``REFERENCE``, side by side in the same run;
- the clips whose text (and whose characters: times, confidences, alternatives) differ from
  the search as it was at ``REFERENCE`` (its beam.py read from git), which was made faster
  without changing what it decodes.

Run: ``.venv/bin/python bench/hotwords.py [--weight W] [--beam WIDTH] [--repeats N]``
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TERMS = ("帮助", "音乐", "世界", "学校")
SNRS = (40.0, 45.0, 50.0)
SEEDS = range(4)
SPEEDS = (0.9, 1.1)
#: The commit whose tui_speech/asr/beam.py is the reference search (before it was made faster).
REFERENCE = "d5ec733"
#: The full-size model's vocabulary (bench/asr.py VOCAB_SIZE).
FULL_VOCAB = 3503


def cer(ref: str, hyp: str) -> float:
    """Character error rate: edit distance over the reference length."""
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i]
        for j, h in enumerate(hyp, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h)))
        prev = cur
    return prev[-1] / max(1, len(ref))


def clips(home: Path):
    """(phrase, noisy clip) for every phrase, speed, SNR and seed."""
    os.environ["TUI_SPEECH_HOME"] = str(home)
    from tests.asr_fixtures import with_noise
    from tests.asr_models import PHRASES, synthesize

    out = []
    for speed in SPEEDS:
        for phrase in PHRASES:
            clean = synthesize(phrase, "jf_alpha", speed)
            for snr in SNRS:
                for seed in SEEDS:
                    out.append((phrase, with_noise(clean, snr, seed)))
    return out


def reference_module() -> types.ModuleType | None:
    """tui_speech/asr/beam.py as it was at REFERENCE, or None where git cannot show it."""
    try:
        source = subprocess.run(
            ["git", "-C", str(ROOT), "show", f"{REFERENCE}:tui_speech/asr/beam.py"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    module = types.ModuleType("beam_reference")
    exec(compile(source, f"{REFERENCE}:tui_speech/asr/beam.py", "exec"), module.__dict__)
    return module


def widen(logits, vocab: int, seed: int = 0):
    """``logits`` with tokens added up to ``vocab``, 8 or more (natural log) below each frame's
    lowest: never a candidate, yet every pass over the vocabulary pays for them."""
    import numpy as np

    rng = np.random.default_rng(seed)
    out = []
    for lg in logits:
        extra = rng.normal(0.0, 2.0, (len(lg), vocab - lg.shape[1])) - 8.0 - np.abs(lg.min())
        out.append(np.concatenate([lg, extra.astype(lg.dtype)], axis=1))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--weight", type=float, default=None, help="bonus per token")
    parser.add_argument(
        "--beam", type=int, default=0, help="0: hotwords alone, as --hotwords without --beam"
    )
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--vocab", type=int, default=FULL_VOCAB, help="also time on logits this wide (0: no)"
    )
    args = parser.parse_args()
    os.environ.setdefault("TUI_SPEECH_TUNE", "0")

    from tests.asr_models import TRAINED_DIR
    from tui_speech.asr.beam import DEFAULT_WIDTH, BeamRecognizer
    from tui_speech.asr.ctc import softmax
    from tui_speech.asr.hotwords import DEFAULT_WEIGHT, Hotword
    from tui_speech.tts.tuning import simd_flags

    weight = args.weight or DEFAULT_WEIGHT
    hotwords = [Hotword(t, weight) for t in TERMS]
    with tempfile.TemporaryDirectory() as tmp:
        material = clips(Path(tmp))
    plain = BeamRecognizer.load(str(TRAINED_DIR), "torch", 1, beam_width=DEFAULT_WIDTH)
    biased = BeamRecognizer.load(
        str(TRAINED_DIR), "torch", 1, beam_width=args.beam, hotwords=hotwords
    )
    logits = [plain.window_logits(a) for _, a in material]

    def greedy(lg):
        d = plain.new_decoder()
        return d.feed_logits(lg) + d.flush()

    def beam(rec, lg):
        return rec.search(rec.new_decoder(), softmax(lg))

    def text(chars):
        return "".join(c.char for c in chars).strip()

    term_errors = fixed = broke = 0
    free = {"greedy": [], "beam": [], "beam+hotwords": []}
    for (phrase, _), lg in zip(material, logits, strict=True):
        g, b, h = text(greedy(lg)), text(beam(plain, lg)), text(beam(biased, lg))
        held = [t for t in TERMS if t in phrase]
        if held:
            for t in held:
                if t not in g:
                    term_errors += 1
                    fixed += t in h
                elif t not in h:
                    broke += 1
        else:
            free["greedy"].append(cer(phrase, g))
            free["beam"].append(cer(phrase, b))
            free["beam+hotwords"].append(cer(phrase, h))

    reference = reference_module()
    differ: list[int] | None = None  # clips: text, characters; characters on widened logits
    if reference is not None:
        old = reference.BeamRecognizer.load(
            str(TRAINED_DIR), "torch", 1, beam_width=args.beam, hotwords=hotwords
        )
        pairs = [(beam(biased, lg), beam(old, lg)) for lg in logits]
        differ = [sum(text(a) != text(b) for a, b in pairs), sum(a != b for a, b in pairs)]

    def timed(logits, greedy, beam):
        # Each clip decoded both ways in turn, repeats interleaved; per clip the fastest of
        # the repeats counts (on a shared machine the others measure its load, not the code).
        best = {"greedy": [float("inf")] * len(logits), "beam": [float("inf")] * len(logits)}
        for _ in range(args.repeats):
            for i, lg in enumerate(logits):
                t = time.perf_counter()
                greedy(lg)
                best["greedy"][i] = min(best["greedy"][i], time.perf_counter() - t)
                t = time.perf_counter()
                beam(lg)
                best["beam"][i] = min(best["beam"][i], time.perf_counter() - t)
        return sum(best["beam"]) / sum(best["greedy"])

    ratio = timed(logits, greedy, lambda lg: beam(biased, lg))
    old_ratio = timed(logits, greedy, lambda lg: beam(old, lg)) if reference else None
    wide_ratio = old_wide = None
    if args.vocab > logits[0].shape[1]:
        from tui_speech.asr.ctc import GreedyDecoder

        info = biased.info
        vocab = info.vocab + tuple(f"<extra{i}>" for i in range(args.vocab - len(info.vocab)))
        frame = plain.new_decoder().frame_seconds

        def wide_decoder():
            return GreedyDecoder(vocab, info.blank_id, frame, info.delimiter_id)

        def wide_greedy(lg):
            d = wide_decoder()
            return d.feed_logits(lg) + d.flush()

        wide = widen(logits, args.vocab)
        wide_ratio = timed(wide, wide_greedy, lambda lg: biased.search(wide_decoder(), softmax(lg)))
        if differ is not None:
            old_wide = timed(wide, wide_greedy, lambda lg: old.search(wide_decoder(), softmax(lg)))
            differ.append(
                sum(
                    biased.search(wide_decoder(), softmax(lg))
                    != old.search(wide_decoder(), softmax(lg))
                    for lg in wide
                )
            )

    frames = sum(len(lg) for lg in logits)
    print(f"CPU flags: {simd_flags()}")
    print(
        f"{len(material)} clips ({frames} frames), terms {', '.join(TERMS)}, weight "
        f"{weight:g}/token, beam {args.beam}"
    )
    print()
    print("| measure | value |")
    print("|---|---|")
    share = fixed / term_errors if term_errors else float("nan")
    print(f"| term misread by greedy | {term_errors} |")
    print(f"| of those, right with hotwords | {fixed} ({share:.0%}) |")
    print(f"| term read by greedy, lost with hotwords | {broke} |")
    n = len(free["greedy"])
    for name, values in free.items():
        print(f"| CER term-free ({n} clips), {name} | {sum(values) / max(1, n):.4f} |")
    print(
        f"| decode time, beam+hotwords / greedy (same logits, best of {args.repeats}) "
        f"| {ratio:.2f}x |"
    )
    if old_ratio is not None:
        print(f"| the same, the search at {REFERENCE} | {old_ratio:.2f}x |")
    if wide_ratio is not None:
        print(f"| the same on logits widened to {args.vocab} tokens | {wide_ratio:.2f}x |")
    if old_wide is not None:
        print(f"| the same widened, the search at {REFERENCE} | {old_wide:.2f}x |")
    if differ is None:
        print(f"| differs from the search at {REFERENCE} | (git cannot show {REFERENCE}) |")
    else:
        widened = f"; characters on widened logits {differ[2]}" if len(differ) > 2 else ""
        print(
            f"| clips read differently from the search at {REFERENCE}: text, characters "
            f"| {differ[0]}, {differ[1]} of {len(logits)}{widened} |"
        )


if __name__ == "__main__":
    main()
