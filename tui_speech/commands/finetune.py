"""``tui-speech finetune --data DIR --base M --out NAME``: adapt a CTC model to a dataset.

The result is registered as ``local/NAME`` (``transcribe --model local/NAME``). Progress goes to
stderr: a rich progress bar on a terminal, one line per ``--log-every`` steps otherwise. Ctrl-C
writes a checkpoint; the same command resumes from it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui_speech.asr.finetune_config import (
    DEVICE_CHOICES,
    NEW_CHAR_CHOICES,
    FinetuneConfig,
    default,
    number_text,
)

if TYPE_CHECKING:
    from tui_speech.asr.finetune import TrainProgress


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "finetune",
        help="fine-tune a wav2vec2 CTC model on a dataset; registered as local/NAME",
        description="CTC fine-tuning with AdamW (warm-up, linear decay), batches measured in "
        "seconds of audio, dev evaluation each epoch and resumable checkpoints.",
    )
    p.add_argument("--data", type=Path, required=True, help="dataset folder")
    p.add_argument("--base", default=None, help="base model: repo id or directory")
    p.add_argument("--out", required=True, metavar="NAME", help="registered as local/NAME")
    p.add_argument("--epochs", type=int, default=default("epochs"), help="(%(default)s)")
    p.add_argument(
        "--lr",
        type=float,
        default=default("lr"),
        help=f"peak learning rate (default {number_text(default('lr'))})",
    )
    p.add_argument(
        "--batch-seconds",
        type=float,
        default=default("batch_seconds"),
        help="audio per optimizer step (%(default)s)",
    )
    p.add_argument(
        "--micro-seconds",
        type=float,
        default=default("micro_seconds"),
        help="audio per forward pass (memory; %(default)s)",
    )
    p.add_argument("--freeze-feature-encoder", action="store_true", help="keep the conv stack")
    p.add_argument(
        "--freeze-layers", type=int, default=default("freeze_layers"), metavar="N",
        help="keep N layers",
    )  # fmt: skip
    p.add_argument(
        "--new-chars",
        choices=NEW_CHAR_CHOICES,
        default=default("new_chars"),
        help="characters not in the vocabulary: add them (extend, the default) or train them "
        "as <unk>",
    )
    p.add_argument("--device", choices=DEVICE_CHOICES, default=default("device"))
    p.add_argument(
        "--checkpoint-every", type=int, default=default("checkpoint_every"), metavar="STEPS"
    )
    p.add_argument("--max-steps", type=int, default=None, help="stop after this many steps")
    p.add_argument("--restart", action="store_true", help="ignore an existing checkpoint")
    p.add_argument("--seed", type=int, default=default("seed"))
    p.add_argument("--threads", type=int, default=None, help="CPU threads (default: all)")
    p.add_argument("--log-every", type=int, default=10, help="steps per line when not a tty")
    return p


def config_from_args(args: argparse.Namespace) -> FinetuneConfig:
    """The run the flags describe."""
    return FinetuneConfig(
        data=args.data,
        base=args.base,
        name=args.out,
        epochs=args.epochs,
        lr=args.lr,
        batch_seconds=args.batch_seconds,
        micro_seconds=args.micro_seconds,
        freeze_feature_encoder=args.freeze_feature_encoder,
        freeze_layers=args.freeze_layers,
        new_chars=args.new_chars,
        device=args.device,
        checkpoint_every=args.checkpoint_every,
        max_steps=args.max_steps,
        restart=args.restart,
        seed=args.seed,
        threads=args.threads,
    )


def run(args: argparse.Namespace) -> int:
    from tui_speech.asr.finetune import finetune

    config = config_from_args(args)
    with _Display(args.log_every) as display:
        result = finetune(config, display.update)
    if result.model_id is None:
        print(
            f"stopped at step {result.steps} (--max-steps); run again without it to continue",
            file=sys.stderr,
        )
        return 0
    cer = "" if result.best_cer is None else f", dev CER {result.best_cer:.2%}"
    added = f", {len(result.vocab_added)} characters added" if result.vocab_added else ""
    print(f"{result.model_id}: {result.steps} steps{cer}{added}", file=sys.stderr)
    print(result.model_id)
    return 0


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    m, s = divmod(int(seconds), 60)
    return f"{m // 60}:{m % 60:02d}:{s:02d}" if m >= 60 else f"{m}:{s:02d}"


class _Display:
    """Progress on stderr: a rich bar on a terminal, plain lines otherwise (logs, tests)."""

    def __init__(self, log_every: int) -> None:
        from rich.console import Console

        self.console = Console(stderr=True)
        self.log_every = max(1, log_every)
        self.bar: Any = None
        self.task: Any = None
        self.dev = "-"

    def __enter__(self) -> _Display:
        if self.console.is_terminal:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self.bar = Progress(
                TextColumn("steps"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[status]}"),
                console=self.console,
            )
            self.bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)

    def line(self, text: str) -> None:
        self.console.print(text, markup=False, highlight=False, soft_wrap=True)

    def update(self, p: TrainProgress) -> None:
        if p.event in ("start", "resumed"):
            word = "resuming from step" if p.event == "resumed" else "training from step"
            self.line(f"{word} {p.step} of {p.total_steps} ({p.message})")
            if self.bar is not None:
                self.task = self.bar.add_task("train", total=p.total_steps, status="")
                self.bar.update(self.task, completed=p.step)
        elif p.event == "step":
            status = (
                f"loss {p.loss:.3f}  {p.audio_per_second:.1f} audio-s/s  "
                f"ETA {_duration(p.eta_seconds)}  dev CER {self.dev}"
            )
            if self.bar is not None and self.task is not None:
                self.bar.update(self.task, completed=p.step, status=status)
            elif p.step % self.log_every == 0 or p.step == p.total_steps:
                self.line(f"step {p.step}/{p.total_steps} epoch {p.epoch + 1}  {status}")
        elif p.event == "eval" and p.dev is not None:
            self.dev = f"{p.dev.cer:.2%}"
            self.line(p.eval_line())
        elif p.event == "checkpoint":
            if self.bar is None:
                self.line(f"checkpoint at step {p.step}")
