"""The takes of this session: every synthesis result, kept until the app closes.

A short take keeps its audio in memory. A long one (a whole chapter rendered with F6) keeps
only where its audio is: the draft's sentence takes, already saved one file each
(``tts.draft_render.Piece``), read back one at a time as it plays or is saved, and a coarse
envelope for its waveform; so rendering a long draft stays bounded in memory.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from tui_speech.tts.captions import Timeline

if TYPE_CHECKING:
    import numpy as np

    from tui_speech.tts.captions import TimedWord
    from tui_speech.tts.draft_render import Piece
    from tui_speech.tts.durations import WordTiming

#: Seconds of audio a take keeps in memory (5.8 MB); a longer one is read from its pieces.
IN_MEMORY_S = 60.0
#: A long take's waveform: the peak of every 1/PEAK_RATE s of it (10 ms).
PEAK_RATE = 100


@dataclass(frozen=True)
class Take:
    number: int
    text: str
    lang: str
    voice: str
    speed: float
    #: float32 mono; None for a long take, whose audio is read from ``pieces``.
    audio: np.ndarray | None
    sample_rate: int
    #: When each word sounds (``tts.captions.TimedWord``): the waveform's marks, the highlight.
    words: tuple[TimedWord, ...] = ()
    #: A long take's audio, in order (``tts.draft_render.Piece``: a sentence take's file, or a
    #: pause).
    pieces: tuple[Piece, ...] = ()
    #: A long take's envelope, PEAK_RATE peaks a second: what its waveform draws.
    peaks: np.ndarray | None = None

    @property
    def samples(self) -> int:
        if self.audio is not None:
            return len(self.audio)
        return sum(p.samples for p in self.pieces)

    @property
    def duration(self) -> float:
        return self.samples / self.sample_rate

    @property
    def picture(self) -> tuple[np.ndarray | None, int]:
        """What the waveform draws, and its rate: the audio, or a long take's peaks."""
        if self.audio is not None:
            return self.audio, self.sample_rate
        return self.peaks, PEAK_RATE

    def chunks(self) -> Iterator[np.ndarray]:
        """The take's audio in order: all of it, or a long take's pieces read one at a time
        (lazy: a piece is read when asked for)."""
        if self.audio is not None:
            yield self.audio
            return
        for piece in self.pieces:
            yield piece.read()

    def whole(self) -> np.ndarray:
        """All the audio in one array (for a long take, read back: it is that long)."""
        import numpy as np

        if self.audio is not None:
            return self.audio
        return np.concatenate([np.zeros(0, np.float32), *self.chunks()])

    def label(self, width: int = 40) -> str:
        snippet = " ".join(self.text.split())
        if len(snippet) > width:
            snippet = snippet[: width - 1] + "…"
        return f"#{self.number} {self.duration:4.1f}s {self.voice} · {snippet}"


class TakeBuilder:
    """A take added up from a draft's rendered units as they come: their words on one
    timeline; their audio kept while the take is short (up to IN_MEMORY_S), else only their
    pieces and the take's peaks, so memory stays bounded however long the draft is."""

    def __init__(self, sample_rate: int) -> None:
        import numpy as np

        self.rate = sample_rate
        self.timeline = Timeline()
        self._chunks: list[np.ndarray] | None = []  # None: the take is long, pieces hold it
        self._pieces: list[Piece] | None = []  # None: a unit cannot be read back
        self._peaks: list[np.ndarray] = []
        self._rest = np.zeros(0, np.float32)  # samples short of a whole peak block
        self.samples = 0

    def add(
        self,
        audio: np.ndarray,
        rate: int,
        words: Sequence[WordTiming] = (),
        piece: Piece | None = None,
    ) -> None:
        import numpy as np

        self.rate = rate
        self.timeline.add_audio(words, len(audio), rate)
        self.samples += len(audio)
        if piece is None:  # nowhere to read it back from: the audio stays in memory
            self._pieces = None
        elif self._pieces is not None:
            self._pieces.append(piece)
        # Peaks over the take, not per piece, so no block straddles two pieces unevenly.
        block = max(1, rate // PEAK_RATE)
        joined = np.concatenate([self._rest, np.abs(audio).astype(np.float32)])
        whole = len(joined) // block * block
        if whole:
            self._peaks.append(joined[:whole].reshape(-1, block).max(axis=1))
        self._rest = joined[whole:]
        if self._chunks is not None:
            self._chunks.append(audio)
            if self.samples > IN_MEMORY_S * rate and self._pieces is not None:
                self._chunks = None

    def take(self, text: str, lang: str, voice: str, speed: float) -> Take:
        import numpy as np

        words = tuple(self.timeline.words)
        if self._chunks is not None:
            audio = np.concatenate(self._chunks).astype(np.float32)
            return Take(0, text, lang, voice, speed, audio, self.rate, words)
        tail = [self._rest.max(keepdims=True)] if len(self._rest) else []
        peaks = np.concatenate([*self._peaks, *tail]).astype(np.float32)
        pieces = tuple(self._pieces or ())
        return Take(0, text, lang, voice, speed, None, self.rate, words, pieces, peaks)


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
