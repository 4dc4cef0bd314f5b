"""Overlapping windows tile the frames of any stream exactly once; beam search basics."""

from __future__ import annotations

import numpy as np
import pytest

from tui_speech.asr.beam import force_align, prefix_beam_search
from tui_speech.asr.chunking import iter_windows, window_sizes

HOP = 320


def frames_for(samples: int, kernels=(10, 4, 4, 4), strides=(5, 4, 4, 4)) -> int:
    n = samples
    for k, s in zip(kernels, strides, strict=True):
        n = (n - k) // s + 1
    return max(n, 0)


@pytest.mark.parametrize("total", [400, 9_599, 9_600, 9_601, 50_000, 123_457])
@pytest.mark.parametrize("block", [1_000, 7_777, 200_000])
def test_kept_frames_cover_the_stream_once_in_order(total: int, block: int) -> None:
    chunk, stride = window_sizes(0.6, 0.1, 16_000, HOP)  # 9600 samples, 1600 of context
    stream = np.arange(total, dtype=np.float32)
    blocks = [stream[i : i + block] for i in range(0, total, block)]
    kept: list[int] = []
    for w in iter_windows(blocks, chunk, stride, HOP):
        assert len(w.samples) <= chunk
        # The window really holds the samples it claims to start at.
        assert w.samples[0] == w.first_frame * HOP
        n = frames_for(len(w.samples))
        stop = n if w.keep_to is None else min(w.keep_to, n)
        kept += [w.first_frame + f for f in range(w.keep_from, stop)]
    assert kept == list(range(frames_for(total)))


def test_window_sizes_are_whole_frames_and_leave_room() -> None:
    assert window_sizes(30.0, 4.0, 16_000, 320) == (480_000, 64_000)
    with pytest.raises(ValueError):
        window_sizes(2.0, 1.0, 16_000, 320)


def test_beam_search_sums_paths_that_greedy_decoding_misses() -> None:
    # Greedy picks blank twice (p = 0.36); "a" has three paths worth 0.64 together.
    log_probs = np.log(np.array([[0.6, 0.4], [0.6, 0.4]]))
    assert prefix_beam_search(log_probs, blank=0, width=4) == (1,)
    assert prefix_beam_search(log_probs, blank=0, width=1) in ((), (1,))


def test_repeats_need_a_blank_and_alignment_assigns_every_frame() -> None:
    p = np.array([[0.1, 0.8, 0.1], [0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8]])
    tokens = prefix_beam_search(np.log(p), blank=0, width=4)
    assert tokens == (1, 1, 2)
    assert force_align(np.log(p), tokens, blank=0).tolist() == [1, 0, 1, 2]


def test_audio_of_exactly_one_chunk_is_one_pass() -> None:
    chunk, stride = window_sizes(30.0, 4.0, 16_000, HOP)
    windows = list(iter_windows([np.zeros(chunk, np.float32)], chunk, stride, HOP))
    assert len(windows) == 1 and windows[0].keep_from == 0 and windows[0].keep_to is None
    assert len(list(iter_windows([np.zeros(chunk + 1, np.float32)], chunk, stride, HOP))) == 2
