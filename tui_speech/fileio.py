"""Small file helpers shared by the store, exports and sessions: hashing and atomic writes."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any, BinaryIO

_BLOCK = 1 << 20


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def new_part_file(target: Path) -> Path:
    """Create an empty ``.NAME.XXXX.part`` beside ``target``, with the mode a new file of the
    user's gets, to be written and then renamed over ``target``; the caller removes it on any
    failure. A Ctrl+C while it is made leaves no file: it is held until the file's name is
    known, then raised with the file removed first."""
    part: Path | None = None
    try:
        with _ctrl_c_held():
            fd, name = tempfile.mkstemp(
                prefix=f".{target.name}.", suffix=".part", dir=target.parent
            )
            part = Path(name)
            try:
                os.fchmod(fd, default_file_mode())  # mkstemp makes 0600; users expect their umask
            finally:
                os.close(fd)
    except BaseException:
        if part is not None:
            part.unlink(missing_ok=True)
        raise
    return part


@contextmanager
def _ctrl_c_held() -> Iterator[None]:
    """SIGINT held for the block and delivered when it ends. Python runs signal handlers in the
    main thread only (other threads are never interrupted), so only there is it held."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    came: list[tuple[int, Any]] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: came.append((signum, frame)))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if came and callable(previous):
        previous(*came[0])  # Python's own handler raises KeyboardInterrupt
    elif came and previous == signal.SIG_DFL:
        raise KeyboardInterrupt


@contextmanager
def atomic_writer(target: Path) -> Iterator[BinaryIO]:
    """Write ``target`` through a temp file in the same directory, renamed into place on success.

    Readers never see a partial file: on any exception (Ctrl+C included) the temp file is
    removed and ``target`` keeps its old content (or stays absent).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = new_part_file(target)
    try:
        with open(tmp, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_text(target: Path, text: str) -> None:
    """Write a small text file atomically (UTF-8)."""
    with atomic_writer(target) as f:
        f.write(text.encode("utf-8"))


@cache
def default_file_mode() -> int:
    """The mode a plain ``open(path, "w")`` would give a new file (0666 minus the umask).

    Read once: the only way to read the umask is to set it, which must not race other threads.
    """
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def swap_dir(new: Path, target: Path, old: Path) -> None:
    """Put the complete folder ``new`` at ``target`` in two renames; readers see the previous
    folder or the new one, never a mix.

    The previous ``target`` waits at ``old`` between the renames: if the second rename fails it
    is put back, and after a crash there it is found at ``old`` (callers that recover look
    there, so each names ``old`` itself). It is deleted once the new folder is in place.
    """
    moved = target.exists()
    if moved:
        os.replace(target, old)
    try:
        os.replace(new, target)
    except BaseException:
        if moved:
            os.replace(old, target)
        raise
    if moved:
        shutil.rmtree(old, ignore_errors=True)
