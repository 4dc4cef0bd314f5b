"""The Speak pane with the real G2P and the embedded Kokoro: what a user types, sees and saves."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from textual.widgets import Input, Select, Static, TextArea

from tests.tui.helpers import settle, type_text, wait_for_workers, wait_until
from tui_speech.config import get_paths
from tui_speech.tui.speak.blend import BlendScreen
from tui_speech.tui.speak.dialogs import PhonemeEditScreen, SavePathScreen
from tui_speech.tui.speak.preview import PhonemePreview
from tui_speech.tui.speak.takes import TakesList


def preview_text(app) -> str:
    return str(app.query_one(".preview-tokens", Static).visual)


def notifications(app) -> list[str]:
    return [n.message for n in app._notifications]


async def test_typed_text_shows_its_phonemes(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await type_text(pilot, "Hello world.")
        text = preview_text(app)
        assert "Hello /" in text and "world /" in text
        preview = app.query_one(PhonemePreview)
        assert preview.result is not None
        hello = preview.result.tokens[0]
        assert hello.grapheme == "Hello" and f"/{hello.phonemes}/" in text
        assert "2 words" in str(app.query_one(".preview-status", Static).visual)


async def test_phoneme_outside_kokoro_vocab_is_highlighted(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        # ASCII "g" is not in Kokoro's vocab (it has "ɡ", U+0261): the model would drop it.
        await type_text(pilot, "A [good](/gʊd/) day.")
        content = app.query_one(".preview-tokens", Static).visual
        plain = content.plain
        g_at = plain.index("/gʊd/") + 1
        styles = [str(span.style) for span in content.spans if span.start <= g_at < span.end]
        assert any("$phoneme-oov" in s for s in styles)
        ʊ_at = g_at + 1
        styles = [str(span.style) for span in content.spans if span.start <= ʊ_at < span.end]
        assert not any("$phoneme-oov" in s for s in styles)
        assert any("$phoneme-override" in s for s in styles)
        assert "not in vocab: g" in str(app.query_one(".preview-status", Static).visual)


async def test_unknown_word_is_marked(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        # Kana in English text: only the Japanese G2P reads it, so the word is skipped, and
        # the warnings line says which language would read it.
        await type_text(pilot, "Hi ひらがな")
        content = app.query_one(".preview-tokens", Static).visual
        at = content.plain.index("ひらがな")
        assert any("$phoneme-unknown" in str(s.style) for s in content.spans if s.start == at)
        assert "ひらがな /?/" in content.plain
        assert "unknown: ひらがな" in str(app.query_one(".preview-status", Static).visual)
        warnings = str(app.query_one(".preview-warnings", Static).visual)
        assert "Japanese (ja) reads them" in warnings


async def test_editing_a_tokens_phonemes_writes_an_override(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await type_text(pilot, "Hello world.")
        await pilot.press("ctrl+g", "right", "enter")
        assert isinstance(app.screen, PhonemeEditScreen)
        assert app.screen.word == "world"
        app.screen.query_one(Input).value = "wˈɜːld"
        await pilot.press("enter")
        await settle(pilot)
        editor = app.query_one("#speak-editor", TextArea)
        assert editor.text == "Hello [world](/wˈɜːld/)."
        tokens = app.query_one(PhonemePreview).result.tokens
        world = next(t for t in tokens if t.grapheme == "world")
        assert world.override and world.phonemes == "wˈɜːld"
        # The cursor stays on the word; editing again replaces the override (never nests one),
        # and empty phonemes remove it.
        await pilot.press("ctrl+g", "enter")
        assert app.screen.word == "world"
        assert app.screen.query_one(Input).value == "wˈɜːld"
        app.screen.query_one(Input).value = ""
        await pilot.press("enter")
        await settle(pilot)
        assert editor.text == "Hello world."


@pytest.mark.slow
async def test_synthesize_then_save_a_wav(make_app, tmp_path):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await type_text(pilot, "Hi there.")
        await pilot.press("f6")
        await settle(pilot)
        takes = app.query_one(TakesList)
        assert len(takes.takes) == 1
        take = takes.takes[0]
        assert take.sample_rate == 24_000 and take.duration > 0.3
        assert app.sub_title.startswith("Kokoro-82M int8 ·")  # the engine Speak really runs
        assert "take #1" in str(app.query_one("#speak-message", Static).visual)
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, SavePathScreen)
        target = tmp_path / "hi.wav"
        app.screen.query_one(Input).value = str(target)
        await pilot.press("enter")
        await settle(pilot)
        audio, rate = sf.read(target, dtype="float32")
        assert rate == 24_000
        assert len(audio) == len(take.audio)
        assert np.abs(audio).max() > 0.01
        assert any(str(target) in m for m in notifications(app))


@pytest.mark.slow
async def test_play_streams_chunks_to_the_player(make_app, monkeypatch):
    from tui_speech.audio import playback

    played: list[int] = []
    takes_when_played: list[int] = []
    app = make_app()

    class FakePlayer:
        def play_chunk(self, audio, sample_rate):
            played.append(len(audio))
            takes_when_played.append(len(app.query_one(TakesList).takes))

        def stop(self):
            pass

        def close(self):
            pass

    monkeypatch.setattr(playback, "Player", FakePlayer)
    async with app.run_test(size=(80, 24)) as pilot:
        await type_text(pilot, "One. Two.")
        await pilot.press("f5")
        await settle(pilot)
        take = app.query_one(TakesList).takes[0]
        assert len(played) >= 2  # one call per chunk, as each is made
        assert sum(played) == len(take.audio)
        # Playback began while synthesis was still going: the take did not exist yet.
        assert takes_when_played == [0] * len(played)


async def test_errors_are_notifications_and_the_text_stays(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f6")  # empty text
        await settle(pilot)
        assert any("nothing to say" in m for m in notifications(app))
        await type_text(pilot, "Hello.")
        app.query_one("#speak-speed", Input).value = "5"
        await pilot.press("f6")
        await settle(pilot)
        assert any("speed 5.0 is out of range" in m for m in notifications(app))
        app.query_one("#speak-speed", Input).value = "fast"
        await pilot.press("f6")
        await settle(pilot)
        assert any("'fast' is not a number" in m for m in notifications(app))
        assert app.query_one("#speak-editor", TextArea).text == "Hello."
        assert not app.query_one(TakesList).takes


async def test_the_pane_keeps_the_speeds_the_engine_takes(make_app):
    from tui_speech.tts.engine import MAX_SPEED, MIN_SPEED

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        speed = app.query_one("#speak-speed", Input)
        for edge in (MIN_SPEED, MAX_SPEED):
            speed.value = f"{edge:g}"
            await pilot.pause()
            assert app.settings.speed == edge  # the engine's edges are the pane's
        speed.value = f"{MAX_SPEED + 0.1:g}"
        await pilot.pause()
        assert app.settings.speed == MAX_SPEED  # beyond them nothing is remembered


async def test_no_audio_device_keeps_the_take_and_says_how_to_save(make_app, monkeypatch):
    from tui_speech.audio import playback
    from tui_speech.errors import AudioDeviceError

    def no_player(*args, **kwargs):
        raise AudioDeviceError("PortAudio is not installed (apt-get install libportaudio2); x")

    monkeypatch.setattr(playback, "Player", no_player)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await type_text(pilot, "Hi.")
        await pilot.press("f5")
        await settle(pilot)
        assert any("PortAudio is not installed" in m and "ctrl+s" in m for m in notifications(app))
        assert len(app.query_one(TakesList).takes) == 1


async def test_draft_survives_closing_the_app(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*"draft text")
    again = make_app()
    async with again.run_test(size=(80, 24)):
        assert again.query_one("#speak-editor", TextArea).text == "draft text"


async def test_blend_saved_as_a_named_voice(make_app):
    app = make_app()
    async with app.run_test(size=(100, 34)) as pilot:
        await pilot.press("ctrl+b")
        screen = app.screen
        assert isinstance(screen, BlendScreen)
        first, second = screen.voices[:2]
        weights = list(screen.query(".blend-weight").results(Input))
        weights[0].value, weights[1].value = "3", "1"
        screen.query_one("#blend-name", Input).value = "mix"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, BlendScreen)
        assert (get_paths().voices / "mix.npy").is_file()
        voice = app.query_one("#speak-voice", Select)
        assert voice.value == "mix"
        assert app.settings.voice == "mix"
        meta = (get_paths().voices / "mix.json").read_text()
        assert f"{first}:0.75" in meta and f"{second}:0.25" in meta


async def test_invalid_blend_is_reported_not_applied(make_app):
    app = make_app()
    async with app.run_test(size=(100, 34)) as pilot:
        await pilot.press("ctrl+b")
        await pilot.press("enter")  # no weights at all
        await pilot.pause()
        assert isinstance(app.screen, BlendScreen)
        assert any("at least one voice" in m for m in notifications(app))


async def test_settings_from_a_hand_edited_file_do_not_break_the_pane(make_app):
    from tui_speech.tui.state import settings_path

    settings_path().parent.mkdir(parents=True)
    settings_path().write_text('{"lang": "klingon", "speed": 9, "theme": "nope"}')
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.theme == "tui-speech-dark"
        assert app.query_one("#speak-lang", Select).value == "en-us"
        await type_text(pilot, "Hello.")
        assert "Hello /" in preview_text(app)
        assert not [n for n in app._notifications if n.severity == "error"]


async def test_preview_says_it_is_loading_the_g2p_until_the_first_result(make_app, monkeypatch):
    import threading

    from tui_speech.tts import g2p

    release = threading.Event()
    real = g2p.phonemize

    def slow_first_load(text, lang="en-us"):
        release.wait(10)  # stands in for spaCy and misaki loading (seconds, the first time)
        return real(text, lang)

    monkeypatch.setattr(g2p, "phonemize", slow_first_load)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        app.query_one("#speak-editor", TextArea).insert("Hello.")
        status = app.query_one(".preview-status", Static)
        # Said once the typing pauses (debounced), while the G2P is still loading.
        await wait_until(pilot, lambda: "loading G2P for en-us" in str(status.visual), 5)
        release.set()
        await wait_for_workers(pilot)
        await pilot.pause()
        assert str(status.visual) == "1 word"
        assert "Hello /" in preview_text(app)


async def test_voice_list_is_read_when_the_selector_is_first_used(make_app):
    from tui_speech.tui.speak.voice_select import VoiceSelect

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        voices = app.query_one(VoiceSelect)
        assert not voices.loaded
        voices.focus()
        await settle(pilot)
        assert voices.loaded
        names = [str(prompt) for prompt, _ in voices._options]
        assert "jf_alpha (embedded)" in names and names[0] == "default voice"


async def test_a_blend_can_be_used_without_saving_it(make_app):
    app = make_app()
    async with app.run_test(size=(100, 34)) as pilot:
        await pilot.press("ctrl+b")
        screen = app.screen
        first, second = screen.voices[:2]
        weights = list(screen.query(".blend-weight").results(Input))
        weights[0].value, weights[1].value = "1", "1"
        await pilot.press("enter")
        await settle(pilot)
        spec = f"{first}:1,{second}:1"
        assert app.query_one("#speak-voice", Select).value == spec
        assert app.settings.voice == spec
        await pilot.press("ctrl+b")  # the editor opens on the blend in use
        values = [w.value for w in app.screen.query(".blend-weight").results(Input)]
        assert values[:2] == ["0.5", "0.5"]
