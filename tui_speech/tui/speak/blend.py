"""The blend editor: a weight per voice; use the blend now or save it as a named voice."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from tui_speech.errors import UsageError
from tui_speech.tui.messages import ErrorRaised


def blend_spec(weights: dict[str, str]) -> str:
    """``{"a": "0.7", "b": "", "c": "0.3"}`` -> ``"a:0.7,c:0.3"`` (blank or 0 = not used)."""
    parts = []
    for name, text in weights.items():
        text = text.strip()
        if not text:
            continue
        try:
            weight = float(text)
        except ValueError:
            raise UsageError(f"weight for {name} must be a number, not {text!r}") from None
        if weight < 0:
            raise UsageError(f"weight for {name} must not be negative")
        if weight > 0:
            parts.append(f"{name}:{weight:g}")
    if not parts:
        raise UsageError("give at least one voice a weight above 0")
    spec = ",".join(parts)
    from tui_speech.tts.voices import parse_blend  # numpy: not needed before the editor opens

    parse_blend(spec)  # the same validation synthesis will apply, reported here already
    return spec


class BlendScreen(ModalScreen[str | None]):
    """Dismisses with the voice to use: the blend spec, or the name it was saved under."""

    DEFAULT_CSS = """
    BlendScreen { align: center middle; }
    BlendScreen > Vertical {
        width: 64; max-width: 95%; height: 90%; max-height: 30;
        border: round $primary; background: $surface; padding: 0 1;
    }
    BlendScreen VerticalScroll { height: 1fr; }
    BlendScreen .blend-row { height: 1; }
    BlendScreen .blend-row Label { width: 20; }
    BlendScreen .blend-row Input { width: 1fr; height: 1; border: none; padding: 0 1; }
    BlendScreen .blend-row Input:focus { background: $boost; }
    BlendScreen #blend-name { margin-top: 1; }
    BlendScreen .dialog-hint { color: $text-muted; }
    """
    BINDINGS = [
        Binding("enter", "use", "Use blend", priority=True),
        Binding("ctrl+s", "save", "Save as voice", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, voices: list[str], current: str = "") -> None:
        super().__init__()
        self.voices = voices
        self.initial: dict[str, str] = {}
        from tui_speech.tts.voices import parse_blend

        try:
            if current:
                self.initial = {n: f"{w:g}" for n, w in parse_blend(current)}
        except UsageError:
            self.initial = {}

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("[b]Voice blend[/b] – weights are normalised to sum to 1")
            with VerticalScroll():
                for i, name in enumerate(self.voices):
                    with Horizontal(classes="blend-row"):
                        yield Label(name)
                        yield Input(
                            self.initial.get(name, ""), placeholder="0", id=f"weight-{i}",
                            classes="blend-weight",
                        )  # fmt: skip
            yield Input(placeholder="name to save the blend as (letters, digits, _ -)",
                        id="blend-name")  # fmt: skip
            yield Static(
                "enter use · ctrl+s save as named voice · escape cancel", classes="dialog-hint"
            )

    def on_mount(self) -> None:
        first = self.query(".blend-weight").first(Input)
        first.focus()

    def _spec(self) -> str:
        inputs = list(self.query(".blend-weight").results(Input))
        return blend_spec({name: box.value for name, box in zip(self.voices, inputs, strict=True)})

    def action_use(self) -> None:
        try:
            self.dismiss(self._spec())
        except UsageError as exc:
            self.post_message(ErrorRaised(exc, "blend"))

    def action_save(self) -> None:
        name = self.query_one("#blend-name", Input).value.strip()
        try:
            if not name:
                raise UsageError("type a name for the blend first")
            from tui_speech.tts.voices import save_blend

            save_blend(name, self._spec())
        except UsageError as exc:
            self.post_message(ErrorRaised(exc, "blend"))
            return
        self.app.notify(f"saved voice {name}", markup=False)
        self.dismiss(name)

    def action_cancel(self) -> None:
        self.dismiss(None)
