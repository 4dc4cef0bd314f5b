"""The fine-tuning screen's second source: F6 writes the sessions with corrections as the
dataset and puts its folder in the form; a session without audio is named, not used."""

from __future__ import annotations

import numpy as np
from textual.widgets import Input, Log, Static

from tests.tui.helpers import settle
from tui_speech.tui.finetune import FinetuneScreen


def corrected_session(sid: str, record: bool) -> None:
    from tui_speech.asr.corrections import correct
    from tui_speech.asr.ctc import CharResult
    from tui_speech.asr.sessions import SessionWriter
    from tui_speech.config import get_paths

    writer = SessionWriter(get_paths().sessions, "tiny-zh", "stdin", record=record, sid=sid)
    writer.add_audio((np.random.default_rng(0).standard_normal(48_000) * 0.1).astype(np.float32))
    chars = tuple(
        CharResult(ch, 1 + 0.2 * i, 1.1 + 0.2 * i, 0.5, 0.4) for i, ch in enumerate("你号")
    )
    writer.add_final("你号", 0.9, 1.6, chars)
    writer.close()
    correct(writer.path, 0, 1, 2, "好")


async def test_f6_uses_the_sessions_with_corrections_as_the_dataset(make_app):
    from tui_speech.asr.corrections import corrections_folder
    from tui_speech.asr.dataset import open_dataset

    corrected_session("20250101-090000", record=True)
    corrected_session("20250101-100000", record=False)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = FinetuneScreen()
        await app.push_screen(screen)
        await pilot.press("f6")
        await settle(pilot)
        folder = corrections_folder()
        assert screen.query_one("#ft-data", Input).value == str(folder)
        said = str(screen.query_one("#ft-step", Static).visual)
        assert "1 corrected utterances" in said and "20250101-100000" in said
        assert "no recorded audio" in "\n".join(screen.query_one("#ft-log", Log).lines)
        rows = open_dataset(folder).rows("train")
        assert [(r.path.name, r.text) for r in rows] == [("20250101-090000-0001.wav", "你好")]
        # Again after another correction: the folder is rebuilt, not refused as not empty.
        corrected_session("20250101-110000", record=True)
        await pilot.press("f6")
        await settle(pilot)
        assert len(open_dataset(folder).rows("train")) == 2
        # The form takes the folder as any other dataset.
        check = str(screen.query_one("#ft-data-check", Static).visual)
        assert "checked against the model's vocabulary" in check
