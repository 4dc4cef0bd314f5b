"""Live sessions on disk: one JSONL file per session, and its audio as FLAC when recording.

``<sessions>/<id>.jsonl`` starts with a header line (``{"type": "session", "id", "started",
"model", "source"}``); every final is appended as ``{"type": "final", "text", "t0", "t1",
"chars": [...]}`` the moment it exists, flushed and fsynced, so a crash or ``kill -9`` loses
nothing already finalised (a torn last line from a kill mid-write is skipped on reading).
``<id>.flac`` holds the whole session's audio, silences included, so the times line up.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from tui_speech.asr.ctc import CharResult
from tui_speech.audio.rates import ASR_RATE as RATE
from tui_speech.errors import Action, UsageError


@dataclass(frozen=True)
class SessionInfo:
    """What ``sessions list`` shows about one session."""

    id: str
    path: Path
    started: str
    model: str
    source: str
    finals: tuple[dict[str, Any], ...]
    audio: Path | None

    @property
    def text(self) -> str:
        return "".join(f.get("text", "") for f in self.finals)

    @property
    def duration(self) -> float:
        return max((float(f.get("t1", 0.0)) for f in self.finals), default=0.0)


def new_session_id(folder: Path) -> str:
    """A sortable, readable id (UTC time), made unique within ``folder``."""
    base = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    sid, n = base, 1
    while (folder / f"{sid}.jsonl").exists():
        n += 1
        sid = f"{base}-{n}"
    return sid


class SessionWriter:
    """Appends finals (and audio, when ``record``) to a new session as they happen."""

    def __init__(
        self, folder: Path, model: str, source: str, record: bool = False, sid: str | None = None
    ) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.id = sid or new_session_id(folder)
        self.path = folder / f"{self.id}.jsonl"
        self._file: IO[str] = open(self.path, "x", encoding="utf-8")
        self._audio: Any = None
        self.finals = 0
        self.audio_path: Path | None = None
        if record:
            import soundfile as sf

            self.audio_path = folder / f"{self.id}.flac"
            self._audio = sf.SoundFile(
                str(self.audio_path), "w", RATE, 1, subtype="PCM_16", format="FLAC"
            )
        started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        head = {"type": "session", "id": self.id, "started": started, "model": model}
        head["source"] = source
        self._append(head)

    def _append(self, item: dict[str, Any]) -> None:
        self._file.write(json.dumps(item, ensure_ascii=False) + "\n")
        self._file.flush()
        # fsync: the line must reach the disk before we go on, not sit in the page cache.
        os.fsync(self._file.fileno())

    def add_final(self, text: str, t0: float, t1: float, chars: tuple[CharResult, ...]) -> None:
        from tui_speech.asr.formats import char_dict

        item = {"type": "final", "text": text, "t0": round(t0, 4), "t1": round(t1, 4)}
        item["chars"] = [char_dict(c) for c in chars]
        self._append(item)
        self.finals += 1

    def add_audio(self, samples: np.ndarray) -> None:
        if self._audio is not None and len(samples):
            self._audio.write(np.clip(samples, -1.0, 1.0))

    @property
    def kept(self) -> bool:
        """Whether the session stays on disk when closed: it heard something or recorded."""
        return self.finals > 0 or self.audio_path is not None

    def close(self, keep_empty: bool = False) -> None:
        """Close the files; a session that heard nothing and recorded nothing is removed."""
        if self._audio is not None:
            self._audio.close()
            self._audio = None
        if not self._file.closed:
            self._file.close()
            if not self.kept and not keep_empty:
                self.path.unlink(missing_ok=True)


def _read_lines(path: Path) -> Iterator[dict[str, Any]]:
    """The session's records, lazily; a torn last line (killed mid-write) is skipped."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                item = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(item, dict):
                yield item


def load_session(path: Path) -> SessionInfo:
    head: dict[str, Any] = {}
    finals = []
    for item in _read_lines(path):
        if item.get("type") == "session":
            head = item
        elif item.get("type") == "final":
            finals.append(item)
    audio = path.with_suffix(".flac")
    return SessionInfo(
        id=str(head.get("id", path.stem)),
        path=path,
        started=str(head.get("started", "")),
        model=str(head.get("model", "")),
        source=str(head.get("source", "")),
        finals=tuple(finals),
        audio=audio if audio.is_file() else None,
    )


def list_sessions(folder: Path) -> list[SessionInfo]:
    """Every session in ``folder``, oldest first."""
    if not folder.is_dir():
        return []
    return [load_session(p) for p in sorted(folder.glob("*.jsonl"))]


def find_session(folder: Path, sid: str) -> SessionInfo:
    """A session by id, or by a unique prefix of one; ``last`` is the newest."""
    sessions = list_sessions(folder)
    if sid == "last" and sessions:
        return sessions[-1]
    found = [s for s in sessions if s.id == sid] or [s for s in sessions if s.id.startswith(sid)]
    if len(found) == 1:
        return found[0]
    if not found:
        raise UsageError(f"no session {sid!r}", action=Action("list-sessions"))
    raise UsageError(f"{sid!r} matches {len(found)} sessions; give more of the id")


def delete_session(info: SessionInfo) -> list[Path]:
    """Remove a session: its JSONL and its recorded audio, if any; returns the files removed.

    A file already gone is not an error (another window may have deleted it first).
    """
    removed = []
    for path in (info.path, info.path.with_suffix(".flac")):
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise UsageError(f"cannot delete {path}: {exc.strerror}") from None
        removed.append(path)
    return removed


def final_chars(final: dict[str, Any]) -> list[CharResult]:
    """A stored final's characters, back as CharResults."""
    return [
        CharResult(
            str(c["char"]),
            float(c["t0"]),
            float(c["t1"]),
            float(c["confidence"]),
            float(c.get("min_confidence", c["confidence"])),
            tuple((str(a), float(p)) for a, p in c.get("alternatives", [])),
        )
        for c in final.get("chars", [])
    ]


def session_cues(info: SessionInfo) -> list[Any]:
    """Subtitle cues: one per utterance (the VAD already split at the pauses), long ones split
    at the usual length limits."""
    from tui_speech.asr.formats import split_cues

    return [c for f in info.finals for c in split_cues(final_chars(f), pause_s=float("inf"))]


def session_transcript(info: SessionInfo) -> Any:
    """The whole session as one Transcript (for the txt/json/jsonl writers)."""
    from tui_speech.asr.recognizer import Transcript

    chars: list[CharResult] = []
    for final in info.finals:
        if chars:  # utterances are separate sentences: keep them apart in the text
            last = chars[-1]
            chars.append(CharResult(" ", last.t1, last.t1, 1.0, 1.0))
        chars.extend(final_chars(final))
    return Transcript(
        text="".join(c.char for c in chars),
        chars=tuple(chars),
        duration=info.duration,
        model=info.model,
        source=str(info.audio or info.source),
    )
