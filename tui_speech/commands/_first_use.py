"""What a user sees while ``transcribe`` builds a model's ONNX export on first use: one line
saying so, and a progress bar when stderr is a terminal (the work is in
:func:`tui_speech.asr.tuning.default_backend`)."""

from __future__ import annotations

import sys
from typing import Any

from tui_speech.asr.tuning import FirstUse


class ExportProgress:
    """The :class:`FirstUse` hooks for the CLI; :meth:`close` removes the bar."""

    def __init__(self) -> None:
        self._bar: Any = None
        self._task: Any = None
        self.hooks = FirstUse(on_start=self._start, on_step=self._step)

    def _start(self, line: str) -> None:
        print(f"tui-speech: {line}; --no-export skips it", file=sys.stderr, flush=True)
        if not sys.stderr.isatty():
            return
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self._bar = Progress(
            TextColumn("ONNX export"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._task = self._bar.add_task("export", total=1.0)
        self._bar.start()

    def _step(self, done: float) -> None:
        if self._bar is not None:
            self._bar.update(self._task, completed=done)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


def pick_backend(choice: str, model: str, precision: str, threads: int | None, export: bool) -> str:
    """``transcribe``'s backend: ``--backend auto`` at fp32 takes the one measured fastest on
    this CPU, building the ONNX export on first use unless ``export`` is off (``--no-export``)
    or the setting (``TUI_SPEECH_EXPORT=0``) says no. An export that fails costs speed, not
    the transcript: one line, and the plain rule (``asr.model.pick_backend``)."""
    from tui_speech.asr import model as models
    from tui_speech.asr.tuning import default_backend
    from tui_speech.config import auto_export
    from tui_speech.errors import TuiSpeechError

    if choice != "auto" or precision != "fp32":
        return models.pick_backend(choice, model, precision)
    try:
        info = models.find_model(model)
    except TuiSpeechError:  # no PyTorch weights: the plain rule says what is missing
        return models.pick_backend(choice, model, precision)
    progress = ExportProgress()
    try:
        return default_backend(
            info, export=export and auto_export(), threads=threads, hooks=progress.hooks
        )
    except (OSError, TuiSpeechError) as exc:
        reason = exc.reason if isinstance(exc, TuiSpeechError) else str(exc)
        print(f"tui-speech: no ONNX export ({reason}); using PyTorch", file=sys.stderr)
        return models.pick_backend(choice, model, precision)
    finally:
        progress.close()
