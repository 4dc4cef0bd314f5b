"""The Speak pane's drafts, sentence takes and lexicon, with the real G2P and Kokoro."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import soundfile as sf
from textual.widgets import Input, Select, Static, TextArea

from tests.conftest import ROOT
from tests.tui.helpers import record_playback, settle, type_text, wait_until
from tui_speech.tts.draft_render import export
from tui_speech.tts.drafts import DraftStore
from tui_speech.tui.speak import takes as speak_takes
from tui_speech.tui.speak.dialogs import NameScreen, PhonemeEditScreen, SavePathScreen
from tui_speech.tui.speak.preview import PhonemePreview
from tui_speech.tui.speak.sentences import SentencesList
from tui_speech.tui.speak.takes import TakesList
from tui_speech.tui.speak.waveform import TakeWaveform


async def test_drafts_are_listed_switched_and_keep_their_own_settings(make_app):
    app = make_app()
    async with app.run_test(size=(100, 34)) as pilot:
        await type_text(pilot, "First draft.")
        await pilot.press("ctrl+n")
        assert isinstance(app.screen, NameScreen)
        app.screen.query_one(Input).value = "chapter two"
        await pilot.press("enter")
        await settle(pilot)
        editor = app.query_one("#speak-editor", TextArea)
        assert editor.text == ""
        app.query_one("#speak-lang", Select).value = "zh"
        await settle(pilot)
        await type_text(pilot, "你好。")
        await pilot.pause(1.2)  # the autosave
        drafts = app.query_one("#speak-draft", Select)
        drafts.value = "draft"
        await settle(pilot)
        assert editor.text == "First draft."
        assert app.query_one("#speak-lang", Select).value == "en-us"
        drafts.value = "chapter two"
        await settle(pilot)
        assert editor.text == "你好。" and app.settings.lang == "zh"
    again = make_app()
    async with again.run_test(size=(100, 34)):  # reopens on the draft last used
        assert again.query_one("#speak-editor", TextArea).text == "你好。"
        assert DraftStore().names() == ["chapter two", "draft"]


def test_a_draft_survives_kill_9_of_the_app(isolated_home):
    """The real app in its own process, killed with SIGKILL right after typing: the text is
    in its draft when the app comes back."""
    script = textwrap.dedent("""
        import asyncio, time
        from tui_speech.tts.drafts import DraftStore
        from tui_speech.tui.app import SpeechApp

        async def main():
            app = SpeechApp(check_audio=False)
            async with app.run_test(size=(80, 24)) as pilot:
                editor = app.query_one("#speak-editor")
                editor.focus()
                editor.insert("Words typed just before the crash.")
                # The debounced autosave, as when a user stops typing (slow on a busy machine).
                store, deadline = DraftStore(), time.monotonic() + 60
                while time.monotonic() < deadline:
                    await pilot.pause(0.2)
                    if store.current and store.load(store.current).text.startswith("Words"):
                        break
                print("typed", flush=True)
                time.sleep(60)  # killed here, never closing the app

        asyncio.run(main())
    """)
    env = dict(os.environ, TUI_SPEECH_HOME=str(isolated_home))
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, cwd=ROOT, env=env
    )
    try:
        assert proc.stdout.readline() == b"typed\n"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    store = DraftStore()
    assert store.load(store.current).text == "Words typed just before the crash."


def _labels(app) -> list[str]:
    sentences = app.query_one(SentencesList)
    return [str(sentences.get_option_at_index(i).prompt) for i in range(sentences.option_count)]


@pytest.mark.slow
async def test_sentences_show_their_takes_and_one_is_rerendered_alone(make_app):
    app = make_app()
    async with app.run_test(size=(100, 34)) as pilot:
        await type_text(pilot, "Good morning. [pause:300ms] See you soon.")
        await pilot.pause(1.2)
        assert [label[0] for label in _labels(app)] == ["·", " ", "·"]
        await pilot.press("f6")
        await settle(pilot)
        assert [label[0] for label in _labels(app)] == ["✓", " ", "✓"]
        store = DraftStore()
        first = store.load("draft").takes
        assert len(first) == 2
        # Re-render the second sentence, then lock its take: the first keeps its audio.
        sentences = app.query_one(SentencesList)
        sentences.focus()
        sentences.highlighted = 2
        await pilot.press("r")
        await settle(pilot)
        takes = store.load("draft").takes
        assert len(takes) == 3 and takes[2].sentence == "See you soon."
        await pilot.press("l")
        await settle(pilot)
        assert _labels(app)[2].startswith("L") and store.load("draft").takes[2].locked
        await pilot.press("f6")
        await settle(pilot)
        assert len(store.load("draft").takes) == 3  # nothing synthesized again


@pytest.mark.slow
async def test_f6_on_a_long_draft_keeps_its_sentence_takes_not_one_array(
    make_app, monkeypatch, tmp_path
):

    played = record_playback(monkeypatch)
    # A take counts as long past a second here, so a few sentences stand for a chapter.
    monkeypatch.setattr(speak_takes, "IN_MEMORY_S", 1.0)
    app = make_app()
    async with app.run_test(size=(100, 34)) as pilot:
        await type_text(pilot, "Good morning. [pause:300ms] See you soon. Bye now.")
        await pilot.pause(1.2)
        await pilot.press("f6")
        await settle(pilot)
        take = app.query_one(TakesList).takes[0]
        store = DraftStore()
        (path,) = export(store.load("draft"), tmp_path / "whole.wav", store)
        whole, _ = sf.read(path, dtype="float32")
        # The pane keeps where the take's audio is and a 10 ms envelope, not the audio.
        assert take.audio is None and take.samples == len(whole)
        assert take.peaks.nbytes * 20 < whole.nbytes
        wave = app.query_one(TakeWaveform)
        assert wave.duration == pytest.approx(take.duration, abs=0.01)
        assert wave.words_line(100).plain.startswith("Good morning. See you soon. Bye now.")

        # Saved, it is the draft's audio (read back a sentence take at a time).
        app.query_one(TakesList).focus()
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, SavePathScreen)
        app.screen.query_one(Input).value = str(tmp_path / "take.wav")
        await pilot.press("enter")
        await settle(pilot)
        saved, _ = sf.read(tmp_path / "take.wav", dtype="float32")
        assert np.array_equal(saved, whole)

        # Played, its pieces go to the player one by one, and the words follow.
        await pilot.press("enter")
        await wait_until(pilot, lambda: sum(n for n, _ in played) == take.samples, timeout=10)
        assert len(played) == 4  # three sentences and the pause
        await wait_until(pilot, lambda: wave.sounding is not None, timeout=10)
        await pilot.press("f7")


async def test_a_word_saved_to_the_lexicon_is_shown_as_lexicon(make_app):
    from tui_speech.tts.lexicon import load

    app = make_app()
    async with app.run_test(size=(100, 34)) as pilot:
        await type_text(pilot, "Kokoro speaks.")
        await pilot.press("ctrl+g", "enter")
        assert isinstance(app.screen, PhonemeEditScreen)
        app.screen.query_one(Input).value = "kˈOkəɹO"
        await pilot.press("ctrl+g")  # to the lexicon, not into this text
        await settle(pilot)
        assert app.query_one("#speak-editor", TextArea).text == "Kokoro speaks."
        assert load()["en-us"]["Kokoro"].phonemes == "kˈOkəɹO"
        token = app.query_one(PhonemePreview).result.tokens[0]
        assert token.lexicon and token.phonemes == "kˈOkəɹO" and not token.override
        content = app.query_one(".preview-tokens", Static).visual
        at = content.plain.index("kˈOkəɹO")
        assert any("italic" in str(s.style) for s in content.spans if s.start <= at < s.end)
