"""A draft spoken: each sentence's take made or reused, placed where it stands, and exported.

:func:`render` yields a draft's audio unit by unit (``tts.drafts`` holds the draft, its units
and its takes); :func:`export` writes it whole, or one file per chapter.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui_speech.errors import UsageError
from tui_speech.tts.drafts import (
    Draft,
    DraftStore,
    SentenceTake,
    Unit,
    draft_units,
    take_for,
    take_key,
)

if TYPE_CHECKING:
    import numpy as np

    from tui_speech.tts.engine import KokoroEngine
    from tui_speech.tts.voice_pauses import Gaps


@dataclass(frozen=True)
class Piece:
    """Where a rendered unit's audio can be read again (:meth:`read`) instead of being kept:
    its take's file, shaped as :func:`render` shaped it where it stands, or a pause's
    silence. A long draft's whole take is a list of these, not one array."""

    samples: int
    file: Path | None = None  # None: ``samples`` of silence
    #: How the take is trimmed where it stands (``silences.shape_speech``: ``pause_s`` after
    #: the speech, filled up to it when ``fill``: the voice's gap before the next sentence);
    #: None: the file as it is.
    shape: Shape | None = None

    def read(self) -> np.ndarray:
        import numpy as np
        import soundfile as sf

        if self.file is None:
            return np.zeros(self.samples, np.float32)
        try:
            audio, rate = sf.read(self.file, dtype="float32")
        except (OSError, RuntimeError) as exc:  # soundfile's LibsndfileError is a RuntimeError
            raise UsageError(f"a take's audio is gone: {self.file.name} ({exc})",
                             "render the draft again") from None  # fmt: skip
        return self.shape.apply(audio, int(rate))[0] if self.shape is not None else audio


@dataclass(frozen=True)
class Shape:
    """How a sentence's take is trimmed where it is in the draft: its trailing silence cut to
    ``pause`` (and filled up to it when ``fill``), its leading silence to ``lead_in``."""

    pause: float
    lead_in: float
    fill: bool = False

    def apply(self, audio: np.ndarray, rate: int) -> tuple[np.ndarray, int]:
        """The shaped audio, and the samples cut from its front (the words move back by as
        many)."""
        from tui_speech.tts.silences import shape_speech

        return shape_speech(audio, self.pause, rate, lead_in=self.lead_in, fill=self.fill)


@dataclass(frozen=True)
class RenderedUnit:
    """A unit's audio as it goes into the draft's whole audio (lazy results of :func:`render`).

    ``synthesized`` is True when this render made the audio, False when a take was reused.
    ``words``: when each word sounds in ``audio`` (samples; the take's own ``words`` are in
    its file's samples, which differ beside a pause tag). ``piece``: how to read ``audio``
    again from the store (None when rendered without one).
    """

    unit: Unit
    audio: np.ndarray
    sample_rate: int
    take: SentenceTake | None = None
    synthesized: bool = False
    warnings: tuple[str, ...] = field(default=())
    words: tuple[Any, ...] = ()
    piece: Piece | None = None


def render(
    draft: Draft,
    store: DraftStore | None = None,
    *,
    redo: frozenset[int] = frozenset(),
    start: int = 0,
    engine: KokoroEngine | None = None,
    backend: str = "onnx",
    model: str | None = None,
) -> Iterator[RenderedUnit]:
    """The draft's audio, unit by unit from ``start`` (lazy: a unit is synthesized when the
    caller asks for it, so a long draft streams to a file in bounded memory).

    With a ``store``, a sentence whose take exists is read back instead of synthesized, and a
    new take is saved there as it is made; ``redo`` names units (by index) to synthesize again
    even so (a locked take is never redone). Without one (headless ``speak --file``) every
    sentence is synthesized. ``engine`` lets a caller share a loaded engine.
    """
    import numpy as np

    from tui_speech.tts.engine import SAMPLE_RATE
    from tui_speech.tts.pipeline import Pipeline

    units = draft_units(draft.text)
    if not any(u.spoken for u in units):
        raise UsageError("nothing to say: the draft is empty")
    pipeline = Pipeline(draft.lang, draft.voice or None, draft.speed, backend, model)
    if engine is not None:
        pipeline._engine = engine
    gaps = pipeline.voice_gaps()  # takes end with the fixed pause; the voice's is put here
    for unit in units[start:]:
        if not unit.spoken:
            silence = round(unit.pause * SAMPLE_RATE)
            yield RenderedUnit(unit, np.zeros(silence, np.float32), SAMPLE_RATE,
                               piece=Piece(silence))  # fmt: skip
            continue
        take = take_for(draft, unit) if store is not None else None
        redo_it = unit.index in redo and not (take is not None and take.locked)
        warnings: tuple[str, ...]
        if take is not None and not redo_it and store is not None:
            audio, rate = store.audio(draft.name, take)
            made, warnings = False, ()
        else:
            audio, words, warnings = _synthesize(pipeline, unit.text)
            rate, made = SAMPLE_RATE, True
            key = take_key(unit.text, draft.lang, draft.voice, draft.speed)
            take = SentenceTake(key, unit.text, f"{key[:12]}-{_stamp()}.flac",
                                len(audio) / rate, words=words)  # fmt: skip
            if store is not None:
                draft = store.add_take(draft.name, take, audio, rate)
        shape = _shape_in_draft(units, unit, gaps, draft.speed)
        words = take.words
        if shape is not None:
            # The words move with the trim, as the pipeline moves a chunk's (what is cut from
            # the front is lost; nothing is placed past the end).
            audio, cut = shape.apply(audio, rate)
            words = _moved(words, cut, len(audio))
        piece = None
        if store is not None:
            piece = Piece(len(audio), store.takes_folder(draft.name) / take.file, shape)
        yield RenderedUnit(unit, audio, rate, take, made, warnings, words, piece)
    if gaps is None and sum(u.spoken for u in units) > 1:
        pipeline.measure_voice_later()  # for the renders after this one


def _shape_in_draft(units: list[Unit], unit: Unit, gaps: Gaps | None, speed: float) -> Shape | None:
    """How a sentence's take is trimmed in the draft (None: as it was made, by itself).

    Beside a pause tag the tag alone sets the silence (as in ``speak``'s plan). Before the next
    sentence the take's trailing silence is the pause ``speak`` leaves between two chunks: the
    voice's own with its recorded pauses (``tts.voice_pauses``), and a sentence's after a
    heading or a line without a mark. A take is made by itself, so the same take serves
    wherever its sentence stands."""
    from tui_speech.tts.silences import LEAD_IN, mark_after, pause_for

    before = unit.index + 1 < len(units) and units[unit.index + 1].kind == "pause"
    after = unit.index > 0 and units[unit.index - 1].kind == "pause"
    lead_in = 0.0 if after else LEAD_IN
    if before:
        return Shape(0.0, lead_in)
    if unit.index + 1 < len(units) and units[unit.index + 1].spoken:
        mark = mark_after(unit.text, ends_line=unit.ends_line)
        return Shape(pause_for(mark, gaps, speed), lead_in, fill=True)
    return Shape(60.0, 0.0) if after else None


def _moved(words: tuple[Any, ...], cut: int, length: int) -> tuple[Any, ...]:
    """Word timings of audio whose first ``cut`` samples were dropped, ``length`` kept."""

    def at(sample: int) -> int:
        return min(max(0, sample - cut), length)

    return tuple(dataclasses.replace(w, start=at(w.start), end=at(w.end)) for w in words)


def _synthesize(
    pipeline: Any, sentence: str
) -> tuple[np.ndarray, tuple[Any, ...], tuple[str, ...]]:
    """One sentence through the synthesis plan (cut only where the plan cuts a long one)."""
    import numpy as np

    pieces: list[np.ndarray] = []
    words: list[Any] = []
    warnings: list[str] = []
    offset = 0
    for chunk in pipeline(sentence):
        pieces.append(chunk.audio)
        for word in getattr(chunk, "words", ()):
            words.append(
                dataclasses.replace(word, start=word.start + offset, end=word.end + offset)
            )
        warnings.extend(w for w in chunk.warnings if w not in warnings)
        offset += len(chunk.audio)
    return np.concatenate(pieces).astype(np.float32), tuple(words), tuple(warnings)


_counter = iter(range(1 << 62))


def _stamp() -> str:
    import os
    import time

    return f"{time.time_ns():x}{os.getpid() % 4096:03x}{next(_counter)}"


def export(
    draft: Draft,
    path: Path,
    store: DraftStore | None = None,
    *,
    chapters: bool = False,
    progress: Callable[[int, int], None] | None = None,
    warn: Callable[[str], None] | None = None,
    **options: Any,
) -> list[Path]:
    """Render ``draft`` into ``path`` (format from its extension), or one file per chapter
    (``path`` with ``-01``, ``-02``… before the extension; text before the first heading is
    chapter 0). Streams unit by unit; returns the files written. ``progress(done, total)``
    counts spoken units; ``warn`` is told what G2P warned of, unit by unit."""
    from tui_speech.audio.writer import AudioFileWriter, check_writable

    check_writable(path)
    units = draft_units(draft.text)
    spoken = sum(1 for u in units if u.spoken)
    written: list[Path] = []
    writer: AudioFileWriter | None = None
    chapter: int | None = None
    done = 0
    try:
        for rendered in render(draft, store, **options):
            if writer is None or (chapters and rendered.unit.chapter != chapter):
                if writer is not None:
                    writer.close()
                    written.append(writer.path)
                chapter = rendered.unit.chapter
                target = _chapter_path(path, chapter) if chapters else path
                writer = AudioFileWriter(target, rendered.sample_rate)
            writer.write(rendered.audio)
            if warn is not None:
                for message in rendered.warnings:
                    warn(message)
            if rendered.unit.spoken:
                done += 1
                if progress is not None:
                    progress(done, spoken)
        if writer is not None:
            writer.close()
            written.append(writer.path)
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    return written


def _chapter_path(path: Path, chapter: int) -> Path:
    return path.with_name(f"{path.stem}-{chapter:02d}{path.suffix}")
