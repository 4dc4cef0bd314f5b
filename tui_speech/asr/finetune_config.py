"""What a fine-tuning run is asked to do, and its defaults (standard library only).

The one place the defaults live: ``tui-speech finetune``'s flags and the TUI's fine-tune form
take theirs from :class:`FinetuneConfig`, so this module stays cheap to import at start-up
(``asr.finetune``, which trains, pulls in numpy).
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, fields
from pathlib import Path
from typing import Any

#: What happens to transcript characters the model's vocabulary lacks (see ``dataset_check``).
NEW_CHAR_CHOICES = ("extend", "unk")
DEVICE_CHOICES = ("cpu", "cuda")


@dataclass(frozen=True)
class FinetuneConfig:
    data: Path
    base: str | None
    name: str
    epochs: int = 3
    lr: float = 1e-4
    batch_seconds: float = 60.0
    micro_seconds: float = 20.0  # audio per forward pass (memory), accumulated to batch_seconds
    freeze_feature_encoder: bool = False
    freeze_layers: int = 0
    new_chars: str = "extend"
    device: str = "cpu"
    checkpoint_every: int = 100
    max_steps: int | None = None  # stop (with a checkpoint) after this many steps in total
    restart: bool = False
    seed: int = 0
    threads: int | None = None


def default(name: str) -> Any:
    """The default of the :class:`FinetuneConfig` field ``name``."""
    for f in fields(FinetuneConfig):
        if f.name == name and f.default is not MISSING:
            return f.default
    raise KeyError(name)


def number_text(value: float) -> str:
    """A default as a person writes it: 3, 60, 0.5, 1e-4 (not 0.0001)."""
    if value == int(value):
        return str(int(value))
    if abs(value) >= 0.01:
        return f"{value:g}"
    mantissa, exponent = f"{value:e}".split("e")
    return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"
