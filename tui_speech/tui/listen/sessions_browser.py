"""Past sessions in the Listen pane.

- :class:`SessionsScreen`: the live sessions on disk (``tui_speech.asr.sessions``) as a table;
  enter reopens one in the Listen transcript, ``d`` deletes one (after a y/n), escape closes.
- :func:`load_session`: a transcript saved as JSON (``tui_speech.asr.formats.to_json``) read
  back with its confidences and alternatives, and the audio for replay when the source file is
  still where it was.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from tui_speech.errors import UsageError
from tui_speech.tui.errors import ReportsWorkerErrors
from tui_speech.tui.messages import ErrorRaised
from tui_speech.tui.prompt import ConfirmScreen

#: How many terminal cells of a session's text the table shows (a Han character takes two).
PREVIEW_CELLS = 24


def local_time(started: str) -> str:
    """``2025-01-02T03:04:05Z`` (as sessions store it) in local time, to the minute."""
    try:
        when = datetime.fromisoformat(started.replace("Z", "+00:00"))
    except ValueError:
        return started
    return when.astimezone().strftime("%Y-%m-%d %H:%M")


def preview(text: str, width: int = PREVIEW_CELLS) -> str:
    """The first words of ``text`` in at most ``width`` cells, with … when there is more."""
    from rich.cells import cell_len

    text = " ".join(text.split())
    if cell_len(text) <= width:
        return text
    out, used = "", 1  # room for the …
    for ch in text:
        used += cell_len(ch)
        if used > width:
            break
        out += ch
    return out + "…"


def session_row(info: Any) -> tuple[str, str, str, str, str]:
    """One table row for a ``tui_speech.asr.sessions.SessionInfo``."""
    minutes, seconds = divmod(round(info.duration), 60)
    return (
        info.id,
        local_time(info.started),
        f"{minutes}:{seconds:02d}",
        # ✎N: N utterances corrected (their text is shown as corrected).
        str(len(info.finals)) + (f" ✎{n}" if (n := getattr(info, "corrected", 0)) else ""),
        preview(info.text) or "(nothing heard)",
    )


class SessionsScreen(ReportsWorkerErrors, ModalScreen[Path | None]):
    """The saved live sessions, newest first; dismissed with the chosen session's file."""

    DEFAULT_CSS = """
    SessionsScreen { align: center middle; }
    SessionsScreen > Vertical {
        width: 100; max-width: 100%; height: 90%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    SessionsScreen DataTable { height: 1fr; }
    SessionsScreen .dialog-hint { color: $text-muted; }
    """
    BINDINGS = [
        Binding("enter", "open", "Open", priority=True),
        Binding("d", "delete", "Delete"),
        Binding("escape", "close", "Close"),
    ]

    @dataclass
    class Loaded(Message):
        sessions: list[Any]  # tui_speech.asr.sessions.SessionInfo, newest first

    def __init__(self) -> None:
        super().__init__()
        self.sessions: dict[str, Any] = {}

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Past sessions", id="sessions-title")
            yield DataTable(cursor_type="row", zebra_stripes=True, id="sessions-table")
            yield Static(
                "enter opens · d deletes · escape closes", classes="dialog-hint", markup=False
            )

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("id", "started", "length", "utt.", "text")
        table.focus()
        self._load()

    @work(thread=True, exclusive=True, group="sessions", exit_on_error=False)
    def _load(self) -> None:
        from tui_speech.asr.sessions import list_sessions
        from tui_speech.config import get_paths

        self.post_message(self.Loaded(list_sessions(get_paths().sessions)[::-1]))

    def on_sessions_screen_loaded(self, message: Loaded) -> None:
        from tui_speech.config import get_paths

        table = self.query_one(DataTable)
        table.clear()
        self.sessions = {info.id: info for info in message.sessions}
        for info in message.sessions:
            table.add_row(*session_row(info), key=info.id)
        title = self.query_one("#sessions-title", Static)
        if message.sessions:
            title.update(f"Past sessions ({len(message.sessions)}), newest first")
        else:
            title.update(
                f"No sessions yet in {get_paths().sessions}: F8 or F5 listens live, and "
                "every sentence heard is saved"
            )

    def _current(self) -> Any:
        table = self.query_one(DataTable)
        if not self.sessions or table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        return self.sessions.get(str(key.value))

    def action_open(self) -> None:
        info = self._current()
        if info is not None:
            self.dismiss(info.path)

    def action_close(self) -> None:
        self.dismiss(None)

    def action_delete(self) -> None:
        info = self._current()
        if info is None:
            return
        audio = " and its audio" if info.audio is not None else ""
        question = (
            f"Delete session {info.id} ({len(info.finals)} utterances{audio})? "
            f"“{preview(info.text, 40)}”"
        )

        def answer(yes: bool | None) -> None:
            if yes:
                self._delete(info)

        self.app.push_screen(ConfirmScreen(question), answer)

    def _delete(self, info: Any) -> None:
        from tui_speech.asr.sessions import delete_session

        try:
            delete_session(info)
        except UsageError as exc:
            self.post_message(ErrorRaised(exc, "delete session"))
            return
        self.query_one(DataTable).remove_row(info.id)
        del self.sessions[info.id]
        self.notify(f"deleted session {info.id}", markup=False)


def transcript_from_json(text: str, where: str = "the file") -> Any:
    """A ``Transcript`` from the JSON the app exports; UsageError for anything else."""
    from tui_speech.asr.recognizer import Transcript
    from tui_speech.asr.sessions import final_chars

    try:
        data = json.loads(text)
        # The same character records as a session's finals: one parser for both.
        chars = tuple(final_chars({"chars": data["chars"]}))
        return Transcript(
            text=str(data.get("text", "".join(c.char for c in chars))),
            chars=chars,
            duration=float(data.get("duration", chars[-1].t1 if chars else 0.0)),
            model=str(data.get("model", "")),
            language=str(data.get("language", "zh-CN")),
            source=str(data.get("source", "")),
        )
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        raise UsageError(
            f"{where} is not a transcript saved by tui-speech (JSON with chars): {exc}"
        ) from None


def load_session(path: Path) -> tuple[Any, Any]:
    """(transcript, 16 kHz samples or None when the source audio is gone)."""
    from tui_speech.audio.reader import read_audio

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    transcript = transcript_from_json(text, str(path))
    source = Path(transcript.source) if transcript.source else None
    samples = read_audio(source) if source is not None and source.is_file() else None
    return transcript, samples
