"""The pronunciation lexicon: words a user has taught the G2P, kept in one plain file.

``lexicon.txt`` in the config folder, one section per language, one entry a line::

    # tui-speech pronunciation lexicon
    [en-us]
    Kokoro = kəkˈɔɹO
    [zh]
    银行 = yin2 hang2

English (and every language but Mandarin) entries are Kokoro phonemes, checked against its
vocabulary (a symbol it lacks would be dropped silently). Mandarin entries may be pinyin with
tone numbers, converted to the phonemes misaki uses (``g2p_zh.syllable_ipa``), or phonemes.
The file keeps what the user wrote; the conversion happens when it is read, so hand edits
work the same as ``tui-speech lexicon add``. ``g2p.phonemize`` applies the entries of its
language in every text (an inline ``[word](/ph/)`` override still wins).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path

from tui_speech.errors import UsageError

LEXICON_FILE = "lexicon.txt"
_HEADER = (
    "# tui-speech pronunciation lexicon: [language] sections, one WORD = PRONUNCIATION a line.\n"
    "# English entries are Kokoro phonemes; Mandarin ones may be pinyin with tones (yin2 hang2).\n"
)
_SECTION_RE = re.compile(r"^\[([^\]]+)\]$")
_PINYIN_RE = re.compile(r"^(?:[a-zü:v]+[1-5]?)(?:\s+[a-zü:v]+[1-5]?)*$", re.IGNORECASE)
_FORBIDDEN = set("/()[]=\n")


@dataclass(frozen=True)
class Entry:
    """One word of the lexicon: ``written`` as in the file, ``phonemes`` what Kokoro reads."""

    lang: str
    word: str
    written: str
    phonemes: str


def lexicon_path() -> Path:
    from tui_speech.config import get_paths

    return get_paths().config / LEXICON_FILE


def to_phonemes(written: str, lang: str) -> str:
    """Kokoro phonemes for a pronunciation as a user writes it (pinyin for Mandarin), or a
    UsageError saying what is wrong with it."""
    from tui_speech.tts.vocab import out_of_vocab

    written = " ".join(written.split())
    if not written:
        raise UsageError("the pronunciation is empty")
    if _FORBIDDEN & set(written):
        raise UsageError(f"pronunciation {written!r} cannot contain / ( ) [ ] or =")
    if lang == "zh" and _PINYIN_RE.match(written):
        phonemes = "".join(_syllable(s) for s in written.split())
    else:
        phonemes = written
    missing = out_of_vocab(phonemes.replace(" ", ""))
    if missing:
        raise UsageError(
            f"pronunciation {written!r} has symbols Kokoro does not know: {' '.join(missing)}",
            "write Kokoro phonemes, as the phonemes of a similar word show them"
            + ("" if lang != "zh" else " or pinyin with tone numbers like yin2 hang2"),
        )
    return phonemes


def _syllable(pinyin: str) -> str:
    from tui_speech.tts.g2p_zh import syllable_ipa

    try:
        return syllable_ipa(pinyin.lower().replace("ü", "v").replace("u:", "v"))
    except (ValueError, KeyError, IndexError):
        raise UsageError(
            f"{pinyin!r} is not a pinyin syllable", "write pinyin with tone numbers: yin2 hang2"
        ) from None


def check_word(word: str) -> str:
    word = word.strip()
    if not word or any(ch.isspace() for ch in word) or _FORBIDDEN & set(word):
        raise UsageError(f"{word!r} cannot be a lexicon word", "one word, without [ ] ( ) / =")
    return word


# --- the file -----------------------------------------------------------------------------------


def _parse(text: str, path: Path) -> dict[str, dict[str, str]]:
    """lang -> word -> written pronunciation, in file order."""
    from tui_speech.tts.g2p import normalise_language

    sections: dict[str, dict[str, str]] = {}
    lang: str | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        where = f"{path.name} line {number}"
        section = _SECTION_RE.match(line)
        if section:
            try:
                lang = normalise_language(section.group(1))
            except UsageError as exc:
                raise UsageError(f"{where}: {exc.reason}") from None
            sections.setdefault(lang, {})
            continue
        word, eq, written = line.partition("=")
        if not eq or not word.strip() or not written.strip():
            raise UsageError(f"{where}: {line!r} is not WORD = PRONUNCIATION", f"fix {path}")
        if lang is None:
            raise UsageError(f"{where}: an entry before any [language] section", f"fix {path}")
        sections[lang][word.strip()] = " ".join(written.split())
    return sections


def _edit(text: str, lang: str, word: str, written: str | None) -> str:
    """``text`` with ``word``'s line in ``lang`` replaced (or added, or, for None, removed);
    every other line (comments, order, other sections) is left as the user wrote it."""
    from tui_speech.tts.g2p import normalise_language

    lines = text.splitlines() if text.strip() else _HEADER.splitlines()
    section: str | None = None
    found = last = None  # the word's line; the last line of lang's section
    for i, raw in enumerate(lines):
        line = raw.strip()
        head = _SECTION_RE.match(line)
        if head:
            try:
                section = normalise_language(head.group(1))
            except UsageError:
                section = None
            if section == lang:
                last = i
            continue
        if section == lang and line and not line.startswith("#"):
            last = i
            if line.partition("=")[0].strip() == word:
                found = i
    entry = [] if written is None else [f"{word} = {written}"]
    if found is not None:
        lines[found : found + 1] = entry
    elif last is not None:
        lines[last + 1 : last + 1] = entry
    elif entry:
        lines += ["", f"[{lang}]", *entry]
    return "\n".join(lines) + "\n"


_cache: dict[Path, tuple[tuple[int, int], dict[str, dict[str, Entry]]]] = {}
_lock = threading.Lock()


def load() -> dict[str, dict[str, Entry]]:
    """Every entry, lang -> word -> Entry; read again only when the file has changed.

    A mistake in a hand-edited file is a UsageError naming its line.
    """
    path = lexicon_path()
    try:
        stat = path.stat()
    except FileNotFoundError:
        return {}
    stamp = (stat.st_mtime_ns, stat.st_size)
    with _lock:
        cached = _cache.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
    sections = _parse(path.read_text(encoding="utf-8"), path)
    entries: dict[str, dict[str, Entry]] = {}
    for lang, words in sections.items():
        for word, written in words.items():
            try:
                phonemes = to_phonemes(written, lang)
            except UsageError as exc:
                where = f"{path.name} [{lang}] {word}"
                raise UsageError(f"{where}: {exc.reason}", f"fix {path}") from None
            entries.setdefault(lang, {})[word] = Entry(lang, word, written, phonemes)
    with _lock:
        _cache[path] = (stamp, entries)
    return entries


def phonemes_for(lang: str) -> dict[str, str]:
    """word -> phonemes of ``lang``'s entries (what ``g2p.phonemize`` applies)."""
    return {word: e.phonemes for word, e in load().get(lang, {}).items()}


def entries_in(text: str, lang: str) -> tuple[tuple[str, str], ...]:
    """The (word, phonemes) entries that ``text`` contains: part of what a take depends on."""
    return tuple((w, p) for w, p in sorted(phonemes_for(lang).items()) if w in text)


def add(word: str, written: str, lang: str = "en-us") -> Entry:
    """Add or replace ``word``'s entry (checked first); the file is rewritten atomically."""
    from tui_speech.fileio import atomic_write_text
    from tui_speech.tts.g2p import normalise_language

    lang = normalise_language(lang)
    word = check_word(word)
    written = " ".join(written.split())
    phonemes = to_phonemes(written, lang)
    path = lexicon_path()
    with _lock:
        text = _read_text(path)
        atomic_write_text(path, _edit(text, lang, word, written))
    return Entry(lang, word, written, phonemes)


def remove(word: str, lang: str = "en-us") -> None:
    """Remove ``word`` from ``lang``; a UsageError when it is not there."""
    from tui_speech.fileio import atomic_write_text
    from tui_speech.tts.g2p import normalise_language

    lang = normalise_language(lang)
    path = lexicon_path()
    with _lock:
        text = _read_text(path)
        if word not in _parse(text, path).get(lang, {}):
            raise UsageError(f"{word!r} is not in the {lang} lexicon", f"see the entries in {path}")
        atomic_write_text(path, _edit(text, lang, word, None))


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""
