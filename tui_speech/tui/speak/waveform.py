"""A take's waveform with its word boundaries, and the word sounding while it plays.

Two lines: the waveform (one column per slice of the take, its peak as a block character, the
column where each word starts in ``$accent``), and the take's words with the sounding one
highlighted and those a proof-listen marked in ``$error``. The words and times come from
``tts.captions.Timeline`` (the same the CLI writes as captions); the position from the pane's
playback clock (``tui.player.PlayClock``).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import TYPE_CHECKING

from textual.content import Content
from textual.widget import Widget

if TYPE_CHECKING:
    import numpy as np

    from tui_speech.tts.captions import TimedWord

_BLOCKS = " ▁▂▃▄▅▆▇█"


def envelope(audio: np.ndarray, columns: int) -> list[int]:
    """The peak of each of ``columns`` equal slices of ``audio`` as a level 0..8 (relative to
    the take's loudest slice)."""
    import numpy as np

    if columns <= 0 or len(audio) == 0:
        return []
    edges = np.linspace(0, len(audio), columns + 1).astype(int)
    spans = zip(edges[:-1], edges[1:], strict=True)
    peaks = np.array([float(np.max(np.abs(audio[a:b]))) if b > a else 0.0 for a, b in spans])
    top = float(peaks.max()) or 1.0
    return [int(round(p / top * (len(_BLOCKS) - 1))) for p in peaks]


class TakeWaveform(Widget):
    """The waveform and words of one take; :meth:`show` a take, :meth:`set_position` as it
    plays (None: not playing), :meth:`set_marks` after a proof-listen."""

    DEFAULT_CSS = """
    TakeWaveform { height: 2; padding: 0 1; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.audio: np.ndarray | None = None
        self.rate = 1
        self.words: tuple[TimedWord, ...] = ()
        self.marked: frozenset[int] = frozenset()
        self.position: float | None = None

    def show(self, audio: np.ndarray | None, rate: int, words: Sequence[TimedWord]) -> None:
        self.audio, self.rate, self.words = audio, rate, tuple(words)
        self.marked, self.position = frozenset(), None
        self.refresh()

    def set_position(self, seconds: float | None) -> None:
        self.position = seconds
        self.refresh()

    def set_marks(self, marked: frozenset[int]) -> None:
        """Indices (into ``words``) of the words a proof-listen heard otherwise."""
        self.marked = marked
        self.refresh()

    @property
    def sounding(self) -> int | None:
        """Index of the word sounding at the current position (None between words)."""
        if self.position is None or not self.words:
            return None
        i = bisect.bisect_right([w.start for w in self.words], self.position) - 1
        return i if i >= 0 and self.position < self.words[i].end else None

    @property
    def duration(self) -> float:
        return 0.0 if self.audio is None else len(self.audio) / self.rate

    def render(self) -> Content:
        width = max(1, self.content_region.width or self.size.width)
        if self.audio is None or len(self.audio) == 0:
            return Content.styled("no take yet", "$text-muted")
        return Content("\n").join([self._wave_line(width), self.words_line(width)])

    def _column(self, seconds: float, width: int) -> int:
        return min(width - 1, max(0, int(seconds / max(self.duration, 1e-9) * width)))

    def _wave_line(self, width: int) -> Content:
        assert self.audio is not None  # render() checked
        levels = envelope(self.audio, width)
        starts = {self._column(w.start, width) for w in self.words}
        cursor = self._column(self.position, width) if self.position is not None else None
        parts: list[str | tuple[str, str]] = []
        for col, level in enumerate(levels):
            ch = _BLOCKS[level]
            if col == cursor:
                parts.append((ch if level else "│", "reverse"))
            elif col in starts:
                parts.append((ch if level else "╎", "$accent"))
            else:
                parts.append((ch, "$primary"))
        return Content.assemble(*parts)

    def words_line(self, width: int) -> Content:
        """The words, the sounding one highlighted, scrolled so it is in view."""
        sounding = self.sounding
        pieces: list[tuple[str, str]] = []
        for i, word in enumerate(self.words):
            style = "reverse $accent" if i == sounding else ""
            if i in self.marked:
                style = (style + " $error underline").strip()
            pieces.append((word.text, style))
            gap = word.tail if word.tail.strip() == "" else word.tail.strip() + " "
            pieces.append((gap or "", ""))
        line = Content.assemble(*pieces)
        if len(line.plain) <= width or sounding is None:
            return line[:width]
        at = sum(len(p[0]) for p in pieces[: 2 * sounding])
        start = max(0, min(at - width // 3, len(line.plain) - width))
        return line[start : start + width]
