"""The Speak pane's word timings: a take's waveform and words, the sounding word while it plays,
and a proof-listen whose marked word goes to the lexicon in one key."""

from __future__ import annotations

import shutil

from textual.widgets import Input, Select, Static

from tests.asr_models import TRAINED_DIR
from tests.tui.helpers import record_playback, settle, type_text, wait_until
from tui_speech.config import get_paths
from tui_speech.tui.prompt import PromptScreen
from tui_speech.tui.speak.takes import TakesList
from tui_speech.tui.speak.waveform import TakeWaveform


def _spans_over(content, text: str) -> set[str]:
    at = content.plain.index(text)
    return {str(s.style) for s in content.spans if s.start <= at < s.end}


async def test_a_take_shows_its_words_and_the_sounding_one_while_it_plays(make_app, monkeypatch):

    played = record_playback(monkeypatch)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await type_text(pilot, "Hello there. One, two.")
        await pilot.press("f6")
        await settle(pilot)
        take = app.query_one(TakesList).takes[0]
        assert [w.text for w in take.words] == ["Hello", "there", "One", "two"]
        wave = app.query_one(TakeWaveform)
        assert wave.audio is take.audio
        assert wave.words_line(80).plain.startswith("Hello there. One, two.")

        # A word is highlighted exactly while its time in the take passes.
        one = take.words[2]
        wave.set_position((one.start + one.end) / 2)
        assert wave.sounding == 2
        assert "reverse $accent" in _spans_over(wave.words_line(80), "One")
        assert not _spans_over(wave.words_line(80), "Hello") & {"reverse $accent"}

        # Playing the take starts the highlight; it follows the clock, not a fixed word.
        app.query_one(TakesList).focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: wave.position is not None, timeout=10)
        assert [n for n, _ in played] == [len(take.audio)]
        seen = set()
        await wait_until(
            pilot, lambda: seen.add(wave.sounding) or len(seen - {None}) >= 2, timeout=10
        )
        await pilot.press("f7")
        await pilot.pause(0.2)
        assert wave.position is None


async def test_proof_listen_marks_words_and_one_key_adds_a_lexicon_entry(make_app):
    from tui_speech.tts import lexicon

    # An ASR model in the store: the tiny trained one (it mishears most takes: good here).
    shutil.copytree(TRAINED_DIR, get_paths().models / "test" / "asr-tiny-zh")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        app.query_one("#speak-lang", Select).value = "zh"
        await settle(pilot)
        await type_text(pilot, "你好世界。")
        await pilot.press("f6")
        await settle(pilot)
        await pilot.press("ctrl+l")
        await settle(pilot)
        wave = app.query_one(TakeWaveform)
        message = str(app.query_one("#speak-message", Static).visual)
        assert wave.marked and "marked" in message, message
        first = wave.words[min(wave.marked)].text
        await pilot.press("shift+f6")
        assert isinstance(app.screen, PromptScreen) and first in app.screen.title_text
        reading = " ".join(["shi4"] * len(first))
        app.screen.query_one(Input).value = reading
        await pilot.press("enter")
        await settle(pilot)
        assert lexicon.load()["zh"][first].written == reading
