"""The Listen pane. Live transcription waits for the ASR core (tui_speech.asr, not in this build):
until then the pane says honestly what is there – which ASR models the store holds – and shows
the theme's confidence scale the transcript will use.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Static

from tui_speech.tui.errors import ReportsWorkerErrors
from tui_speech.tui.messages import StatusInfo
from tui_speech.tui.themes import CONFIDENCE_STEPS


def confidence_legend() -> Content:
    parts: list[str | tuple[str, str]] = ["confidence  "]
    for i in range(CONFIDENCE_STEPS):
        low = i * 100 // CONFIDENCE_STEPS
        parts.append((f" ≥{low}% ", f"bold $confidence-{i}"))
    return Content.assemble(*parts)


def asr_state(models: list[str]) -> str:
    if not models:
        return "No ASR model yet – F4 Models to pull one."
    return f"ASR model in the store: {', '.join(models)}."


class ListenPane(ReportsWorkerErrors, Vertical):
    HELP_WIDGETS = ()
    BINDINGS = [
        Binding("ctrl+r", "refresh", "Refresh", show=False),
    ]
    DEFAULT_CSS = """
    ListenPane { padding: 1 2; }
    ListenPane #listen-state { color: $warning; text-style: bold; margin-bottom: 1; }
    ListenPane .listen-detail { color: $text-muted; margin-bottom: 1; }
    """

    @dataclass
    class Found(Message):
        models: list[str]

    def compose(self) -> ComposeResult:
        yield Static("Live Mandarin transcription", classes="listen-title")
        yield Static("looking for ASR models…", id="listen-state")
        yield Static(
            "Transcribing in this pane (microphone, piped PCM on stdin, a file played as "
            "live) is not in this build yet. The transcript will colour every character by "
            "the model's confidence:",
            classes="listen-detail",
        )
        yield Static(confidence_legend(), id="listen-legend")

    def on_mount(self) -> None:
        # After the first frame, so looking into the store never delays start-up.
        self.call_after_refresh(self.action_refresh)

    def action_refresh(self) -> None:
        self._find_models()

    @work(thread=True, exclusive=True, group="asr-models", exit_on_error=False)
    def _find_models(self) -> None:
        from tui_speech.hub.manage import list_models

        present = [e.id for e in list_models() if e.kind == "asr" and e.present]
        self.post_message(self.Found(present))

    def on_listen_pane_found(self, message: Found) -> None:
        self.query_one("#listen-state", Static).update(asr_state(message.models))
        if message.models:
            self.post_message(StatusInfo("asr", message.models[0].rsplit("/", 1)[-1]))
