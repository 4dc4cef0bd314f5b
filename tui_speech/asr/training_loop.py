"""The pieces of one fine-tuning run that do not depend on where data or models live.

- :func:`plan_epoch`: length-grouped micro-batches (similar lengths together, so little of a
  batch is padding), gathered into optimizer steps of about ``batch_seconds`` of audio each.
  The plan is a pure function of the clip lengths, the seed and the epoch, which is what lets a
  resumed run skip exactly the steps it already took.
- :func:`schedule`: linear warm-up, then linear decay to zero.
- :func:`extend_head` / :func:`freeze`: vocabulary growth and parameter freezing.
- :func:`defer_ctrl_c`: Ctrl-C takes effect between optimizer steps.
- :func:`collate`: padded inputs, attention mask and labels (-100 where padded, as
  transformers' CTC loss expects).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

#: One step: micro-batches, each a list of example indices.
Step = list[list[int]]


def plan_epoch(
    seconds: Sequence[float], batch_seconds: float, micro_seconds: float, seed: int, epoch: int
) -> list[Step]:
    """Steps of micro-batches for one epoch (see the module docstring)."""
    rng = np.random.default_rng([seed, epoch])
    # Sort by length with random tie-breaking jitter, so equal lengths do not always pair up.
    order = sorted(range(len(seconds)), key=lambda i: (seconds[i], rng.random()))
    micro: list[list[int]] = []
    current: list[int] = []
    for i in order:
        # Padded cost: every member is as long as the longest (the last, as the list is sorted).
        if current and seconds[i] * (len(current) + 1) > micro_seconds:
            micro.append(current)
            current = []
        current.append(i)
    if current:
        micro.append(current)
    rng.shuffle(micro)
    steps: list[Step] = []
    step: Step = []
    total = 0.0
    for batch in micro:
        step.append(batch)
        total += sum(seconds[i] for i in batch)
        if total >= batch_seconds:
            steps.append(step)
            step, total = [], 0.0
    if step:
        steps.append(step)
    return steps


def schedule(warmup: int, total: int):  # noqa: ANN201 - a closure for LambdaLR
    """Learning-rate factor per step: 0 -> 1 over ``warmup`` steps, then 1 -> 0 at ``total``."""

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / max(1, warmup)
        return max(0.0, (total - step) / max(1, total - warmup))

    return factor


def warmup_steps(total: int, ratio: float = 0.1) -> int:
    return max(1, math.ceil(total * ratio))


def extend_head(model: Any, new_tokens: int) -> None:
    """Grow ``lm_head`` by ``new_tokens`` rows, each the mean of the existing rows.

    The mean row gives a new character the average logit of the old ones: it starts neither
    favoured over the blank (which would flood the output) nor unreachable, and training then
    only has to move it away from the average.
    """
    import torch

    if new_tokens <= 0:
        return
    old = model.lm_head
    head = torch.nn.Linear(
        old.in_features, old.out_features + new_tokens, bias=old.bias is not None
    )
    with torch.no_grad():
        head.weight[: old.out_features] = old.weight
        head.weight[old.out_features :] = old.weight.mean(dim=0, keepdim=True)
        if old.bias is not None:
            head.bias[: old.out_features] = old.bias
            head.bias[old.out_features :] = old.bias.mean()
    model.lm_head = head.to(old.weight.device)
    model.config.vocab_size = head.out_features


def freeze(model: Any, feature_encoder: bool, layers: int) -> list[str]:
    """Stop gradients to the conv feature encoder and/or the lowest ``layers`` layers.

    Freezing any transformer layer also freezes what sits below the first one (the feature
    projection and the positional convolution): training those while the layers above them are
    fixed would change the input the frozen layers were trained on. Returns the frozen names.
    """
    from tui_speech.errors import UsageError

    w2v = model.wav2vec2
    total = len(w2v.encoder.layers)
    if not 0 <= layers <= total:
        raise UsageError(f"cannot freeze {layers} layers: the model has {total} transformer layers")
    modules = []
    if feature_encoder or layers:
        # transformers' own switch: also stops it marking the conv output as needing gradients.
        model.freeze_feature_encoder()
        modules.append(w2v.feature_extractor)
    if layers:
        modules += [w2v.feature_projection, w2v.encoder.pos_conv_embed]
        modules += list(w2v.encoder.layers[:layers])
    frozen_ids = set()
    for module in modules:
        for p in module.parameters():
            p.requires_grad_(False)
            frozen_ids.add(id(p))
    if layers and getattr(w2v, "masked_spec_embed", None) is not None:
        w2v.masked_spec_embed.requires_grad_(False)
        frozen_ids.add(id(w2v.masked_spec_embed))
    return [n for n, p in model.named_parameters() if id(p) in frozen_ids]


def collate(audios: Sequence[np.ndarray], labels: Sequence[Sequence[int]]):  # noqa: ANN201
    """(inputs, attention_mask, labels) tensors, padded to the longest member."""
    import torch

    x = np.zeros((len(audios), max(len(a) for a in audios)), np.float32)
    mask = np.zeros(x.shape, np.int64)
    y = np.full((len(labels), max(len(t) for t in labels)), -100, np.int64)
    for i, (a, t) in enumerate(zip(audios, labels, strict=True)):
        x[i, : len(a)], mask[i, : len(a)], y[i, : len(t)] = a, 1, t
    return torch.from_numpy(x), torch.from_numpy(mask), torch.from_numpy(y)


def defer_ctrl_c(
    flag: threading.Event | None = None,
) -> tuple[threading.Event, Callable[[], None]]:
    """Make the first Ctrl-C wait for the step in progress; a second one stops at once.

    An interrupt in the middle of an optimizer step could leave some parameters updated and
    others not; between steps the model, optimizer and scheduler agree, so the checkpoint the
    interrupt writes resumes exactly. Off the main thread (a TUI worker) signals cannot be
    caught: the caller passes ``flag`` and sets it to stop the same way, between steps.
    """
    import signal
    import sys

    flag = flag if flag is not None else threading.Event()
    if threading.current_thread() is not threading.main_thread():
        return flag, lambda: None
    previous = signal.getsignal(signal.SIGINT)

    def handler(_signum: int, _frame: object) -> None:
        if flag.is_set():
            raise KeyboardInterrupt
        flag.set()
        print("tui-speech: finishing this step, then writing a checkpoint", file=sys.stderr)

    signal.signal(signal.SIGINT, handler)

    def restore() -> None:
        signal.signal(signal.SIGINT, previous)

    return flag, restore
