"""The confidence scale: one set of steps for every face that colours characters.

A character's confidence (the CTC posterior of its frame, 0..1) falls in one of ``STEPS`` equal
steps. The TUI paints step ``i`` with its theme's ``$confidence-i``; the CLI with the i-th of its
colours. Both ask :func:`bucket`, so one transcript looks the same in each.
"""

from __future__ import annotations

#: Steps of the scale, lowest confidence first.
STEPS = 5


def bucket(confidence: float) -> int:
    """Which step (0 .. ``STEPS - 1``) ``confidence`` in [0, 1] falls in; out-of-range clamps."""
    return max(0, min(STEPS - 1, int(confidence * STEPS)))
