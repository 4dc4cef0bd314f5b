"""The model store: one folder per model under ``get_paths().models``, described by a manifest.

Layout (other parts of tui-speech rely on it)::

    models/owner/name/                 the repo snapshot's files, flat as on the Hub
    models/owner/name/onnx/*.onnx      ONNX variants (model.onnx, model.int8.onnx, ...)
    models/owner/name/voices/*.pt      Kokoro voice packs
    models/owner/name/.tui-speech.json the manifest: id, kind, commit, every file's size + SHA-256
    models/.staging/owner--name/       partial downloads and snapshots being assembled
    models/.locks/owner--name.lock     held while a model is being changed

A model is registered when its folder holds a manifest. New content is assembled in staging and
swapped in with renames, so a crash, a cancel or a full disk never leaves a half-registered model.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from tui_speech.config import get_paths
from tui_speech.errors import Action, ModelMissingError
from tui_speech.fileio import atomic_write_text, swap_dir
from tui_speech.hub.ids import MANIFEST_NAME, model_dir, safe_relpath, slug, validate_model_id

if TYPE_CHECKING:  # filelock loads when a lock is first taken
    from filelock import FileLock

MANIFEST_FORMAT = 1


@dataclass(frozen=True)
class FileRecord:
    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    """What the store knows about one model; written as JSON next to its files."""

    id: str
    kind: str
    revision: str
    commit: str
    files: tuple[FileRecord, ...]
    source: str = "hub"  # "hub" or "bundle"
    pulled_at: str = ""
    verified: bool = True
    verified_at: str = ""
    last_used: str | None = None
    format: int = MANIFEST_FORMAT

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: dict) -> Manifest:
        """Parse (and validate) a manifest from disk or from a bundle; ``ValueError`` if bad."""
        if data.get("format") != MANIFEST_FORMAT:
            raise ValueError(f"unsupported manifest format {data.get('format')!r}")
        files = []
        for rec in data["files"]:
            safe_relpath(rec["path"])
            size, sha = int(rec["size"]), str(rec["sha256"])
            if size < 0 or len(sha) != 64:
                raise ValueError(f"bad file record {rec!r}")
            files.append(FileRecord(rec["path"], size, sha))
        known = {f for f in cls.__dataclass_fields__ if f != "files"}
        fields = {k: v for k, v in data.items() if k in known}
        validate_model_id(fields["id"])
        return cls(files=tuple(files), **fields)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def store_root() -> Path:
    return get_paths().models


def staging_dir(model_id: str) -> Path:
    return store_root() / ".staging" / slug(model_id)


def path_of(model_id: str) -> Path:
    """Where ``model_id`` lives (or would live) in the store."""
    return model_dir(store_root(), model_id)


def read_manifest(model_id: str) -> Manifest | None:
    """The manifest of a registered model, or ``None`` if it is not (fully) in the store."""
    path = path_of(model_id) / MANIFEST_NAME
    try:
        return Manifest.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        return None  # unreadable: treated as not registered; `models pull` rewrites it


def write_manifest(folder: Path, manifest: Manifest) -> None:
    atomic_write_text(folder / MANIFEST_NAME, manifest.to_json())


def registered_ids() -> list[str]:
    """Ids of the models with a manifest in the store (hidden bookkeeping folders skipped)."""
    root = store_root()
    if not root.is_dir():
        return []
    return sorted(
        f"{m.parent.parent.name}/{m.parent.name}"
        for m in root.glob(f"*/*/{MANIFEST_NAME}")
        if not m.parent.parent.name.startswith(".")
    )


def _file_lock(model_id: str) -> FileLock:
    """The (not yet held) inter-process lock of ``model_id``, in ``models/.locks/``."""
    from filelock import FileLock

    lock_path = store_root() / ".locks" / f"{slug(model_id)}.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(str(lock_path))


@contextmanager
def model_lock(model_id: str, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """Hold the model's inter-process lock; ``on_wait`` is called once if another holds it."""
    from filelock import Timeout

    lock = _file_lock(model_id)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        if on_wait is not None:
            on_wait()
        lock.acquire()
    try:
        _recover(model_id)
        yield
    finally:
        lock.release()


def _recover(model_id: str) -> None:
    """Finish a swap a crash interrupted: a complete new snapshot whose target is missing."""
    new = staging_dir(model_id) / "new"
    target = path_of(model_id)
    if (new / MANIFEST_NAME).is_file() and not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(new, target)


def link_or_copy(src: Path, dst: Path) -> None:
    """Hard-link ``src`` to ``dst`` (same file system, no extra space), or copy if impossible."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def new_snapshot(model_id: str, keep: Callable[[str], bool]) -> Path:
    """A fresh staging folder pre-filled (hard links) with the files ``keep`` of the model.

    ``keep`` sees each existing file's posix path relative to the model folder; the manifest is
    never carried over (the caller writes a new one last, which marks the snapshot complete).
    """
    new = staging_dir(model_id) / "new"
    shutil.rmtree(new, ignore_errors=True)
    new.mkdir(parents=True)
    current = path_of(model_id)
    if current.is_dir():
        for src in sorted(current.rglob("*")):
            rel = src.relative_to(current).as_posix()
            if src.is_file() and not src.is_symlink() and rel != MANIFEST_NAME and keep(rel):
                link_or_copy(src, new / rel)
    return new


def install(model_id: str, new: Path) -> Path:
    """Swap the completed snapshot ``new`` (manifest written) into place; call under the lock."""
    target = path_of(model_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    swap_dir(new, target, staging_dir(model_id) / f"old-{uuid.uuid4().hex[:8]}")
    return target


def update_manifest(model_id: str, **changes: object) -> Manifest | None:
    """Rewrite some fields of a registered model's manifest (e.g. ``last_used``)."""
    manifest = read_manifest(model_id)
    if manifest is None:
        return None
    manifest = replace(manifest, **changes)  # type: ignore[arg-type]
    write_manifest(path_of(model_id), manifest)
    return manifest


def mark_used(model_id: str) -> None:
    """Record that a model was loaded; shown by ``models list`` and considered by nothing else."""
    update_manifest(model_id, last_used=now())


def require(model_id: str) -> Path:
    """The folder of a registered model, or ``ModelMissingError`` saying how to get it."""
    from tui_speech.hub.embedded import EMBEDDED_ID, embedded_model_path

    validate_model_id(model_id)
    if model_id == EMBEDDED_ID:
        return embedded_model_path().parent
    if read_manifest(model_id) is None:
        raise ModelMissingError(
            f"{model_id} is not in the model store",
            "fetch it",
            action=Action("pull-model", model_id),
        )
    return path_of(model_id)


@dataclass(frozen=True)
class PruneItem:
    path: Path
    size: int
    why: str


def dir_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def unregistered() -> list[PruneItem]:
    """Model-shaped folders in the store without a manifest.

    A pull or import never leaves one (registration is a single rename of a complete folder),
    so these were put there by hand or by another tool; ``prune`` reports them, never deletes.
    """
    root = store_root()
    items: list[PruneItem] = []
    if root.is_dir():
        for owner in sorted(root.iterdir()):
            if owner.name.startswith(".") or not owner.is_dir() or owner.name == "embedded":
                continue
            for folder in sorted(owner.iterdir()):
                if folder.is_dir() and not (folder / MANIFEST_NAME).is_file():
                    items.append(PruneItem(folder, dir_size(folder), "not registered"))
    return items


def prune(dry_run: bool = False) -> list[PruneItem]:
    """Remove what no registered model needs: partial downloads and interrupted snapshots.

    A model whose pull is running right now (its lock is held) keeps its staging folder.
    """
    staging = store_root() / ".staging"
    items = [
        PruneItem(folder, dir_size(folder), "partial download")
        for folder in (sorted(staging.iterdir()) if staging.is_dir() else [])
    ]
    if dry_run:
        return items
    done = []
    for item in items:
        model_id = _id_of_staging(item.path)
        if model_id is None:
            shutil.rmtree(item.path, ignore_errors=True)
            done.append(item)
            continue
        with try_lock(model_id) as locked:
            if locked:
                shutil.rmtree(item.path, ignore_errors=True)
                done.append(item)
    return done


def _id_of_staging(folder: Path) -> str | None:
    owner, sep, name = folder.name.partition("--")
    return f"{owner}/{name}" if sep else None


@contextmanager
def try_lock(model_id: str) -> Iterator[bool]:
    """Take the model's inter-process lock if it is free: yields False (at once) if another
    holds it."""
    from filelock import Timeout

    lock = _file_lock(model_id)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        yield False
        return
    try:
        yield True
    finally:
        lock.release()
