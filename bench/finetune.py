"""Fine-tuning throughput: seconds of audio trained per wall-clock second, full-size model.

The model is the architecture of jonatasgrosman/wav2vec2-large-xlsr-53-chinese-zh-cn with random
weights (built by ``bench/asr.py``'s ``full_size_model``; speed does not depend on weight
values). Each configuration loads it fresh and runs tui-speech's own optimizer step
(``tui_speech.asr.finetune._train_step``: read + normalise clips, CTC loss, backward, clipping,
AdamW) on noise clips with random transcripts, one warm-up step then ``--steps`` timed ones.
The two configurations alternate over ``--rounds`` (each round loads the model afresh), so a
burst of load from other processes on the shared machine hits both alike:

- ``all``: every parameter trained;
- ``frozen-fe``: ``--freeze-feature-encoder`` (the 7-layer conv stack gets no gradients).

Only CPU here (no GPU was lent); on CUDA pass ``--device cuda`` (bf16 autocast, as the CLI).

Run: ``nice -n 5 .venv/bin/python bench/finetune.py [--rounds R] [--steps N] [--clips C]``
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def clips(folder: Path, seconds: float, count: int, vocab: tuple[str, ...]):
    """``count`` noise clips with 3 characters per second of random text, as Examples."""
    import soundfile as sf

    from tui_speech.asr.dataset import Row
    from tui_speech.asr.dataset_check import Example

    rng = np.random.default_rng(0)
    chars = [t for t in vocab if len(t) == 1 and t != "|"]
    out = []
    for i in range(count):
        path = folder / f"{i}.wav"
        sf.write(str(path), (rng.standard_normal(int(seconds * 16_000)) * 0.1), 16_000)
        text = "".join(rng.choice(chars, size=int(3 * seconds)))
        out.append(Example(Row("train", folder / "t.tsv", i + 1, path, text), text, seconds))
    return tuple(out)


def run_config(info, examples, frozen_fe: bool, steps: int, device: str, micro: int) -> dict:
    import torch

    from tui_speech.asr.finetune import _encoder, _load_base, _train_step
    from tui_speech.asr.training_loop import freeze

    model = _load_base(info)
    freeze(model, frozen_fe, 0)
    model.to(device).train()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=1e-5)
    scaler = torch.amp.GradScaler("cuda", enabled=False)
    encode = _encoder(list(info.vocab), info, "extend")
    use_amp = device == "cuda"
    batches = [
        list(range(i, min(i + micro, len(examples)))) for i in range(0, len(examples), micro)
    ]

    def step() -> float:
        _, audio = _train_step(
            model, optimizer, scaler, batches, examples, encode, info, device,
            use_amp, torch.bfloat16, params,
        )  # fmt: skip
        return audio

    step()  # warm-up: allocator, kernels, Adam state
    times, cpu, audio = [], 0.0, 0.0
    for _ in range(steps):
        start, start_cpu = time.perf_counter(), time.process_time()
        audio += step()
        times.append(time.perf_counter() - start)
        cpu += time.process_time() - start_cpu
    trainable = sum(p.numel() for p in params)
    return {
        "config": "frozen-fe" if frozen_fe else "all",
        "trainable_params_M": round(trainable / 1e6, 1),
        "step_s": [round(t, 2) for t in times],
        "audio_s_per_s": round(audio / sum(times), 3),
        # CPU seconds are what the other processes on a shared machine cannot steal.
        "cpu_s_per_audio_s": round(cpu / audio, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--steps", type=int, default=1, help="timed steps per round")
    parser.add_argument("--seconds", type=float, default=4.0, help="length of each clip")
    parser.add_argument("--clips", type=int, default=1, help="clips per optimizer step")
    parser.add_argument("--micro", type=int, default=1, help="clips per forward pass")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    import importlib

    import torch

    from tui_speech.asr.model import load_model_info

    # bench/asr.py builds the full-size model; bench/ is on sys.path, not a package.
    full_size_model = importlib.import_module("asr").full_size_model

    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        folder = full_size_model(Path(tmp) / "model")
        info = load_model_info(folder)
        examples = clips(Path(tmp), args.seconds, args.clips, info.vocab)
        print(
            f"full-size wav2vec2 ({info.num_layers} layers, hidden {info.hidden_size}), "
            f"{args.clips} x {args.seconds:g} s per step, {args.micro} per forward, "
            f"{args.threads} threads, {args.device}",
            flush=True,
        )
        rounds = args.rounds
        by_config: dict[str, list[dict]] = {"frozen-fe": [], "all": []}
        for round_ in range(rounds):
            # Swap the order every round: the first load of a round may pay for the last's garbage.
            for frozen in (True, False) if round_ % 2 == 0 else (False, True):
                result = run_config(info, examples, frozen, args.steps, args.device, args.micro)
                by_config[result["config"]].append(result)
                print(f"round {round_ + 1}: {result}", flush=True)
        best = {name: max(r["audio_s_per_s"] for r in runs) for name, runs in by_config.items()}
        cpu = {name: min(r["cpu_s_per_audio_s"] for r in runs) for name, runs in by_config.items()}
        for name, value in best.items():
            print(
                f"{name}: best {value} audio-s/s (wall), {cpu[name]} CPU-s per audio-s, "
                f"over {rounds} rounds"
            )
        print(
            f"frozen feature encoder / all trained: {best['frozen-fe'] / best['all']:.2f}x (wall), "
            f"{cpu['all'] / cpu['frozen-fe']:.2f}x (CPU)"
        )
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS {peak / 1024:.1f} GB")


if __name__ == "__main__":
    main()
