"""One live listening session for the Listen pane, run inside a thread worker.

It wires the ASR core's pieces the way ``tui-speech listen`` does: an audio source (microphone,
piped stdin, or a file paced in real time) -> VAD -> ``LiveStream`` partials (on the model's int8
variant when it has one, within the default compute budget) and finals, each final appended
to a session file on disk the moment it exists. The pane hears about events and levels through
callbacks (it posts them as messages); this module never touches a widget.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tui_speech.errors import TuiSpeechError


@dataclass
class LiveResult:
    """What a session leaves behind: the whole transcript, its audio, where it was saved."""

    transcript: Any  # tui_speech.asr.recognizer.Transcript
    samples: np.ndarray
    session: str | None = None
    warnings: list[str] = field(default_factory=list)


def make_vad(recognizer: Any) -> Any:
    """The VAD the CLI uses, or None when it cannot load (then every block reaches the model)."""
    try:
        from tui_speech.audio.vad import SpeechSegmenter

        return SpeechSegmenter(align=recognizer.info.hop)
    except (TuiSpeechError, ImportError, OSError):
        return None


def run_live(
    recognizer: Any,
    source: Any,
    label: str,
    on_event: Callable[[Any], object],
    on_level: Callable[[float, float], object],
    cancelled: Callable[[], bool],
    paused: threading.Event,
) -> LiveResult:
    """Listen until the source ends or ``cancelled()``; blocks arriving while ``paused`` is set
    are skipped (not transcribed, not recorded)."""
    from tui_speech.asr.recognizer import Transcript
    from tui_speech.asr.sessions import SessionWriter
    from tui_speech.asr.stream import LiveStream, LiveTranscriber
    from tui_speech.config import get_paths

    warnings: list[str] = []
    try:
        draft = recognizer.draft()  # partials on the int8 variant when the model has one
    except TuiSpeechError as exc:
        warnings.append(f"partials run on the full model: {exc.message}")
        draft = recognizer
    live = LiveTranscriber(LiveStream(recognizer, draft=draft), make_vad(recognizer))
    writer = SessionWriter(get_paths().sessions, recognizer.info.name, label)
    finals: list[Any] = []
    audio: list[tuple[float, np.ndarray]] = []  # (start on the session clock, samples)

    def emit(events: list[Any]) -> None:
        for event in events:
            if event.type == "final":
                writer.add_final(event.text, event.t0, event.t1, event.chars)
                finals.extend(event.chars)
            on_event(event)

    try:
        source.start()
        try:
            for batch in source.batches():
                if cancelled():
                    break
                if paused.is_set() or not batch:
                    continue
                audio.extend((b.start_s, b.samples) for b in batch)
                samples = np.concatenate([b.samples for b in batch])
                rms = float(np.sqrt(np.mean(np.square(samples)))) if len(samples) else 0.0
                on_level(source.seconds, rms)
                emit(live.process(batch))
        finally:
            source.stop()
        emit(live.flush())
    finally:
        writer.close()
    transcript = Transcript(
        text="".join(c.char for c in finals),
        chars=tuple(finals),
        duration=float(source.seconds),
        model=recognizer.info.name,
        source=label,
    )
    session = writer.id if writer.finals else None
    samples = on_session_clock(audio, recognizer.sample_rate)
    warnings += getattr(source, "warnings", [])
    return LiveResult(transcript, samples, session, warnings)


def on_session_clock(blocks: list[tuple[float, np.ndarray]], rate: int) -> np.ndarray:
    """The heard audio laid out on the session clock: paused or dropped stretches are silent,
    so a character's times index the array directly (for replay)."""
    if not blocks:
        return np.zeros(0, np.float32)
    end = max(int(round(start * rate)) + len(x) for start, x in blocks)
    out = np.zeros(end, np.float32)
    for start, x in blocks:
        i = int(round(start * rate))
        out[i : i + len(x)] = x
    return out


def level_meter(rms: float, width: int = 12) -> str:
    """A text level meter on a dB scale (-60 dBFS empty, 0 dBFS full)."""
    import math

    db = 20 * math.log10(max(rms, 1e-6))
    filled = max(0, min(width, round((db + 60) / 60 * width)))
    return "▮" * filled + "▯" * (width - filled)
