"""The Listen pane shows a transcript as written (listen.toml's punct, itn, script): marks
nobody heard are muted, heard text keeps its confidence colours, the cursor its characters."""

from __future__ import annotations

from textual.widgets import Input, Static

from tests.asr_fixtures import write_wav
from tests.asr_models import PHRASES
from tests.tui.helpers import settle
from tests.written_tables import MARKS, paused_speech
from tui_speech.asr.script import to_script
from tui_speech.config import listen_settings_path
from tui_speech.tui.listen.pane import ListenPane
from tui_speech.tui.transcript import TranscriptView, bucket


async def test_a_file_is_shown_written_with_muted_marks(
    make_app, trained_model, phrase_clips, tmp_path
) -> None:
    audio, _ = paused_speech([phrase_clips[p] for p in PHRASES[:4]])
    wav = write_wav(tmp_path / "pauses.wav", audio)
    listen_settings_path().parent.mkdir(parents=True, exist_ok=True)
    listen_settings_path().write_text('script = "tw"\nbackend = "onnx"\n', encoding="utf-8")
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f2")
        app.query_one(ListenPane).model = str(trained_model)
        await pilot.press("ctrl+o")
        app.screen.query_one(Input).value = str(wav)
        await pilot.press("enter")
        await settle(pilot)
        view = app.query_one(TranscriptView)
        heard = "".join(c.char for c in view.chars)
        content = app.query_one(".transcript-text", Static).visual
        assert [c for c in content.plain if c in "，。？"] == MARKS
        assert content.plain.replace("，", "").replace("。", "") == to_script(heard, "tw")
        at = 0
        for span in view.written.spans:
            styles = " ".join(str(s.style) for s in content.spans if s.start <= at < s.end)
            if span.inserted:
                assert "$text-muted" in styles and "$confidence" not in styles
            else:
                assert f"$confidence-{bucket(span.confidence)}" in styles
            at += len(span.text)
        # The cursor still walks the heard characters, with their own times.
        view.cursor = 0
        await pilot.press("right")
        detail = str(app.query_one(".transcript-detail", Static).visual)
        assert f"“{view.chars[1].char}”" in detail
