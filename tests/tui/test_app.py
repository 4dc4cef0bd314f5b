"""The app shell: start-up without heavy imports, pane keys, help, palette, themes persisted."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from textual.widgets import DataTable, TabbedContent, TextArea

from tests.tui.helpers import settle
from tui_speech.config import get_paths
from tui_speech.tui.app import SpeechApp
from tui_speech.tui.help import HelpScreen
from tui_speech.tui.keymap import key_actions


def test_app_starts_without_heavy_imports(cli_env):
    script = textwrap.dedent(
        """
        import asyncio, json, sys
        from tui_speech.tui.app import SpeechApp

        async def main():
            app = SpeechApp(check_audio=False)
            async with app.run_test(size=(80, 24)) as pilot:
                await pilot.pause()
                heavy = ("torch", "transformers", "onnxruntime", "spacy", "misaki")
                print(json.dumps({
                    "heavy": [m for m in heavy if m in sys.modules],
                    "screen": type(app.screen).__name__,
                    "focused": app.focused.id if app.focused else None,
                }))

        asyncio.run(main())
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], env=cli_env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["heavy"] == []
    assert report["focused"] == "speak-editor"


async def test_function_keys_switch_panes_and_speak_focuses_editor(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        tabs = app.query_one(TabbedContent)
        await pilot.press("f2")
        assert tabs.active == "listen"
        # Nothing pulled: Listen runs on the embedded recogniser and says so.
        assert "embedded/whisper-base" in str(app.query_one("#listen-state").render())
        await pilot.press("f4")
        assert tabs.active == "models"
        assert app.focused is app.query_one("#models-table")
        await pilot.press("f3")
        assert tabs.active == "speak"
        assert isinstance(app.focused, TextArea)
        await pilot.press("h", "i")
        assert app.query_one("#speak-editor", TextArea).text == "hi"


async def test_footer_at_80_columns_shows_help_pane_keys_palette_and_quit(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        for pane_key in ("f2", "f3", "f4"):
            await pilot.press(pane_key)
            await settle(pilot)
            # The bottom line of the screen as the user sees it (the palette key is docked over
            # whatever does not fit).
            footer = app.screen._compositor.render_strips()[-1].text
            for shown in ("f1 Help", "f2 Listen", "f3 Speak", "f4 Models", "^q Quit"):
                assert shown in footer, (pane_key, shown, footer)
            assert footer.rstrip().endswith("^p palette"), footer


async def test_help_lists_every_binding(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        table = app.screen.query_one(DataTable)
        rows = {tuple(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)}
        for expected in [
            ("App", "f1", "Help"),
            ("App", "ctrl+q", "Quit"),
            ("Speak", "f5", "Play"),
            ("Speak", "f6", "Synth"),
            ("Speak", "ctrl+s", "Save"),
            ("Speak › Phonemes", "enter", "Edit phonemes"),
            ("Models", "f6", "Verify"),
            ("Models", "f8", "Remove"),
        ]:
            scope, key, description = expected
            assert any(r[0] == scope and key in r[1] and r[2] == description for r in rows), (
                expected
            )
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_every_action_has_a_key_and_is_in_the_palette(make_app):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        actions = key_actions(app)
        assert all(a.key for a in actions)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Models: Verify")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert app.query_one(TabbedContent).active == "models"
        # The first row (the Mandarin ASR model) is not pulled: verifying it says so.
        messages = [n.message for n in app._notifications]
        assert any("xlsr-53-chinese-zh-cn is not in the model store" in m for m in messages)


async def test_theme_choice_is_remembered(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.theme == "tui-speech-dark"
        await pilot.press("f10")
        await pilot.pause()
        assert app.theme == "tui-speech-light"
    saved = json.loads((get_paths().config / "tui.json").read_text())
    assert saved["theme"] == "tui-speech-light"
    again = make_app()
    async with again.run_test(size=(80, 24)):
        assert again.theme == "tui-speech-light"


async def test_user_theme_is_loaded_and_a_broken_one_is_reported(make_app):
    folder = get_paths().themes
    folder.mkdir(parents=True)
    (folder / "mine.toml").write_text(
        'name = "mine"\nprimary = "#ff8800"\nbackground = "#101010"\n'
    )
    (folder / "broken.toml").write_text('name = "broken"\nprimary = "not a colour"\n')
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "mine" in app.available_themes
        assert "confidence-0" in app.available_themes["mine"].variables
        assert "broken" not in app.available_themes
        messages = [n.message for n in app._notifications]
        assert any("broken.toml" in m and "not a colour" in m for m in messages)


async def test_missing_audio_device_is_explained(monkeypatch):
    from tui_speech.audio import playback
    from tui_speech.errors import AudioDeviceError

    def no_device():
        raise AudioDeviceError("no audio output device found; save to a file instead")

    monkeypatch.setattr(playback, "default_output_device", no_device)
    app = SpeechApp(check_audio=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "audio none" in app.sub_title
        message = str(app.query_one("#speak-message").render())
        assert "no audio output device found" in message
        assert "ctrl+s" in message
        listen = str(app.query_one("#listen-status").render())
        assert "no audio output device found" in listen and "files still transcribe" in listen


async def test_pane_keys_close_help_and_wait_for_other_dialogs(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f1", "f4")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)
        assert app.query_one(TabbedContent).active == "models"
        await pilot.press("f3", "ctrl+b")  # the blend editor is a dialog with unsaved input
        await pilot.press("f2")
        assert app.screen is not app.main_screen
        assert app.main_screen.query_one(TabbedContent).active == "speak"
