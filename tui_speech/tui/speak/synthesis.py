"""Synthesis in the Speak pane: the draft rendered into a take, the take listed and saved.

Rendering runs in a thread worker through ``tts.draft_render.render``, the core function behind
``speak --file``: sentences with a take still fitting are read back, the others synthesized
(Kokoro through onnxruntime, imported at the first synthesis, never at start-up) and saved as
the draft's takes. Chunks go to the player as they are made, so audio starts with the first.
"""

from __future__ import annotations

import dataclasses
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.widgets import Input, ProgressBar
from textual.worker import get_current_worker

from tui_speech.audio.rates import TTS_RATE
from tui_speech.errors import UsageError
from tui_speech.tts.drafts import Draft, draft_units
from tui_speech.tui.messages import ErrorRaised, StatusInfo
from tui_speech.tui.speak.dialogs import SavePathScreen
from tui_speech.tui.speak.takes import Take, TakeBuilder, TakesList
from tui_speech.tui.speak.waveform import TakeWaveform

if TYPE_CHECKING:
    from tui_speech.tui.speak.pane import SpeakPane

#: Seconds after the pane mounts before the models load in the background.
WARM_UP_DELAY_S = 1.5


def engine_label(engine: Any) -> str:
    """ "Kokoro-82M int8" (or fp16, fp32): which embedded variant the engine runs."""
    path = getattr(engine, "model_path", None)
    if path is None:
        return f"Kokoro-82M ({getattr(engine, 'name', '?')})"
    from tui_speech.hub.manage import onnx_variant

    variant = onnx_variant(Path(path)).removeprefix("onnx-")
    return f"Kokoro-82M {'fp32' if variant == 'onnx' else variant}"


def speed_range() -> tuple[float, float]:
    """The speeds Kokoro takes (``tts.engine``'s range; imported when first needed, with numpy)."""
    from tui_speech.tts.engine import MAX_SPEED, MIN_SPEED

    return MIN_SPEED, MAX_SPEED


def parse_speed(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        low, high = speed_range()
        raise UsageError(f"speed {text!r} is not a number", f"use {low} to {high}") from None


class TakeMaker:
    """The pane's renders: each one becomes the next numbered take in the takes list."""

    def __init__(self, pane: SpeakPane) -> None:
        self.pane = pane
        #: Takes made this session; the next one gets the number after it.
        self.made = 0

    def warm_up_soon(self) -> None:
        """Load G2P, voice and engine (and run them once) in the background, so the first F6
        sounds at once. After the first frames, not before: loading spaCy and onnxruntime
        holds the GIL for a second or two, which would delay the first paint and first keys."""
        settings = self.pane.settings

        def warm_up() -> None:  # the language and voice chosen by then
            self.pane.run_worker(
                partial(self._warm_up, settings.lang, settings.voice),
                name="_warm_up", group="warm", thread=True, exclusive=True, exit_on_error=False,
            )  # fmt: skip

        self.pane.set_timer(WARM_UP_DELAY_S, warm_up)

    @staticmethod
    def _warm_up(lang: str, voice: str) -> None:
        # A failure here is said again, with its reason, when the user synthesizes.
        from tui_speech.errors import TuiSpeechError
        from tui_speech.tts.pipeline import Pipeline

        try:
            Pipeline(lang, voice or None).warm_up()
        except TuiSpeechError:
            return

    def start(self, play: bool, start: int = 0, redo: frozenset[int] = frozenset()) -> None:
        """Render the draft from unit ``start`` (``redo``: units synthesized again even with a
        take); ``play`` sends the audio to the player as it comes."""
        pane = self.pane
        try:
            speed = parse_speed(pane.query_one("#speak-speed", Input).value)
        except UsageError as exc:
            pane.post_message(ErrorRaised(exc, "speed"))
            return
        pane.save_draft_now()
        pane.query_one(ProgressBar).update(total=100, progress=0)
        pane.say("loading the model…" if not self.made else "synthesizing…")
        settings = pane.settings
        draft = dataclasses.replace(
            pane.draft, lang=settings.lang, voice=settings.voice, speed=speed
        )
        pane.run_worker(
            partial(self._render, draft, play, start, redo),
            name="_synthesis", group="synth", thread=True, exclusive=True, exit_on_error=False,
        )  # fmt: skip

    def _render(self, draft: Draft, play: bool, start: int, redo: frozenset[int]) -> None:
        """Render the draft from unit ``start``: sentences with a take are read back, the
        others synthesized and saved as takes (``redo`` ones synthesized again). The take
        is added up as they come (``TakeBuilder``): a long draft is not held whole."""
        from tui_speech.tts.draft_render import render
        from tui_speech.tts.pipeline import Pipeline

        pane, store = self.pane, self.pane.store
        worker = get_current_worker()
        text, lang, voice, speed = draft.text, draft.lang, draft.voice, draft.speed
        pipeline = Pipeline(lang, voice or None, speed)  # validates voice and speed first
        engine = pipeline.load()
        pane.post_message(StatusInfo("tts", engine_label(engine)))
        draft = store.update(draft.name, lang=lang, voice=voice, speed=speed)
        player = pane.playback.player() if play else None
        total = max(1, sum(1 for u in draft_units(text)[start:] if u.spoken))
        done, units = 0, 0
        built = TakeBuilder(TTS_RATE)  # the take's audio (or pieces) and words
        for rendered in render(draft, store, redo=redo, start=start, engine=engine):
            if worker.is_cancelled:
                break
            units += 1
            built.add(rendered.audio, rendered.sample_rate, rendered.words, rendered.piece)
            if player is not None:
                player.play_chunk(rendered.audio, rendered.sample_rate)
            if rendered.unit.spoken:
                done = min(total, done + 1)
            if rendered.synthesized:
                pane.post_message(pane.DraftChanged(store.load(draft.name)))
            pane.post_message(pane.Progress(done, total, units))
        if units:
            take = built.take(text, lang, voice or pipeline.voice, speed)
            pane.post_message(pane.TakeReady(take, worker.is_cancelled))

    def add(self, take: Take, stopped: bool) -> None:
        """A render's take, numbered, listed and drawn; the status line says how it ended."""
        pane = self.pane
        self.made += 1
        take = dataclasses.replace(take, number=self.made)
        pane.query_one(TakesList).add_take(take)
        pane.query_one(TakeWaveform).show(*take.picture, take.words)
        bar = pane.query_one(ProgressBar)
        bar.update(progress=bar.total or 100)
        state = "stopped" if stopped else "done"
        silent = " (no audio output)" if pane.audio_problem or pane.playback.problem else ""
        pane.say(f"{state}: take #{take.number}, {take.duration:.1f} s{silent} · ctrl+s save")

    def save_selected(self) -> None:
        """Ask where, then write the selected take to an audio file."""
        pane = self.pane
        take = pane.selected_take("save")
        if take is None:
            return
        default = Path.cwd() / f"take-{take.number}.wav"

        def save(path: Path | None) -> None:
            if path is not None:
                pane.run_worker(
                    partial(self._write, take, path),
                    name="_write_take", group="save", thread=True, exit_on_error=False,
                )  # fmt: skip

        pane.app.push_screen(SavePathScreen(f"Save take #{take.number} as", default), save)

    def _write(self, take: Take, path: Path) -> None:
        from tui_speech.audio.writer import AudioFileWriter

        # Streamed piece by piece: a long take is never read back whole.
        with AudioFileWriter(path, take.sample_rate) as writer:
            for chunk in take.chunks():
                writer.write(chunk)
        self.pane.post_message(self.pane.Notice(f"saved take #{take.number} to {path}"))
