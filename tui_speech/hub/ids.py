"""Validation of model ids, revisions and repo file names before they become paths.

Everything that reaches the file system from the outside (a user's argument, a Hub listing, a
bundle's manifest) passes through here first. The rules are stricter than the Hub's own: an id is
exactly ``owner/name`` from a small alphabet, so it can never climb out of the store, name a
hidden folder, or collide with the store's own bookkeeping folders (which start with a dot).
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

from tui_speech.errors import UsageError

_PART = r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}"
_ID_RE = re.compile(rf"{_PART}/{_PART}")
# Always used with fullmatch: ``$`` would also accept a trailing newline.
# Branches and tags may contain slashes (``refs/pr/1``); commit ids are 40 hex digits.
_REVISION_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,127}")
COMMIT_RE = re.compile(r"[0-9a-f]{40}")
_FILE_PART_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._+\- ]{0,127}")

#: The manifest each registered model keeps next to its files (never a repo file name).
MANIFEST_NAME = ".tui-speech.json"


def validate_model_id(model_id: str) -> str:
    """Return ``model_id`` if it is a safe ``owner/name``; raise ``UsageError`` otherwise."""
    if not _ID_RE.fullmatch(model_id) or ".." in model_id or "--" in model_id:
        raise UsageError(
            f"invalid model id {model_id!r}: use owner/name as on the Hub "
            "(letters, digits, '.', '_', '-'), e.g. hexgrad/Kokoro-82M"
        )
    return model_id


def validate_revision(revision: str) -> str:
    """Return ``revision`` if it is a plausible branch, tag or commit; raise otherwise."""
    parts = revision.split("/")
    if (
        not _REVISION_RE.fullmatch(revision)
        or ".." in revision
        or any(not p or p.startswith(".") for p in parts)
    ):
        raise UsageError(
            f"invalid revision {revision!r}: use a branch, a tag or a 40-hex commit id"
        )
    return revision


def safe_relpath(name: str) -> PurePosixPath:
    """A repo file name as a relative path that stays inside its folder, or ``UsageError``.

    Every component must be an ordinary name: no ``..``, no absolute path, no backslash, no
    hidden component (which also keeps the store's manifest out of reach).
    """
    path = PurePosixPath(name)
    if (
        not name
        or name.startswith("/")
        or "\\" in name
        or "\x00" in name
        or path.is_absolute()
        or any(not _FILE_PART_RE.fullmatch(part) for part in name.split("/"))
        or len(path.parts) > 8
    ):
        raise UsageError(f"refusing unsafe file name {name!r} (outside the model folder)")
    return path


def slug(model_id: str) -> str:
    """A single path component for an id (``owner--name``; ids never contain ``--``)."""
    return validate_model_id(model_id).replace("/", "--")


def model_dir(store: Path, model_id: str) -> Path:
    """The folder of ``model_id`` in ``store``, checked to lie inside it."""
    validate_model_id(model_id)
    owner, name = model_id.split("/")
    path = store / owner / name
    if store.resolve() not in path.resolve().parents:
        raise UsageError(f"model id {model_id!r} resolves outside the model store")
    return path
