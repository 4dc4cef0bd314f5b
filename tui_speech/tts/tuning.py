"""How the embedded Kokoro runs fastest on this CPU: which variant, threads per run, runs at once.

int8 kernels are fast with VNNI, float ones may win without it; Kokoro's small kernels scale
poorly across threads, so chunks side by side with fewer threads each may beat one chunk on
every core, but each run holds its own activations (~400 MB for a 300-phoneme chunk). So it
is measured, once per CPU, and remembered in ``kokoro-tuning.json`` beside the model, keyed by
:func:`cpu_key` (model name, instruction-set flags, cores, onnxruntime, the rewrite): a machine
without VNNI, or with other cores, measures for itself.

Nobody waits for it. :func:`current` answers at once from the record (or the defaults before
one exists). After a process's first synthesis :func:`start_background` starts a daemon
thread that runs the measurement in a child process (``python -m tui_speech.tts.tuning``):

- a child, so the variant build and the trial sessions never add to the memory of the process
  that speaks, and it can run at idle priority (``SCHED_IDLE``: only cores nobody else wants);
- one at a time on a machine: the child holds an exclusive lock file and gives up if another
  holds it;
- it outlives its parent, in a session of its own: a short ``speak "Hi."`` exits as soon as
  its audio is out (nothing waits for the child, and it holds none of the parent's pipes), and
  the measurement still completes, so a user who only ever runs the CLI gets the fastest
  setting from the next run on. Its stderr goes to ``kokoro-tuning.log`` beside the record;
  every file it writes is written atomically, its leftovers from an interrupted run are removed
  by the next one, and a record is only written when complete.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import platform
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui_speech.fileio import atomic_write_text
from tui_speech.tts import background
from tui_speech.tts.engine import default_threads as cores

log = logging.getLogger(__name__)

RECORD_FILENAME = "kokoro-tuning.json"
LOG_FILENAME = "kokoro-tuning.log"  # the background child's stderr
#: Peak memory a ``speak`` may reach; a setting whose runs would need more is never chosen.
RSS_BUDGET_MB = 900
#: Phonemes per timed chunk: the sentence-sized chunks the synthesis plan makes. The longest
#: also sizes the memory one run needs.
TRIAL_LENGTHS = (300, 120, 200, 160)
#: A faster setting must beat the simpler one (int8, fewer runs) by this factor: a few percent
#: is within the noise of one measurement.
MIN_GAIN = 1.05
#: Most chunks side by side: more would only multiply the activations.
MAX_RUNS = 4
_TRIAL_PHONEMES = "ðə kwˈɪk bɹˈaʊn fˈɑːks dʒˈʌmps ˌoʊvɚ ðə lˈeɪzi dˈɑːɡ, sˈʌmtaɪmz ʃˈiː sˈɪŋz. "


@dataclass(frozen=True)
class Tuning:
    """What the engine runs: the model file, its variant, threads per run, runs at once."""

    model: Path
    variant: str
    threads: int
    runs: int
    #: False: the defaults, because this CPU has not been measured yet.
    measured: bool


def read_cpuinfo() -> dict[str, str]:
    info: dict[str, str] = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            info.setdefault(key.strip(), value.strip())  # the first core speaks for all
    except OSError:  # not Linux: the processor name has to do
        pass
    return info


#: The instruction sets that decide which onnxruntime kernels run; benchmarks name them with
#: every figure (x86: AVX2, AVX-512, VNNI, AMX; Arm: NEON, SVE).
SIMD_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8", "asimd", "sve")


def simd_flags(cpuinfo: dict[str, str] | None = None) -> str:
    """The :data:`SIMD_FLAGS` this CPU has, e.g. ``"avx2 avx512f avx512_vnni"``."""
    info = read_cpuinfo() if cpuinfo is None else cpuinfo
    have = set((info.get("flags") or info.get("Features") or "").split())
    return " ".join(f for f in SIMD_FLAGS if f in have) or "none of " + ", ".join(SIMD_FLAGS)


def cpu_key(cpuinfo: dict[str, str] | None = None, n_cores: int | None = None) -> str:
    """What the best setting depends on: the CPU model and its instruction-set flags (a CPU
    without VNNI gets a key of its own), the cores, the onnxruntime build and the rewrite."""
    import onnxruntime

    from tui_speech.tts.dequant import REWRITE_VERSION

    info = read_cpuinfo() if cpuinfo is None else cpuinfo
    cpu = info.get("model name") or platform.processor() or platform.machine()
    flags = hashlib.sha256(" ".join(sorted(info.get("flags", "").split())).encode()).hexdigest()
    return "|".join(
        (
            cpu,
            f"flags:{flags[:12]}",
            f"cores:{n_cores or cores()}",
            f"ort:{onnxruntime.__version__}",
            f"rewrite:{REWRITE_VERSION}",
        )
    )


def default_split(n_cores: int | None = None) -> tuple[int, int]:
    """(threads, runs) before a measurement: one chunk at a time on every core, the setting
    whose memory is that of one run."""
    return (n_cores or cores()), 1


def _record_file() -> Path:
    from tui_speech.hub.embedded import model_dir

    return model_dir() / RECORD_FILENAME


def read_records() -> dict[str, Any]:
    from tui_speech.tts.variants import read_json

    return read_json(_record_file())


def current() -> Tuning:
    """The setting for this CPU, at once: the measured one if recorded (and its variant file is
    still sound), else int8 with :func:`default_split`. Never measures, builds or waits."""
    from tui_speech.hub.embedded import embedded_model_path
    from tui_speech.tts.variants import is_current, variant_path

    int8 = embedded_model_path()
    threads, runs = default_split()
    try:
        record = read_records().get(cpu_key())
    except Exception as exc:  # an unreadable record is no reason not to speak
        log.warning("ignoring the Kokoro tuning record: %s", exc)
        record = None
    if not isinstance(record, dict) or record.get("variant") not in ("int8", "fp32"):
        return Tuning(int8, "int8", threads, runs, measured=False)
    path = int8 if record["variant"] == "int8" else variant_path(record["variant"])
    if path != int8 and not is_current(path):  # removed or stale: int8 until measured again
        return Tuning(int8, "int8", threads, runs, measured=False)
    return Tuning(path, record["variant"], int(record["threads"]), int(record["runs"]), True)


def fastest_embedded_model(*, measure: bool = True) -> Path:
    """The embedded model in the variant measured fastest here; ``measure`` measures first if
    this CPU has no record yet (tens of seconds: call it from a worker)."""
    if measure and not current().measured:
        run_locked()
    return current().model


# --- the measurement ------------------------------------------------------------------------


def _trim() -> None:
    """Hand freed heap back to the OS, so the next RSS difference is what was just loaded."""
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _rss_mb(field: str = "VmRSS") -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class _PeakSampler:
    """Peak RSS of this process while a block runs (sampled every 5 ms): what one run's
    activations cost on top of what was resident before."""

    def __init__(self) -> None:
        self.peak = 0.0
        self._stop = threading.Event()

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, _rss_mb())

    @contextlib.contextmanager
    def watch(self) -> Iterator[None]:
        self.peak = _rss_mb()
        thread = threading.Thread(target=self._sample, daemon=True)
        thread.start()
        try:
            yield
        finally:
            self._stop.set()
            thread.join()
            self._stop.clear()


def _workload(lengths: tuple[int, ...]) -> list[tuple[list[int], Any]]:
    from tui_speech.tts.vocab import encode
    from tui_speech.tts.voices import resolve_voice, style_for

    ids = encode(_TRIAL_PHONEMES) * 40
    pack = resolve_voice("jf_alpha")
    return [(ids[:n], style_for(pack, n)) for n in lengths]


def _time(engine: Any, work: list[tuple[list[int], Any]], runs: int) -> float:
    """Seconds of audio per second of wall clock, ``runs`` chunks side by side (as the
    synthesis plan runs them)."""
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=runs) as pool:
        outs = list(pool.map(lambda item: engine.synthesize(item[0], item[1], 1.0), work))
    wall = time.perf_counter() - started
    return sum(len(o.audio) for o in outs) / engine.sample_rate / wall


def splits(n_cores: int) -> list[tuple[int, int]]:
    """(threads, runs) to try: runs side by side sharing the cores evenly."""
    return [(n_cores // r, r) for r in range(1, min(n_cores, MAX_RUNS) + 1) if n_cores // r >= 1]


def measure(
    baseline_mb: float,
    *,
    lengths: tuple[int, ...] = TRIAL_LENGTHS,
    rounds: int = 2,
    n_cores: int | None = None,
) -> dict[str, Any]:
    """Measure every variant x split on this CPU and pick the fastest that fits in memory.

    ``baseline_mb``: what the speaking process holds besides the model's activations (G2P,
    voices, the int8 session); a setting is allowed if ``baseline + session growth of its
    variant + runs x the memory of one run`` stays within :data:`RSS_BUDGET_MB`. Blocking.
    """
    from tui_speech.hub.embedded import embedded_model_path
    from tui_speech.tts.engine import OnnxKokoro
    from tui_speech.tts.variants import (
        build_variant,
        compare,
        is_current,
        parity_ok,
        variant_path,
    )

    n = n_cores or cores()
    int8 = embedded_model_path()
    work = _workload(lengths)
    paths = {"int8": int8}
    notes: dict[str, str] = {}
    try:
        fp32 = variant_path("fp32")
        if not is_current(fp32):
            build_variant("fp32", check_parity=False)
        check = compare(int8, fp32, rounds=1)
        if parity_ok(check["parity"]):
            paths["fp32"] = fp32
        else:  # a broken rewrite is never timed, let alone chosen
            notes["fp32"] = "audio differs from int8"
    except Exception as exc:  # int8 always works
        notes["fp32"] = f"build failed: {exc}".splitlines()[0]
    # Memory: the session each variant adds, and the activations of one run of the longest chunk.
    session_mb: dict[str, float] = {}
    run_mb = 0.0
    sampler = _PeakSampler()
    longest = max(range(len(work)), key=lambda i: len(work[i][0]))
    for kind, path in paths.items():
        _trim()
        before = _rss_mb()
        engine = OnnxKokoro(path, n)
        session_mb[kind] = max(0.0, _rss_mb() - before)
        engine.synthesize(*work[longest], 1.0)  # the first run allocates the arena
        rest = _rss_mb()
        with sampler.watch():
            engine.synthesize(*work[longest], 1.0)
        run_mb = max(run_mb, sampler.peak - rest + 0.0, 0.0)
        del engine
    extra = {k: session_mb[k] - session_mb["int8"] for k in paths}
    trials: list[dict[str, Any]] = []
    for kind in paths:
        for threads, runs in splits(n):
            projected = baseline_mb + max(0.0, extra[kind]) + runs * run_mb
            trial: dict[str, Any] = {
                "variant": kind,
                "threads": threads,
                "runs": runs,
                "projected_rss_mb": round(projected),
            }
            # int8 one chunk at a time is what runs before any measurement: always allowed.
            trial["fits"] = projected <= RSS_BUDGET_MB or (kind, runs) == ("int8", 1)
            trials.append(trial)
    speeds: dict[int, list[float]] = {i: [] for i, t in enumerate(trials) if t["fits"]}
    for _ in range(rounds):  # one session at a time (memory); rounds alternate the settings
        for i in speeds:
            t = trials[i]
            engine = OnnxKokoro(paths[t["variant"]], t["threads"])
            engine.synthesize(work[0][0][:16], work[0][1], 1.0)  # first-run costs
            speeds[i].append(_time(engine, work, t["runs"]))
            del engine
    for i, values in speeds.items():
        trials[i]["audio_s_per_s"] = round(max(values), 3)
        trials[i]["all"] = [round(v, 3) for v in values]
    best = _choose([trials[i] for i in speeds])
    return {
        "variant": best["variant"],
        "threads": best["threads"],
        "runs": best["runs"],
        "trials": trials,
        "notes": notes,
        "run_mb": round(run_mb),
        "session_mb": {k: round(v) for k, v in session_mb.items()},
        "baseline_mb": round(baseline_mb),
        "lengths": list(lengths),
        "flags": simd_flags(),
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def _choose(timed: list[dict[str, Any]]) -> dict[str, Any]:
    """The fastest setting, but a more costly one (fp32, more runs) only for a real gain."""

    def cost(t: dict[str, Any]) -> tuple[int, int]:
        return (t["variant"] != "int8", t["runs"])

    best = min(timed, key=cost)  # int8, one run: always timed
    for t in sorted(timed, key=cost):
        if t["audio_s_per_s"] >= best["audio_s_per_s"] * MIN_GAIN:
            best = t
    return best


def _remove_leftovers() -> None:
    """Temp files of a measurement killed mid-write (atomic writes leave ``.NAME.*.part``)."""
    from tui_speech.hub.embedded import model_dir

    for part in model_dir().glob(".*.part"):
        part.unlink(missing_ok=True)


def run_locked(baseline_mb: float | None = None, **options: Any) -> dict[str, Any] | None:
    """Measure and record, unless this CPU has a record or another process is measuring
    (then None). The record is written once, complete, atomically."""
    from tui_speech.hub import store
    from tui_speech.hub.embedded import EMBEDDED_ID

    key = cpu_key()
    # The embedded model's own lock: `models export` builds the same variant files under it,
    # so a measurement never sweeps an export's temp files away (or the other way round).
    with store.try_lock(EMBEDDED_ID) as mine:
        if not mine:
            return None
        if key in read_records():
            return None
        _remove_leftovers()
        result = measure(_rss_mb() if baseline_mb is None else baseline_mb, **options)
        records = read_records()  # others' keys may have been added meanwhile
        records[key] = result
        atomic_write_text(_record_file(), json.dumps(records, indent=2))
        log.info(
            "embedded Kokoro on this CPU: %s, %d threads x %d runs",
            result["variant"],
            result["threads"],
            result["runs"],
        )
        return result


# --- in the background ----------------------------------------------------------------------

#: ``TUI_SPEECH_TUNE=0`` keeps the measurement from starting (the test suite sets it: a
#: measuring child per test process would crowd a small CI machine).
TUNE_ENV = "TUI_SPEECH_TUNE"
_start_lock = threading.Lock()
_started = False
_thread: threading.Thread | None = None


def start_background(*, lengths: tuple[int, ...] | None = None) -> bool:
    """Measure this CPU in the background if it has no record yet (once per process; the
    child checks the lock). Returns at once; True if a measurement was started."""
    global _started, _thread
    if os.environ.get(TUNE_ENV, "1") == "0":
        return False
    with _start_lock:  # chunks run side by side: their first calls may race here
        if _started or current().measured:
            return False
        _started = True
    args = [
        "--baseline-mb",
        str(round(_rss_mb())),
        "--background",
        "--lengths",
        ",".join(map(str, lengths or TRIAL_LENGTHS)),
    ]
    log_path = _record_file().with_name(LOG_FILENAME)
    _thread = background.spawn("tui_speech.tts.tuning", args, log_path, "the Kokoro variants")
    return _thread is not None


def wait_background(timeout: float | None = None) -> bool:
    """Wait for this process's background measurement (tests, ``models export``); True if
    none is running any more."""
    if _thread is None:
        return True
    _thread.join(timeout)
    return not _thread.is_alive()


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="measure the embedded Kokoro on this CPU")
    parser.add_argument("--baseline-mb", type=float, default=None)
    parser.add_argument("--background", action="store_true", help="idle priority, no output")
    parser.add_argument("--lengths", default=",".join(map(str, TRIAL_LENGTHS)))
    args = parser.parse_args(argv)
    if args.background:
        background.become_background()
    lengths = tuple(int(x) for x in args.lengths.split(","))
    result = run_locked(args.baseline_mb, lengths=lengths)
    if result is not None and not args.background:
        print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
