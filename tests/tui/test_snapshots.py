"""Snapshots of the panes (pytest-textual-snapshot). Update with: pytest --snapshot-update.

Deterministic by construction: no clock in the header, the audio device is not probed, and
every worker (G2P) has finished before the picture is taken.
"""

from __future__ import annotations

import pytest

from tests.tui.helpers import settle, type_text
from tests.whisper_fixtures import whisper_store  # noqa: F401  (fixture)
from tui_speech.tui.app import SpeechApp

#: An override with a symbol Kokoro lacks, Chinese read as Mandarin, and kana (unknown).
SAMPLE = "Hello world, this is [good](/gʊd/) 日本 かな."


def before(pane: str, theme: str = "tui-speech-dark"):
    async def run(pilot) -> None:
        # A blinking cursor would make the picture depend on the moment it is taken.
        for widget in pilot.app.query("TextArea, Input"):
            widget.cursor_blink = False
        # Let the initial tab activation land before pressing a pane key.
        await pilot.pause()
        pilot.app.theme = theme
        if pane == "speak":
            await type_text(pilot, SAMPLE)
        await pilot.press({"listen": "f2", "speak": "f3", "models": "f4"}[pane])
        await settle(pilot)

    return run


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
@pytest.mark.parametrize("pane", ["listen", "speak", "models"])
def test_pane_in_dark_theme(snap_compare, pane, size, whisper_store):  # noqa: F811
    # The embedded Whisper assembled, whichever test ran first (the Models pane shows its state).
    app = SpeechApp(check_audio=False)
    assert snap_compare(app, terminal_size=size, run_before=before(pane))


@pytest.mark.parametrize(
    ("pane", "theme"),
    [("speak", "tui-speech-light"), ("listen", "tui-speech-high-contrast")],
    ids=["speak-light", "listen-high-contrast"],
)
def test_pane_in_other_builtin_themes(snap_compare, pane, theme):
    app = SpeechApp(check_audio=False)
    assert snap_compare(app, terminal_size=(80, 24), run_before=before(pane, theme))


def test_help_screen(snap_compare):
    async def run(pilot) -> None:
        await before("speak")(pilot)
        await pilot.press("f1")
        await pilot.pause()

    app = SpeechApp(check_audio=False)
    assert snap_compare(app, terminal_size=(80, 24), run_before=run)
