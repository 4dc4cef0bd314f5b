"""jieba's word dictionary, opened in a millisecond instead of loaded in half a second.

On first use jieba loads its prefix dictionary (half a million words and word prefixes with
their frequencies) into a Python dict: a 9 MB unmarshal that holds one core for ~0.6 s, the
largest part of a cold Mandarin ``speak`` before its first sound (and of the Listen pane's
first sound-alike hotword). Here the same entries are read from a sorted word file in our cache
(``tts.word_file``), written once per jieba dictionary from jieba's own load; so jieba cuts
every text as before. A damaged file is rebuilt.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Any

from tui_speech.tts.word_file import WordFile, open_word_file
from tui_speech.tts.word_file import write_word_file as _write_entries

_ready_lock = threading.Lock()


class WordFrequencies(MutableMapping[str, int]):
    """jieba's ``FREQ`` (word or prefix -> frequency, 0 for a prefix only) served from the
    word file. Words added at run time (``jieba.add_word``) live beside it in memory."""

    def __init__(self, words: WordFile[int]) -> None:
        self._words = words
        self.total: int = words.meta["total"]
        self._added: dict[str, int] = {}

    def __getitem__(self, word: str) -> int:
        if word in self._added:
            return self._added[word]
        return self._words[word]

    def __contains__(self, word: object) -> bool:
        return word in self._added or word in self._words

    def get(self, word: str, default: Any = None) -> Any:
        if word in self._added:
            return self._added[word]
        return self._words.get(word, default)

    def __setitem__(self, word: str, freq: int) -> None:
        self._added[word] = freq

    def __delitem__(self, word: str) -> None:
        raise TypeError("jieba's dictionary words are read-only; add_word(word, 0) hides one")

    def __len__(self) -> int:
        return len(self._words) + sum(1 for w in self._added if w not in self._words)

    def __iter__(self) -> Iterator[str]:
        yield from self._words
        yield from (w for w in self._added if w not in self._words)


def write_word_file(path: Path, freq: Any, total: int) -> None:
    """Write jieba's ``FREQ`` and ``total`` as a word file (atomically)."""
    _write_entries(path, freq, lambda count: b"%d" % count, {"total": total})


def open_frequencies(path: Path) -> WordFrequencies | None:
    """The frequencies in the word file at ``path``, or None if it is absent or damaged."""
    words = open_word_file(path, int)
    try:
        return WordFrequencies(words) if words is not None else None
    except (KeyError, TypeError):  # a word file without jieba's total
        return None


def word_file_path(tokenizer: Any) -> Path:
    """Where the sorted copy of ``tokenizer``'s dictionary lives: one per jieba version and
    dictionary file, so an upgraded jieba or a replaced dictionary gets its own."""
    from importlib.metadata import version

    import jieba

    from tui_speech.config import get_paths

    if tokenizer.dictionary == jieba.DEFAULT_DICT:  # the one inside the package
        dictionary = Path(jieba.__file__).parent / jieba.DEFAULT_DICT_NAME
    else:
        dictionary = Path(tokenizer.dictionary)
    stat = dictionary.stat()
    name = f"words-{version('jieba')}-{stat.st_size}-{stat.st_mtime_ns}.bin"
    return get_paths().cache / "jieba" / name


def ready_jieba() -> Any:
    """The ``jieba`` module with its default dictionary ready: opened from our sorted file,
    which is written from jieba's own load the first time. Call before any jieba cut."""
    import jieba

    jieba.setLogLevel(logging.WARNING)  # not "Loading model from cache" on the user's terminal
    with _ready_lock:
        tokenizer = jieba.dt
        if tokenizer.initialized:
            return jieba
        try:
            words = open_frequencies(word_file_path(tokenizer))
        except OSError:  # jieba's dictionary file is not where it should be: jieba says so
            words = None
        if words is None:  # absent, damaged or cut short
            tokenizer.initialize()
            _write_for_next_time(tokenizer)
            return jieba
        with tokenizer.lock:
            tokenizer.FREQ, tokenizer.total = words, words.total
            tokenizer.initialized = True
    return jieba


def _write_for_next_time(tokenizer: Any) -> None:
    try:
        write_word_file(word_file_path(tokenizer), tokenizer.FREQ, tokenizer.total)
    except OSError as error:  # a read-only cache: jieba's own load still works
        logging.getLogger(__name__).info("jieba word file not written: %s", error)
