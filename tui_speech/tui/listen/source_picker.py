"""F8's source picker: what the Listen pane listens to.

A modal list, keyboard first: ``stdin`` when audio is piped into the app (first, and
highlighted), every input device PortAudio sees (index, name, channels, default rate; the
default one marked), and "a file played as live…". Typing filters the list; when nothing
matches, enter takes the text as a device index or name (resolved like ``listen --device``).

Devices are queried in a thread worker (importing sounddevice starts PortAudio, which may take
a moment), so the list is usable at once. With no PortAudio or no input device, one line says
so and the other sources stay on offer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from tui_speech.audio.devices import InputDevice, query_input_devices
from tui_speech.audio.pipe import PipedAudio

FILE_ID = "file"
STDIN_ID = "stdin"


@dataclass(frozen=True)
class Picked:
    """The picker's answer: stdin, a device (its index, or what the user typed), or a file."""

    kind: Literal["stdin", "device", "file"]
    device: str | None = None


def device_label(device: InputDevice) -> str:
    rate = f" · {device.rate} Hz" if device.rate else ""
    mark = "  (default)" if device.default else ""
    return f"#{device.index:<3} {device.name} · {device.channels} ch{rate}{mark}"


@dataclass(frozen=True)
class _Entry:
    id: str
    label: str


class SourcePicker(ModalScreen[Picked | None]):
    """Pick a live source; dismissed with a :class:`Picked`, or None on escape."""

    DEFAULT_CSS = """
    SourcePicker { align: center middle; }
    SourcePicker > Vertical {
        width: 76; max-width: 100%; height: auto; max-height: 100%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    SourcePicker #source-filter { border: none; height: 1; padding: 0; }
    SourcePicker #source-list { height: auto; max-height: 12; border: none; padding: 0; }
    SourcePicker #source-note { color: $warning; text-wrap: nowrap; text-overflow: ellipsis; }
    SourcePicker .dialog-hint { color: $text-muted; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("down", "move('cursor_down')", "Down", show=False),
        Binding("up", "move('cursor_up')", "Up", show=False),
        Binding("pagedown", "move('page_down')", "Page down", show=False),
        Binding("pageup", "move('page_up')", "Page up", show=False),
    ]

    @dataclass
    class Found(Message):
        devices: list[InputDevice]
        problem: str | None

    def __init__(self, piped: PipedAudio | None = None) -> None:
        super().__init__()
        self.piped = piped
        self.devices: list[InputDevice] | None = None  # None: still looking
        self.problem: str | None = None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Listen to which source?", markup=False)
            yield Static("looking for input devices…", id="source-note", markup=False)
            yield Input(placeholder="type to filter, or a device # or name", id="source-filter")
            yield OptionList(id="source-list")
            yield Static(
                "↑↓ choose · enter listens · escape cancels", classes="dialog-hint", markup=False
            )

    def on_mount(self) -> None:
        self.query_one("#source-list", OptionList).can_focus = False  # keys go to the filter
        self._show()
        self.query_one(Input).focus()
        self._find_devices()

    @work(thread=True, exclusive=True, group="source-devices", exit_on_error=False)
    def _find_devices(self) -> None:
        self.post_message(self.Found(*query_input_devices()))

    def on_source_picker_found(self, message: Found) -> None:
        self.devices, self.problem = message.devices, message.problem
        note = self.query_one("#source-note", Static)
        if message.problem is None:
            note.display = False
        else:
            note.update(f"No microphone: {message.problem}")
        self._show()

    def entries(self) -> list[_Entry]:
        out = []
        if self.piped is not None:
            if self.piped.ended:
                label = "stdin · the audio piped in has ended"
            else:
                label = f"stdin · audio piped in ({self.piped.describe()})"
            out.append(_Entry(STDIN_ID, label))
        out += [_Entry(f"device-{d.index}", device_label(d)) for d in self.devices or ()]
        out.append(_Entry(FILE_ID, "a file played as live…"))
        return out

    def _show(self) -> None:
        """Fill the list with the entries the filter lets through; highlight the best one."""
        text = self.query_one(Input).value.strip().lower()
        shown = [e for e in self.entries() if text in e.label.lower()]
        options = self.query_one("#source-list", OptionList)
        options.set_options(Option(e.label, id=e.id) for e in shown)
        if not shown:
            return
        ids = [e.id for e in shown]
        best = [f"device-{d.index}" for d in self.devices or () if d.default]
        if self.piped is not None and not self.piped.ended:
            best.insert(0, STDIN_ID)
        options.highlighted = next((ids.index(i) for i in best if i in ids), 0)

    @on(Input.Changed, "#source-filter")
    def _filter(self) -> None:
        self._show()

    def action_move(self, action: str) -> None:
        getattr(self.query_one("#source-list", OptionList), f"action_{action}")()

    @on(Input.Submitted, "#source-filter")
    def _submit(self, event: Input.Submitted) -> None:
        option = self.query_one("#source-list", OptionList).highlighted_option
        if option is not None:
            self.dismiss(self._picked(option.id or ""))
        elif text := event.value.strip():  # nothing listed matches: a device index or name
            # "stdin" with nothing piped in: the Listen pane explains how to pipe audio in.
            self.dismiss(Picked("stdin") if text == STDIN_ID else Picked("device", text))

    @on(OptionList.OptionSelected, "#source-list")
    def _clicked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self._picked(event.option.id or ""))

    @staticmethod
    def _picked(option_id: str) -> Picked:
        if option_id == STDIN_ID:
            return Picked("stdin")
        if option_id == FILE_ID:
            return Picked("file")
        return Picked("device", option_id.removeprefix("device-"))

    def action_cancel(self) -> None:
        self.dismiss(None)
