"""Draft rendering in bounded memory: ``speak --file DRAFT.md -o OUT.opus`` at several sizes.

Each size is a fresh ``tui-speech speak --file`` process (the draft renderer the Speak pane's
export uses too) writing one .opus file; reported: wall time, peak RSS of that process, the audio
length. Memory that stays flat while the draft grows (the ratio of peak RSS, largest to smallest
draft) is the figure: every sentence streams to libsndfile's encoder as it is made.
Run: ``.venv/bin/python bench/draft_memory.py [--chars 1500 6000 20000]``; it prints the CPU.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
WRAPPER = (
    "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
    "capture_output=True); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def draft_text(chars: int) -> str:
    """Markdown of about ``chars`` characters: chapters of the English listening sentences."""
    lines = [
        line.strip()
        for line in (HERE / "sentences_en.txt").read_text("utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    out: list[str] = []
    size, n = 0, 0
    while size < chars:
        if n % 20 == 0:
            out.append(f"\n# Chapter {n // 20 + 1}\n")
        out.append(lines[n % len(lines)])
        size += len(out[-1]) + 1
        n += 1
    return "\n".join(out)


def main() -> None:
    from tui_speech.tts.tuning import read_cpuinfo, simd_flags

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chars", type=int, nargs="+", default=[1500, 6000])
    args = parser.parse_args()
    print(f"CPU: {read_cpuinfo().get('model name', '?')}; {simd_flags()}")
    env = dict(os.environ, TUI_SPEECH_TUNE="0")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for chars in args.chars:
            draft = Path(tmp) / f"d{chars}.md"
            draft.write_text(draft_text(chars), encoding="utf-8")
            out = Path(tmp) / f"d{chars}.opus"
            start = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-c", WRAPPER, sys.executable, "-m", "tui_speech", "speak",
                 "--file", str(draft), "-o", str(out)],
                check=True, capture_output=True, text=True, env=env,
            )  # fmt: skip
            seconds = time.perf_counter() - start
            import soundfile as sf

            rss = int(done.stdout.split()[-1]) / 1024
            rows.append((chars, seconds, rss, sf.info(out).duration))
            print(f"{chars:>6} chars  {seconds:7.1f} s  peak RSS {rss:6.0f} MB  "
                  f"audio {rows[-1][3]:7.1f} s", flush=True)  # fmt: skip
    if len(rows) > 1:
        print(
            f"peak RSS ratio, {rows[-1][0]} vs {rows[0][0]} chars: {rows[-1][2] / rows[0][2]:.2f}"
        )


if __name__ == "__main__":
    main()
