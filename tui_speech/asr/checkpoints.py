"""Training checkpoints written so that a crash, a full disk or Ctrl-C never loses the last one.

A checkpoint is a folder (``weights.pt``, ``optimizer.pt``, ``state.json``) assembled under a
temporary name next to its final place, then swapped in with renames:

    work/last  ->  work/.old-XXXX        (only after the new folder is complete)
    work/.tmp-XXXX  ->  work/last
    work/.old-XXXX  removed

If writing fails (``ENOSPC``, ...) the temporary folder is removed and ``last`` is untouched.
If the process dies between the two renames, :func:`load` finds the ``.old`` folder and uses it.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tui_speech.errors import Action, TuiSpeechError, UsageError
from tui_speech.fileio import swap_dir

LAST = "last"


class CheckpointError(TuiSpeechError):
    """A checkpoint could not be written (the previous one is intact) or read."""


class StaleCheckpoint(UsageError):
    """The run's folder holds a checkpoint of a run with other settings or data: it cannot be
    resumed; starting over (``restart``) or another name is the way on."""


@dataclass(frozen=True)
class TrainState:
    """Where training stands: enough to continue at exactly the next step."""

    step: int
    epoch: int
    best_cer: float | None
    vocab: tuple[str, ...]
    fingerprint: str  # of the run's settings and data; a resume must match it
    losses: tuple[float, ...] = ()


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def save(work: Path, name: str, state: TrainState, tensors: dict[str, Any]) -> Path:
    """Write ``tensors`` (file stem -> state dict) and ``state`` as checkpoint ``name``."""
    import torch

    work.mkdir(parents=True, exist_ok=True)
    tmp = work / f".tmp-{uuid.uuid4().hex[:8]}"
    try:
        tmp.mkdir()
        for stem, value in tensors.items():
            with open(tmp / f"{stem}.pt", "wb") as f:
                torch.save(value, f)
                f.flush()
                os.fsync(f.fileno())
        (tmp / "state.json").write_text(json.dumps(asdict(state), ensure_ascii=False), "utf-8")
        _fsync_dir(tmp)
    except (OSError, RuntimeError) as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        full = isinstance(exc, OSError) and exc.errno == errno.ENOSPC
        reason = "the disk is full" if full else str(exc).splitlines()[0][:120]
        kept = f"; the checkpoint in {work / name} is intact" if (work / name).is_dir() else ""
        raise CheckpointError(
            f"cannot write a checkpoint at step {state.step}: {reason}{kept}"
        ) from None
    target = work / name
    # `find` recovers a checkpoint left at this name by a crash between the two renames.
    swap_dir(tmp, target, work / f".old-{name}-{uuid.uuid4().hex[:8]}")
    _fsync_dir(work)
    return target


def find(work: Path, name: str = LAST) -> Path | None:
    """The checkpoint folder ``name``, or the one a crash left mid-swap, or ``None``."""
    target = work / name
    if (target / "state.json").is_file():
        return target
    leftovers = sorted(work.glob(f".old-{name}-*"), key=lambda p: p.stat().st_mtime)
    for old in reversed(leftovers):
        if (old / "state.json").is_file():
            os.replace(old, target)
            return target
    return None


def load(folder: Path) -> tuple[TrainState, dict[str, Any]]:
    """The state and every ``*.pt`` of a checkpoint folder (loaded with ``weights_only``)."""
    import torch

    try:
        raw = json.loads((folder / "state.json").read_text(encoding="utf-8"))
        state = TrainState(
            step=int(raw["step"]),
            epoch=int(raw["epoch"]),
            best_cer=raw["best_cer"],
            vocab=tuple(raw["vocab"]),
            fingerprint=str(raw["fingerprint"]),
            losses=tuple(raw.get("losses", ())),
        )
        tensors = {
            p.stem: torch.load(p, map_location="cpu", weights_only=True)
            for p in sorted(folder.glob("*.pt"))
        }
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        raise CheckpointError(
            f"the checkpoint in {folder} is unreadable ({exc.__class__.__name__})",
            "start over",
            action=Action("restart"),
        ) from None
    return state, tensors
