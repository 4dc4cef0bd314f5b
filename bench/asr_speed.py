"""Is the default ``tui-speech transcribe`` fast? Against transformers' pipeline, fresh processes.

Part 1, speed: the full-size architecture of jonatasgrosman/wav2vec2-large-xlsr-53-chinese-zh-cn
with random weights (built locally from its config, no Hub; see bench/asr.py), saved as
``models pull`` leaves it (weights, no ONNX export). Each system runs in a fresh process on
the same audio, model load included, timed by wall clock, with its peak RSS (VmHWM):

- transformers ``pipeline("automatic-speech-recognition", chunk_length_s=20)``;
- ``tui-speech transcribe FILE`` with no flags, the first time (it builds the export and
  measures the backends: once per model and CPU), then in steady use;
- ``tui-speech transcribe --backend torch`` (what the default was before).

Rounds alternate the systems, so machine noise hits all alike; ratios are of the best times.

Part 2, variants: every variant's speed and its text agreement with fp32 PyTorch on the tests'
*trained* tiny model (tests/asr_models.py), over Kokoro-spoken phrases.

Run: ``.venv/bin/python bench/asr_speed.py [--seconds 60] [--rounds 2] [--model-dir DIR]``
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

PIPELINE = """
import json, sys
import soundfile as sf
from transformers import pipeline
from transformers.utils import logging
logging.set_verbosity_error()
p = pipeline("automatic-speech-recognition", model=sys.argv[1], device="cpu", chunk_length_s=20)
x, _ = sf.read(sys.argv[2], dtype="float32")
print(p(x)["text"])
"""


def run_measured(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MB, the process's own VmHWM) and stdout of ``cmd``."""
    from asr import watch_peak_kb

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        # Files, not pipes: a JSON transcript is larger than a pipe's buffer.
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=ROOT)
        peak_kb = watch_peak_kb(proc)
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        if proc.returncode:
            raise SystemExit(f"{cmd[:4]} failed: {err.read().decode()[-2000:]}")
        return wall, peak_kb / 1024, out.read().decode().strip()


def heard(out: str) -> str:
    """The text a system printed: the pipeline's line, or transcribe's JSON "text"."""
    return json.loads(out)["text"] if out.startswith("{") else out


def speed(args: argparse.Namespace) -> None:
    import soundfile as sf
    from asr import audio, full_size_model

    from tui_speech.tts.tuning import simd_flags

    work = args.work or Path(tempfile.mkdtemp(prefix="tui-speech-asr-speed-"))
    source = args.model_dir or work / "source"
    if not (source / "config.json").exists():
        full_size_model(source)
    pulled = work / "pulled"  # what `models pull` leaves: no onnx/
    wav = work / "clip.wav"
    if not wav.exists():
        sf.write(str(wav), audio(args.seconds), 16_000, subtype="FLOAT")
    env = {**os.environ, "TUI_SPEECH_HOME": str(work / "home"), "HF_HUB_OFFLINE": "1"}
    # JSON: its "text" is the characters heard, what the pipeline gives (txt may be written
    # text: punctuation, digits).
    ours = [
        *(sys.executable, "-m", "tui_speech", "transcribe", str(wav)),
        *("--model", str(pulled), "-f", "json"),
    ]
    systems = {
        "pipeline": [sys.executable, "-c", PIPELINE, str(pulled), str(wav)],
        "transcribe (default)": ours,
        "transcribe --backend torch": [*ours, "--backend", "torch"],
    }
    print(f"{args.seconds:.0f} s of audio, full-size architecture, fresh processes, model load")
    print(f"included; CPU flags: {simd_flags()}; {os.cpu_count()} cores", flush=True)
    first = None
    if not (pulled / "onnx").exists():  # --work with a first use already done skips it
        shutil.rmtree(pulled, ignore_errors=True)
        shutil.copytree(source, pulled, ignore=shutil.ignore_patterns("onnx"))
        first = run_measured(ours, env)
        print(f"first use (export + measurement): {first[0]:.1f} s, {first[1]:.0f} MB", flush=True)
    results: dict[str, list[tuple[float, float, str]]] = {name: [] for name in systems}
    for _ in range(args.rounds):
        for name, cmd in systems.items():
            results[name].append(run_measured(cmd, env))
            wall, rss, _text = results[name][-1]
            print(f"  {name}: {wall:.1f} s, {rss:.0f} MB", flush=True)
    tuning = json.loads((pulled / "onnx" / "tuning.json").read_text())
    base = min(r[0] for r in results["pipeline"])
    text = heard(results["pipeline"][0][2])
    print(f"\nbest of {args.rounds}")
    print("| system | wall s (best) | x pipeline | peak RSS MB | text = pipeline |")
    print("|---|---|---|---|---|")
    for name, runs in results.items():
        best = min(r[0] for r in runs)
        rss = max(r[1] for r in runs)
        print(
            f"| {name} | {best:.1f} | {base / best:.2f} | {rss:.0f} | {heard(runs[0][2]) == text} |"
        )
    if first is not None:
        print(
            f"| transcribe (default), first use: export + measurement | {first[0]:.1f} | "
            f"{base / first[0]:.2f} | {first[1]:.0f} | {heard(first[2]) == text} |"
        )
    print(f"\nper-CPU record: {json.dumps(tuning)}")
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)


def variants(args: argparse.Namespace) -> None:
    """Speed and text agreement with fp32 PyTorch of every variant, on the trained tiny model."""
    import numpy as np

    from tests.asr_models import PHRASES, TRAINED_DIR, synthesize
    from tui_speech.asr.backends import OnnxBackend, TorchBackend
    from tui_speech.asr.export import build_variant_graph, export_onnx
    from tui_speech.asr.model import load_model_info
    from tui_speech.asr.recognizer import Recognizer
    from tui_speech.tts.tuning import simd_flags

    work = Path(tempfile.mkdtemp(prefix="tui-speech-asr-variants-"))
    os.environ["TUI_SPEECH_HOME"] = str(work / "home")
    os.environ["TUI_SPEECH_TUNE"] = "0"
    folder = work / "model"
    shutil.copytree(TRAINED_DIR, folder)
    info = load_model_info(folder)
    export_onnx(info)
    graph = folder / "onnx" / "model.onnx"
    clips = [synthesize(p, "jf_alpha", s) for p in PHRASES for s in (0.9, 1.1)]

    def int8(name: str, **options: object) -> None:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        quantize_dynamic(
            graph,
            graph.with_name(f"model.{name}.onnx"),
            op_types_to_quantize=["MatMul"],
            weight_type=QuantType.QInt8,
            **options,  # type: ignore[arg-type]
        )

    build_variant_graph(graph, "int8")  # the shipped one: per tensor, reduce_range w/o VNNI
    build_variant_graph(graph, "fp16")
    int8("int8pc", per_channel=True)
    int8("int8rr", reduce_range=True)

    class Old(OnnxBackend):
        """The sessions before: no arena, no memory patterns, no pre-packing."""

        def __init__(self) -> None:
            import onnxruntime as ort

            super().__init__(info)
            opts = ort.SessionOptions()
            opts.enable_cpu_mem_arena = False
            opts.enable_mem_pattern = False
            opts.add_session_config_entry("session.disable_prepacking", "1")
            self.session = ort.InferenceSession(
                str(graph), opts, providers=["CPUExecutionProvider"]
            )

    def onnx(precision: str) -> OnnxBackend:
        backend = OnnxBackend(info, precision="fp32")
        if precision != "fp32":
            import onnxruntime as ort

            path = graph.with_name(f"model.{precision}.onnx")
            backend.session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        return backend

    systems = {
        "torch fp32": lambda: TorchBackend(info),
        "torch bf16": lambda: TorchBackend(info, precision="bf16"),
        "onnx fp32 (shipped options)": lambda: onnx("fp32"),
        "onnx fp32 (old: no arena/pre-pack)": Old,
        "onnx fp16": lambda: onnx("fp16"),
        "onnx int8 U8S8 per tensor (shipped)": lambda: onnx("int8"),
        "onnx int8 per channel": lambda: onnx("int8pc"),
        "onnx int8 reduce_range": lambda: onnx("int8rr"),
    }
    recognizers = {name: Recognizer(make()) for name, make in systems.items()}
    texts = {name: [r.decode(c).text for c in clips] for name, r in recognizers.items()}
    seconds = {name: float("inf") for name in recognizers}
    for _ in range(args.rounds + 1):
        for name, r in recognizers.items():
            started = time.perf_counter()
            for c in clips:
                r.decode(c)
            seconds[name] = min(seconds[name], time.perf_counter() - started)
    ref = texts["torch fp32"]
    audio_s = sum(len(c) for c in clips) / 16_000
    print(
        f"\ntrained tiny model, {len(clips)} Kokoro phrases ({audio_s:.0f} s); "
        f"flags: {simd_flags()}"
    )
    print("| variant | x torch fp32 | texts equal to torch fp32 | equal to the phrase |")
    print("|---|---|---|---|")
    truth = [p for p in PHRASES for _ in (0.9, 1.1)]
    for name in recognizers:
        same = sum(a == b for a, b in zip(texts[name], ref, strict=True))
        right = sum(a == b for a, b in zip(texts[name], truth, strict=True))
        ratio = seconds["torch fp32"] / seconds[name]
        print(f"| {name} | {ratio:.2f} | {same}/{len(ref)} | {right}/{len(ref)} |")
    del np
    shutil.rmtree(work, ignore_errors=True)


FULL_VARIANT = """
import sys, time, json
import numpy as np
sys.path.insert(0, {root!r}); sys.path.insert(0, {bench!r})
from asr import audio
from tui_speech.asr.backends import OnnxBackend, TorchBackend
from tui_speech.asr.model import load_model_info
from tui_speech.asr.recognizer import Recognizer
name, folder = sys.argv[1], sys.argv[2]
info = load_model_info(__import__("pathlib").Path(folder))
if name.startswith("torch"):
    backend = TorchBackend(info, precision=name.split()[1])
else:
    import onnxruntime as ort
    backend = OnnxBackend(info)
    kind, graph = name.split()[1], folder + "/onnx/model.onnx"
    if kind == "old":
        o = ort.SessionOptions()
        o.enable_cpu_mem_arena = False
        o.enable_mem_pattern = False
        o.add_session_config_entry("session.disable_prepacking", "1")
        backend.session = ort.InferenceSession(graph, o, providers=["CPUExecutionProvider"])
    elif kind != "fp32":
        backend.session = ort.InferenceSession(
            folder + f"/onnx/model.{{kind}}.onnx", providers=["CPUExecutionProvider"])
r = Recognizer(backend)
out = {{}}
for seconds in (4.0, 20.0):
    x = audio(seconds)
    r.window_logits(x)
    best = min(
        (lambda t: (r.window_logits(x), time.perf_counter() - t)[1])(time.perf_counter())
        for _ in range(2)
    )
    out[seconds] = best / seconds
print(json.dumps(out))
"""


def full_variants(args: argparse.Namespace) -> None:
    """Every variant's speed on the full-size architecture: one window of 4 s (a live
    partial) and of 20 s (a transcribe window), each in a fresh process, best of 2."""
    from asr import full_size_model

    from tui_speech.asr.export import build_variant_graph, export_onnx
    from tui_speech.asr.model import load_model_info
    from tui_speech.tts.tuning import simd_flags

    folder = args.model_dir or Path(tempfile.mkdtemp(prefix="tui-speech-asr-full-")) / "model"
    if not (folder / "config.json").exists():
        full_size_model(folder)
    graph = folder / "onnx" / "model.onnx"
    if not graph.exists():
        export_onnx(load_model_info(folder))
    for kind in ("int8", "fp16"):
        if not graph.with_name(f"model.{kind}.onnx").exists():
            build_variant_graph(graph, kind)
    code = FULL_VARIANT.format(root=str(ROOT), bench=str(ROOT / "bench"))
    names = ["torch fp32", "torch bf16", "onnx fp32", "onnx old", "onnx int8", "onnx fp16"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    print(f"\nfull-size architecture, one window, s of compute per s of audio; {simd_flags()}")
    print("| variant | 4 s window | 20 s window | peak RSS MB |")
    print("|---|---|---|---|")
    for name in names:
        _wall, rss, out = run_measured([sys.executable, "-c", code, name, str(folder)], env)
        per = json.loads(out.splitlines()[-1])
        print(f"| {name} | {per['4.0']:.3f} | {per['20.0']:.3f} | {rss:.0f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--model-dir", type=Path, default=None, help="a built full-size model")
    parser.add_argument("--work", type=Path, default=None, help="keep (and reuse) files here")
    parser.add_argument("--only", choices=("speed", "variants", "full-variants"), default=None)
    args = parser.parse_args()
    if args.only in (None, "speed"):
        speed(args)
    if args.only in (None, "full-variants"):
        full_variants(args)
    if args.only in (None, "variants"):
        variants(args)


if __name__ == "__main__":
    main()
