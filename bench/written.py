"""Measurements behind the written form (tui_speech.asr.written): punctuation thresholds, the
ITN library and the OpenCC binding.

    .venv/bin/python -m bench.written [punct|itn|script]

- ``punct``: the trained tiny test model (tests/asr_models.py) on Kokoro phrases joined by
  pauses of 0 .. 1.2 s: the largest gap between two characters inside a phrase, and the gap
  the model leaves at each pause, which set COMMA_PAUSE_S and SENTENCE_PAUSE_S.
- ``itn``: cn2an (with the rules of asr/itn.py, and alone), chinese2digits and WeTextProcessing
  on the table of tests/written_tables.py: phrases right and start-up time. The last two are
  not dependencies: install them with ``pip install --target /tmp/cmp chinese2digits
  WeTextProcessing`` and run with PYTHONPATH=/tmp/cmp.
- ``script``: opencc (C++) vs opencc-python-reimplemented the same way (``--target``): start-up,
  time per character and agreement on the script table.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time

import numpy as np


def punct() -> None:
    os.environ.setdefault("TUI_SPEECH_HOME", tempfile.mkdtemp(prefix="bench-written-"))
    from tests.asr_models import PHRASES, TRAINED_DIR, synthesize
    from tests.written_tables import trimmed
    from tui_speech.asr.punctuation import find_silences, pause_between
    from tui_speech.asr.recognizer import Recognizer

    rec = Recognizer.load(str(TRAINED_DIR), "torch")
    clips = [trimmed(synthesize(p, "jf_alpha", speed)) for p in PHRASES for speed in (0.9, 1.1)]
    inside = max(
        (e - s for c in clips for s, e in find_silences([c], 16000, min_s=0.0)), default=0.0
    )
    print(f"longest silence inside a phrase (16 Kokoro clips, trimmed): {inside:.2f} s")
    print("pause_s  measured silence at the pause (min..max)  largest CTC gap inside phrases")
    for pause in (0.2, 0.3, 0.4, 0.6, 1.0):
        measured, gaps = [], []
        for a, b in zip(clips[::2], clips[2::2], strict=False):
            audio = np.concatenate([a, np.zeros(round(pause * 16000), np.float32), b])
            silences = find_silences([audio], 16000, min_s=0.0)
            t = len(a) / 16000
            measured.append(max((min(e, t + pause) - max(s, t) for s, e in silences), default=0))
            chars = rec.decode(audio).chars
            gaps += [pause_between(x, y, None) for x, y in zip(chars, chars[1:], strict=False)]
        print(f"{pause:7.1f}  {min(measured):.2f} .. {max(measured):.2f}  {max(gaps):.2f}")


def _table(name: str) -> list[tuple[str, str]]:
    from tests import written_tables

    return list(getattr(written_tables, name))


def itn() -> None:
    table = _table("ITN")
    candidates: dict[str, object] = {}

    def ours():
        from tui_speech.asr.itn import to_digits

        return to_digits

    def cn2an_alone():
        import cn2an

        return lambda s: cn2an.transform(s, "cn2an")

    def c2d():
        import chinese2digits

        return lambda s: chinese2digits.takeNumberFromString(s)["replacedText"]

    def wetext():
        from itn.chinese.inverse_normalizer import InverseNormalizer

        return InverseNormalizer().normalize

    import warnings

    warnings.simplefilter("ignore")
    for name, load in [("tui_speech.asr.itn (cn2an + rules)", ours), ("cn2an alone", cn2an_alone),
                       ("chinese2digits", c2d), ("WeTextProcessing", wetext)]:  # fmt: skip
        t = time.perf_counter()
        try:
            fn = load()
        except ImportError as exc:
            print(f"{name}: not installed ({exc.name})")
            continue
        start = time.perf_counter() - t
        right = sum(fn(heard) == written for heard, written in table)
        candidates[name] = fn
        print(f"{name}: {right}/{len(table)} right, start-up {start:.3f} s")


def script() -> None:
    import opencc

    table = _table("SCRIPT")
    t = time.perf_counter()
    converters = {s: opencc.OpenCC(c) for s, c in (("traditional", "s2t"), ("tw", "s2twp"),
                                                      ("hk", "s2hk"))}  # fmt: skip
    start = time.perf_counter() - t
    text = "".join(h for h, _, _ in table) * 200
    t = time.perf_counter()
    for c in converters.values():
        c.convert(text)
    per_char = (time.perf_counter() - t) / (3 * len(text))
    table = [(h, s, w) for h, s, w in table if s != "simplified"]
    right = sum(converters[s].convert(h) == w for h, s, w in table)
    print(f"{opencc.__file__}: {right}/{len(table)} right, start-up {start:.3f} s, "
          f"{per_char * 1e6:.2f} us per character")  # fmt: skip


if __name__ == "__main__":
    which = sys.argv[1:] or ["punct", "itn", "script"]
    for name in which:
        {"punct": punct, "itn": itn, "script": script}[name]()
