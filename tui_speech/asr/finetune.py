"""Fine-tune a wav2vec2 CTC model on a dataset and register the result as ``local/NAME``.

:func:`finetune` is the whole run; it reports through a callback with frozen
:class:`TrainProgress` values (the CLI draws them, tests inspect them):

1. check the base (a ``Wav2Vec2ForCTC``) and validate the train/dev splits against its vocabulary
   (:mod:`tui_speech.asr.dataset_check`); characters it lacks are added to the vocabulary and
   the output layer (``extend``) or trained as ``<unk>`` (``unk``);
2. train with CTC loss and AdamW (linear warm-up, linear decay) on length-grouped micro-batches
   accumulated to ``batch_seconds`` of audio per step (:mod:`tui_speech.asr.training_loop`);
   bfloat16 autocast on CUDA only (CPU autocast is slower than float32 for these layers);
3. evaluate on the dev split after every epoch (CER and calibration); keep the best weights;
4. checkpoint every ``checkpoint_every`` steps, at the end, and on Ctrl-C or when the caller
   sets its ``stop`` event (:mod:`tui_speech.asr.checkpoints`); either raises
   :class:`Interrupted`, and running the same command again resumes at the next step;
5. save the best weights and register them in the store (:mod:`tui_speech.asr.finetune_store`).

Checkpoints live in ``<cache>/finetune/NAME``; they are removed once the model is registered.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from tui_speech.asr import checkpoints, finetune_store
from tui_speech.asr.dataset import open_dataset
from tui_speech.asr.dataset_check import Example, Report, check_split, vocab_chars
from tui_speech.asr.evaluate import Evaluation, evaluate_model
from tui_speech.asr.finetune_config import FinetuneConfig
from tui_speech.asr.model import ModelInfo, find_model
from tui_speech.asr.training_loop import plan_epoch
from tui_speech.errors import Action, ModelMissingError, TuiSpeechError, UsageError


class Interrupted(TuiSpeechError):
    """Ctrl-C (or ``stop``) during training: a checkpoint was written and the run can resume."""

    exit_code = 130

    def __init__(self, message: str, step: int = 0, total_steps: int = 0, work: Path | None = None):
        super().__init__(message)
        self.step, self.total_steps, self.work = step, total_steps, work


@dataclass(frozen=True)
class TrainProgress:
    event: str  # "start", "resumed", "step", "eval", "checkpoint", "stopped", "done"
    step: int
    total_steps: int
    epoch: int
    loss: float | None = None
    audio_per_second: float = 0.0  # seconds of audio trained per wall-clock second
    eta_seconds: float | None = None
    dev: Evaluation | None = None
    message: str = ""

    def eval_line(self) -> str:
        """What an "eval" event says (the CLI's log and the TUI's)."""
        assert self.dev is not None
        return (
            f"epoch {self.epoch + 1}: dev CER {self.dev.cer:.2%} over {self.dev.ref_chars} "
            f"characters, calibration error {self.dev.ece:.3f}"
        )


@dataclass(frozen=True)
class FinetuneResult:
    model_id: str | None  # None when stopped early by max_steps
    path: Path | None
    steps: int
    best_cer: float | None
    vocab_added: tuple[str, ...]
    frozen: tuple[str, ...]


OnProgress = Callable[[TrainProgress], None]


def work_dir(name: str) -> Path:
    from tui_speech.config import get_paths

    return get_paths().cache / "finetune" / finetune_store.model_id_for(name).replace("/", "--")


def _fingerprint(config: FinetuneConfig, info: ModelInfo, train: Report) -> str:
    settings = asdict(config)
    for transient in ("max_steps", "restart", "threads", "checkpoint_every", "device"):
        settings.pop(transient)
    settings["base_path"] = str(info.path)
    settings["train"] = [(str(e.row.path), e.text) for e in train.good]
    blob = json.dumps(settings, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _load_base(info: ModelInfo) -> Any:
    from tui_speech.asr.backends import _quiet_transformers

    _quiet_transformers()
    from transformers import Wav2Vec2ForCTC

    try:
        return Wav2Vec2ForCTC.from_pretrained(str(info.path))
    except Exception as exc:  # safetensors, pickle and torch each raise their own types
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc)
        raise ModelMissingError(
            f"cannot load the weights in {info.path} ({first}); re-fetch the base model"
        ) from None


def _check_data(config: FinetuneConfig, info: ModelInfo) -> tuple[Report, Report | None]:
    dataset = open_dataset(config.data)
    train = check_split(dataset, "train", info, config.new_chars)
    rows = dataset.rows("train")
    if not rows:
        raise UsageError(f"{dataset.root}: the train split lists no clips")
    known = vocab_chars(info)
    if not any(c in known for r in rows for c in r.text):
        sample = "".join(dict.fromkeys("".join(r.text for r in rows)))[:12]
        raise UsageError(
            f"none of the characters in {dataset.root}'s transcripts ({sample}...) is in the "
            f"vocabulary of {info.name}; is this data for this model?"
        )
    if not train.good:
        raise UsageError(
            f"{dataset.root}: no usable clips in the train split ({len(train.problems)} with "
            f"problems)",
            "validate the dataset against the model to see them",
            action=Action("validate-dataset", info.name, str(config.data)),
        )
    dev = None
    if "dev" in dataset.splits():
        dev = check_split(dataset, "dev", info, config.new_chars)
        dev = dev if dev.good else None
    return train, dev


def _encoder(vocab: list[str], info: ModelInfo, policy: str) -> Callable[[str], list[int]]:
    index = {tok: i for i, tok in enumerate(vocab) if tok}
    unk = index.get("<unk>")
    if policy == "unk" and unk is None:
        raise UsageError(
            f"{info.name} has no <unk> token for new characters",
            "let new characters extend the vocabulary instead",
        )

    def encode(text: str) -> list[int]:
        return [index[c] if c in index else unk for c in text]  # type: ignore[misc]

    return encode


def finetune(
    config: FinetuneConfig,
    on_progress: OnProgress | None = None,
    stop: threading.Event | None = None,
) -> FinetuneResult:
    """Run (or resume) the fine-tuning ``config`` describes; see the module docstring.

    Setting ``stop`` (from another thread, e.g. a TUI's cancel key) acts like Ctrl-C: the step
    in progress finishes, a checkpoint is written and :class:`Interrupted` is raised.
    """
    from tui_speech.asr import training_loop as tl
    from tui_speech.asr.backends import default_threads

    report = on_progress or (lambda _p: None)
    model_id = finetune_store.model_id_for(config.name)
    if config.epochs < 1 or config.lr <= 0 or config.batch_seconds <= 0:
        raise UsageError("epochs, learning rate and batch seconds must be positive")
    from tui_speech.hub import store

    if store.read_manifest(model_id) is not None:
        raise UsageError(
            f"{model_id} is already in the model store",
            "pick another name, or remove that model first",
            action=Action("rename-output"),
        )
    info = find_model(config.base, need="torch")
    train, dev = _check_data(config, info)
    import torch

    if config.device == "cuda" and not torch.cuda.is_available():
        raise UsageError(
            "no CUDA device is available",
            "train on the CPU",
            action=Action("pick-device", value="cpu"),
        )
    torch.set_num_threads(config.threads or default_threads())
    torch.manual_seed(config.seed)
    model = _load_base(info)
    vocab = list(info.vocab)
    added: tuple[str, ...] = ()
    if config.new_chars == "extend" and train.new_chars:
        new = tuple(c for c in dict.fromkeys(train.new_chars) if c not in vocab)
        tl.extend_head(model, len(new))
        vocab += new
        added = new
    info_now = replace(info, vocab=tuple(vocab))
    frozen = tuple(tl.freeze(model, config.freeze_feature_encoder, config.freeze_layers))
    model.to(config.device).train()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=0.01)
    seconds = [e.seconds for e in train.good]
    # A micro-batch never exceeds the step it belongs to, but always fits the longest clip.
    micro = max(min(config.micro_seconds, config.batch_seconds), max(seconds))
    plans = [
        plan_epoch(seconds, config.batch_seconds, micro, config.seed, e)
        for e in range(config.epochs)
    ]
    total = sum(len(p) for p in plans)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, tl.schedule(tl.warmup_steps(total), total)
    )
    encode = _encoder(vocab, info, config.new_chars)
    work = work_dir(config.name)
    fingerprint = _fingerprint(config, info, train)
    state = checkpoints.TrainState(0, 0, None, tuple(vocab), fingerprint)
    if config.restart:
        shutil.rmtree(work, ignore_errors=True)
    found = checkpoints.find(work)
    if found is not None:
        state, tensors = checkpoints.load(found)
        if state.fingerprint != fingerprint:
            raise checkpoints.StaleCheckpoint(
                f"{work} holds a checkpoint of a run with other settings or data",
                "start over (its progress is lost), or pick another name",
                action=Action("restart"),
            )
        model.load_state_dict(tensors["model"])
        optimizer.load_state_dict(tensors["optimizer"])
        scheduler.load_state_dict(tensors["scheduler"])
        torch.set_rng_state(tensors["rng"]["torch"])
        report(TrainProgress("resumed", state.step, total, state.epoch, message=str(found)))
    else:
        report(TrainProgress("start", 0, total, 0, message=f"{len(train.good)} clips"))

    def save_last(step: int, epoch: int, best: float | None) -> None:
        nonlocal state
        state = replace(state, step=step, epoch=epoch, best_cer=best)
        checkpoints.save(
            work,
            checkpoints.LAST,
            state,
            {
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "rng": {"torch": torch.get_rng_state()},
            },
        )

    use_amp = config.device == "cuda"
    amp_dtype = torch.bfloat16 if use_amp and torch.cuda.is_bf16_supported() else torch.float16
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp and amp_dtype == torch.float16)
    step, best, epoch = state.step, state.best_cer, state.epoch
    started, trained_audio = time.monotonic(), 0.0
    stop_at = min(total, config.max_steps) if config.max_steps else total
    ctrl_c, restore_sigint = tl.defer_ctrl_c(stop)
    try:
        g, session_steps, stopped = 0, 0, False
        for epoch, plan in enumerate(plans):
            if g + len(plan) <= step:
                g += len(plan)
                continue  # an epoch finished (and evaluated) before the resume
            for micro_batches in plan:
                g += 1
                if g <= step:
                    continue  # taken before the resume
                if g > stop_at:
                    stopped = True
                    break
                if ctrl_c.is_set():  # set while loading, evaluating or between epochs
                    raise KeyboardInterrupt
                loss_value, audio_s = _train_step(
                    model, optimizer, scaler, micro_batches, train.good, encode, info,
                    config.device, use_amp, amp_dtype, params,
                )  # fmt: skip
                scheduler.step()
                step, session_steps = g, session_steps + 1
                trained_audio += audio_s
                elapsed = max(1e-6, time.monotonic() - started)
                eta = elapsed / session_steps * (stop_at - step)
                report(
                    TrainProgress(
                        "step", step, total, epoch, loss_value, trained_audio / elapsed, eta
                    )
                )
                if config.checkpoint_every and step % config.checkpoint_every == 0:
                    save_last(step, epoch, best)
                    report(TrainProgress("checkpoint", step, total, epoch))
                if ctrl_c.is_set():
                    raise KeyboardInterrupt
            if stopped:
                break
            if dev is not None:
                result = evaluate_model(info_now, model, config.device, dev.good)
                report(TrainProgress("eval", step, total, epoch, dev=result))
                if best is None or result.cer <= best:
                    best = result.cer
                    finetune_store.save_model_atomic(model, info, vocab, work / "best")
    except KeyboardInterrupt:
        restore_sigint()
        save_last(step, epoch, best)
        raise Interrupted(
            f"stopped at step {step} of {total}; checkpoint written to {work}; "
            "run the same command again to resume",
            step,
            total,
            work,
        ) from None
    restore_sigint()
    save_last(step, epoch, best)
    if step < total:
        report(TrainProgress("stopped", step, total, epoch, message=str(work)))
        return FinetuneResult(None, None, step, best, added, frozen)
    if dev is None or not (work / "best").is_dir():
        finetune_store.save_model_atomic(model, info, vocab, work / "best")
    provenance = {
        "id": model_id,
        "base": info.name,
        "base_path": str(info.path),
        "data": str(Path(config.data).resolve()),
        "train_clips": len(train.good),
        "train_seconds": round(train.seconds, 1),
        "steps": step,
        "dev_cer": best,
        "vocab_added": "".join(added),
        "settings": {k: v for k, v in asdict(config).items() if k not in ("data", "base")},
    }
    path = finetune_store.register(model_id, work / "best", provenance)
    shutil.rmtree(work, ignore_errors=True)
    report(TrainProgress("done", step, total, epoch, message=model_id))
    return FinetuneResult(model_id, path, step, best, added, frozen)


def _train_step(
    model: Any,
    optimizer: Any,
    scaler: Any,
    micro_batches: list[list[int]],
    examples: tuple[Example, ...],
    encode: Callable[[str], list[int]],
    info: ModelInfo,
    device: str,
    use_amp: bool,
    amp_dtype: Any,
    params: list[Any],
) -> tuple[float, float]:
    """One optimizer step over accumulated micro-batches; returns (mean loss, audio seconds)."""
    import torch

    from tui_speech.asr.training_loop import collate
    from tui_speech.audio.reader import read_audio

    count = sum(len(b) for b in micro_batches)
    optimizer.zero_grad(set_to_none=True)
    total_loss, audio_s = 0.0, 0.0
    for batch in micro_batches:
        audios = []
        for i in batch:
            a = read_audio(examples[i].row.path, info.sample_rate)
            audio_s += len(a) / info.sample_rate
            if info.do_normalize:
                a = (a - a.mean()) / np.sqrt(a.var() + 1e-7)
            audios.append(a.astype(np.float32))
        x, mask, labels = collate(audios, [encode(examples[i].text) for i in batch])
        x, mask, labels = x.to(device), mask.to(device), labels.to(device)
        with torch.autocast(device_type="cuda", dtype=amp_dtype, enabled=use_amp):
            loss = model(x, attention_mask=mask, labels=labels).loss
        # The model's loss is a mean over its micro-batch: weight it by its share of the step.
        weighted = loss * (len(batch) / count)
        scaler.scale(weighted).backward()
        total_loss += float(weighted.detach())
    scaler.unscale_(optimizer)
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    scaler.step(optimizer)
    scaler.update()
    return total_loss, audio_s
