"""The voice selector: embedded packs, packs in the model store and saved blends.

The full list is read the first time the selector gets focus, not at start-up: listing voices
reads the embedded data package, whose import pulls in onnxruntime.
"""

from __future__ import annotations

from typing import Any

from textual import work
from textual.widgets import Select

from tui_speech.tui.errors import ReportsWorkerErrors

DEFAULT_VOICE = ""  # the language's own default voice (Pipeline picks it)


class VoiceSelect(ReportsWorkerErrors, Select[str]):
    def __init__(self, current: str = "", **kwargs: Any) -> None:
        options = [("default voice", DEFAULT_VOICE)]
        if current:
            options.append((current, current))
        super().__init__(options, value=current or DEFAULT_VOICE, allow_blank=False, **kwargs)
        self.loaded = False

    def on_focus(self) -> None:
        if not self.loaded:
            self.reload(self.value if isinstance(self.value, str) else None)

    def reload(self, select: str | None = None) -> None:
        """Read the voices again (a blend was saved, a model pulled) and select ``select``."""
        self.loaded = True
        self._list_voices(select)

    @work(thread=True, exclusive=True, group="voices", exit_on_error=False)
    def _list_voices(self, select: str | None) -> None:
        from tui_speech.tts.voices import list_voices

        options = [("default voice", DEFAULT_VOICE)]
        options += [(f"{v.name} ({v.source})", v.name) for v in list_voices()]
        self.app.call_from_thread(self._set_options, options, select)

    def _set_options(self, options: list[tuple[str, str]], select: str | None) -> None:
        if select and select not in {value for _, value in options}:
            options.append((select, select))  # an unsaved blend spec
        with self.prevent(Select.Changed):
            self.set_options(options)
        self.value = select or DEFAULT_VOICE  # posts Changed: the pane remembers the choice
