"""The Listen pane's hotwords editor (ctrl+k): edit, save atomically, refuse a bad weight,
cancel; the saved list is what the next live session reads."""

from __future__ import annotations

from textual.widgets import Static, TextArea

from tui_speech.asr.hotwords import DEFAULT_WEIGHT
from tui_speech.asr.live import session_hotwords
from tui_speech.config import hotwords_path, load_listen_settings
from tui_speech.tui.listen.hotwords import HotwordsScreen


async def test_edit_save_refuse_and_cancel_the_hotwords_list(make_app) -> None:
    path = hotwords_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("通义\n", encoding="utf-8")
    before = path.stat().st_ino
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f2", "ctrl+k")
        screen = app.screen
        assert isinstance(screen, HotwordsScreen)
        area = screen.query_one(TextArea)
        assert area.text == "通义\n"  # the saved list, to edit
        area.move_cursor(area.document.end)
        area.insert("学校")
        await pilot.press("tab", "2", "enter")
        area.insert("深度学习")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not isinstance(app.screen, HotwordsScreen)
        assert path.read_text(encoding="utf-8") == "通义\n学校\t2\n深度学习\n"
        # Written through a temp file renamed into place (a new inode), none left behind.
        assert path.stat().st_ino != before
        assert [p.name for p in path.parent.iterdir() if p.name.startswith(".")] == []
        assert "3 hotword(s) saved" in str(app.query_one("#listen-status", Static).visual)

        # A bad weight is shown and nothing is written; escape then leaves the file as it was.
        await pilot.press("ctrl+k")
        area = app.screen.query_one(TextArea)
        area.move_cursor(area.document.end)
        area.insert("音乐\tloud\n")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, HotwordsScreen)
        assert "line 4" in str(app.screen.query_one("#hotwords-error", Static).visual)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HotwordsScreen)
    assert path.read_text(encoding="utf-8") == "通义\n学校\t2\n深度学习\n"
    terms = session_hotwords(load_listen_settings())  # what the next live session is given
    assert [(t.term, t.weight) for t in terms][:2] == [("通义", DEFAULT_WEIGHT), ("学校", 2.0)]
