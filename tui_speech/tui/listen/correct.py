"""Correcting a session in the Listen pane: the editor, and what it does to the session file.

Enter on a character (or a shift+arrow run) of a saved session opens :class:`CorrectScreen`:
the run in its utterance, the CTC alternatives first (the run with one character swapped for
an alternative the model weighed, most likely first), then free text. What the user picks is
written into the session file by :func:`tui_speech.asr.corrections.correct` (atomically,
beside what was heard) and the transcript is shown again as written; ctrl+z undoes the last
correction. :class:`Corrector` is the pane's side of it, so the pane only wires keys to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from tui_speech.errors import UsageError
from tui_speech.tui.messages import ErrorRaised
from tui_speech.tui.prompt import DIALOG_CSS
from tui_speech.tui.transcript import TranscriptView

if TYPE_CHECKING:  # numpy comes with the session module: not at start-up
    from tui_speech.asr.sessions import Correction, SessionInfo

#: How many alternatives the editor lists.
MAX_OPTIONS = 8


def alternatives(heard: list[Any], current: str) -> list[tuple[str, str]]:
    """(text, label) options for a run of heard characters now written as ``current``: what
    was heard (when the run is corrected), then the run with one character replaced by one of
    its CTC alternatives, most probable first."""
    said = "".join(c.char for c in heard)
    options: list[tuple[str, str]] = []
    if said != current:
        options.append((said, f"{said}   as heard"))
    swaps = []
    for i, c in enumerate(heard):
        for alt, p in c.alternatives:
            if alt.strip():
                swaps.append((p, said[:i] + alt + said[i + 1 :]))
    for p, text in sorted(swaps, key=lambda s: -s[0]):
        if text != current and all(text != t for t, _ in options):
            options.append((text, f"{text}   {p:.0%}"))
    return options[:MAX_OPTIONS]


@dataclass(frozen=True)
class Run:
    """The heard characters a selection stands for, in one utterance of a session."""

    final: int
    start: int
    end: int
    before: str  # the utterance as written, around the run
    current: str
    after: str
    heard: tuple[Any, ...]  # CharResults of heard characters start..end


def _key(c: Any) -> tuple[str, float, float]:
    # Stored times are rounded (formats.char_dict); live ones are not: compare at 1 ms.
    return c.char, round(float(c.t0), 3), round(float(c.t1), 3)


def find_run(chars: tuple[Any, ...], info: SessionInfo) -> Run:
    """The run of ``info``'s heard characters that the shown ``chars`` stand for.

    Shown characters are matched to the session's by character and time, so this holds
    however the face laid them out (spaces between utterances, marks it inserted, which have
    no heard characters and are left out of the run).
    """
    from tui_speech.asr.sessions import final_chars, session_chars, written_chars

    origin = {_key(c): o for c, o in session_chars(info) if o is not None}
    found = [o for o in (origin.get(_key(c)) for c in chars) if o is not None]
    if not found:
        raise UsageError("nothing the model heard is here to correct")
    if len({o[0] for o in found}) > 1:
        raise UsageError("a correction stays within one utterance; select less")
    final = found[0][0]
    start, end = min(o[1] for o in found), max(o[2] for o in found)
    record = info.finals[final]
    written = written_chars(record)
    return Run(
        final,
        start,
        end,
        before="".join(c.char for c, _, e in written if e <= start),
        current="".join(c.char for c, s, e in written if s >= start and e <= end),
        after="".join(c.char for c, s, _ in written if s >= end),
        heard=tuple(final_chars(record)[start:end]),
    )


class CorrectScreen(ModalScreen[str | None]):
    """The editor: alternatives first, then free text; dismissed with the new text, or None."""

    DEFAULT_CSS = (
        DIALOG_CSS.format(name="CorrectScreen")
        + """
    CorrectScreen OptionList { height: auto; max-height: 10; }
    CorrectScreen #correct-context { margin-bottom: 1; }
    """
    )
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, run: Run) -> None:
        super().__init__()
        self.run = run
        self.options = alternatives(list(run.heard), run.current)

    def compose(self) -> ComposeResult:
        from textual.content import Content

        run = self.run
        heard = "".join(c.char for c in run.heard)
        with Vertical():
            yield Static(
                Content.assemble(
                    "Correct ",
                    (run.current or "∅", "reverse"),
                    f"  (heard “{heard}”) in: ",
                    run.before,
                    (run.current, "bold underline"),
                    run.after,
                ),  # fmt: skip
                id="correct-context",
            )
            if self.options:
                yield OptionList(*(Option(label) for _, label in self.options))
            yield Input(run.current, placeholder="the text (empty deletes the run)")
            yield Static(
                "↑↓ enter picks an alternative · tab types · escape cancels"
                if self.options
                else "enter confirms (empty deletes) · escape cancels",
                classes="dialog-hint",
                markup=False,
            )

    def on_mount(self) -> None:
        # The alternatives first: most fixes are one of the characters the model weighed.
        if self.options:
            self.query_one(OptionList).focus()
        else:
            self.query_one(Input).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.options[event.option_index][0])

    def on_input_submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        self.dismiss(None if text == self.run.current else text)

    def action_cancel(self) -> None:
        self.dismiss(None)


@dataclass(frozen=True)
class Done:
    """One correction made here, and what undoes it."""

    path: Path
    final: int
    before: tuple[Correction, ...]
    at: float  # where the run starts (s): the cursor goes back there


class Corrector:
    """The Listen pane's corrections: opens the editor, writes the file, undoes."""

    def __init__(self, pane: Any) -> None:
        self.pane = pane
        self.done: list[Done] = []

    def _fail(self, problem: UsageError) -> None:
        self.pane.post_message(ErrorRaised(problem, "correct"))

    def _session(self) -> SessionInfo:
        from tui_speech.asr.sessions import load_session
        from tui_speech.config import get_paths

        if any(w.group == "transcribe" and w.is_running for w in self.pane.workers):
            raise UsageError("stop first (F7): corrections go into the session once it is saved")
        sid = self.pane.session
        if sid is None:
            raise UsageError(
                "only a saved session can be corrected: this transcript is not one",
                "listen live (F8, F5) or reopen a session (F9)",
            )
        path = get_paths().sessions / f"{sid}.jsonl"
        if not path.is_file():
            raise UsageError(f"session {sid} is gone (deleted?)")
        return load_session(path)

    def edit(self, first: int, last: int) -> None:
        """Open the editor on shown characters ``first``..``last``."""
        view = self.pane.query_one(TranscriptView)
        try:
            info = self._session()
            run = find_run(view.chars[first : last + 1], info)
        except UsageError as exc:
            self._fail(exc)
            return

        def write(text: str | None) -> None:
            if text is None or text == run.current:
                return
            from tui_speech.asr.corrections import correct

            try:
                before = correct(info.path, run.final, run.start, run.end, text)
            except UsageError as exc:
                self._fail(exc)
                return
            self.done.append(Done(info.path, run.final, before, run.heard[0].t0))
            self._show(info.path, run.final, run.heard[0].t0)
            heard = "".join(c.char for c in run.heard)
            self.pane.notify(f"corrected “{heard}” → “{text}” · ctrl+z undoes", markup=False)

        self.pane.app.push_screen(CorrectScreen(run), write)

    def undo(self) -> None:
        """Put back the corrections the last edit made here replaced."""
        from tui_speech.asr.corrections import set_corrections

        if not self.done:
            self.pane.notify("no correction to undo", markup=False)
            return
        last = self.done[-1]
        try:
            set_corrections(last.path, last.final, last.before)
        except UsageError as exc:
            self._fail(exc)
            return
        self.done.pop()
        self._show(last.path, last.final, last.at)
        self.pane.notify(f"correction undone (session {last.path.stem})", markup=False)

    def _show(self, path: Path, final: int, at: float) -> None:
        """The session again, as written now (the pane's punctuation, numbers and script; read
        in a worker: the pauses are measured in the recording), the cursor back on the run."""

        def work() -> None:
            from tui_speech.asr.sessions import load_session, session_chars
            from tui_speech.asr.written import AS_HEARD, WrittenOptions, write_session
            from tui_speech.config import load_listen_settings

            info = load_session(path)
            try:
                options = WrittenOptions.of(load_listen_settings())
            except UsageError:
                options = AS_HEARD  # a broken listen.toml is reported when listening starts
            transcript, written, _ = write_session(info, options)
            cursor = next(
                (
                    i
                    for i, (c, origin) in enumerate(session_chars(info))
                    if origin is not None and origin[0] == final and c.t1 > at
                ),
                None,
            )
            self.pane.app.call_from_thread(self._shown, info.id, transcript, written, cursor)

        self.pane.run_worker(work, thread=True, group="correct", exit_on_error=False)

    def _shown(self, sid: str, transcript: Any, written: Any, cursor: int | None) -> None:
        pane = self.pane
        if pane.session != sid:
            return  # the pane moved on to another transcript meanwhile
        # The pane's own way of showing a transcript: the view, the status line, export.
        pane.on_listen_pane_transcribed(
            pane.Transcribed(transcript, pane._samples, sid, written)  # the same audio
        )
        if cursor is not None:
            pane.query_one(TranscriptView).cursor = cursor
