"""jieba's word dictionary, opened in a millisecond instead of loaded in half a second.

On first use jieba loads its prefix dictionary (half a million words and word prefixes with
their frequencies) into a Python dict: a 9 MB unmarshal that holds one core for ~0.6 s, the
largest part of a cold Mandarin ``speak`` before its first sound (and of the Listen pane's
first sound-alike hotword). A sentence needs a few hundred of those entries, so we keep the
same entries, sorted, in a file of our cache, and look each one up by binary search in a memory
map: the same words with the same frequencies, so jieba cuts every text as before.

The file is written once per jieba dictionary (from jieba's own load, the first time) and is
checked on opening; a damaged one is rebuilt. File layout (little-endian): a header (magic,
entry count, jieba's frequency total), the byte offset of each key (count + 1 uint32), each
key's frequency (count uint32), then the UTF-8 keys, sorted, back to back.
"""

from __future__ import annotations

import logging
import mmap
import struct
import threading
from collections.abc import Iterator, Mapping, MutableMapping
from pathlib import Path
from typing import Any

_MAGIC = b"tsjieba1"
_HEADER = struct.Struct("<8sQQ")
#: Looked-up fragments remembered (found or not); cleared past this, so a book stays bounded.
_MEMO_LIMIT = 200_000

_ready_lock = threading.Lock()


class WordFrequencies(MutableMapping[str, int]):
    """jieba's ``FREQ`` (word or prefix -> frequency, 0 for a prefix only) served from the
    sorted file. Words added at run time (``jieba.add_word``) live beside it in memory."""

    def __init__(self, path: Path) -> None:
        with open(path, "rb") as f:
            self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        magic, count, self.total = _HEADER.unpack_from(self._map, 0)
        offsets_at = _HEADER.size
        freqs_at = offsets_at + 4 * (count + 1)
        self._keys_at = freqs_at + 4 * count
        if magic != _MAGIC or len(self._map) < self._keys_at:
            raise ValueError(f"{path} is not a jieba word file")
        view = memoryview(self._map)
        self._offsets = view[offsets_at:freqs_at].cast("I")
        self._freqs = view[freqs_at : self._keys_at].cast("I")
        self._count = count
        if len(self._map) != self._keys_at + self._offsets[count]:
            raise ValueError(f"{path} is cut short or overlong")
        self._memo: dict[str, int | None] = {}
        self._added: dict[str, int] = {}

    def _key(self, i: int) -> bytes:
        start = self._keys_at
        return self._map[start + self._offsets[i] : start + self._offsets[i + 1]]

    def _find(self, word: str) -> int | None:
        if word in self._added:
            return self._added[word]
        try:
            return self._memo[word]
        except KeyError:
            pass
        target = word.encode("utf-8")
        lo, hi = 0, self._count
        while lo < hi:  # the first key >= target (UTF-8 bytes sort as code points do)
            mid = (lo + hi) // 2
            if self._key(mid) < target:
                lo = mid + 1
            else:
                hi = mid
        found = self._freqs[lo] if lo < self._count and self._key(lo) == target else None
        if len(self._memo) >= _MEMO_LIMIT:
            self._memo.clear()
        self._memo[word] = found
        return found

    def __getitem__(self, word: str) -> int:
        found = self._find(word)
        if found is None:
            raise KeyError(word)
        return found

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and self._find(word) is not None

    def __setitem__(self, word: str, freq: int) -> None:
        self._added[word] = freq

    def __delitem__(self, word: str) -> None:
        raise TypeError("jieba's dictionary words are read-only; add_word(word, 0) hides one")

    def __len__(self) -> int:
        return self._count + sum(1 for w in self._added if self._stored(w) is None)

    def __iter__(self) -> Iterator[str]:
        for i in range(self._count):
            yield self._key(i).decode("utf-8")
        yield from (w for w in self._added if self._stored(w) is None)

    def _stored(self, word: str) -> int | None:
        added = self._added.pop(word, None)
        try:
            return self._find(word)
        finally:
            if added is not None:
                self._added[word] = added


def write_word_file(path: Path, freq: Mapping[str, int], total: int) -> None:
    """Write jieba's ``FREQ`` and ``total`` in the sorted layout (atomically)."""
    from array import array

    from tui_speech.fileio import atomic_writer

    entries = sorted((word.encode("utf-8"), count) for word, count in freq.items())
    offsets = array("I", [0])
    for key, _ in entries:
        offsets.append(offsets[-1] + len(key))
    freqs = array("I", (count for _, count in entries))
    with atomic_writer(path) as f:
        f.write(_HEADER.pack(_MAGIC, len(entries), total))
        f.write(offsets.tobytes())
        f.write(freqs.tobytes())
        f.write(b"".join(key for key, _ in entries))


def word_file(tokenizer: Any) -> Path:
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
            path = word_file(tokenizer)
            words = WordFrequencies(path)
        except (OSError, ValueError, struct.error):  # absent, damaged or cut short
            tokenizer.initialize()
            _write_for_next_time(tokenizer)
            return jieba
        with tokenizer.lock:
            tokenizer.FREQ, tokenizer.total = words, words.total
            tokenizer.initialized = True
    return jieba


def _write_for_next_time(tokenizer: Any) -> None:
    try:
        write_word_file(word_file(tokenizer), tokenizer.FREQ, tokenizer.total)
    except OSError as error:  # a read-only cache: jieba's own load still works
        logging.getLogger(__name__).info("jieba word file not written: %s", error)
