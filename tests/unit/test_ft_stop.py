"""Stopping a fine-tuning run from another thread (the TUI's cancel) works like Ctrl-C."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tests.unit.test_ft_finetune import base, config, make_dataset, offline  # noqa: F401
from tui_speech.asr.finetune import Interrupted, TrainProgress, finetune


def test_stop_from_another_thread_checkpoints_registers_nothing_and_resumes(
    tmp_path: Path,
    base: Path,  # noqa: F811
):
    from tui_speech.asr import checkpoints
    from tui_speech.asr.finetune import work_dir
    from tui_speech.hub import store

    data = make_dataset(tmp_path / "data")
    stop = threading.Event()
    seen: list[TrainProgress] = []
    outcome: list[BaseException] = []

    def report(p: TrainProgress) -> None:
        seen.append(p)
        if p.event == "step" and p.step == 2:
            stop.set()  # what the TUI's cancel key does, from the UI thread

    def run() -> None:
        try:
            finetune(config(data, base, "stopped"), report, stop)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            outcome.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(timeout=120)
    assert outcome and isinstance(outcome[0], Interrupted), outcome
    error = outcome[0]
    assert (error.step, error.total_steps) == (2, seen[0].total_steps)
    assert [p.step for p in seen if p.event == "step"] == [1, 2]  # stopped after the step
    state, _ = checkpoints.load(checkpoints.find(work_dir("stopped")))
    assert state.step == 2
    assert store.read_manifest("local/stopped") is None

    events: list[TrainProgress] = []
    result = finetune(config(data, base, "stopped"), events.append, threading.Event())
    assert events[0].event == "resumed" and events[0].step == 2
    assert result.model_id == "local/stopped"


def test_stop_set_before_the_first_step_stops_at_step_zero(tmp_path: Path, base: Path):  # noqa: F811
    data = make_dataset(tmp_path / "data")
    stop = threading.Event()
    stop.set()
    steps: list[int] = []
    with pytest.raises(Interrupted, match="stopped at step 0 of"):
        finetune(config(data, base, "early"), lambda p: steps.append(p.step), stop)
    assert steps == [0]  # only the start event: no step was taken
