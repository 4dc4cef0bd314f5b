"""The fine-tuning screen: started from the Models pane on the committed tiny ASR model.

The dataset is a few noise clips labelled with the tiny model's phrases: enough for real
optimizer steps, a dev evaluation and a registered model in seconds (learning is not the point
here; tests/cli/test_finetune_cli.py shows the error rate falling).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, Log, ProgressBar, Static

from tests.asr_fixtures import noise_dataset
from tests.asr_models import PHRASES, TRAINED_DIR
from tests.tui.helpers import settle, wait_until
from tui_speech.tui.finetune import FinetuneScreen

CATALOG_ASR = "jonatasgrosman/wav2vec2-large-xlsr-53-chinese-zh-cn"


@pytest.fixture
def base(tmp_path: Path) -> Path:
    folder = tmp_path / "tiny-base"
    shutil.copytree(TRAINED_DIR, folder)
    return folder


def make_dataset(root: Path, texts=PHRASES[:3], dev: bool = True) -> Path:
    return noise_dataset(root, texts, dev)


def rows(app) -> dict[str, tuple[str, ...]]:
    table = app.main_screen.query_one("#models-table", DataTable)
    return {
        str(table.get_row_at(i)[0]): tuple(map(str, table.get_row_at(i)))
        for i in range(table.row_count)
    }


def notifications(app, severity: str | None = None) -> list[str]:
    return [n.message for n in app._notifications if severity in (None, n.severity)]


def fill(screen: FinetuneScreen, **values: str) -> None:
    for field, value in values.items():
        screen.query_one(f"#ft-{field}", Input).value = value


def log_text(screen: FinetuneScreen) -> str:
    return "\n".join(screen.query_one("#ft-log", Log).lines)


async def open_from_models_pane(pilot, model_id: str) -> FinetuneScreen:
    app = pilot.app
    await pilot.press("f4")
    await settle(pilot)
    table = app.query_one("#models-table", DataTable)
    table.move_cursor(row=list(rows(app)).index(model_id))
    await pilot.press("f")
    await pilot.pause()
    assert isinstance(app.screen, FinetuneScreen)
    return app.screen


async def test_finetune_from_the_models_pane_shows_progress_and_registers_the_model(
    make_app, base: Path, tmp_path: Path
):
    data = make_dataset(tmp_path / "data")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_from_models_pane(pilot, CATALOG_ASR)
        # The selected ASR row is the base; the numbers are the CLI's defaults.
        assert screen.query_one("#ft-base", Input).value == CATALOG_ASR
        assert screen.query_one("#ft-epochs", Input).value == "3"
        assert screen.query_one("#ft-lr", Input).value == "1e-4"
        said: list[str] = []
        step_line = screen.query_one("#ft-step", Static)
        original = step_line.update

        def record(text=""):
            said.append(str(text))
            original(text)

        step_line.update = record
        # Three clips of ~1 s make one step per epoch at the default 60 s batch: two steps.
        fill(screen, data=str(data), base=str(base), name="tui-demo", epochs="2", lr="1e-3")
        await pilot.pause()
        assert "checked against" in str(screen.query_one("#ft-data-check", Static).visual)
        await pilot.press("f5")
        await wait_until(pilot, lambda: any("tui-demo" in m for m in notifications(app)))
        await settle(pilot)

        assert "step 1 of 2 · epoch 1" in said and "step 2 of 2 · epoch 2" in said
        bar = screen.query_one("#ft-bar", ProgressBar)
        assert (bar.total, bar.progress) == (2, 2)
        numbers = str(screen.query_one("#ft-numbers-line", Static).visual)
        assert "loss " in numbers and "loss –" not in numbers
        assert "dev CER " in numbers and "dev CER –" not in numbers
        assert "elapsed 0:" in numbers and "ETA 0:00" in numbers
        log = log_text(screen)
        assert "training from step 0 of 2 (3 clips)" in log
        assert "epoch 1: dev CER" in log and "epoch 2: dev CER" in log
        assert "step 2/2 epoch 2  loss" in log
        assert any(
            "local/tui-demo is registered (2 steps, dev CER" in m for m in notifications(app)
        )
        assert not notifications(app, "error")

        # Escape closes the screen; the Models table lists the new model, cursor on it.
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is app.main_screen
        table = rows(app)
        assert table["local/tui-demo"][1] == "in store" and table["local/tui-demo"][5] == "asr"
        assert app.query_one("#models-pane").selected_id == "local/tui-demo"


async def test_cancel_writes_a_checkpoint_registers_nothing_and_start_resumes(
    make_app, base: Path, tmp_path: Path
):
    from tui_speech.asr import checkpoints
    from tui_speech.asr.finetune import work_dir
    from tui_speech.hub import store

    data = make_dataset(tmp_path / "data", dev=False)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_from_models_pane(pilot, CATALOG_ASR)
        # One clip per step (1.5 s batches), 1000 epochs: far longer than the test waits.
        fill(screen, data=str(data), base=str(base), name="stopped", epochs="1000", batch="1.5")
        await pilot.press("f5")
        bar = screen.query_one("#ft-bar", ProgressBar)
        await wait_until(pilot, lambda: (bar.progress or 0) >= 1)
        assert screen.running
        await pilot.press("c")
        await wait_until(pilot, lambda: not screen.running)
        stopped = [m for m in notifications(app, "warning") if "stopped at step" in m]
        assert stopped and "checkpoint was saved" in stopped[-1]
        state, _ = checkpoints.load(checkpoints.find(work_dir("stopped")))
        assert 1 <= state.step < bar.total
        assert f"stopped at step {state.step} of {int(bar.total)}" in stopped[-1]
        assert store.read_manifest("local/stopped") is None  # nothing half-registered

        # The same settings again resume from the checkpoint (then cancel once more).
        await pilot.press("f5")
        await wait_until(pilot, lambda: "resuming at step" in log_text(screen))
        assert f"resuming at step {state.step} of" in log_text(screen)
        await pilot.press("escape")  # while running, escape cancels too
        await wait_until(pilot, lambda: not screen.running, timeout=120)
        assert store.read_manifest("local/stopped") is None


async def test_other_settings_meet_the_old_checkpoint_and_start_over_clears_it(
    make_app, base: Path, tmp_path: Path
):
    from textual.widgets import Checkbox

    data = make_dataset(tmp_path / "data", dev=False)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_from_models_pane(pilot, CATALOG_ASR)
        # One step, then the run stops at max steps with a checkpoint.
        fill(screen, data=str(data), base=str(base), name="redo", batch="1.5", **{"max-steps": "1"})
        await pilot.press("f5")
        await wait_until(pilot, lambda: "(max steps)" in log_text(screen), timeout=120)
        # Another learning rate cannot resume that checkpoint: the TUI says what to do here.
        fill(screen, lr="5e-4", **{"max-steps": "2"})
        await pilot.press("f5")
        await wait_until(pilot, lambda: bool(notifications(app, "error")), timeout=120)
        (message,) = notifications(app, "error")
        assert "other settings" in message and "tick Restart" in message
        assert "--restart" not in message and not screen.running
        restart = screen.query_one("#ft-restart", Checkbox)
        restart.focus()
        await pilot.press("space")  # ticked from the keyboard
        assert restart.value
        await pilot.press("f5")
        await wait_until(pilot, lambda: log_text(screen).count("(max steps)") == 2, timeout=120)
        assert "resuming at step" not in log_text(screen)  # it started over at step 0
        assert "stopped at step 2 (max steps)" in log_text(screen)


async def test_bad_input_becomes_notifications_and_the_form_stays(make_app, base, tmp_path):
    unknown = make_dataset(tmp_path / "latin", texts=("abc", "xyz"), dev=False)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        # From the command palette this time.
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Models: Fine-tune")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, FinetuneScreen))
        screen = app.screen
        assert isinstance(screen, FinetuneScreen)

        missing = tmp_path / "no-such-folder"
        fill(screen, data=str(missing), base=str(base), name="bad")
        await pilot.pause()
        check = screen.query_one("#ft-data-check", Static)
        assert "no such directory" in str(check.visual) and check.has_class("-invalid")
        await pilot.press("f5")
        await pilot.pause()
        errors = notifications(app, "error")
        assert errors and "Dataset folder" in errors[-1] and "no such directory" in errors[-1]
        assert not screen.running and app.focused is screen.query_one("#ft-data", Input)

        # A dataset whose text the model cannot write: the core's check, as a notification.
        fill(screen, data=str(unknown))
        await pilot.press("f5")
        await wait_until(pilot, lambda: len(notifications(app, "error")) == 2, timeout=120)
        await settle(pilot)
        assert "is in the vocabulary" in notifications(app, "error")[-1]
        assert not screen.running
        assert not screen.query_one("#ft-data", Input).disabled  # the form is back
        assert "Traceback" not in log_text(screen)


def test_a_queued_step_gives_way_to_a_newer_one_unless_it_is_due_in_the_log():
    from tui_speech.asr.finetune import TrainProgress

    def message(event: str, step: int) -> FinetuneScreen.Progress:
        return FinetuneScreen.Progress(TrainProgress(event, step, 100, 0, 1.0))

    assert message("step", 3).can_replace(message("step", 4))
    assert not message("step", 10).can_replace(message("step", 11))  # step 10 is logged
    assert not message("step", 3).can_replace(message("eval", 3))
    assert not message("eval", 3).can_replace(message("step", 4))


async def test_the_form_and_the_cli_start_the_same_run_by_default(make_app, base, tmp_path):
    from tui_speech.cli import build_parser
    from tui_speech.commands.finetune import config_from_args

    data = make_dataset(tmp_path / "data")
    args = build_parser().parse_args(
        ["finetune", "--data", str(data), "--base", str(base), "--out", "same"]
    )
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = FinetuneScreen(str(base))
        await app.push_screen(screen)
        await pilot.pause()
        fill(screen, data=str(data), name="same")
        assert screen.query_one("#ft-lr", Input).value == "1e-4"
        assert screen._config() == config_from_args(args)
