"""Correcting a reopened session in the Listen pane: enter on a character or a selected run,
an alternative or free text, escape cancels, ctrl+z undoes; the session file follows."""

from __future__ import annotations

import json

from textual.widgets import DataTable, Input, OptionList, Static

from tests.tui.helpers import settle, wait_until
from tui_speech.tui.listen.correct import CorrectScreen
from tui_speech.tui.listen.sessions_browser import SessionsScreen
from tui_speech.tui.transcript import TranscriptView


def make_session(sid: str, text: str, doubtful: int):
    """A session written by the core's writer: one utterance, one doubtful character whose
    CTC alternatives are 气 (30%) and 器 (10%)."""
    from tui_speech.asr.ctc import CharResult
    from tui_speech.asr.sessions import SessionWriter
    from tui_speech.config import get_paths

    writer = SessionWriter(get_paths().sessions, "tiny-zh", "stdin", sid=sid)
    chars = tuple(
        CharResult(ch, 1 + 0.2 * i, 1.1 + 0.2 * i, 0.4, 0.3, (("气", 0.3), ("器", 0.1)))
        if i == doubtful
        else CharResult(ch, 1 + 0.2 * i, 1.1 + 0.2 * i, 0.95, 0.9)
        for i, ch in enumerate(text)
    )
    writer.add_final(text, 0.9, 2.5, chars)
    writer.close()
    return writer.path


def stored(path) -> dict:
    return json.loads(path.read_text(encoding="utf-8").splitlines()[1])


def shown(app) -> str:
    """The transcript as shown, without the utterance's end mark (listen.toml's punct)."""
    return app.query_one(".transcript-text", Static).visual.plain.removesuffix("。")


async def test_edit_cancel_undo_and_the_session_file(make_app):
    path = make_session("20250101-090000", "今天天汽很好", doubtful=3)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f2", "f9")
        await wait_until(pilot, lambda: isinstance(app.screen, SessionsScreen) and bool(
            app.screen.query_one(DataTable).row_count
        ))  # fmt: skip
        await pilot.press("enter")  # reopen the session
        view = app.query_one(TranscriptView)
        await wait_until(pilot, lambda: shown(app) == "今天天汽很好")
        assert view.cursor == 3  # on the doubtful 汽

        # Enter opens the editor with the model's alternatives first; enter picks the first.
        await pilot.press("enter")
        assert isinstance(app.screen, CorrectScreen)
        options = app.screen.query_one(OptionList)
        assert options.has_focus
        labels = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert labels == ["气   30%", "器   10%"]
        await pilot.press("enter")
        assert not isinstance(app.screen, CorrectScreen)
        await wait_until(pilot, lambda: shown(app) == "今天天气很好")
        record = stored(path)
        assert record["text"] == "今天天汽很好"  # what was heard stays
        assert record["corrections"] == [{"start": 3, "end": 4, "text": "气"}]

        # ctrl+s exports it as `sessions export` does: heard as the model heard it, the
        # correction a written span over the character it replaced.
        out = path.parent / "corrected.json"
        pane = app.query_one("ListenPane")
        pane._export(out)
        await wait_until(pilot, out.exists)
        data = json.loads(out.read_text(encoding="utf-8"))
        assert data["text"] == "今天天汽很好" and data["written"] == "今天天气很好。"
        (fix,) = [s for s in data["spans"] if s.get("corrected")]
        assert (fix["text"], fix["heard"], fix["chars"]) == ("气", "汽", [3])

        # The sessions list marks the corrected utterance and shows the text as corrected.
        await pilot.press("f9")
        await settle(pilot)
        row = [str(c) for c in app.screen.query_one(DataTable).get_row_at(0)]
        assert row[3:] == ["1 ✎1", "今天天气很好"]
        await pilot.press("escape")

        # Escape cancels: the file is left as it was.
        before = path.read_bytes()
        await pilot.press("enter")
        assert isinstance(app.screen, CorrectScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, CorrectScreen) and path.read_bytes() == before

        # A selected run (气很) written as free text replaces the earlier correction.
        assert view.cursor == 3
        await pilot.press("shift+right", "enter")
        assert isinstance(app.screen, CorrectScreen)
        await pilot.press("tab")
        field = app.screen.query_one(Input)
        assert field.has_focus and field.value == "气很"
        field.value = "气真"
        await pilot.press("enter")
        await wait_until(pilot, lambda: shown(app) == "今天天气真好")
        assert stored(path)["corrections"] == [{"start": 3, "end": 5, "text": "气真"}]

        # ctrl+z undoes one correction at a time, back to what the model heard.
        await pilot.press("ctrl+z")
        await wait_until(pilot, lambda: shown(app) == "今天天气很好")
        assert stored(path)["corrections"] == [{"start": 3, "end": 4, "text": "气"}]
        await pilot.press("ctrl+z")
        await wait_until(pilot, lambda: shown(app) == "今天天汽很好")
        assert "corrections" not in stored(path)
        await pilot.press("ctrl+z")
        assert "no correction to undo" in [n.message for n in app._notifications]
