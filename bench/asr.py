"""ASR benchmark: our backends against transformers' ASR pipeline, in one run.

The model is the full-size architecture of jonatasgrosman/wav2vec2-large-xlsr-53-chinese-zh-cn
(24 layers, hidden 1024, intermediate 4096, 16 heads, stable layer norm, conv features 7x512,
a 3,503-entry character vocab) with random weights – speed does not depend on weight values,
and the real weights cannot be fetched here. It is saved with save_pretrained and exported to
ONNX once per run, in a temp dir.

On 30 s of audio it reports, per system, the best and median wall time over alternating rounds
(machine noise hits all alike) and the real-time factor, then ratios against the pipeline; the
max-abs difference between ONNX and PyTorch logits; and the peak RSS of a
``tui-speech transcribe --backend onnx`` process (its own rusage, not ours).

Run: ``.venv/bin/python bench/asr.py [--rounds N] [--threads N] [--seconds S]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
VOCAB_SIZE = 3503


def full_size_model(folder: Path) -> Path:
    """Save the real model's architecture with random weights (and tokenizer files)."""
    import torch
    from transformers import Wav2Vec2Config, Wav2Vec2ForCTC

    config = Wav2Vec2Config(
        vocab_size=VOCAB_SIZE,
        hidden_size=1024,
        num_hidden_layers=24,
        num_attention_heads=16,
        intermediate_size=4096,
        conv_dim=(512,) * 7,
        conv_stride=(5, 2, 2, 2, 2, 2, 2),
        conv_kernel=(10, 3, 3, 3, 3, 2, 2),
        num_conv_pos_embeddings=128,
        num_conv_pos_embedding_groups=16,
        do_stable_layer_norm=True,
        feat_extract_norm="layer",
        pad_token_id=0,
        architectures=["Wav2Vec2ForCTC"],
    )
    torch.manual_seed(0)
    Wav2Vec2ForCTC(config).eval().save_pretrained(folder)
    vocab = {"<pad>": 0, "<s>": 1, "</s>": 2, "<unk>": 3, "|": 4}
    for i in range(VOCAB_SIZE - len(vocab)):
        vocab[chr(0x4E00 + i)] = len(vocab)
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    tok = {
        "tokenizer_class": "Wav2Vec2CTCTokenizer",
        "pad_token": "<pad>",
        "unk_token": "<unk>",
        "word_delimiter_token": "|",
    }
    (folder / "tokenizer_config.json").write_text(json.dumps(tok), encoding="utf-8")
    feats = {
        "feature_extractor_type": "Wav2Vec2FeatureExtractor",
        "feature_size": 1,
        "sampling_rate": 16000,
        "padding_value": 0.0,
        "do_normalize": True,
        "return_attention_mask": True,
    }
    (folder / "preprocessor_config.json").write_text(json.dumps(feats), encoding="utf-8")
    return folder


def audio(seconds: float):
    import numpy as np

    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * 16_000)) / 16_000
    return (rng.standard_normal(len(t)) * 0.1 * (0.6 + 0.4 * np.sin(2 * np.pi * 2 * t))).astype(
        np.float32
    )


def peak_rss_mb(cmd: list[str]) -> tuple[float, int, str]:
    """Run ``cmd``; its peak RSS in MB (VmHWM), exit code and stderr.

    Not rusage: Linux carries the parent's high-water mark into a forked child across exec, so
    a child of this multi-GB process would report this process's peak, not its own.
    """
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    peak_kb = watch_peak_kb(proc)
    err = proc.stderr.read().decode() if proc.stderr else ""
    return peak_kb / 1024, proc.returncode, err


def watch_peak_kb(proc: subprocess.Popen) -> int:
    """Poll a running process's own VmHWM until it exits; the highest seen, in kB."""
    status = Path(f"/proc/{proc.pid}/status")
    peak_kb = 0
    while proc.poll() is None:
        try:
            for line in status.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak_kb = max(peak_kb, int(line.split()[1]))
        except (OSError, ValueError):
            pass
        time.sleep(0.05)
    return peak_kb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument(
        "--model-dir", type=Path, default=None, help="keep the built model here (reused if present)"
    )
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    import numpy as np
    import soundfile as sf
    import torch
    from transformers import pipeline
    from transformers.utils import logging as hf_logging

    from tui_speech.asr.backends import default_threads
    from tui_speech.asr.export import export_onnx
    from tui_speech.asr.model import load_model_info
    from tui_speech.asr.recognizer import Recognizer

    hf_logging.set_verbosity_error()
    threads = args.threads or default_threads()
    torch.set_num_threads(threads)
    work = Path(tempfile.mkdtemp(prefix="tui-speech-bench-asr-"))
    model_dir = args.model_dir or work / "model"
    if not (model_dir / "onnx" / "model.onnx").exists():
        t = time.perf_counter()
        full_size_model(model_dir)
        print(f"model built in {time.perf_counter() - t:.0f} s", flush=True)
        t = time.perf_counter()
        export_onnx(load_model_info(model_dir))
        print(f"onnx export: {time.perf_counter() - t:.0f} s", flush=True)
    clip = audio(args.seconds)
    wav = work / "clip.wav"
    sf.write(str(wav), clip, 16_000, subtype="FLOAT")

    systems = {
        "transformers pipeline": pipeline(
            "automatic-speech-recognition", model=str(model_dir), device="cpu"
        ),
        "tui-speech torch": Recognizer.load(str(model_dir), "torch", threads),
        "tui-speech onnx": Recognizer.load(str(model_dir), "onnx", threads),
        "tui-speech torch bf16": Recognizer.load(str(model_dir), "torch", threads, "bf16"),
    }
    calls = {
        "transformers pipeline": lambda p: p(clip.copy()),
        "tui-speech torch": lambda r: r.decode(clip),
        "tui-speech onnx": lambda r: r.decode(clip),
        "tui-speech torch bf16": lambda r: r.decode(clip),
    }
    times: dict[str, list[float]] = {name: [] for name in systems}
    texts = {}
    for name, system in systems.items():  # warm-up (first-run allocations, thread pools)
        out = calls[name](system)
        texts[name] = out["text"] if isinstance(out, dict) else out.text
    for _ in range(args.rounds):
        for name, system in systems.items():
            t = time.perf_counter()
            calls[name](system)
            times[name].append(time.perf_counter() - t)

    base = min(times["transformers pipeline"])
    print(
        f"\n{args.seconds:.0f} s of audio, {threads} threads, {args.rounds} rounds "
        f"(best / median wall time, real-time factor of the best, speed-up vs pipeline)"
    )
    for name, ts in times.items():
        best = min(ts)
        print(
            f"  {name:<22} {best:6.2f} s / {statistics.median(ts):6.2f} s  "
            f"RTF {best / args.seconds:.3f}  x{base / best:.2f}"
        )
    for name in list(systems)[1:]:
        equal = texts[name] == texts["transformers pipeline"]
        print(f"  text equal to the pipeline's ({name}): {equal}")

    a = systems["tui-speech torch"].window_logits(clip)
    b = systems["tui-speech onnx"].window_logits(clip)
    c = systems["tui-speech torch bf16"].window_logits(clip)
    print(
        f"  onnx vs torch logits (one 30 s pass): max abs diff {float(np.abs(a - b).max()):.2e}"
        f"; bf16 vs fp32: {float(np.abs(a - c).max()):.2e}"
        f" (logits range {float(a.min()):.1f}..{float(a.max()):.1f})"
    )
    del systems

    cmd = [
        sys.executable,
        "-m",
        "tui_speech",
        "transcribe",
        str(wav),
        "--model",
        str(model_dir),
        "--backend",
        "onnx",
        "--threads",
        str(threads),
        "-o",
        str(work / "out.json"),
    ]
    rss, code, err = peak_rss_mb(cmd)
    print(
        f"  peak RSS of `transcribe --backend onnx` ({args.seconds:.0f} s file): {rss:.0f} MB"
        f" (exit {code}){' ' + err.strip() if code else ''}"
    )
    import shutil

    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
