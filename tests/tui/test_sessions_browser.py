"""The Listen pane's list of past sessions: see them, reopen one for review, delete one."""

from __future__ import annotations

from textual.widgets import DataTable, Static

from tests.tui.helpers import settle
from tui_speech.tui.listen.pane import ListenPane
from tui_speech.tui.listen.sessions_browser import SessionsScreen, local_time, preview, session_row
from tui_speech.tui.prompt import ConfirmScreen
from tui_speech.tui.transcript import TranscriptView


def make_session(sid: str, sentences: list[tuple[str, float]]):
    """A session written by the core's own writer, as ``listen`` would: (text, confidence)."""
    from tui_speech.asr.ctc import CharResult
    from tui_speech.asr.sessions import SessionWriter, find_session
    from tui_speech.config import get_paths

    folder = get_paths().sessions
    writer = SessionWriter(folder, "tiny-zh", "stdin", sid=sid)
    t = 1.0
    for text, confidence in sentences:
        chars = []
        for ch in text:
            chars.append(CharResult(ch, t, t + 0.2, confidence, confidence, (("错", 0.1),)))
            t += 0.2
        writer.add_final(text, chars[0].t0, chars[-1].t1, tuple(chars))
        t += 1.0
    writer.close()
    return find_session(folder, sid)


def rows(table: DataTable) -> list[list[str]]:
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


async def test_sessions_list_opens_and_deletes(make_app):
    older = make_session("20250101-090000", [("你好世界", 0.95), ("今天天气很好", 0.4)])
    newer = make_session("20250102-100000", [("谢谢你的帮助", 0.9)])
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f2", "f9")
        await settle(pilot)
        assert isinstance(app.screen, SessionsScreen)
        table = app.screen.query_one(DataTable)
        # Newest first: id, start, length, utterances, the first words.
        assert rows(table) == [
            ["20250102-100000", local_time(newer.started), "0:02", "1", "谢谢你的帮助"],
            ["20250101-090000", local_time(older.started), "0:04", "2", "你好世界今天天气很好"],
        ]

        # Enter on the second row reopens it in the Listen transcript, where review keys work.
        await pilot.press("down", "enter")
        await settle(pilot)
        assert not isinstance(app.screen, SessionsScreen)
        view = app.query_one(TranscriptView)
        assert app.query_one(".transcript-text", Static).visual.plain == "你好世界。今天天气很好。"
        assert "session 20250101-090000" in str(app.query_one("#listen-status", Static).visual)
        assert view.has_focus
        view.cursor = 0
        await pilot.press("n")  # the doubtful second sentence (40%)
        assert view.cursor == 5
        detail = str(app.query_one(".transcript-detail", Static).visual)
        assert "“今” 40%" in detail and "错 10%" in detail

        # d asks first; n keeps the session.
        await pilot.press("f9")
        await settle(pilot)
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmScreen)
        assert "20250102-100000" in str(app.screen.query_one(Static).visual)
        await pilot.press("n")
        assert newer.path.exists()
        # y deletes it, from disk and from the list.
        await pilot.press("d", "y")
        await settle(pilot)
        assert not newer.path.exists() and older.path.exists()
        table = app.screen.query_one(DataTable)
        assert [r[0] for r in rows(table)] == ["20250101-090000"]
        await pilot.press("escape")
        assert not isinstance(app.screen, SessionsScreen)
        assert isinstance(app.query_one(ListenPane), ListenPane)


async def test_sessions_list_from_the_command_palette_and_empty(make_app):
    from tui_speech.config import get_paths

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+p")
        await pilot.press(*"sessions")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, SessionsScreen)
        assert app.screen.query_one(DataTable).row_count == 0
        title = str(app.screen.query_one("#sessions-title", Static).visual)
        assert title.startswith("No sessions yet") and str(get_paths().sessions) in title
        await pilot.press("enter", "d")  # nothing to open or delete: nothing happens
        assert isinstance(app.screen, SessionsScreen)
        await pilot.press("escape")
        assert app.query_one("TabbedContent").active == "listen"


def test_a_row_shows_the_first_words_and_local_time():
    # Han characters take two cells: the first words fit the column, … says there is more.
    assert preview("一二三四五六七八九十" * 3, 12) == "一二三四五…"
    assert preview("一二三四五六", 12) == "一二三四五六"
    assert preview("  a \n b ") == "a b"
    assert local_time("not a time") == "not a time"
    assert local_time("2025-01-02T03:04:05Z").startswith("2025-01-0")

    class Info:
        id, started, duration, finals, text = "x", "", 61.4, (), ""

    assert session_row(Info) == ("x", "", "1:01", "0", "(nothing heard)")
