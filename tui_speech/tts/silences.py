"""The silence around a chunk's speech: which mark ends its text, how long a pause that mark
calls for, and where Kokoro's padding is cut or filled to give it.

Kokoro pads every call with silence (~0.3 s before, ~0.6 s after). A chunk keeps ``LEAD_IN``
before its speech and, after it, what its end mark calls for (:func:`pause_for`: the voice's
own pause at that mark when it was measured, ``tts.voice_pauses``; else a fixed one). The
speech's edges are found on 5 ms frames against the chunk's loudest one, with margins wide
enough that no soft onset (h, f, s) or fading tail is ever clipped, and a pause longer than
the padding is filled with silence (:func:`shape_speech`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from tui_speech.tts.engine import SAMPLE_RATE

if TYPE_CHECKING:
    from tui_speech.tts.voice_pauses import Gaps

CLAUSE_MARKS = frozenset(",;:—…，、；：")
SENTENCE_MARKS = frozenset(".!?。！？।॥")  # ।: Devanagari's full stop (danda)
#: Silence kept after a chunk, by how its text ends (seconds), and before its speech.
PAUSE_AFTER_WORD, PAUSE_AFTER_CLAUSE, PAUSE_AFTER_SENTENCE = 0.08, 0.2, 0.4
LEAD_IN = 0.08
#: A 5 ms frame is speech when its RMS is within 50 dB of the chunk's loudest frame. Kokoro's
#: padding sits far below that; soft onsets and breathy tails sit above it.
SILENCE_DB = -50.0
FRAME_S = 0.005
FADE_S = 0.005


def mark_after(graphemes: str, *, ends_line: bool = False) -> str:
    """What ends ``graphemes``: "sentence" (. ! ? … and 。！？।), "clause" (, ; : — and ，、；：)
    or "word" (a cut between words, or no mark), quotes and brackets after the mark aside.
    A line that ends without a mark (``ends_line``: a heading, a list's item) ends a sentence."""
    if ends_line:
        return "sentence"
    end = graphemes.rstrip().rstrip('"”’)]」』）')
    if end and (end[-1] in SENTENCE_MARKS or end.endswith("...") or end.endswith("……")):
        return "sentence"
    if end and end[-1] in CLAUSE_MARKS:
        return "clause"
    return "word"


def pause_after(graphemes: str, gaps: Gaps | None = None, speed: float = 1.0) -> float:
    """Seconds of silence kept after ``graphemes`` (:func:`pause_for` its end mark)."""
    return pause_for(mark_after(graphemes), gaps, speed)


def pause_for(mark: str, gaps: Gaps | None = None, speed: float = 1.0) -> float:
    """Seconds of silence kept after a ``mark`` (:func:`mark_after`): with the voice's measured
    ``gaps`` (``tts.voice_pauses``), what Kokoro itself leaves at that mark (at ``speed``), less
    the next chunk's lead-in; without them, the fixed pause for the mark."""
    if mark == "word":
        return PAUSE_AFTER_WORD
    if gaps is None:
        return PAUSE_AFTER_SENTENCE if mark == "sentence" else PAUSE_AFTER_CLAUSE
    measured = gaps.sentence if mark == "sentence" else gaps.clause
    return max(PAUSE_AFTER_WORD, measured / speed - LEAD_IN)


def speech_bounds(audio: np.ndarray, rate: int = SAMPLE_RATE) -> tuple[int, int] | None:
    """First and one-past-last sample of the 5 ms frames that hold speech, or None if silent."""
    frame = max(1, int(FRAME_S * rate))
    n = len(audio) // frame
    if n == 0:
        return None
    frames = audio[: n * frame].astype(np.float64).reshape(n, frame)
    rms = np.sqrt(np.mean(frames**2, axis=1))
    peak = float(rms.max())
    if peak <= 0:
        return None
    loud = np.flatnonzero(rms > peak * 10 ** (SILENCE_DB / 20))
    return int(loud[0]) * frame, min(len(audio), (int(loud[-1]) + 1) * frame)


def kept_span(
    audio: np.ndarray, pause_s: float, rate: int = SAMPLE_RATE, lead_in: float = LEAD_IN
) -> tuple[int, int]:
    """The samples of ``audio`` that :func:`shape_speech` keeps: its speech, ``lead_in``
    before it and ``pause_s`` after it (the whole of it when it is silent)."""
    bounds = speech_bounds(audio, rate) if len(audio) else None
    if bounds is None:
        return 0, len(audio)
    first, last = bounds
    return max(0, first - int(lead_in * rate)), min(len(audio), last + int(pause_s * rate))


def shape_speech(
    audio: np.ndarray,
    pause_s: float,
    rate: int = SAMPLE_RATE,
    lead_in: float = LEAD_IN,
    *,
    fill: bool = False,
) -> tuple[np.ndarray, int]:
    """``audio`` as it goes out where it stands, and how many samples were cut from its front
    (its words' timings move back by as many).

    Its leading silence is cut to ``lead_in`` and its trailing silence to ``pause_s``; cut
    edges fade over 5 ms, inside the kept silence, so no click is heard and no speech is
    touched. With ``fill``, a pause longer than the silence left is filled (:func:`with_pause`).
    """
    start, end = kept_span(audio, pause_s, rate, lead_in)
    shaped = audio
    if start > 0 or end < len(audio):
        shaped = audio[start:end].copy()
        fade = min(int(FADE_S * rate), len(shaped) // 2)
        if fade:
            ramp = np.linspace(0.0, 1.0, fade, dtype=shaped.dtype)
            if start > 0:
                shaped[:fade] *= ramp
            if end < len(audio):
                shaped[-fade:] *= ramp[::-1]
    return (with_pause(shaped, pause_s, rate) if fill else shaped), start


def with_pause(audio: np.ndarray, pause_s: float, rate: int = SAMPLE_RATE) -> np.ndarray:
    """``audio`` with silence added at its end where less than ``pause_s`` follows its speech
    (Kokoro's padding is ~0.6 s; a voice that pauses longer, ``tts.voice_pauses``, is given its
    whole pause). Never shortened: :func:`shape_speech` cuts."""
    bounds = speech_bounds(audio, rate) if len(audio) else None
    missing = round(pause_s * rate) - (len(audio) - bounds[1]) if bounds is not None else 0
    if missing <= 0:
        return audio
    return np.concatenate([audio, np.zeros(missing, dtype=audio.dtype)])
