"""F8's source picker on the Listen pane: stdin when piped, input devices, a file as live."""

from __future__ import annotations

import os

import pytest
from textual.widgets import Input, OptionList, Static

from tests.pulse_fixtures import ALSA_DEVICE
from tests.tui.helpers import settle, wait_until
from tui_speech.tui.listen.pane import ListenPane
from tui_speech.tui.listen.source_picker import SourcePicker
from tui_speech.tui.prompt import PromptScreen


def screen_lines(app) -> list[str]:
    """The terminal's rows as the user sees them (every layer composited)."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


def option_ids(app) -> list[str]:
    return [o.id for o in app.screen.query_one(OptionList).options]


async def open_picker(pilot) -> SourcePicker:
    await pilot.press("f2", "f8")
    await settle(pilot)  # the device query has answered
    assert isinstance(pilot.app.screen, SourcePicker)
    return pilot.app.screen


@pytest.fixture
def no_portaudio(monkeypatch):
    """This machine without libportaudio: importing sounddevice fails, as load_sounddevice
    reports it."""
    from tui_speech.audio import playback
    from tui_speech.errors import AudioDeviceError

    def missing():
        raise AudioDeviceError("PortAudio is not installed (apt-get install libportaudio2)")

    monkeypatch.setattr(playback, "load_sounddevice", missing)


async def test_without_portaudio_a_line_says_so_and_a_file_can_be_played(make_app, no_portaudio,
                                                                         tmp_path):  # fmt: skip
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        picker = await open_picker(pilot)
        note = picker.query_one("#source-note", Static)
        assert str(note.visual) == (
            "No microphone: PortAudio is missing (apt-get install libportaudio2)"
        )
        assert note.region.height == 1  # one line, at 80 columns too
        shown = "\n".join(screen_lines(app))
        assert "No microphone: PortAudio is missing" in shown and "Traceback" not in shown
        assert option_ids(app) == ["file"]  # nothing piped in: only the file
        assert "a file played as live…" in shown
        await pilot.press("enter")
        await settle(pilot)
        # The file prompt of F5, and what it is given plays as live.
        assert isinstance(app.screen, PromptScreen)
        assert app.screen.title_text == "Play which audio file as live?"
        app.screen.query_one(Input).value = str(tmp_path / "missing.wav")
        await pilot.press("enter")
        await settle(pilot)
        errors = [n.message for n in app._notifications if n.severity == "error"]
        assert errors and "missing.wav" in errors[-1]


async def test_escape_cancels_and_nothing_starts(make_app, no_portaudio):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_picker(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, SourcePicker | PromptScreen)
        status = str(app.query_one("#listen-status", Static).visual)
        assert "loading" not in status and not app._notifications


async def test_the_filter_narrows_the_list(make_app, no_portaudio):
    from tui_speech.audio.pipe import PipedAudio

    read_fd, write_fd = os.pipe()
    app = make_app()
    app.piped = PipedAudio(read_fd)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await open_picker(pilot)
            assert option_ids(app) == ["stdin", "file"]
            await pilot.press(*"fil")
            assert option_ids(app) == ["file"]
            await pilot.press("backspace", "backspace", "backspace", "down")
            assert app.screen.query_one(OptionList).highlighted == 1
            await pilot.press("up")
            assert app.screen.query_one(OptionList).highlighted == 0
    finally:
        os.close(read_fd)
        os.close(write_fd)


async def test_piped_stdin_comes_first_and_enter_listens_to_it(make_app, trained_model,
                                                               phrase_clips):  # fmt: skip
    """Audio piped in is listed first and highlighted; enter listens to it until the pipe ends,
    and at 80 columns the status line still shows the session's id."""
    from tests.asr_models import PHRASES
    from tests.tui.test_listen import feed_pipe, phrases_audio, s16
    from tui_speech.audio.pipe import PipedAudio
    from tui_speech.config import get_paths

    read_fd, write_fd = os.pipe()
    app = make_app()
    app.piped = PipedAudio(read_fd)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            app.query_one(ListenPane).model = str(trained_model)
            await open_picker(pilot)
            options = app.screen.query_one(OptionList)
            assert options.options[0].id == "stdin" and options.highlighted == 0
            assert "raw s16le 16000 Hz 1 ch" in str(options.options[0].prompt)
            assert option_ids(app)[-1] == "file"
            await pilot.press("enter")
            feeder = feed_pipe(write_fd, s16(phrases_audio(phrase_clips, 1)))
            pane = app.query_one(ListenPane)
            await wait_until(pilot, lambda: pane.transcript is not None, timeout=120)
            await settle(pilot)
            feeder.join(timeout=5)
            assert pane.transcript.source == "stdin"
            assert pane.transcript.text == PHRASES[0]
            (session,) = get_paths().sessions.glob("*.jsonl")
            status = app.query_one("#listen-status", Static)
            row = screen_lines(app)[status.region.y]
            assert f"session {session.stem} · {len(PHRASES[0])} chars" in row, row
    finally:
        os.close(read_fd)


@pytest.fixture
def pulse_portaudio(pulse_env, monkeypatch):
    """PortAudio in this process sees the private PulseAudio daemon's virtual microphone
    (restarted after the environment changes, and again afterwards: later tests see none)."""
    import sounddevice as sd

    for key in ("HOME", "XDG_RUNTIME_DIR", "PULSE_RUNTIME_PATH", "PULSE_SERVER"):
        monkeypatch.setenv(key, pulse_env[key])
    sd._terminate()
    sd._initialize()
    yield sd
    monkeypatch.undo()
    sd._terminate()
    sd._initialize()


@pytest.mark.slow
async def test_a_virtual_microphone_is_listed_and_listened_to(make_app, pulse_portaudio,
                                                             pulse_env, trained_model,
                                                             phrase_clips, tmp_path):  # fmt: skip
    import asyncio
    import subprocess

    import soundfile as sf

    from tests.tui.test_listen import phrases_audio
    from tui_speech.config import get_paths

    played = tmp_path / "played.wav"
    sf.write(played, phrases_audio(phrase_clips, 1), 16_000, subtype="PCM_16")

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(ListenPane)
        pane.model = str(trained_model)
        picker = await open_picker(pilot)
        labels = [str(o.prompt) for o in picker.query_one(OptionList).options]
        assert not picker.query_one("#source-note", Static).display  # nothing to explain
        (mic,) = [label for label in labels if ALSA_DEVICE in label]
        index = int(mic.split()[0].lstrip("#"))
        assert " ch · " in mic and " Hz" in mic
        assert sum("(default)" in label for label in labels) == 1
        assert labels[-1] == "a file played as live…"
        # Type part of its name: the list narrows to it, and enter listens to it.
        await pilot.press(*"tts_m")
        assert option_ids(app) == [f"device-{index}"]
        await pilot.press("enter")
        await wait_until(
            pilot,
            lambda: str(app.query_one("#listen-status", Static).visual).startswith("live"),
            timeout=120,
        )
        # PulseAudio connects a new capture stream a moment after PortAudio opens it.
        await pilot.pause(1.0)
        play = ["paplay", "-d", "tts", str(played)]
        await asyncio.to_thread(subprocess.run, play, env=pulse_env, check=True, timeout=60)
        await pilot.pause(1.5)
        await pilot.press("f7")
        await wait_until(pilot, lambda: pane.transcript is not None, timeout=60)
        await settle(pilot)
        assert pane.transcript.source == f"microphone: {ALSA_DEVICE}"
        assert pane.transcript.chars  # what was played on the virtual device was heard
        assert len(list(get_paths().sessions.glob("*.jsonl"))) == 1
