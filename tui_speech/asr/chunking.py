"""Cut a stream of samples into overlapping windows for long-audio inference.

Like transformers' ``chunk_length_s``/``stride_length_s``: each window is ``chunk`` samples; the
first and last ``stride`` samples of a window only give the model context, and their frames are
dropped – except at the very start and end of the audio. Consecutive windows overlap by
``2 * stride`` samples, so the frames kept from all windows tile the audio exactly once and
line up with the frames one pass over the whole file would give (every window starts on a
multiple of the model's hop). Memory is one window plus one block, whatever the file length.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Window:
    """One model input: ``samples`` starting at global frame ``first_frame``.

    Keep frames ``keep_from`` up to (not including) ``keep_to`` of its output (None: to the end).
    """

    samples: np.ndarray
    first_frame: int
    keep_from: int
    keep_to: int | None
    end_sample: int  # samples of the whole stream up to this window's end (for progress)


def window_sizes(chunk_s: float, stride_s: float, rate: int, hop: int) -> tuple[int, int]:
    """Chunk and stride in samples, rounded to whole frames; the stride fits the chunk."""
    chunk = max(1, round(chunk_s * rate / hop)) * hop
    stride = max(0, round(stride_s * rate / hop)) * hop
    if 2 * stride >= chunk:
        raise ValueError(f"stride {stride_s} s leaves nothing of a {chunk_s} s chunk")
    return chunk, stride


def iter_windows(
    blocks: Iterable[np.ndarray], chunk: int, stride: int, hop: int
) -> Iterator[Window]:
    """Yield the windows over ``blocks`` (lazy: reads only as far as the next window needs)."""
    if chunk % hop or stride % hop:
        raise ValueError("chunk and stride must be whole frames")
    step = chunk - 2 * stride
    pending: list[np.ndarray] = []
    held = 0  # samples in pending
    start = 0  # global sample index of pending[0][0]
    first = True
    for block in blocks:
        if len(block) == 0:
            continue
        pending.append(block)
        held += len(block)
        # Strictly more than a chunk: audio of exactly one chunk is one window, one pass.
        while held > chunk:
            buf = np.concatenate(pending) if len(pending) > 1 else pending[0]
            yield Window(
                samples=buf[:chunk],
                first_frame=start // hop,
                keep_from=0 if first else stride // hop,
                keep_to=(chunk - stride) // hop,
                end_sample=start + chunk,
            )
            first = False
            # Copy the overlap so the finished window's buffer can be freed.
            pending = [buf[step:].copy()]
            held = len(pending[0])
            start += step
    if held == 0:
        return
    # Always a final window: even when the audio ended with a full window, that window's right
    # stride was not kept yet, and this one (with its left stride as context) keeps it.
    buf = np.concatenate(pending) if len(pending) > 1 else pending[0]
    yield Window(
        samples=buf,
        first_frame=start // hop,
        keep_from=0 if first else stride // hop,
        keep_to=None,
        end_sample=start + held,
    )
