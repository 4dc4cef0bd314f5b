"""Corrections that teach the model: the user's text over what a session heard, and the
corrected utterances written out as a fine-tuning dataset.

- :func:`correct` writes one correction into a session file and returns the final's
  corrections from before, which :func:`set_corrections` puts back (undo);
  :func:`correct_text` names the run by its text (for scripts). The file is
  rewritten atomically (a temp file renamed over it: a crash leaves the old file whole), and
  never while a ``listen`` is still appending to it (the writer holds the file's lock).
- :func:`sessions_dataset` writes the corrected utterances of sessions recorded with audio as
  a dataset in the ``transcripts`` layout (:mod:`tui_speech.asr.dataset`): ``finetune`` takes
  the folder as it is.

How corrections are stored, and how a session reads with them, is in
:mod:`tui_speech.asr.sessions` (:class:`~tui_speech.asr.sessions.Correction`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui_speech.asr.sessions import (
    Correction,
    SessionInfo,
    final_chars,
    final_corrections,
    lock_session,
)
from tui_speech.audio.rates import ASR_RATE
from tui_speech.errors import Action, UsageError

#: Audio kept before and after an utterance's characters in a dataset clip: the VAD's own pad
#: is in the final's t0/t1 already; this only keeps a clipped first or last sound whole.
CLIP_PAD_S = 0.1


# --- corrections in a session file -----------------------------------------------------------


def merged(
    existing: Sequence[Correction], heard: Sequence[str], start: int, end: int, text: str
) -> tuple[Correction, ...]:
    """A final's corrections after the user wrote ``text`` over its heard run [start, end)
    (``heard``: the final's characters, one string each, as the model gave them).

    Corrections inside the run are replaced (what the user saw there was their text); text
    equal to what was heard removes them and adds none (the way back to the model's reading).
    A run that cuts through a correction is refused: the user would be editing half of a text
    they cannot see split.
    """
    if not 0 <= start < end <= len(heard):
        raise UsageError(f"characters {start}-{end} are not in this utterance of {len(heard)}")
    for c in existing:
        if c.start < end and start < c.end and not (start <= c.start and c.end <= end):
            raise UsageError("the run cuts through a correction; take all of it or none")
    kept = [c for c in existing if c.end <= start or c.start >= end]
    if text != "".join(heard[start:end]):
        kept.append(Correction(start, end, text))
    return tuple(sorted(kept, key=lambda c: c.start))


@contextmanager
def _locked(path: Path) -> Iterator[list[str]]:
    """The session file's lines, under its lock (refused while a writer holds it)."""
    try:
        f = open(path, encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(
            f"session {path.stem} is gone (deleted?)", action=Action("list-sessions")
        ) from None
    with f:
        if not lock_session(f.fileno()):
            raise UsageError(
                f"session {path.stem} is still being recorded or saved",
                "correct it once listening has stopped",
            )
        yield f.read().splitlines()


def _finals(lines: list[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, record) of each final; a torn line (a kill mid-write) is not one."""
    for i, line in enumerate(lines):
        try:
            item = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(item, dict) and item.get("type") == "final":
            yield i, item


def _rewrite(path: Path, final: int, change: Any) -> tuple[Correction, ...]:
    """Apply ``change(record) -> corrections`` to final number ``final`` and write the file
    atomically; returns the final's corrections from before."""
    from tui_speech.fileio import atomic_write_text

    with _locked(path) as lines:
        found = dict(enumerate(_finals(lines)))
        if final not in found:
            raise UsageError(f"session {path.stem} has no utterance {final + 1}")
        line, record = found[final]
        before = final_corrections(record)
        after = change(record)
        if after:
            record["corrections"] = [c.to_dict() for c in after]
        else:
            record.pop("corrections", None)
        lines[line] = json.dumps(record, ensure_ascii=False)
        # Only whole records go back: a torn line is dropped, not made permanent.
        keep = [x for i, x in enumerate(lines) if i == line or _is_record(x)]
        atomic_write_text(path, "\n".join(keep) + "\n")
    return before


def _is_record(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except json.JSONDecodeError:
        return False


def correct(path: Path, final: int, start: int, end: int, text: str) -> tuple[Correction, ...]:
    """Write ``text`` over heard characters [start, end) of final number ``final`` (0-based)
    of the session file ``path``; returns that final's corrections from before (for undo)."""

    def change(record: dict[str, Any]) -> tuple[Correction, ...]:
        heard = [c.char for c in final_chars(record)]
        return merged(final_corrections(record), heard, start, end, text)

    return _rewrite(path, final, change)


def correct_text(path: Path, final: int, old: str, new: str) -> tuple[Correction, ...]:
    """Write ``new`` over the one place final number ``final`` says ``old`` (as written now):
    the face for scripts, where a run is named by its text rather than selected. Returns the
    final's corrections from before, as :func:`correct` does."""
    from tui_speech.asr.sessions import load_session, written_chars

    info = load_session(path)
    n = len(info.finals)
    if not 0 <= final < n:
        raise UsageError(f"session {info.id} has no utterance {final + 1} (it has {n})")
    written = written_chars(info.finals[final])
    text = "".join(c.char for c, _, _ in written)
    count = text.count(old) if old else 0
    if count != 1:
        said = f"utterance {final + 1} says “{text}”"
        if count == 0:
            raise UsageError(f"“{old}” is not in it: {said}")
        raise UsageError(f"“{old}” is there {count} times: {said}", "give more of the text")
    i = text.index(old)
    j = i + len(old)
    owner = [k for k, (c, _, _) in enumerate(written) for _ in c.char]  # text index -> char
    # The heard run under the text, widened to whole characters and corrections: what of them
    # lies outside the match is kept as written.
    start, end = written[owner[i]][1], written[owner[j - 1]][2]
    inside = [p for p, k in enumerate(owner) if start <= written[k][1] and written[k][2] <= end]
    replacement = text[inside[0] : i] + new + text[j : inside[-1] + 1]
    return correct(path, final, start, end, replacement)


def set_corrections(path: Path, final: int, corrections: Sequence[Correction]) -> None:
    """Give final number ``final`` exactly these corrections (undo puts the old ones back)."""
    _rewrite(path, final, lambda _record: tuple(corrections))


# --- corrected utterances as a dataset -------------------------------------------------------


@dataclass(frozen=True)
class SessionsDataset:
    """What :func:`sessions_dataset` wrote, and which sessions could not give anything."""

    folder: Path
    clips: int
    seconds: float
    used: tuple[str, ...]  # sessions that gave clips
    no_audio: tuple[str, ...]  # sessions with corrections but recorded without audio
    uncorrected: tuple[str, ...]  # sessions with nothing corrected

    def skipped_line(self) -> str:
        """The sessions left out, in one line ('' when none was)."""
        parts = []
        if self.no_audio:
            n = len(self.no_audio)
            parts.append(
                f"{n} session{'s' if n > 1 else ''} with corrections but no recorded audio "
                f"({', '.join(self.no_audio)}): only sessions recorded with audio give clips"
            )
        if self.uncorrected:
            parts.append(f"{len(self.uncorrected)} without corrections")
        return "left out: " + "; ".join(parts) if parts else ""


def corrections_folder() -> Path:
    """Where the TUI writes the dataset of every corrected session (rebuilt each time)."""
    from tui_speech.config import get_paths

    return get_paths().data / "datasets" / "session-corrections"


def corrected_finals(info: SessionInfo) -> list[tuple[int, dict[str, Any]]]:
    """(index, record) of the session's finals the user corrected."""
    return [(n, f) for n, f in enumerate(info.finals) if final_corrections(f)]


def sessions_dataset(
    sessions: Sequence[SessionInfo], out: Path, replace: bool = False
) -> SessionsDataset:
    """Write every corrected utterance of ``sessions`` that has recorded audio into ``out``:
    ``clips/<session>-<n>.wav`` (16 kHz, 16-bit mono: the utterance's stretch of the
    recording) and ``transcripts.tsv`` (its text as the user wrote it).

    ``out`` must be new or empty unless ``replace``; the folder appears whole or not at all
    (built beside it, then swapped in). ``UsageError`` when no session gives a clip.
    """
    import tempfile

    from tui_speech.fileio import swap_dir

    out = out.expanduser()
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out} is a file; give a folder for the dataset")
    if out.is_dir() and any(out.iterdir()) and not replace:
        raise UsageError(f"{out} is not empty; give a new folder")
    usable = [s for s in sessions if corrected_finals(s) and s.audio is not None]
    no_audio = tuple(s.id for s in sessions if corrected_finals(s) and s.audio is None)
    uncorrected = tuple(s.id for s in sessions if not corrected_finals(s))
    if not usable:
        why = "they were recorded without audio" if no_audio else "none has a corrected utterance"
        raise UsageError(
            f"no utterance to write from {len(sessions)} session(s): {why}",
            "record with audio, correct what the model got wrong, then try again",
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent))
    try:
        rows, seconds = _write_clips(usable, work)
        if not rows:
            raise UsageError("every corrected utterance was corrected to nothing (deleted)")
        (work / "transcripts.tsv").write_text("".join(rows), encoding="utf-8")
        swap_dir(work, out, out.parent / f".{out.name}.old")
    except BaseException:
        import shutil

        shutil.rmtree(work, ignore_errors=True)
        raise
    used = tuple(s.id for s in usable)
    return SessionsDataset(out, len(rows), seconds, used, no_audio, uncorrected)


def _write_clips(sessions: Sequence[SessionInfo], folder: Path) -> tuple[list[str], float]:
    import soundfile as sf

    from tui_speech.asr.sessions import final_text
    from tui_speech.audio.reader import read_audio

    (folder / "clips").mkdir()
    rows: list[str] = []
    seconds = 0.0
    for info in sessions:
        assert info.audio is not None
        audio = read_audio(info.audio, target_rate=ASR_RATE)
        for n, final in corrected_finals(info):
            # Tabs and line breaks would break the TSV row; Chinese needs neither.
            text = " ".join(final_text(final).split())
            if not text:
                continue
            chars = final_chars(final)
            t0 = min(float(final.get("t0", chars[0].t0)), chars[0].t0) - CLIP_PAD_S
            t1 = max(float(final.get("t1", chars[-1].t1)), chars[-1].t1) + CLIP_PAD_S
            clip = audio[max(0, int(t0 * ASR_RATE)) : int(t1 * ASR_RATE)]
            if not len(clip):
                continue  # the recording ends before this utterance (cut short by a crash)
            name = f"clips/{info.id}-{n + 1:04d}.wav"
            sf.write(str(folder / name), clip, ASR_RATE, subtype="PCM_16")
            rows.append(f"{name}\t{text}\n")
            seconds += len(clip) / ASR_RATE
    return rows, seconds
