"""The takes of this session: every synthesis result, kept in memory until the app closes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

if TYPE_CHECKING:
    import numpy as np

    from tui_speech.tts.captions import TimedWord


@dataclass(frozen=True)
class Take:
    number: int
    text: str
    lang: str
    voice: str
    speed: float
    audio: np.ndarray  # float32 mono
    sample_rate: int
    #: When each word sounds (``tts.captions.TimedWord``): the waveform's marks, the highlight.
    words: tuple[TimedWord, ...] = ()

    @property
    def duration(self) -> float:
        return len(self.audio) / self.sample_rate

    def label(self, width: int = 40) -> str:
        snippet = " ".join(self.text.split())
        if len(snippet) > width:
            snippet = snippet[: width - 1] + "…"
        return f"#{self.number} {self.duration:4.1f}s {self.voice} · {snippet}"


class TakesList(OptionList):
    """Newest take first. Enter plays the highlighted take, ctrl+s (pane) saves it."""

    HELP_TITLE = "Takes"
    BINDINGS = [
        Binding("enter", "play_take", "Play take"),
        Binding("delete", "remove_take", "Forget take"),
    ]

    @dataclass
    class PlayRequested(Message):
        take: Take

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.takes: list[Take] = []

    def add_take(self, take: Take) -> None:
        self.takes.insert(0, take)
        self._rebuild()
        self.highlighted = 0

    def _rebuild(self) -> None:
        self.clear_options()
        # Content, not str: text like [word](/ph/) must not be read as markup.
        self.add_options([Option(Content(t.label()), id=str(t.number)) for t in self.takes])

    @property
    def selected_take(self) -> Take | None:
        if not self.takes:
            return None
        index = self.highlighted if self.highlighted is not None else 0
        return self.takes[min(index, len(self.takes) - 1)]

    def action_play_take(self) -> None:
        take = self.selected_take
        if take is not None:
            self.post_message(self.PlayRequested(take))

    def action_remove_take(self) -> None:
        take = self.selected_take
        if take is not None:
            self.takes.remove(take)
            self._rebuild()
