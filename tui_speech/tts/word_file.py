"""A read-only word -> value map served from a sorted file, for dictionaries that cost a cold
``speak`` more to load than to look up.

jieba's words (half a million, 0.6 s to unmarshal) and misaki's English lexicon (365,000
entries, 0.12-0.25 s) were loaded whole into Python dicts before the first sentence could be
phonemized, and a sentence looks up a few hundred entries. Here the entries sit sorted in a file,
memory-mapped and found by binary search; each one looked up is remembered. The same keys and
values, so the words read as before (tests/unit/test_word_file.py, test_jieba_words.py).

File layout (little-endian): a header (magic, entry count, length of a JSON ``meta`` blob), the
meta blob (what the owner keeps beside its map), the byte offset of each key (count + 1
uint32) and of each value (count + 1 uint32), then the UTF-8 keys, sorted, back to back, then
the values, encoded by the owner, in the same order. A file that does not add up is refused
(``ValueError``); the owner rebuilds it.
"""

from __future__ import annotations

import json
import mmap
import struct
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Generic, TypeVar

V = TypeVar("V")

_MAGIC = b"tswords1"
_HEADER = struct.Struct("<8sQQ")
#: Looked-up words remembered (found or not); cleared past this, so a book stays bounded.
MEMO_LIMIT = 200_000


class WordFile(Mapping[str, V], Generic[V]):
    """The map in ``path``, its values made by ``decode`` from their stored bytes."""

    def __init__(self, path: Path, decode: Callable[[bytes], V]) -> None:
        with open(path, "rb") as f:
            self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        if len(self._map) < _HEADER.size:
            raise ValueError(f"{path} is not a word file")
        magic, count, meta_size = _HEADER.unpack_from(self._map, 0)
        keys_at = _HEADER.size + meta_size
        values_at = keys_at + 4 * (count + 1)
        self._blobs_at = values_at + 4 * (count + 1)
        if magic != _MAGIC or len(self._map) < self._blobs_at:
            raise ValueError(f"{path} is not a word file")
        view = memoryview(self._map)
        self._keys = view[keys_at:values_at].cast("I")
        self._values = view[values_at : self._blobs_at].cast("I")
        self._values_at = self._blobs_at + self._keys[count]
        if len(self._map) != self._values_at + self._values[count]:
            raise ValueError(f"{path} is cut short or overlong")
        #: What the owner wrote beside the map (:func:`write_word_file`).
        self.meta: dict[str, Any] = json.loads(bytes(view[_HEADER.size : keys_at]))
        self._count = count
        self._decode = decode
        self._memo: dict[str, V | None] = {}

    def _key(self, i: int) -> bytes:
        return self._map[self._blobs_at + self._keys[i] : self._blobs_at + self._keys[i + 1]]

    def _find(self, word: str) -> V | None:
        try:
            return self._memo[word]
        except KeyError:
            pass
        target = word.encode("utf-8", "surrogatepass")
        lo, hi = 0, self._count
        while lo < hi:  # the first key >= target (UTF-8 bytes sort as code points do)
            mid = (lo + hi) // 2
            if self._key(mid) < target:
                lo = mid + 1
            else:
                hi = mid
        found = None
        if lo < self._count and self._key(lo) == target:
            at = self._values_at
            found = self._decode(self._map[at + self._values[lo] : at + self._values[lo + 1]])
        if len(self._memo) >= MEMO_LIMIT:
            self._memo.clear()
        self._memo[word] = found
        return found

    def __getitem__(self, word: str) -> V:
        found = self._find(word)
        if found is None:
            raise KeyError(word)
        return found

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and self._find(word) is not None

    def get(self, word: str, default: Any = None) -> Any:
        found = self._find(word) if isinstance(word, str) else None
        return default if found is None else found

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[str]:
        for i in range(self._count):
            yield self._key(i).decode("utf-8", "surrogatepass")


def write_word_file(
    path: Path,
    entries: Mapping[str, V],
    encode: Callable[[V], bytes],
    meta: dict[str, Any] | None = None,
) -> None:
    """Write ``entries`` (values stored as ``encode`` makes them) and ``meta``, atomically."""
    from array import array

    from tui_speech.fileio import atomic_writer

    rows = sorted((word.encode("utf-8", "surrogatepass"), encode(v)) for word, v in entries.items())
    meta_blob = json.dumps(meta or {}).encode("utf-8")
    key_ends, value_ends = array("I", [0]), array("I", [0])
    for key, value in rows:
        key_ends.append(key_ends[-1] + len(key))
        value_ends.append(value_ends[-1] + len(value))
    with atomic_writer(path) as f:
        f.write(_HEADER.pack(_MAGIC, len(rows), len(meta_blob)))
        f.write(meta_blob)
        f.write(key_ends.tobytes())
        f.write(value_ends.tobytes())
        f.write(b"".join(key for key, _ in rows))
        f.write(b"".join(value for _, value in rows))


def open_word_file(path: Path, decode: Callable[[bytes], V]) -> WordFile[V] | None:
    """The word file at ``path``, or None when it is absent or damaged (the owner rebuilds it)."""
    try:
        return WordFile(path, decode)
    except (OSError, ValueError, struct.error):
        return None
