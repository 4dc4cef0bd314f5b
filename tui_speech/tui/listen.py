"""The Listen pane. Until the ASR engine lands (tui_speech.asr), it says so honestly.

It already shows the confidence scale of the current theme, which the transcript will use.
"""

from __future__ import annotations

from importlib import resources

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Static

from tui_speech.tui.errors import ReportsWorkerErrors
from tui_speech.tui.themes import CONFIDENCE_STEPS


def asr_engine_available() -> bool:
    """True once tui_speech.asr holds more than its package marker (checked without importing)."""
    folder = resources.files("tui_speech") / "asr"
    return any(
        entry.name.endswith(".py") and entry.name != "__init__.py" for entry in folder.iterdir()
    )


def confidence_legend() -> Content:
    parts: list[str | tuple[str, str]] = ["confidence  "]
    for i in range(CONFIDENCE_STEPS):
        low = i * 100 // CONFIDENCE_STEPS
        parts.append((f" ≥{low}% ", f"bold $confidence-{i}"))
    return Content.assemble(*parts)


class ListenPane(ReportsWorkerErrors, Vertical):
    HELP_WIDGETS = ()
    BINDINGS = [
        Binding("f4", "app.show_pane('models')", "Models", show=False),
    ]
    DEFAULT_CSS = """
    ListenPane { padding: 1 2; }
    ListenPane #listen-state { color: $warning; text-style: bold; margin-bottom: 1; }
    ListenPane .listen-detail { color: $text-muted; margin-bottom: 1; }
    """

    def compose(self) -> ComposeResult:
        yield Static("Live Mandarin transcription", classes="listen-title")
        if asr_engine_available():
            state = "No ASR model yet – F4 Models to pull one."
            detail = "The transcript, with every character coloured by confidence, shows here."
        else:
            state = "No ASR engine in this build yet – transcription is not available."
            detail = (
                "The speech-recognition core (tui_speech.asr) has not landed. Once it has, this "
                "pane transcribes the microphone, piped PCM on stdin or a file played as live, "
                "and colours every character by the model's confidence:"
            )
        yield Static(state, id="listen-state")
        yield Static(detail, classes="listen-detail")
        yield Static(confidence_legend(), id="listen-legend")
