"""Drafts: named texts with their settings and their sentence takes, autosaved.

A draft is spoken as its *units* (:func:`draft_units`): sentences (as the synthesis plan finds
them, ``sentences.iter_sentences``; a sentence is never cut smaller than the plan cuts it),
``[pause:…]`` tags, and Markdown headings (``# Chapter``, spoken, and starting a chapter).
Each sentence has takes: audio keyed by what it depends on (:func:`take_key`: the sentence,
language, voice, speed and the lexicon entries it contains). Rendering a draft
(``tts.draft_render.render``) synthesizes only the sentences without a take for their key, so
re-rendering one sentence of a long draft leaves the others' audio alone. A locked take is kept
whatever changes.

On disk (``config.Paths.drafts``): ``NAME.json`` (text, settings, takes) and ``NAME.takes/``
(one FLAC per take). Every write is atomic (``fileio``): a draft survives the app being
killed at any moment, as its last complete save.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui_speech.errors import UsageError

if TYPE_CHECKING:
    import numpy as np


CURRENT_FILE = ".current"
TEXT_SUFFIXES = (".txt", ".md")
_HEADING_RE = re.compile(r"^[ \t]{0,3}(#{1,6})[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
_BAD_NAME = re.compile(r"[/\\\x00-\x1f]")


@dataclass(frozen=True)
class SentenceTake:
    """One rendering of one sentence; its audio is a FLAC file in the draft's takes folder."""

    key: str
    sentence: str
    file: str
    duration: float
    locked: bool = False
    #: When each word sounds in the take (``tts.durations.WordTiming``, samples of this take's
    #: audio); empty when the model gave no durations.
    words: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Draft:
    name: str
    text: str = ""
    lang: str = "en-us"
    voice: str = ""  # "" = the language's default voice
    speed: float = 1.0
    takes: tuple[SentenceTake, ...] = ()


@dataclass(frozen=True)
class Unit:
    """A piece of a draft as it is spoken: a sentence, a heading (spoken too) or a pause."""

    index: int
    kind: str  # "sentence", "heading" or "pause"
    text: str
    chapter: int  # 0 before the first heading
    pause: float = 0.0
    #: A line break ended the sentence without a mark (a heading always ends its line).
    ends_line: bool = False

    @property
    def spoken(self) -> bool:
        return self.kind != "pause"


def draft_units(text: str) -> list[Unit]:
    """The units of ``text``, in order (a malformed pause tag is a UsageError)."""
    from tui_speech.tts.pauses import Pause, split_pauses
    from tui_speech.tts.sentences import sentences_and_breaks

    units: list[Unit] = []
    chapter = 0

    def add_text(piece: str) -> None:
        for part in split_pauses(piece):
            if isinstance(part, Pause):
                units.append(Unit(len(units), "pause", "", chapter, part.seconds))
            else:
                for sentence, at_break in sentences_and_breaks(part):
                    units.append(Unit(len(units), "sentence", sentence, chapter, 0.0, at_break))

    pos = 0
    for match in _HEADING_RE.finditer(text):
        add_text(text[pos : match.start()])
        chapter += 1
        add_text(match.group(2))
        units[-1:] = [dataclasses.replace(u, kind="heading", ends_line=True) for u in units[-1:]]
        pos = match.end()
    add_text(text[pos:])
    return units


def chapter_titles(units: list[Unit]) -> dict[int, str]:
    titles = {0: ""}
    for unit in units:
        if unit.kind == "heading":
            titles.setdefault(unit.chapter, unit.text)
    return titles


def take_key(sentence: str, lang: str, voice: str, speed: float) -> str:
    """What a sentence's audio depends on, hashed: a change to any part asks for a new take."""
    from tui_speech.tts.lexicon import entries_in

    parts = [sentence, lang, voice, f"{speed:g}", entries_in(sentence, lang)]
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()[:24]


def check_name(name: str) -> str:
    name = name.strip()
    if not name or name.startswith(".") or _BAD_NAME.search(name) or len(name) > 80:
        raise UsageError(f"{name!r} cannot be a draft name", "letters, digits, spaces, - or _")
    return name


# --- the store ----------------------------------------------------------------------------------


class DraftStore:
    """The drafts in one folder. Thread-safe: the TUI autosaves text from its event loop while
    a render worker adds takes; each change is a read-modify-write of the in-memory draft
    under one lock, then an atomic write."""

    def __init__(self, folder: Path | None = None) -> None:
        from tui_speech.config import get_paths

        self.folder = folder or get_paths().drafts
        self._lock = threading.RLock()
        #: name -> (the file's mtime and size when read or written, the draft)
        self._drafts: dict[str, tuple[tuple[int, int], Draft]] = {}

    def _stamp(self, name: str) -> tuple[int, int] | None:
        try:
            stat = self.path(name).stat()
        except OSError:
            return None
        return stat.st_mtime_ns, stat.st_size

    def path(self, name: str) -> Path:
        return self.folder / f"{name}.json"

    def takes_folder(self, name: str) -> Path:
        return self.folder / f"{name}.takes"

    def names(self) -> list[str]:
        if not self.folder.is_dir():
            return []
        return sorted(p.stem for p in self.folder.glob("*.json") if not p.name.startswith("."))

    def exists(self, name: str) -> bool:
        return self.path(name).is_file()

    def load(self, name: str) -> Draft:
        with self._lock:
            # Read again when another store (another process) has written it since.
            cached = self._drafts.get(name)
            if cached is not None and cached[0] == self._stamp(name):
                return cached[1]
            try:
                data = json.loads(self.path(name).read_text("utf-8"))
            except FileNotFoundError:
                raise UsageError(f"there is no draft {name!r}") from None
            except (OSError, ValueError) as exc:
                raise UsageError(f"draft {name!r} cannot be read: {exc}") from None
            draft = _from_json(name, data)
            stamp = self._stamp(name)
            if stamp is not None:
                self._drafts[name] = (stamp, draft)
            return draft

    def save(self, draft: Draft) -> Draft:
        from tui_speech.fileio import atomic_write_text

        check_name(draft.name)
        with self._lock:
            atomic_write_text(self.path(draft.name), _to_json(draft))
            stamp = self._stamp(draft.name)
            if stamp is not None:
                self._drafts[draft.name] = (stamp, draft)
        return draft

    def update(self, name: str, **changes: Any) -> Draft:
        """Change fields of a draft (text, lang, voice, speed) and save it."""
        with self._lock:
            return self.save(dataclasses.replace(self.load(name), **changes))

    def create(self, name: str, text: str = "", **settings: Any) -> Draft:
        name = check_name(name)
        with self._lock:
            if self.exists(name):
                raise UsageError(f"a draft named {name!r} exists", "pick another name")
            return self.save(Draft(name, text, **settings))

    def delete(self, name: str) -> None:
        import shutil

        with self._lock:
            self.path(name).unlink(missing_ok=True)
            shutil.rmtree(self.takes_folder(name), ignore_errors=True)
            self._drafts.pop(name, None)

    @property
    def current(self) -> str | None:
        try:
            name = (self.folder / CURRENT_FILE).read_text("utf-8").strip()
        except OSError:
            return None
        return name if name and self.exists(name) else None

    @current.setter
    def current(self, name: str) -> None:
        from tui_speech.fileio import atomic_write_text

        atomic_write_text(self.folder / CURRENT_FILE, name + "\n")

    # --- takes ------------------------------------------------------------------------------

    def add_take(self, name: str, take: SentenceTake, audio: np.ndarray, rate: int) -> Draft:
        """Write the take's audio (atomically), then the draft that names it."""
        from tui_speech.audio.writer import write_audio

        folder = self.takes_folder(name)
        folder.mkdir(parents=True, exist_ok=True)
        write_audio(folder / take.file, audio, rate)
        with self._lock:
            draft = self.load(name)
            return self.save(dataclasses.replace(draft, takes=(*draft.takes, take)))

    def set_locked(self, name: str, file: str, locked: bool) -> Draft:
        """Lock a take (and unlock the sentence's others) or unlock it."""
        with self._lock:
            draft = self.load(name)
            target = next((t for t in draft.takes if t.file == file), None)
            if target is None:
                raise UsageError("that take is gone")
            takes = tuple(
                dataclasses.replace(t, locked=locked and t.file == file)
                if t.sentence == target.sentence
                else t
                for t in draft.takes
            )
            return self.save(dataclasses.replace(draft, takes=takes))

    def prune(self, name: str) -> Draft:
        """Forget the takes of sentences the text no longer has (locked ones are kept), and
        their audio files, so a draft edited for months does not keep every old take."""
        with self._lock:
            draft = self.load(name)
            try:
                sentences = {u.text for u in draft_units(draft.text) if u.spoken}
            except UsageError:  # a malformed pause tag: keep everything until it is fixed
                return draft
            kept = tuple(t for t in draft.takes if t.locked or t.sentence in sentences)
            if len(kept) == len(draft.takes):
                return draft
            draft = self.save(dataclasses.replace(draft, takes=kept))
            named = {t.file for t in kept}
            for path in self.takes_folder(name).glob("*.flac"):
                if path.name not in named:
                    path.unlink(missing_ok=True)
            return draft

    def audio(self, name: str, take: SentenceTake) -> tuple[np.ndarray, int]:
        import soundfile as sf

        audio, rate = sf.read(self.takes_folder(name) / take.file, dtype="float32")
        return audio, int(rate)


def take_for(draft: Draft, unit: Unit) -> SentenceTake | None:
    """The take a sentence plays: its locked take, else its newest take for the current key."""
    if not unit.spoken:
        return None
    locked = [t for t in draft.takes if t.sentence == unit.text and t.locked]
    if locked:
        return locked[-1]
    key = take_key(unit.text, draft.lang, draft.voice, draft.speed)
    matching = [t for t in draft.takes if t.key == key]
    return matching[-1] if matching else None


def _to_json(draft: Draft) -> str:
    data = dataclasses.asdict(draft)
    return json.dumps(data, ensure_ascii=False, indent=1) + "\n"


def _from_json(name: str, data: Any) -> Draft:
    if not isinstance(data, dict):
        raise UsageError(f"draft {name!r} cannot be read: not a JSON object")
    takes = []
    for t in data.get("takes", ()):
        words = tuple(_word(w) for w in t.get("words", ()))
        takes.append(SentenceTake(t["key"], t["sentence"], t["file"], float(t["duration"]),
                                  bool(t.get("locked")), words))  # fmt: skip
    return Draft(
        name,
        str(data.get("text", "")),
        str(data.get("lang", "en-us")),
        str(data.get("voice", "")),
        float(data.get("speed", 1.0)),
        tuple(takes),
    )


def _word(data: dict[str, Any]) -> Any:
    from tui_speech.tts.durations import WordTiming

    return WordTiming(**data)


# --- text files ---------------------------------------------------------------------------------


def read_text_file(path: Path) -> str:
    """A draft's text from a .txt or .md file (UTF-8), or a UsageError saying why not."""
    if path.suffix.lower() not in TEXT_SUFFIXES:
        raise UsageError(f"cannot open {path.name!r} as a draft", "use a .txt or .md file")
    try:
        return path.read_text("utf-8")
    except FileNotFoundError:
        raise UsageError(f"{path} does not exist") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not UTF-8 text") from None
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None


def write_text_file(path: Path, text: str) -> Path:
    from tui_speech.fileio import atomic_write_text

    if path.suffix.lower() not in TEXT_SUFFIXES:
        raise UsageError(f"cannot save a draft as {path.name!r}", "use a .txt or .md file")
    atomic_write_text(path, text)
    return path
