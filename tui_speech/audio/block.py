"""The unit every live source yields: a block of samples with its place on the session clock.

It lives in the audio layer so sources need nothing from the recogniser that consumes them
(:mod:`tui_speech.asr.stream` imports it from here).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Block:
    """Audio from a source: 16 kHz mono float32, where it starts on the session clock, and the
    monotonic time it arrived."""

    samples: np.ndarray
    start_s: float
    arrival: float
