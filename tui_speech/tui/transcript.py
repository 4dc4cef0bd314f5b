"""The transcript view: every character coloured by the model's confidence, with review keys.

Colours come from the theme's confidence scale (``$confidence-0`` .. ``$confidence-4``);
characters below the threshold are also bold and underlined, so they stand out without colour
too. A cursor moves over characters; ``n``/``p`` jump to the next/previous doubtful one and the
line below shows its confidence, time span, alternatives and pinyin. Shift+arrows select a run;
enter asks for a correction of the character or run (the Listen pane opens the editor).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Static

from tui_speech.asr.confidence import bucket

THRESHOLD_STEP = 0.05
#: Replay starts this long before the character, so the ear catches the context.
REPLAY_LEAD_S = 0.5
REPLAY_TAIL_S = 0.2


@cache
def pinyin_of(char: str) -> str:
    """Tone-marked pinyin of one Han character ('' for others or without pypinyin)."""
    if not ("\u3400" <= char <= "\u9fff"):
        return ""
    try:
        from pypinyin import Style, pinyin
    except ImportError:
        return ""
    return " / ".join(pinyin(char, style=Style.TONE, heteronym=True)[0][:3])


def render_written(
    spans: tuple[Any, ...], threshold: float, lo: int | None, hi: int | None
) -> Content:
    """Written spans (``asr.written.Span``): each coloured by the lowest confidence of what was
    heard in it; inserted marks, which nobody heard, muted; a span reversed when a heard
    character of it is in the cursor's run [lo, hi]."""
    parts: list[str | tuple[str, str]] = []
    for s in spans:
        if s.confidence is None:
            parts.append((s.text, "$text-muted"))
            continue
        style = f"$confidence-{bucket(s.confidence)}"
        if s.confidence < threshold:
            style += " bold underline"
        if lo is not None and hi is not None and any(lo <= i <= hi for i in s.heard):
            style += " reverse"
        parts.append((s.text, style))
    return Content.assemble(*parts)


def render_chars(
    chars: tuple[Any, ...],
    threshold: float,
    cursor: int | None,
    selected: tuple[int, int] | None = None,
    written: Any = None,
) -> Content:
    """``selected``: a run (first, last index) shown reversed like the cursor; ``written``:
    the characters' written form (``asr.written.Written``), shown instead of them."""
    lo, hi = selected if selected is not None else (cursor, cursor)
    if written is not None:
        return render_written(written.spans, threshold, lo, hi)
    parts: list[str | tuple[str, str]] = []
    for i, c in enumerate(chars):
        style = f"$confidence-{bucket(c.confidence)}"
        if c.confidence < threshold:
            style += " bold underline"
        if lo is not None and hi is not None and lo <= i <= hi:
            style += " reverse"
        parts.append((c.char, style))
    return Content.assemble(*parts)


def render_partial(chars: tuple[Any, ...], committed: int, threshold: float) -> Content:
    """A partial hypothesis: the committed prefix coloured, the changeable tail dimmed."""
    tail = "".join(c.char for c in chars[committed:])
    return render_chars(chars[:committed], threshold, None) + Content.styled(tail, "$text-muted")


def replay_span(chars: tuple[Any, ...], index: int) -> tuple[float, float]:
    """From just before character ``index`` to the end of its utterance (the cue it is in)."""
    from tui_speech.asr.formats import split_cues

    char = chars[index]
    end = char.t1
    for cue in split_cues(chars):
        if cue.start <= char.t0 <= cue.end:
            end = cue.end
            break
    return max(0.0, char.t0 - REPLAY_LEAD_S), end + REPLAY_TAIL_S


def describe_char(c: Any) -> str:
    alternatives = ", ".join(f"{a} {p:.0%}" for a, p in c.alternatives) or "none"
    reading = pinyin_of(c.char)
    return (
        f"“{c.char}” {c.confidence:.0%} (min {c.min_confidence:.0%}) · "
        f"{c.t0:.2f}–{c.t1:.2f} s · alternatives: {alternatives}"
        + (f" · pinyin {reading}" if reading else "")
    )


class TranscriptView(VerticalScroll, can_focus=True):
    """Shows a ``tui_speech.asr.recognizer.Transcript`` and lets the user review it."""

    HELP_TITLE = "Transcript"
    DEFAULT_CSS = """
    TranscriptView { border: round $panel-lighten-2; padding: 0 1; height: 1fr; }
    TranscriptView:focus { border: round $primary; }
    TranscriptView > .transcript-detail { color: $text-muted; margin-top: 1; }
    """
    BINDINGS = [
        Binding("left", "move(-1)", "Previous character", show=False),
        Binding("right", "move(1)", "Next character", show=False),
        Binding("shift+left", "select(-1)", "Select left", show=False),
        Binding("shift+right", "select(1)", "Select right", show=False),
        Binding("n", "jump(1)", "Next doubtful"),
        Binding("p", "jump(-1)", "Previous doubtful"),
        Binding("space", "replay", "Replay"),
        Binding("enter", "edit", "Correct"),
        Binding("plus,equals_sign", "threshold(1)", "Threshold +", show=False),
        Binding("minus", "threshold(-1)", "Threshold −", show=False),
    ]

    @dataclass
    class ReplayRequested(Message):
        index: int

    @dataclass
    class EditRequested(Message):
        first: int  # the character, or the first and last of the selected run
        last: int

    threshold: reactive[float] = reactive(0.6, init=False)
    cursor: reactive[int | None] = reactive(None, init=False)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.chars: tuple[Any, ...] = ()
        #: The characters as written (``asr.written.Written``: marks, digits, script); None:
        #: shown as heard. The cursor still moves over the heard characters.
        self.written: Any = None
        self._written_to = 0  # the characters ``written`` covers: chars[:_written_to]
        self._partial: tuple[Any, ...] = ()
        self._committed = 0
        #: Where a shift+arrow selection started (the cursor is its other end); None: none.
        self.select_from: int | None = None

    def compose(self) -> ComposeResult:
        yield Static("", classes="transcript-text")
        yield Static("", classes="transcript-detail")

    def show(self, chars: tuple[Any, ...], written: Any = None) -> None:
        self.chars = chars
        self.written = written
        self._written_to = len(chars) if written is not None else 0
        self._partial = ()
        self.select_from = None
        doubtful = self._doubtful()
        self.cursor = doubtful[0] if doubtful else (0 if chars else None)
        self._refresh()

    def add_final(self, chars: tuple[Any, ...]) -> None:
        """A finished utterance (live): its characters join the transcript for good (shown as
        heard until :meth:`add_written` gives their written form)."""
        self.chars = self.chars + tuple(chars)
        self._partial = ()
        self.cursor = None  # review starts when listening ends
        self._refresh()
        self.scroll_end(animate=False)

    def add_written(self, written: Any, count: int) -> None:
        """The written form of the final just added (its ``count`` characters)."""
        first = len(self.chars) - count
        if first != self._written_to:  # an earlier final has none: this one is shown as heard
            return
        before = self.written.spans if self.written is not None else ()
        self.written = type(written)(before + written.shifted(first).spans)
        self._written_to = len(self.chars)
        self._refresh()

    def show_partial(self, chars: tuple[Any, ...], committed: int) -> None:
        """The utterance being heard: its first ``committed`` characters will not change any
        more and are coloured; the tail may still change and is dimmed."""
        self._partial = tuple(chars)
        self._committed = committed
        self._refresh()
        self.scroll_end(animate=False)

    def _doubtful(self) -> list[int]:
        return [
            i for i, c in enumerate(self.chars) if c.confidence < self.threshold and c.char.strip()
        ]

    def _refresh(self) -> None:
        text = render_chars(self.chars, self.threshold, self.cursor, self.selection, self.written)
        if self.written is not None and self._written_to < len(self.chars):
            rest = self.chars[self._written_to :]  # finals that came without a written form
            text = text + render_chars(rest, self.threshold, None)
        if self._partial:
            text = text + render_partial(self._partial, self._committed, self.threshold)
        self.query_one(".transcript-text", Static).update(text)
        detail = ""
        if self.cursor is not None and self.chars:
            detail = describe_char(self.chars[self.cursor])
        flagged = len(self._doubtful())
        summary = f"{flagged} below {self.threshold:.0%} (n/p jump, +/- threshold)"
        self.query_one(".transcript-detail", Static).update(
            f"{detail}\n{summary}" if detail else summary
        )

    def watch_cursor(self) -> None:
        self._refresh()

    def watch_threshold(self) -> None:
        self._refresh()

    @property
    def selection(self) -> tuple[int, int] | None:
        """The selected run (first, last index), or None when only the cursor is set."""
        if self.select_from is None or self.cursor is None:
            return None
        return min(self.select_from, self.cursor), max(self.select_from, self.cursor)

    def action_select(self, step: int) -> None:
        if self.chars:
            if self.select_from is None:
                self.select_from = self.cursor or 0
            current = self.cursor or 0
            self.cursor = max(0, min(len(self.chars) - 1, current + step))

    def action_edit(self) -> None:
        if self.cursor is not None and self.chars:
            first, last = self.selection or (self.cursor, self.cursor)
            self.post_message(self.EditRequested(first, last))

    def action_move(self, step: int) -> None:
        if self.select_from is not None:  # a plain arrow ends the selection
            self.select_from = None
            self._refresh()
        if self.chars:
            current = self.cursor or 0
            self.cursor = max(0, min(len(self.chars) - 1, current + step))

    def action_jump(self, direction: int) -> None:
        doubtful = self._doubtful()
        if not doubtful:
            self.notify("no character below the threshold", markup=False)
            return
        current = self.cursor if self.cursor is not None else -1
        if direction > 0:
            after = [i for i in doubtful if i > current]
            self.cursor = after[0] if after else doubtful[0]  # wrap around
        else:
            before = [i for i in doubtful if i < current]
            self.cursor = before[-1] if before else doubtful[-1]

    def action_threshold(self, step: int) -> None:
        self.threshold = round(min(1.0, max(0.0, self.threshold + step * THRESHOLD_STEP)), 2)

    def action_replay(self) -> None:
        if self.cursor is not None and self.chars:
            self.post_message(self.ReplayRequested(self.cursor))
