"""Measurements behind the written form (tui_speech.asr.written): punctuation thresholds, the
ITN library and the OpenCC binding.

    .venv/bin/python -m bench.written [punct|punct-whisper|itn|script]

- ``punct``: the trained tiny test model (tests/asr_models.py) on Kokoro phrases joined by
  pauses of 0 .. 1.2 s: the largest gap between two characters inside a phrase, and the gap
  the model leaves at each pause, which set COMMA_PAUSE_S and SENTENCE_PAUSE_S.
- ``punct-whisper``: the embedded Whisper on the listener items of bench/sentences_zh.txt that
  have marks inside (spoken by the Mandarin pipeline): the marks written inside an item
  against the text's own (hit within one character, missed, extra), the silence left inside
  the characters' time spans, and the pause measured at each kind of mark of the text.
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


_MARKS = frozenset("，。？！、；：,.?!;:")


def _unmarked(text: str) -> tuple[str, dict[int, str]]:
    """``text`` without marks, and each inner mark by the count of characters before it."""
    kept: list[str] = []
    marks: dict[int, str] = {}
    for ch in text:
        if ch not in _MARKS:
            kept.append(ch)
        elif kept:
            marks[len(kept)] = ch
    marks.pop(len(kept), None)  # the end mark: every utterance gets one
    return "".join(kept), marks


def punct_whisper() -> None:
    import difflib
    from collections import defaultdict
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from intelligibility import LANG_SETS, read_items
    from whisper import spoken_zh

    from tui_speech.asr.punctuation import find_silences, pause_between
    from tui_speech.asr.whisper import WhisperRecognizer
    from tui_speech.asr.written import write
    from tui_speech.tts.tuning import simd_flags

    items = [t for t in read_items(LANG_SETS["zh"].sentences) if set(t[:-1]) & _MARKS]
    recognizer = WhisperRecognizer.load(2)
    hit = missed = extra = 0
    inside = 0.0
    pauses: dict[str, list[float]] = defaultdict(list)
    for text, audio in spoken_zh(items, "jf_gongitsune"):
        silences = find_silences([audio], 16_000)
        chars = recognizer.decode(audio).chars
        written, wrote = _unmarked("".join(s.text for s in write(chars, silences=silences).spans))
        said, marks = _unmarked(text)
        heard = "".join(c.char for c in chars)
        # Where the written marks fall in the text, through the characters both share.
        blocks = difflib.SequenceMatcher(None, written, said, autojunk=False).get_matching_blocks()
        placed = {b + p - a for p in wrote for a, b, n in blocks if a <= p <= a + n}
        found = marks.keys() & placed
        hit, missed = hit + len(found), missed + len(marks) - len(found)
        extra += max(0, len(placed) - len(found))
        inside += sum(max(0.0, min(c.t1, e) - max(c.t0, s)) for c in chars for s, e in silences)
        shared = difflib.SequenceMatcher(None, heard, said, autojunk=False).get_matching_blocks()
        for a, b, n in shared:
            for j in range(a + 1, a + n):
                pause = pause_between(chars[j - 1], chars[j], silences)
                pauses[marks.get(b + j - a, "no mark")].append(pause)
    print(f"CPU flags {simd_flags()}; {len(items)} items, voice jf_gongitsune")
    print(f"marks inside the items: hit {hit}, missed {missed}, extra {extra}; "
          f"silence inside character spans {inside:.2f} s")  # fmt: skip
    for mark, values in pauses.items():
        values.sort()
        print(f"pause at {mark}: n={len(values)}, median {values[len(values) // 2]:.2f} s, "
              f"max {values[-1]:.2f} s")  # fmt: skip


if __name__ == "__main__":
    which = sys.argv[1:] or ["punct", "itn", "script"]
    jobs = {"punct": punct, "punct-whisper": punct_whisper, "itn": itn, "script": script}
    for name in which:
        jobs[name]()
