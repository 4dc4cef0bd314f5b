"""Live sessions on disk: one JSONL file per session, and its audio as FLAC when recording.

``<sessions>/<id>.jsonl`` starts with a header line (``{"type": "session", "id", "started",
"model", "source"}``); every final is appended as ``{"type": "final", "text", "t0", "t1",
"chars": [...]}`` the moment it exists, flushed and fsynced, so a crash or ``kill -9`` loses
nothing already finalised (a torn last line from a kill mid-write is skipped on reading).
``<id>.flac`` holds the whole session's audio, silences included, so the times line up.

A final may also carry ``"corrections": [{"start", "end", "text"}, ...]``: what the user wrote
over a run ``[start, end)`` of its heard ``chars`` (see :class:`Correction`). The heard
characters are never changed; what a session *says* (its text, transcript, cues) is the heard
characters with the corrections applied. :mod:`tui_speech.asr.corrections` writes them.
An export keeps both (:func:`session_heard`): the heard characters as heard, the corrections
in the written form (``asr.written.export_session``).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from tui_speech.asr.ctc import CharResult
from tui_speech.audio.rates import ASR_RATE as RATE
from tui_speech.errors import Action, UsageError

#: The confidence of a character the user wrote: a person checked it.
WRITTEN_CONFIDENCE = 1.0


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
        """What the session says: the heard text with the user's corrections applied."""
        return "".join(final_text(f) for f in self.finals)

    @property
    def corrected(self) -> int:
        """How many of its utterances the user corrected."""
        return sum(1 for f in self.finals if final_corrections(f))

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
        # Held while recording: corrections rewrite the file, which must not happen under a
        # writer still appending to it (see tui_speech.asr.corrections).
        lock_session(self._file.fileno())
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


def lock_session(fd: int) -> bool:
    """Take the session file's exclusive lock without waiting; False when another holds it.

    Where there is no ``fcntl`` (Windows) nothing is locked and this says True.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError:  # a file system without locks (some network mounts): go on unlocked
        return True
    return True


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


def _age(path: Path) -> tuple[str, int]:
    """The order sessions were started in: by id, and a second session started in the same
    second (``…-2``, see :func:`new_session_id`) after the first (as text it sorts before)."""
    base, _, n = path.stem.rpartition("-")
    if base and n.isdigit() and len(n) < 6:  # 20250101-090000-2, not the time of 20250101-090000
        return base, int(n)
    return path.stem, 1


def list_sessions(folder: Path) -> list[SessionInfo]:
    """Every session in ``folder``, oldest first."""
    if not folder.is_dir():
        return []
    return [load_session(p) for p in sorted(folder.glob("*.jsonl"), key=_age)]


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


@dataclass(frozen=True)
class Correction:
    """The user's text for the heard characters ``start`` to ``end`` (exclusive) of one final;
    ``text`` may be empty (the run is deleted) or longer than the run."""

    start: int
    end: int
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "text": self.text}


def final_corrections(final: dict[str, Any]) -> tuple[Correction, ...]:
    """A stored final's corrections, in order; malformed or overlapping ones are left out (a
    hand-edited file must not break reading the session)."""
    n = len(final.get("chars", []))
    found: list[Correction] = []
    for item in final.get("corrections", []):
        try:
            c = Correction(int(item["start"]), int(item["end"]), str(item["text"]))
        except (KeyError, TypeError, ValueError):
            continue
        if 0 <= c.start < c.end <= n:
            found.append(c)
    found.sort(key=lambda c: c.start)
    out: list[Correction] = []
    for c in found:
        if not out or c.start >= out[-1].end:
            out.append(c)
    return tuple(out)


def written_run(text: str, heard: list[CharResult]) -> list[CharResult]:
    """``text`` as characters over the time of the ``heard`` run they replace, shared evenly
    (the times stay the audio's: replay, subtitles and dataset slices still line up)."""
    t0, t1 = heard[0].t0, heard[-1].t1
    step = (t1 - t0) / max(len(text), 1)
    conf = WRITTEN_CONFIDENCE
    return [
        CharResult(ch, t0 + i * step, t0 + (i + 1) * step, conf, conf) for i, ch in enumerate(text)
    ]


def written_chars(final: dict[str, Any]) -> list[tuple[CharResult, int, int]]:
    """A final as written: each character with the run ``[start, end)`` of heard characters it
    stands for (one heard character, or the whole run a correction replaced)."""
    heard = final_chars(final)
    out: list[tuple[CharResult, int, int]] = []
    i = 0
    for c in final_corrections(final):
        out.extend((ch, j, j + 1) for j, ch in enumerate(heard[i : c.start], start=i))
        out.extend((ch, c.start, c.end) for ch in written_run(c.text, heard[c.start : c.end]))
        i = c.end
    out.extend((ch, j, j + 1) for j, ch in enumerate(heard[i:], start=i))
    return out


def final_text(final: dict[str, Any]) -> str:
    """A final's text as written (the heard ``text`` when it has no corrections)."""
    if not final_corrections(final):
        return str(final.get("text", ""))
    return "".join(c.char for c, _, _ in written_chars(final))


#: Where a character of :func:`session_transcript` comes from: (final index, first heard
#: character, one past the last), or None for the space between two utterances.
Origin = tuple[int, int, int] | None


def session_chars(info: SessionInfo) -> list[tuple[CharResult, Origin]]:
    """The session as written, character by character, with where each came from."""
    out: list[tuple[CharResult, Origin]] = []
    for n, final in enumerate(info.finals):
        if out:  # utterances are separate sentences: keep them apart in the text
            last = out[-1][0]
            out.append((CharResult(" ", last.t1, last.t1, 1.0, 1.0), None))
        out.extend((c, (n, start, end)) for c, start, end in written_chars(final))
    return out


@dataclass(frozen=True)
class HeardSession:
    """A session as the model heard it, and where each character of :func:`session_chars` (the
    session as written) comes from in it."""

    chars: tuple[CharResult, ...]
    """Every final's heard characters, with their confidences and times, a space between two
    utterances (as :func:`session_chars` has one)."""
    utterances: tuple[tuple[int, int], ...]
    """Each final's characters (one with any) as a range of ``chars``."""
    sources: tuple[tuple[tuple[int, ...], bool], ...]
    """Per character of :func:`session_chars`: the indices into ``chars`` it stands for (a
    correction's characters: the whole run it replaced) and whether the user wrote it."""
    deleted: tuple[tuple[int, int], ...]
    """Runs of ``chars`` the user corrected to nothing: no written character stands for them."""


def session_heard(info: SessionInfo) -> HeardSession:
    """The session as heard beside the session as written (see :class:`HeardSession`)."""
    chars: list[CharResult] = []
    starts: list[int] = []  # where each final's characters begin in ``chars``
    utterances: list[tuple[int, int]] = []
    corrected: set[Origin] = set()
    deleted: list[tuple[int, int]] = []
    for n, final in enumerate(info.finals):
        heard = final_chars(final)
        if chars and heard:  # the space session_chars puts between two utterances
            chars.append(CharResult(" ", chars[-1].t1, chars[-1].t1, 1.0, 1.0))
        start = len(chars)
        starts.append(start)
        chars.extend(heard)
        if heard:
            utterances.append((start, len(chars)))
        for c in final_corrections(final):
            corrected.add((n, c.start, c.end))
            if not c.text:
                deleted.append((start + c.start, start + c.end))
    written = [o for _, o in session_chars(info)]
    sources: list[tuple[tuple[int, ...], bool]] = []
    for i, origin in enumerate(written):
        if origin is None:
            # The space between two utterances: the heard one before the next utterance.
            later = (written[k] for k in range(i + 1, len(written)))
            after = next((o for o in later if o is not None), None)
            sources.append(((starts[after[0]] - 1,) if after else (), False))
            continue
        n, a, b = origin
        sources.append((tuple(range(starts[n] + a, starts[n] + b)), origin in corrected))
    return HeardSession(tuple(chars), tuple(utterances), tuple(sources), tuple(deleted))


def session_cues(info: SessionInfo) -> list[Any]:
    """Subtitle cues: one per utterance (the VAD already split at the pauses), long ones split
    at the usual length limits; the text is as written."""
    from tui_speech.asr.formats import split_cues

    cues = []
    for final in info.finals:
        chars = [c for c, _, _ in written_chars(final)]
        cues.extend(split_cues(chars, pause_s=float("inf")))
    return cues


def session_transcript(info: SessionInfo, chars: Sequence[CharResult] | None = None) -> Any:
    """The whole session as one Transcript: as written (what the Listen pane shows and moves
    over), or holding ``chars`` (``session_heard(info).chars``: as heard, for exports)."""
    from tui_speech.asr.recognizer import Transcript

    if chars is None:
        chars = [c for c, _ in session_chars(info)]
    return Transcript(
        text="".join(c.char for c in chars),
        chars=tuple(chars),
        duration=info.duration,
        model=info.model,
        source=str(info.audio or info.source),
    )
