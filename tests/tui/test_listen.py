"""The Listen pane on a file: transcribe with a tiny wav2vec2, review, replay, export."""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest
import soundfile as sf
from textual.widgets import Input, OptionList, Static, TabbedContent

from tests.tui.helpers import record_playback, settle
from tests.whisper_fixtures import whisper_store  # noqa: F401  (fixture)
from tui_speech.tui.listen.pane import ListenPane
from tui_speech.tui.listen.source_picker import SourcePicker
from tui_speech.tui.prompt import PromptScreen
from tui_speech.tui.transcript import TranscriptView, bucket, replay_span


@pytest.fixture(scope="module")
def tiny_asr(tmp_path_factory) -> str:
    from tests.asr_models import save_random_model

    return str(save_random_model(tmp_path_factory.mktemp("asr") / "tiny-zh"))


@pytest.fixture(scope="module")
def speech_file(tmp_path_factory, shared_models) -> str:
    """Kokoro Mandarin speech, made once for the module (the zh G2P takes seconds to load).

    Module fixtures run before the per-test isolated home exists, so point the home at the
    session's shared store explicitly: never at the user's folders.
    """
    from tests.asr_models import synthesize

    path = tmp_path_factory.mktemp("speech") / "nihao.wav"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TUI_SPEECH_HOME", str(shared_models))
        sf.write(path, synthesize("你好世界。今天天气很好。"), 16_000)
    return str(path)


def notifications(app) -> list[str]:
    return [n.message for n in app._notifications]


async def open_file(pilot, path: str) -> None:
    await pilot.press("ctrl+o")
    assert isinstance(pilot.app.screen, PromptScreen)
    pilot.app.screen.query_one(Input).value = path
    await pilot.press("enter")
    await settle(pilot)


@pytest.mark.slow
async def test_transcribe_review_replay_and_export(make_app, tiny_asr, speech_file, tmp_path,
                                                   monkeypatch):  # fmt: skip

    played = record_playback(monkeypatch)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f2")
        pane = app.query_one(ListenPane)
        pane.model = tiny_asr
        await open_file(pilot, speech_file)
        view = app.query_one(TranscriptView)
        chars = pane.transcript.chars
        assert "backend torch" in str(app.query_one("#listen-state", Static).visual)
        assert "tiny-zh (torch)" in app.sub_title
        assert chars and view.chars == chars
        content = app.query_one(".transcript-text", Static).visual
        # Shown as written: the heard characters in order, with inserted marks between them.
        plain = content.plain
        heard_at = [i for i, ch in enumerate(plain) if ch not in "，。？"]
        assert "".join(plain[i] for i in heard_at) == "".join(c.char for c in chars)
        assert plain.endswith("。")
        # Every heard character carries the colour of its confidence step.
        for i, c in zip(heard_at, chars, strict=True):
            styles = " ".join(str(s.style) for s in content.spans if s.start <= i < s.end)
            assert f"$confidence-{bucket(c.confidence)}" in styles

        # A random model is unsure of everything: with the threshold at 100%, n walks
        # through the characters and the detail line shows alternatives.
        view.threshold = 1.0
        view.cursor = 0
        await pilot.press("n")
        first = view.cursor
        assert first is not None and first > 0
        detail = str(app.query_one(".transcript-detail", Static).visual)
        assert f"“{chars[first].char}”" in detail and "alternatives:" in detail
        await pilot.press("p")
        assert view.cursor < first
        await pilot.press("minus")
        assert view.threshold == 0.95
        assert app.settings.threshold == 0.95  # remembered for the next run

        await pilot.press("space")
        await settle(pilot)
        start, end = replay_span(chars, view.cursor)
        assert played and played[-1][1] == 16_000
        assert played[-1][0] == pytest.approx((end - start) * 16_000, abs=2)

        await pilot.press("ctrl+s")
        app.screen.query_one(Input).value = str(tmp_path / "out.srt")
        await pilot.press("enter")
        await settle(pilot)
        srt = (tmp_path / "out.srt").read_text()
        assert "-->" in srt


async def test_on_a_fresh_store_the_pane_transcribes_with_the_embedded_recogniser(
    make_app,
    speech_file,
    whisper_store,  # noqa: F811
):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f2")
        await settle(pilot)
        state = str(app.query_one("#listen-state", Static).visual)
        assert "embedded/whisper-base" in state and "no alternatives" in state
        assert "pull one" not in state  # no dead end: it listens from the first start
        await open_file(pilot, speech_file)
        await settle(pilot)
        assert not [n.message for n in app._notifications if n.severity == "error"]
        transcript = app.query_one(ListenPane).transcript
        assert transcript.model == "embedded/whisper-base"
        assert len(set(transcript.text) & set("你好世界今天天气很好")) >= 4, transcript.text


async def test_a_file_that_is_not_audio_is_reported(make_app, tmp_path, tiny_asr):
    bad = tmp_path / "notes.wav"
    bad.write_text("not audio")
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f2")
        app.query_one(ListenPane).model = tiny_asr
        await open_file(pilot, str(bad))
        errors = [n.message for n in app._notifications if n.severity == "error"]
        assert errors and "notes.wav" in errors[-1]


def test_replay_starts_before_the_character_and_ends_with_its_utterance():
    from tui_speech.asr.ctc import CharResult

    chars = tuple(
        CharResult(ch, t0, t0 + 0.2, 0.5, 0.4)
        for ch, t0 in [("你", 1.0), ("好", 1.2), ("世", 3.0), ("界", 3.2)]
    )
    assert replay_span(chars, 1) == (pytest.approx(0.7), pytest.approx(1.6))
    assert replay_span(chars, 0)[0] == pytest.approx(0.5)
    assert np.isclose(replay_span(chars, 3)[1], 3.6)


@pytest.mark.slow
async def test_a_file_played_as_live_then_reopened_as_a_session(make_app, tiny_asr,
                                                                speech_file):  # fmt: skip
    from tests.tui.helpers import wait_until
    from tui_speech.config import get_paths
    from tui_speech.tui.listen.pane import ListenPane as Pane

    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f2")
        pane = app.query_one(Pane)
        pane.model = tiny_asr
        view = app.query_one(TranscriptView)
        events: list[str] = []
        add_final, show_partial = view.add_final, view.show_partial

        def record_final(chars):
            events.append("final")
            add_final(chars)

        def record_partial(chars, committed):
            events.append("partial")
            show_partial(chars, committed)

        view.add_final, view.show_partial = record_final, record_partial
        levels: list[str] = []
        status = app.query_one("#listen-status", Static)
        update = status.update

        def record_status(text=""):
            levels.append(str(text))
            update(text)

        status.update = record_status
        await pilot.press("f5")
        app.screen.query_one(Input).value = speech_file
        await pilot.press("enter")
        await wait_until(pilot, lambda: any(s.startswith("live") for s in levels), timeout=120)
        # Pause: the status says so and the meter stops while paused.
        await pilot.press("f6")
        assert any("paused" in s for s in levels)
        await pilot.pause(0.3)  # a level report already on its way may still land
        during = len(levels)
        await pilot.pause(0.5)
        assert len(levels) == during
        await pilot.press("f6")
        await wait_until(pilot, lambda: pane.transcript is not None, timeout=120)
        await settle(pilot)
        assert any(s.startswith("live 0:0") and "▮" in s for s in levels)
        assert "final" in events  # utterances arrived while the file played
        assert view.chars == pane.transcript.chars and view.cursor is not None
        sessions = sorted(get_paths().sessions.glob("*.jsonl"))
        assert len(sessions) == 1
        assert f"session {sessions[0].stem}" in levels[-1]
        heard = [c.char for c in pane.transcript.chars]

    again = make_app()
    async with again.run_test(size=(100, 30)) as pilot:
        await pilot.press("f2")
        await open_file(pilot, str(sessions[0]))
        reopened = [c.char for c in again.query_one(Pane).transcript.chars if c.char != " "]
        assert reopened == [c for c in heard if c != " "]


async def test_microphone_without_a_device_is_explained(make_app):
    """No such microphone (this machine has none; another may lack this name): the reason,
    and the other sources in the TUI's words (a key), not the CLI's flags."""
    from tui_speech.errors import Action
    from tui_speech.tui.errors import action_words

    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f2", "f8")
        assert isinstance(app.screen, SourcePicker)
        app.screen.query_one(Input).value = "usb mic"  # a name the list does not show
        await pilot.press("enter")  # tried as typed
        await settle(pilot)
        errors = [n.message for n in app._notifications if n.severity == "error"]
        assert len(errors) == 1 and "device" in errors[0], errors
        other_sources = action_words(Action("pick-source"))  # the TUI's key for the fix
        assert errors[0].endswith(f"({other_sources})") and "--" not in errors[0]
        assert "stopped" in str(app.query_one("#listen-status", Static).visual)


@pytest.mark.slow
async def test_a_saved_session_reopens_with_its_confidences(make_app, tiny_asr, speech_file,
                                                            tmp_path):  # fmt: skip
    import shutil

    audio = tmp_path / "clip.wav"
    shutil.copy(speech_file, audio)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f2")
        app.query_one(ListenPane).model = tiny_asr
        await open_file(pilot, str(audio))
        original = app.query_one(ListenPane).transcript
        await pilot.press("ctrl+s")
        app.screen.query_one(Input).value = str(tmp_path / "session.json")
        await pilot.press("enter")
        await settle(pilot)

    audio.unlink()  # the session outlives its audio
    again = make_app()
    async with again.run_test(size=(100, 30)) as pilot:
        await pilot.press("f2")
        await open_file(pilot, str(tmp_path / "session.json"))
        reopened = again.query_one(ListenPane).transcript
        assert [c.char for c in reopened.chars] == [c.char for c in original.chars]
        assert [c.alternatives[0][0] for c in reopened.chars] == [
            c.alternatives[0][0] for c in original.chars
        ]
        for a, b in zip(reopened.chars, original.chars, strict=True):
            assert a.confidence == pytest.approx(b.confidence, abs=1e-4)
        await pilot.press("space")
        await settle(pilot)
        assert any("clip.wav) is gone" in m for m in notifications(again))


def test_a_json_that_is_not_a_transcript_is_refused():
    from tui_speech.errors import UsageError
    from tui_speech.tui.listen.sessions_browser import transcript_from_json

    with pytest.raises(UsageError, match="not a transcript saved by tui-speech"):
        transcript_from_json('{"text": "hi"}', "x.json")
    with pytest.raises(UsageError):
        transcript_from_json("not json", "x.json")


# --- audio piped into the app's stdin --------------------------------------------------------

HOP = 320  # the tiny trained model reads its phrases back exactly only in phase with its frame


def phrases_audio(clips: dict, n: int) -> np.ndarray:
    """A second of silence, then ``n`` phrases a second apart, each on the model's frame grid."""
    parts = [np.zeros(16_000, np.float32)]
    for clip in list(clips.values())[:n]:
        parts += [clip, np.zeros(16_000 + (-len(clip)) % HOP, np.float32)]
    return np.concatenate(parts)


def s16(audio: np.ndarray) -> bytes:
    return (np.clip(audio, -1, 1) * 32767).round().astype("<i2").tobytes()


def feed_pipe(fd: int, data: bytes, block: int = 3200) -> threading.Thread:
    """Write ``data`` into the pipe in 0.1 s pieces from a thread (as arecord would), then
    close it."""

    def run() -> None:
        with os.fdopen(fd, "wb") as pipe:
            for i in range(0, len(data), block):
                pipe.write(data[i : i + block])
                pipe.flush()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


@pytest.mark.slow
async def test_audio_piped_into_the_app_is_transcribed_live(trained_model, phrase_clips):
    from tests.asr_models import PHRASES
    from tests.tui.helpers import wait_until
    from tui_speech.audio.pipe import PipedAudio
    from tui_speech.config import get_paths
    from tui_speech.tui.app import SpeechApp

    read_fd, write_fd = os.pipe()
    app = SpeechApp(check_audio=False, piped=PipedAudio(read_fd))
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            # Audio piped in: the app opens on Listen and says how to listen to it.
            assert app.query_one(TabbedContent).active == "listen"
            pane = app.query_one(ListenPane)
            pane.model = str(trained_model)
            await pilot.press("f8")
            assert isinstance(app.screen, SourcePicker)
            options = app.screen.query_one(OptionList)
            assert options.options[0].id == "stdin" and options.highlighted == 0  # offered first
            view = app.query_one(TranscriptView)
            finals: list[str] = []
            add_final = view.add_final

            def record_final(chars):
                finals.append("".join(c.char for c in chars))
                add_final(chars)

            view.add_final = record_final
            await pilot.press("enter")
            feeder = feed_pipe(write_fd, s16(phrases_audio(phrase_clips, 2)))
            await wait_until(pilot, lambda: pane.transcript is not None, timeout=120)
            await settle(pilot)
            feeder.join(timeout=5)
            # The sentences arrived one by one while the pipe was read, then the whole of it.
            assert finals == list(PHRASES[:2])
            text = app.query_one(".transcript-text", Static).visual.plain
            assert text == "".join(f"{p}。" for p in PHRASES[:2])
            (session,) = get_paths().sessions.glob("*.jsonl")
            assert '"source": "stdin"' in session.read_text(encoding="utf-8")

            # At 80 columns the status line still shows the session's id.
            status = app.query_one("#listen-status", Static)
            row = [strip.text for strip in app.screen._compositor.render_strips()][status.region.y]
            assert f"session {session.stem} · 11 chars" in row, row

            # The pipe has ended: the picker says so, and listening to it again explains
            # instead of waiting forever.
            await pilot.press("f8")
            await settle(pilot)
            assert "stdin · the audio piped in has ended" in str(
                app.screen.query_one(OptionList).options[0].prompt
            )
            await pilot.press(*"stdin", "enter")
            await settle(pilot)
            assert "piped in has ended" in notifications(app)[-1]
    finally:
        os.close(read_fd)


async def test_stdin_without_audio_piped_in_is_explained(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f2", "f8")
        await settle(pilot)
        assert "stdin" not in [o.id for o in app.screen.query_one(OptionList).options]
        await pilot.press(*"stdin", "enter")  # typed anyway: how to pipe audio in
        await settle(pilot)
        assert "no audio is piped in" in notifications(app)[-1]


def register_model(folder) -> str:
    """Put a model folder in the store as ``local/<name>`` (the Listen pane picks it up)."""
    import shutil

    from tui_speech.fileio import sha256_file
    from tui_speech.hub import store

    model_id = f"local/{folder.name}"
    dest = store.path_of(model_id)
    shutil.copytree(folder, dest)
    files = tuple(
        store.FileRecord(p.name, p.stat().st_size, sha256_file(p))
        for p in sorted(dest.iterdir())
        if p.is_file()
    )
    store.write_manifest(dest, store.Manifest(model_id, "asr", "main", "local", files, "bundle"))
    return model_id


def screen_text(raw: bytes) -> str:
    """What a terminal showed, roughly: the output with escape sequences removed."""
    import re

    text = raw.decode("utf-8", "replace")
    return re.sub(
        r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[()][0-9A-Za-z]|[=>78])", "", text
    )


@pytest.mark.slow
def test_the_real_app_reads_audio_from_a_pipe_and_keys_from_the_terminal(
    cli_env, trained_model, phrase_clips
):
    """``arecord ... | tui-speech`` for real: the app runs in a pseudo-terminal (its controlling
    terminal, where the keys come from) with a pipe as stdin (where the audio comes from)."""
    import fcntl
    import pty
    import struct
    import subprocess
    import sys
    import termios
    import time

    from tests.asr_models import PHRASES
    from tests.conftest import ROOT
    from tui_speech.config import get_paths

    register_model(trained_model)
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    audio_r, audio_w = os.pipe()

    def take_terminal() -> None:  # in the child: the pty becomes its controlling terminal
        fcntl.ioctl(1, termios.TIOCSCTTY, 0)

    env = {**cli_env, "TERM": "xterm-256color", "COLUMNS": "80", "LINES": "24"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui_speech"], stdin=audio_r, stdout=slave, stderr=slave,
        env=env, cwd=ROOT, start_new_session=True, preexec_fn=take_terminal,
    )  # fmt: skip
    os.close(audio_r)
    os.close(slave)
    shown = bytearray()

    def drain() -> None:  # the terminal's side: keep reading, or the app blocks writing
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                return
            if not data:
                return
            shown.extend(data)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()

    def wait_for(text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while text not in screen_text(bytes(shown)):
            assert proc.poll() is None, screen_text(bytes(shown))[-2000:]
            assert time.monotonic() < deadline, f"no {text!r} on screen"
            time.sleep(0.1)

    try:
        wait_for("audio is piped in")  # the app opened on Listen, with the model found
        os.write(master, b"\x1b[19~")  # F8: the source picker, stdin first
        wait_for("Listen to which source?")
        os.write(master, b"\r")
        feeder = feed_pipe(audio_w, s16(phrases_audio(phrase_clips, 2)))
        wait_for("11 chars, ", timeout=120)  # the pipe ended: the session is done
        feeder.join(timeout=5)
        sessions = list(get_paths().sessions.glob("*.jsonl"))
        assert len(sessions) == 1
        heard = sessions[0].read_text(encoding="utf-8")
        assert all(f'"text": "{p}"' in heard for p in PHRASES[:2])
        assert PHRASES[0] in screen_text(bytes(shown))
        os.write(master, b"\x11")  # ctrl+q
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)


def test_without_a_terminal_the_pipe_goes_to_the_audio_and_no_key_is_read_from_it():
    """No controlling terminal (a service, CI): descriptor 0 becomes /dev/null, so nothing
    piped in is ever taken for a key, and the audio descriptor still holds every byte."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    probe = (
        "import os\n"
        "from tui_speech.audio.pipe import detach_piped_stdin\n"
        "piped = detach_piped_stdin()\n"
        "print(os.read(0, 100) == b'', len(piped.stream.read()), piped.describe())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], input=b"\x01\x02" * 5000, capture_output=True,
        cwd=ROOT, start_new_session=True, timeout=60, check=True,
    )  # fmt: skip
    assert out.stdout.decode().split(maxsplit=2) == [
        "True", "10000", "raw s16le 16000 Hz 1 ch, or a WAV stream\n"
    ]  # fmt: skip


def test_raw_format_flags_of_the_tui(cli):
    r = cli("--rate", "0", stdin=b"\x00\x00")
    assert (
        r.returncode == 2
        and b"0 Hz is not an audio sample rate; try 16000 or 48000 (--rate)" in r.stderr
    )
    r = cli("--channels", "2", "sessions", "list")
    assert r.returncode == 2
    assert b"describe audio piped into the TUI; put them after `sessions`" in r.stderr
