"""Speak benchmark: a cold `tui-speech speak` against the kokoro-onnx package, in one run.

What a user feels is a fresh process: start-up, G2P, the ONNX session and synthesis together.
So each round starts new processes, alternating between the two systems so machine noise hits
both alike, and times them from the parent:

- first audio: ``tui-speech speak PARAGRAPH -o -`` until the first audio bytes arrive on its
  stdout, vs a fresh Python running kokoro-onnx's ``create_stream`` until its first chunk;
- total: the same ``speak`` until it exits, vs a fresh Python running ``create`` until it exits;
- CPU: the CPU seconds of those whole runs (less noisy than wall time on a loaded machine).

kokoro-onnx gets the same model file (the embedded Kokoro-82M int8) and voice pack, and reads the
text with its own espeak-ng phonemes, as a user of it would. Also reported: a warm pipeline's
first audio for one sentence (what F6 in the Speak pane waits for) and the peak RSS of
``speak``. Run: ``.venv/bin/python bench/tts.py [--rounds N] [--lang zh]``; it prints the
CPU flags it ran on. ``--lang zh`` reads a Mandarin paragraph instead (jf_gongitsune;
kokoro-onnx with its espeak-ng ``cmn``).

``--baseline-tree DIR`` also times the ``speak`` of another copy of the package (``git archive
COMMIT tui_speech | tar -x -C DIR``) in the same rounds, for a before/after in one run. Both
trees are byte-compiled first, as ``pip install`` does: a source tree run with
PYTHONDONTWRITEBYTECODE would otherwise compile every module on every start.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Text:
    """A language's paragraph, with the voice both systems read it in."""

    lang: str  # ours
    espeak: str  # kokoro-onnx's (it reads with espeak-ng)
    voice: str
    paragraph: str
    sentence: str  # what the warm pipeline says (F6 on one sentence)


TEXTS = {
    "en-us": Text(
        "en-us", "en-us", "jf_alpha",
        "The old lighthouse keeper climbed the stairs every evening, counting each step as he "
        "went. From the top, he could see the fishing boats returning to the harbour, their "
        "lanterns swaying in the wind. Nobody in the village remembered a night when the light "
        "had failed.",
        "The boats came home before the storm.",
    ),
    "zh": Text(
        "zh", "cmn", "jf_gongitsune",
        "老灯塔看守人每天傍晚都爬上楼梯，一边走一边数着台阶。从塔顶上，他能看见渔船回到港口，"
        "船上的灯笼在风中摇晃。村里没有人记得灯塔哪一夜熄灭过。",
        "渔船在暴风雨之前回到了港口。",
    ),
}  # fmt: skip
WAV_HEADER = 44

# A fresh kokoro-onnx process; it writes one byte when its first audio is ready.
KOKORO_ONNX = r"""
import asyncio, sys
from kokoro_onnx import Kokoro
model, voices, mode, text, voice, lang = sys.argv[1:7]
kokoro = Kokoro(model, voices)
if mode == "stream":
    async def first():
        stream = kokoro.create_stream(text, voice, lang=lang)
        async for _audio, _rate in stream:
            sys.stdout.buffer.write(b"\0"); sys.stdout.flush()
            await stream.aclose()
            return
    asyncio.run(first())
else:
    kokoro.create(text, voice, lang=lang)
"""


def cpu_flags() -> str:
    """The CPU model and the SIMD flags that decide which kernels onnxruntime runs."""
    from tui_speech.tts.tuning import read_cpuinfo, simd_flags

    return f"{read_cpuinfo().get('model name', '?')}; {simd_flags()}"


def _first_bytes(
    cmd: list[str], skip: int, env: dict[str, str], cwd: Path | None = None
) -> tuple[float, float, float]:
    """Seconds from spawn until more than ``skip`` bytes came on stdout, and until exit, and
    the CPU seconds the process used (what a loaded machine makes less noisy than wall time)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, cwd=cwd
    )
    assert proc.stdout is not None
    seen, first = 0, float("nan")
    while chunk := proc.stdout.read1(65536):
        seen += len(chunk)
        if seen > skip and first != first:
            first = time.perf_counter() - start
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[:4]} failed with exit code {proc.returncode}")
    return first, time.perf_counter() - start, usage.ru_utime + usage.ru_stime


def cold_ours(text: Text, env: dict[str, str], tree: Path) -> tuple[float, float, float]:
    """``speak`` from the package under ``tree`` (``python -m`` puts the working folder first
    on the path, so it runs there)."""
    cmd = [sys.executable, "-m", "tui_speech", "speak", text.paragraph, "--lang", text.lang,
           "--voice", text.voice, "-o", "-"]  # fmt: skip
    return _first_bytes(cmd, WAV_HEADER, env, cwd=tree)


def byte_compile(tree: Path) -> None:
    """Write the package's .pyc files, as pip does when it installs it."""
    import compileall

    compileall.compile_dir(tree / "tui_speech", quiet=1)


def cold_kokoro_onnx(
    text: Text, model: str, voices: str, env: dict[str, str]
) -> tuple[float, float, float]:
    args = [sys.executable, "-c", KOKORO_ONNX, model, voices]
    said = [text.paragraph, text.voice, text.espeak]
    first, _, _ = _first_bytes([*args, "stream", *said], 0, env)
    _, total, cpu = _first_bytes([*args, "create", *said], -1, env)
    return first, total, cpu


def warm_first_audio(text: Text, rounds: int) -> float:
    """A pipeline warmed up as the TUI does it: seconds until one sentence's audio is ready."""
    from tui_speech.tts.pipeline import Pipeline

    pipeline = Pipeline(text.lang, text.voice)
    pipeline.warm_up()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        next(iter(pipeline(text.sentence)))
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def peak_rss_of_speak(text: Text, env: dict[str, str]) -> float:
    """Peak resident memory (MB) of a `tui-speech speak` process writing a WAV file."""
    # A child's ru_maxrss includes what it had before exec, i.e. a copy of this process; so a
    # small wrapper process starts `speak` and reports its children's peak.
    wrapper = (
        "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
        "capture_output=True); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    long = " ".join([text.paragraph] * 3)
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(
            [sys.executable, "-c", wrapper, sys.executable, "-m", "tui_speech", "speak", long,
             "--lang", text.lang, "--voice", text.voice, "-o", f"{tmp}/o.wav"],
            check=True, capture_output=True, text=True, env=env,
        )  # fmt: skip
    return int(out.stdout.split()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--lang", choices=sorted(TEXTS), default="en-us")
    parser.add_argument(
        "--baseline-tree", type=Path, metavar="DIR",
        help="also time `speak` from the tui_speech package under DIR, in the same rounds",
    )  # fmt: skip
    args = parser.parse_args()
    text = TEXTS[args.lang]

    from tui_speech.hub.embedded import data_file, embedded_model_path

    # Every cold `speak` would start the per-CPU measurement in the background and compete
    # with the run being timed; the bench measures the setting in force instead.
    env = dict(os.environ, TUI_SPEECH_TUNE="0")
    model = str(embedded_model_path())  # assembles the store copy once, before any timing
    here = Path(__file__).resolve().parent.parent
    systems = {"tui-speech": (env, here)}
    if args.baseline_tree:
        tree = args.baseline_tree.resolve()
        systems[f"tui-speech {tree.name}"] = (dict(env, PYTHONPATH=str(tree)), tree)
    for _, tree in systems.values():
        byte_compile(tree)
    load_before = os.getloadavg()[0]
    warm_up = [sys.executable, "-m", "tui_speech", "speak", text.sentence, "--lang", text.lang,
               "-o", "-"]  # fmt: skip
    for system_env, tree in systems.values():  # each one's caches made, as after first uses
        for _ in range(2):  # (the optimized-graph cache saves its copy on a second use)
            subprocess.run(warm_up, env=system_env, cwd=tree, check=True, capture_output=True)
    # The voice's pauses recorded, as after a first paragraph (tts.voice_pauses): no background
    # probe then competes with the rounds timed.
    pauses = [
        sys.executable,
        "-m",
        "tui_speech.tts.voice_pauses",
        "--voice",
        text.voice,
        "--lang",
        text.lang,
    ]
    subprocess.run(pauses, env=env, cwd=here, check=True, capture_output=True)
    with tempfile.TemporaryDirectory() as tmp:
        voices = Path(tmp) / "voices.npz"
        voices.write_bytes(data_file("voices_ja.npz").read_bytes())
        times: dict[str, dict[str, list[float]]] = {
            name: {"first": [], "total": [], "cpu": []} for name in ("kokoro-onnx", *systems)
        }
        for _ in range(args.rounds):  # alternate, one round each, so noise is shared
            rounds = [("kokoro-onnx", lambda: cold_kokoro_onnx(text, model, str(voices), env))]
            rounds += [(name, lambda s=s: cold_ours(text, *s)) for name, s in systems.items()]
            for name, run in rounds:
                for key, value in zip(("first", "total", "cpu"), run(), strict=True):
                    times[name][key].append(value)

    med = statistics.median
    base = times["kokoro-onnx"]
    print(f"CPU: {cpu_flags()}; cores: {len(os.sched_getaffinity(0))}; rounds: {args.rounds}")
    print(
        f"load average: {load_before:.1f} before, {os.getloadavg()[0]:.1f} after; "
        f"text: 3 sentences ({text.lang}, {text.voice}), fresh processes"
    )
    width = max(map(len, times)) + 2
    print(
        f"{'':{width}}{'first audio':>12}{'total':>9}{'CPU':>8}"
        f"{'first x sooner':>16}{'total ratio':>13}{'CPU ratio':>11}"
    )
    for name, r in times.items():
        sooner = med(base["first"]) / med(r["first"])
        ratio = med(r["total"]) / med(base["total"])
        print(
            f"{name:{width}}{med(r['first']):>11.2f}s{med(r['total']):>8.2f}s"
            f"{med(r['cpu']):>7.2f}s{sooner:>15.2f}x{ratio:>13.2f}"
            f"{med(r['cpu']) / med(base['cpu']):>11.2f}"
        )
    print("targets: first audio >= 4x sooner; total ratio <= 1.0 (goal 0.9)")
    warm = warm_first_audio(text, args.rounds)
    print(f"warm first audio, one sentence: {warm:.2f} s (target 0.5)")
    peak = peak_rss_of_speak(text, env)
    print(f"peak RSS of `tui-speech speak`: {peak:.0f} MB (target <= 900 MB)")


if __name__ == "__main__":
    main()
