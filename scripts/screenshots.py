"""Save an SVG screenshot of each pane of the TUI into docs/ (``make screenshots``).

The app runs headless in a throw-away TUI_SPEECH_HOME, so the user's drafts, settings and
models never show up in the pictures; the embedded Kokoro is assembled there first so the
Models pane shows it as it is after a first run.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZE = (100, 30)
SAMPLE = "Hello! This is tui-speech, reading [Kokoro](/kˈOkəɹO/) phonemes as you type."
PANES = (("listen", "f2"), ("speak", "f3"), ("models", "f4"))


async def shoot(out_dir: Path) -> list[Path]:
    from tui_speech.tui.app import SpeechApp

    saved = []
    for pane, key in PANES:
        app = SpeechApp(check_audio=False)
        async with app.run_test(size=SIZE) as pilot:
            for widget in app.query("TextArea, Input"):
                widget.cursor_blink = False  # the picture must not depend on the moment
            await pilot.pause()
            if pane == "speak":
                app.query_one("#speak-editor").insert(SAMPLE)
                await pilot.press("f6")  # one real take in the list
                await app.workers.wait_for_complete()
            await pilot.press(key)
            await pilot.pause(0.5)  # past the phoneme preview's debounce
            await app.workers.wait_for_complete()
            await pilot.pause()
            path = out_dir / f"{pane}.svg"
            app.save_screenshot(filename=path.name, path=str(out_dir))
            saved.append(path)
    return saved


def main() -> int:
    out_dir = ROOT / "docs"
    out_dir.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tui-speech-shots-") as home:
        os.environ["TUI_SPEECH_HOME"] = home
        from tui_speech.hub.embedded import embedded_model_path

        embedded_model_path()
        for path in asyncio.run(shoot(out_dir)):
            print(path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
