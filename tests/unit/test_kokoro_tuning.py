"""The embedded Kokoro's per-CPU setting (variant, threads per run, chunks at once): measured
after the first synthesis without delaying it, remembered per CPU, never a broken variant.

Real synthesis with the embedded model throughout; trial chunks are kept short so a
measurement takes seconds, not minutes.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import onnx
import pytest

from tui_speech.hub import store
from tui_speech.hub.embedded import EMBEDDED_ID, embedded_model_path, model_dir
from tui_speech.tts import engine as engine_module
from tui_speech.tts import tuning, variants
from tui_speech.tts.durations import timed_path
from tui_speech.tts.pipeline import Pipeline

SHORT = (40, 24)


@pytest.fixture
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    """Short trial chunks and one parity phrase; a fresh engine cache and background state."""
    monkeypatch.setattr(tuning, "TRIAL_LENGTHS", SHORT)
    monkeypatch.setattr(variants, "PARITY_PHONEMES", ("hˈɛloʊ wˈɜːld, hˈaʊ ɑːɹ juː?",))
    monkeypatch.setattr(tuning, "_started", False)
    monkeypatch.setattr(tuning, "_thread", None)
    monkeypatch.setattr(engine_module, "_engines", {})
    monkeypatch.setenv(tuning.TUNE_ENV, "1")


def _record() -> dict:
    return json.loads((model_dir() / tuning.RECORD_FILENAME).read_text())


def test_first_chunk_comes_before_the_measurement_which_then_sets_the_engine(quick: None):
    text = "The lighthouse keeper climbed the stairs. From the top he could see the harbour."
    chunks = Pipeline("en-us", "jf_alpha")(text)

    first = next(chunks)

    assert len(first.audio) > 0
    # The first sound did not wait: nothing is measured or recorded yet, and the engine runs
    # the defaults (int8, one chunk at a time on every core).
    assert not (model_dir() / tuning.RECORD_FILENAME).exists()
    assert not tuning.current().measured
    engine = engine_module.load_engine()
    # (its timed copy: the same model with the durations as an output, tts.durations)
    assert engine.model_path == timed_path(embedded_model_path()) and engine.parallel_runs == 1
    rest = list(chunks)
    assert rest and all(len(c.audio) for c in rest)

    assert tuning.wait_background(timeout=900)
    (key, record) = _record().popitem()
    assert key == tuning.cpu_key()
    assert record["variant"] in ("int8", "fp32") and record["lengths"] == list(SHORT)
    timed = [t for t in record["trials"] if "audio_s_per_s" in t]
    assert {(t["variant"], t["threads"], t["runs"]) for t in timed} >= {("int8", tuning.cores(), 1)}
    chosen = tuning.current()
    assert chosen.measured
    assert (chosen.variant, chosen.threads, chosen.runs) == (
        record["variant"],
        record["threads"],
        record["runs"],
    )
    # A new engine (a later process) runs what was measured, and starts no measurement.
    engine_module._engines.clear()
    engine = engine_module.load_engine()
    assert engine.parallel_runs == record["runs"]
    assert len(engine.synthesize([50, 83, 156], _style(), 1.0).audio) > 0
    assert tuning.start_background() is False


def test_a_short_cli_parent_exits_at_once_and_the_measurement_still_completes(quick: None):
    # As `speak "Hi."` would: start the measurement, then exit. The child must not hold the
    # parent up, and must finish on its own so the next run gets the measured setting.
    parent = (
        "import sys, time; from tui_speech.tts import tuning; t = time.monotonic();"
        f"assert tuning.start_background(lengths={SHORT!r}); print(time.monotonic() - t)"
    )
    started = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-c", parent], capture_output=True, text=True, timeout=120, check=True
    )
    assert time.monotonic() - started < 60 and float(out.stdout) < 1.0
    record = model_dir() / tuning.RECORD_FILENAME
    deadline = time.monotonic() + 900
    while not record.exists() and time.monotonic() < deadline:
        time.sleep(1)
    (key, result) = _record().popitem()
    assert key == tuning.cpu_key() and result["lengths"] == list(SHORT)
    assert tuning.current().measured


def _style():
    from tui_speech.tts.voices import resolve_voice, style_for

    return style_for(resolve_voice("jf_alpha"), 3)


def test_the_record_is_kept_per_cpu_and_read_without_measuring(quick: None):
    int8 = embedded_model_path()
    before = int8.stat()
    result = tuning.run_locked(baseline_mb=0, lengths=SHORT)

    assert result is not None
    fp32 = variants.variant_path("fp32")
    manifest = json.loads(variants.manifest_path(fp32).read_text())
    # Every integer kernel of the embedded model became a float one.
    assert manifest["rewrite"] == {"matmul": 148, "conv": 87, "lstm": 6, "left_quantized": 0}
    assert manifest["size"] == fp32.stat().st_size
    # With no memory limit every variant x split was timed; the one chosen is among them.
    timed = {(t["variant"], t["threads"], t["runs"]) for t in result["trials"]}
    assert (result["variant"], result["threads"], result["runs"]) in timed
    assert {v for v, _, _ in timed} == {"int8", "fp32"}
    # The shared int8 file (a hard link in tests) was only read.
    after = int8.stat()
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (
        before.st_ino,
        before.st_size,
        before.st_mtime_ns,
    )
    # Remembered: answered at once, not measured again.
    started = time.perf_counter()
    assert tuning.current().measured
    assert time.perf_counter() - started < 0.5
    assert tuning.run_locked(baseline_mb=0, lengths=SHORT) is None

    # The same CPU without VNNI is another CPU: its key differs and it measures for itself.
    info = tuning.read_cpuinfo()
    flags = info.get("flags", "").split()
    without = {**info, "flags": " ".join(f for f in flags if "vnni" not in f) + " sse2"}
    assert tuning.cpu_key(without) != tuning.cpu_key(info)
    records = _record()
    (model_dir() / tuning.RECORD_FILENAME).write_text(
        json.dumps({tuning.cpu_key(without): records[tuning.cpu_key()]})
    )
    assert not tuning.current().measured


def test_a_broken_variant_is_never_chosen(quick: None, monkeypatch: pytest.MonkeyPatch):
    real = variants.dequantize_model

    def breaks_the_audio(model: onnx.ModelProto, *args: object):
        report = real(model, *args)
        # The vocoder's convolution weights scrambled: it runs, at the right length, but the
        # sound is not speech.
        vocoder = {
            name
            for node in model.graph.node
            if node.op_type == "Conv" and node.name.startswith("/decoder/")
            for name in node.input[1:2]
        }
        for tensor in model.graph.initializer:
            if tensor.name in vocoder and tensor.data_type == onnx.TensorProto.FLOAT:
                tensor.raw_data = bytes(reversed(tensor.raw_data))
        assert vocoder
        return report

    monkeypatch.setattr(variants, "dequantize_model", breaks_the_audio)
    result = tuning.run_locked(baseline_mb=0, lengths=SHORT)

    assert result is not None and result["variant"] == "int8"
    assert result["notes"]["fp32"] == "audio differs from int8"
    assert {t["variant"] for t in result["trials"]} == {"int8"}
    assert tuning.current().model == embedded_model_path()


def test_a_failed_build_falls_back_to_int8_and_says_why(
    quick: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    def broken(*args: object, **kwargs: object) -> None:
        raise MemoryError("no room for the fp32 weights")

    monkeypatch.setattr(variants, "dequantize_model", broken)
    with caplog.at_level(logging.INFO, logger="tui_speech.tts.tuning"):
        result = tuning.run_locked(baseline_mb=0, lengths=SHORT)

    assert result is not None and result["variant"] == "int8"
    assert "no room for the fp32 weights" in result["notes"]["fp32"]
    left = {p.name for p in model_dir().iterdir()}
    assert not {n for n in left if "fp32" in n or n.endswith(".part")}


def test_the_measurement_can_be_switched_off(quick: None, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(tuning.TUNE_ENV, "0")
    assert tuning.start_background() is False
    assert not tuning.current().measured


def test_one_measurement_at_a_time_and_leftovers_are_cleared(quick: None):
    leftover = model_dir() / ".kokoro-v1.0.fp32.onnx.abc123.part"
    leftover.write_bytes(b"half a model")
    with store.try_lock(EMBEDDED_ID) as mine:  # as another process measuring would hold it
        assert mine
        assert tuning.run_locked(baseline_mb=0, lengths=SHORT) is None
        assert not (model_dir() / tuning.RECORD_FILENAME).exists()
    assert leftover.exists()  # not ours to touch while the other measured

    assert tuning.run_locked(baseline_mb=0, lengths=(24,), rounds=1) is not None
    assert not leftover.exists()


def _tuning_children(home: Path) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes()
            environ = (proc / "environ").read_bytes()
        except OSError:
            continue
        if b"tui_speech.tts.tuning" in cmdline and str(home).encode() in environ:
            found.append(int(proc.name))
    return found


def test_a_short_speak_is_not_kept_alive_by_the_measurement_which_outlives_it(
    cli, cli_env: dict[str, str], isolated_home: Path
):
    cli_env[tuning.TUNE_ENV] = "1"
    out = isolated_home / "hi.wav"
    started = time.perf_counter()
    result = cli("speak", "Hi there.", "-o", str(out))
    elapsed = time.perf_counter() - started

    assert result.returncode == 0, result.stderr.decode()
    assert out.stat().st_size > 1000
    assert elapsed < 120
    # speak is gone; its measurement goes on in a session of its own (the test above sees
    # one finish), and a record is never half-written meanwhile.
    children = _tuning_children(isolated_home)
    try:
        assert children
        assert all(os.getsid(pid) == pid for pid in children)
        record = model_dir() / tuning.RECORD_FILENAME
        assert not record.exists() or json.loads(record.read_text())
    finally:
        for pid in children:  # the rest of the suite should not share two cores with it
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def test_the_simd_flags_named_with_every_figure():
    assert tuning.simd_flags({"flags": "fpu sse avx2 fma avx512_vnni"}) == "avx2 avx512_vnni"
    assert tuning.simd_flags({"Features": "fp asimd sve"}) == "asimd sve"
    assert tuning.simd_flags({}).startswith("none of avx2")
