"""The Models pane against the fake local Hub (tests/hubserver.py): pull, verify, remove."""

from __future__ import annotations

from textual.widgets import DataTable, Input, ProgressBar, Static

from tests.hub_fixtures import ASR_ID
from tests.tui.helpers import settle, wait_until
from tui_speech.hub.embedded import EMBEDDED_ID
from tui_speech.tui.prompt import ConfirmScreen, PromptScreen


def rows(app) -> dict[str, tuple[str, ...]]:
    table = app.query_one("#models-table", DataTable)
    return {
        str(table.get_row_at(i)[0]): tuple(map(str, table.get_row_at(i)))
        for i in range(table.row_count)
    }


def notifications(app) -> list[str]:
    return [n.message for n in app._notifications]


async def test_catalog_and_store_in_one_table(make_app):
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("f4")
        await settle(pilot)
        table = rows(app)
        assert table[EMBEDDED_ID][1] == "embedded"
        assert table[EMBEDDED_ID][3] == "yes"
        assert table[EMBEDDED_ID][4] == "Speak"  # the fixture's model has its verified marker
        asr = table["jonatasgrosman/wav2vec2-large-xlsr-53-chinese-zh-cn"]
        assert asr[5] == "asr" and asr[1] == "not pulled" and asr[2] == "~1.3 GB"
        assert asr[4] == "–"


async def test_pull_verify_export_remove_and_import_a_tiny_model(make_app, hub, tmp_path):  # noqa: F811
    app = make_app()
    seen: list[str] = []
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("f4")
        await settle(pilot)
        status = app.query_one("#models-status", Static)
        original = status.update

        def record(text=""):
            seen.append(str(text))
            original(text)

        status.update = record
        await pilot.press("f5")
        assert isinstance(app.screen, PromptScreen)
        app.screen.query_one(Input).value = ASR_ID
        await pilot.press("enter")
        await wait_until(pilot, lambda: any(ASR_ID in m for m in notifications(app)))
        await settle(pilot)
        assert any("downloading" in s for s in seen)
        assert any(f"pulled {ASR_ID}" in m for m in notifications(app))
        bar = app.query_one("#models-progress", ProgressBar)
        assert bar.total and bar.progress == bar.total
        table = rows(app)
        assert table[ASR_ID][1] == "in store" and table[ASR_ID][3] == "yes"
        assert table[ASR_ID][4] == "Listen"

        # The Listen pane now names the model instead of pointing at F4.
        await pilot.press("f2")
        await settle(pilot)
        assert ASR_ID in str(app.query_one("#listen-state", Static).visual)
        assert "wav2vec2-zh" in app.sub_title  # the header names the ASR model

        await pilot.press("f4")
        await settle(pilot)
        data = app.query_one("#models-table", DataTable)
        data.move_cursor(row=list(rows(app)).index(ASR_ID))
        await pilot.press("f6")
        await settle(pilot)
        assert any(f"{ASR_ID}: " in m and "verified" in m for m in notifications(app))

        # ONNX export with the parity check against PyTorch, reported in the notification.
        await pilot.press("ctrl+e")
        assert isinstance(app.screen, PromptScreen)
        app.screen.query_one(Input).value = "int8"
        await pilot.press("enter")
        await wait_until(pilot, lambda: any("exported" in m for m in notifications(app)))
        exported = next(m for m in notifications(app) if "exported" in m)
        assert "model.int8.onnx" in exported and "argmax" in exported
        await settle(pilot)
        assert "onnx-int8" in rows(app)[ASR_ID][6]

        from tui_speech.hub.bundle import create

        bundle = tmp_path / "tiny.tar"
        create(ASR_ID, bundle)  # an offline copy, made with the CLI's function

        await pilot.press("f8")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        assert any(f"removed {ASR_ID}" in m for m in notifications(app))
        assert ASR_ID not in rows(app)

        # ... and back from the bundle, with no Hub involved.
        await pilot.press("ctrl+o")
        app.screen.query_one(Input).value = str(bundle)
        await pilot.press("enter")
        await wait_until(pilot, lambda: any(f"imported {ASR_ID}" in m for m in notifications(app)))
        await settle(pilot)
        assert rows(app)[ASR_ID][1] == "in store"


async def test_hub_errors_are_notifications(make_app, hub):  # noqa: F811
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("f4")
        await settle(pilot)
        await pilot.press("f5")
        app.screen.query_one(Input).value = "nobody/no-such-model"
        await pilot.press("enter")
        await wait_until(pilot, lambda: any(n.severity == "error" for n in app._notifications))
        await settle(pilot)
        errors = [n for n in app._notifications if n.severity == "error"]
        assert errors and "no-such-model" in errors[-1].message
        assert "failed" in str(app.query_one("#models-status", Static).visual)


async def test_removing_the_embedded_model_is_refused(make_app):
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("f4")
        await settle(pilot)
        data = app.query_one("#models-table", DataTable)
        data.move_cursor(row=list(rows(app)).index(EMBEDDED_ID))
        await pilot.press("f8", "y")
        await settle(pilot)
        assert any("cannot be removed" in m for m in notifications(app))
        assert EMBEDDED_ID in rows(app)


async def test_a_failed_pull_says_so_and_its_bar_stops(make_app, hub):  # noqa: F811
    hub.stop()  # its address now refuses connections: the pull fails at once
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("f4")
        await settle(pilot)
        await pilot.press("f5")
        app.screen.query_one(Input).value = ASR_ID
        await pilot.press("enter")
        await wait_until(pilot, lambda: any("cannot reach" in m for m in notifications(app)))
        await settle(pilot)
        assert "failed" in str(app.query_one("#models-status", Static).visual)
        bar = app.query_one("#models-progress", ProgressBar)
        assert bar.total is not None and bar.progress == 0  # empty, not sweeping on
