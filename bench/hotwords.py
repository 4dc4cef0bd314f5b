"""Hotwords benchmark: what contextual biasing fixes, what it costs, and what it breaks.

Material: the trained tiny test model (tests/asr_models.py) on its Kokoro phrases at the two
training speeds, with faint white noise (40-50 dB SNR, seeds 0-3): enough to make the tiny
model misread parts of phrases, which is what hotwords are for. The hotword list is four of
the phrases' words (``TERMS``); the phrases holding none of them are the term-free set.

Reported, all on the same logits (the model runs once per clip), for the seeds the search's
constants were tuned on (``TUNED``), for the others (held out) and for all:

- term errors: terms a phrase holds that greedy decoding misreads; how many of those the
  search with the terms listed reads right; terms greedy read that the search loses;
- CER on the term-free clips and on the clips with terms: greedy, and with hotwords;
- the same for the search at ``REFERENCE`` (its beam.py read from git) at its own default
  weight (``REFERENCE_WEIGHT``): before and after in one run;
- decoding time of hotwords against greedy decoding of the same logits (softmax included in
  both), interleaved; per clip the fastest of the repeats, the ratio of the sums; split by
  clips whose text the hotwords leave as greedy decoding read it and those they change; also
  on the logits widened to the full-size model's 3503 tokens (``--vocab``): the added tokens
  lie far below the rest (never a candidate), but greedy decoding and the search pay for the
  width as they would on the real model; both also for the search at ``REFERENCE``;
- the plain beam search (``--beam 8``, no hotwords) against the one at ``REFERENCE``: every
  clip's characters (text, times, confidences, alternatives) must be the same.

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
#: The seeds the search's constants (weight, TERM_GATE, TERM_EVIDENCE, ...) were tuned on.
TUNED = (0, 1)
SPEEDS = (0.9, 1.1)
#: The commit whose tui_speech/asr/beam.py is the reference search (before gating).
REFERENCE = "d5ec733"
#: The reference's default weight per token.
REFERENCE_WEIGHT = 1.5
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
    """(phrase, seed, noisy clip) for every phrase, speed, SNR and seed."""
    os.environ["TUI_SPEECH_HOME"] = str(home)
    from tests.asr_fixtures import with_noise
    from tests.asr_models import PHRASES, synthesize

    out = []
    for speed in SPEEDS:
        for phrase in PHRASES:
            clean = synthesize(phrase, "jf_alpha", speed)
            for snr in SNRS:
                for seed in SEEDS:
                    out.append((phrase, seed, with_noise(clean, snr, seed)))
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


def score(material, greedy: list[str], read: list[str], seeds) -> dict[str, float]:
    """Term errors fixed and lost, CERs (term-free and with terms), false readings."""
    errors = fixed = lost = 0
    free_g, free_h, term_g, term_h, false = [], [], [], [], []
    for (phrase, seed, _), g, h in zip(material, greedy, read, strict=True):
        if seed not in seeds:
            continue
        held = [t for t in TERMS if t in phrase]
        if held:
            term_g.append(cer(phrase, g))
            term_h.append(cer(phrase, h))
            for t in held:
                if t not in g:
                    errors += 1
                    fixed += t in h
                elif t not in h:
                    lost += 1
        else:
            free_g.append(cer(phrase, g))
            free_h.append(cer(phrase, h))
            false.append(h != g)

    def mean(v: list[float]) -> float:
        return sum(v) / max(1, len(v))

    return {
        "errors": errors,
        "fixed": fixed,
        "lost": lost,
        "free_clips": len(free_g),
        "free_changed": sum(false),
        "free_greedy": mean(free_g),
        "free": mean(free_h),
        "term_greedy": mean(term_g),
        "term": mean(term_h),
    }


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
    from tui_speech.asr.ctc import GreedyDecoder, softmax
    from tui_speech.asr.hotwords import DEFAULT_WEIGHT, Hotword
    from tui_speech.tts.tuning import simd_flags

    weight = args.weight or DEFAULT_WEIGHT
    with tempfile.TemporaryDirectory() as tmp:
        material = clips(Path(tmp))
    model = str(TRAINED_DIR)
    plain = BeamRecognizer.load(model, "torch", 1, beam_width=8)
    biased = BeamRecognizer.load(
        model, "torch", 1, beam_width=args.beam, hotwords=[Hotword(t, weight) for t in TERMS]
    )
    logits = [plain.window_logits(a) for _, _, a in material]

    def greedy(lg):
        d = plain.new_decoder()
        return d.feed_logits(lg) + d.flush()

    def beam(rec, lg):
        return rec.search(rec.new_decoder(), softmax(lg))

    def text(chars):
        return "".join(c.char for c in chars).strip()

    greedy_text = [text(greedy(lg)) for lg in logits]
    read = [text(beam(biased, lg)) for lg in logits]
    rows = {"hotwords": read}

    reference = reference_module()
    old = old_plain = None
    if reference is not None:
        old = reference.BeamRecognizer.load(
            model,
            "torch",
            1,
            beam_width=args.beam,
            hotwords=[Hotword(t, REFERENCE_WEIGHT) for t in TERMS],
        )
        old_plain = reference.BeamRecognizer.load(model, "torch", 1, beam_width=8)
        rows[f"{REFERENCE} at {REFERENCE_WEIGHT:g}"] = [text(beam(old, lg)) for lg in logits]

    def timed(logits, greedy, beam, changed):
        # Each clip decoded both ways in turn, repeats interleaved; per clip the fastest of
        # the repeats counts (on a shared machine the others measure its load, not the code).
        g = [float("inf")] * len(logits)
        b = [float("inf")] * len(logits)
        for _ in range(args.repeats):
            for i, lg in enumerate(logits):
                t = time.perf_counter()
                greedy(lg)
                g[i] = min(g[i], time.perf_counter() - t)
                t = time.perf_counter()
                beam(lg)
                b[i] = min(b[i], time.perf_counter() - t)

        def ratio(keep):
            picked = [i for i in range(len(logits)) if keep(i)]
            return sum(b[i] for i in picked) / max(1e-12, sum(g[i] for i in picked))

        return ratio(lambda i: True), ratio(lambda i: not changed[i]), ratio(changed.__getitem__)

    changed = [h != g for h, g in zip(read, greedy_text, strict=True)]
    times = {"hotwords": timed(logits, greedy, lambda lg: beam(biased, lg), changed)}
    if old is not None:
        times[REFERENCE] = timed(logits, greedy, lambda lg: beam(old, lg), changed)
    wide_times = {}
    if args.vocab > logits[0].shape[1]:
        info = biased.info
        vocab = info.vocab + tuple(f"<extra{i}>" for i in range(args.vocab - len(info.vocab)))
        frame = plain.new_decoder().frame_seconds

        def wide_decoder():
            return GreedyDecoder(vocab, info.blank_id, frame, info.delimiter_id)

        def wide_greedy(lg):
            d = wide_decoder()
            return d.feed_logits(lg) + d.flush()

        wide = widen(logits, args.vocab)
        wide_times["hotwords"] = timed(
            wide, wide_greedy, lambda lg: biased.search(wide_decoder(), softmax(lg)), changed
        )
        if old is not None:
            wide_times[REFERENCE] = timed(
                wide, wide_greedy, lambda lg: old.search(wide_decoder(), softmax(lg)), changed
            )

    frames = sum(len(lg) for lg in logits)
    print(f"CPU flags: {simd_flags()}")
    print(
        f"{len(material)} clips ({frames} frames), terms {', '.join(TERMS)}, weight "
        f"{weight:g}/token, beam {args.beam} (hotwords alone: {DEFAULT_WIDTH} beams per site), "
        f"tuned on seeds {', '.join(map(str, TUNED))}"
    )
    print()
    print(
        "| search | seeds | misread terms fixed | terms lost | term-free CER (greedy) "
        "| term-free clips changed | CER with terms (greedy) |"
    )
    print("|---|---|---|---|---|---|---|")
    held_out = tuple(s for s in SEEDS if s not in TUNED)
    for name, texts in rows.items():
        for label, seeds in (("tuned", TUNED), ("held out", held_out), ("all", tuple(SEEDS))):
            s = score(material, greedy_text, texts, seeds)
            share = s["fixed"] / s["errors"] if s["errors"] else float("nan")
            print(
                f"| {name} | {label} {','.join(map(str, seeds))} | {s['fixed']} of "
                f"{s['errors']} ({share:.0%}) | {s['lost']} | {s['free']:.4f} "
                f"({s['free_greedy']:.4f}, {s['free'] - s['free_greedy']:+.4f}) | "
                f"{s['free_changed']} of {s['free_clips']} | {s['term']:.4f} "
                f"({s['term_greedy']:.4f}, {s['term'] - s['term_greedy']:+.4f}) |"
            )
    print()
    n_changed = sum(changed)
    print(
        f"| decode time / greedy (same logits, best of {args.repeats}) | all clips | "
        f"{len(changed) - n_changed} read as greedy | {n_changed} changed |"
    )
    print("|---|---|---|---|")
    for name, (a, same, diff) in times.items():
        print(f"| {name}, {logits[0].shape[1]} tokens | {a:.2f}x | {same:.2f}x | {diff:.2f}x |")
    for name, (a, same, diff) in wide_times.items():
        print(f"| {name}, widened to {args.vocab} tokens | {a:.2f}x | {same:.2f}x | {diff:.2f}x |")
    print()
    if old_plain is None:
        print(f"plain beam search vs {REFERENCE}: git cannot show {REFERENCE}")
    else:
        same = sum(beam(plain, lg) == beam(old_plain, lg) for lg in logits)
        print(
            f"plain beam search (--beam 8, no hotwords): {same} of {len(logits)} clips read "
            f"exactly as by the search at {REFERENCE} (text, times, confidences, alternatives)"
        )


if __name__ == "__main__":
    main()
