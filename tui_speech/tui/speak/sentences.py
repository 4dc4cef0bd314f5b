"""The draft as its sentences, each with its take: play from one, re-render one, lock one.

The list shows ``tts.drafts.draft_units`` of the draft's text; a mark says whether the sentence
has a take for its current text, voice, speed and lexicon (``✓``), a locked one (``🔒`` shown
as ``L``), or none yet (``·``). The pane does the work; this widget only asks for it.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from tui_speech.tts.drafts import Draft, Unit, take_for


def unit_label(draft: Draft, unit: Unit, width: int = 40) -> Content:
    if unit.kind == "pause":
        return Content.styled(f"   pause {unit.pause:g} s", "$text-muted")
    take = take_for(draft, unit)
    mark = "L" if take is not None and take.locked else ("✓" if take is not None else "·")
    length = f"{take.duration:4.1f}s" if take is not None else "  -  "
    text = " ".join(unit.text.split())
    if unit.kind == "heading":
        text = "# " + text
    if len(text) > width:
        text = text[: width - 1] + "…"
    style = "$text" if take is not None else "$text-muted"
    return Content.assemble((f"{mark} {length} ", "$text-muted"), (text, style))


class SentencesList(OptionList):
    """Enter plays the draft from the highlighted sentence; r re-renders it, l locks its take."""

    HELP_TITLE = "Sentences"
    BINDINGS = [
        Binding("enter", "play_from", "Play from here"),
        Binding("r", "rerender", "Re-render"),
        Binding("l", "lock", "Lock take"),
    ]

    @dataclass
    class Requested(Message):
        """The user asks for ``what`` ("play", "rerender" or "lock") on unit ``index``."""

        what: str
        index: int

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.units: list[Unit] = []

    def show(self, draft: Draft, units: list[Unit]) -> None:
        highlighted = self.highlighted
        self.units = units
        self.clear_options()
        self.add_options([Option(unit_label(draft, u), id=str(u.index)) for u in units])
        if units:
            self.highlighted = min(highlighted or 0, len(units) - 1)

    def _ask(self, what: str) -> None:
        if self.highlighted is not None and self.highlighted < len(self.units):
            self.post_message(self.Requested(what, self.units[self.highlighted].index))

    def action_play_from(self) -> None:
        self._ask("play")

    def action_rerender(self) -> None:
        self._ask("rerender")

    def action_lock(self) -> None:
        self._ask("lock")
