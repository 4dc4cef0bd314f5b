"""Offline bundles: a model as one tar file, for machines that cannot reach the Hub.

A bundle is an uncompressed tar (weights do not compress) holding ``tui-speech-bundle.json``
first and the model's files under ``model/``. The JSON carries the store manifest (the Hub files,
each with size and SHA-256) and the same for every other file (ONNX exports, ...).

Import trusts nothing in the archive: every member is checked before anything is extracted
(a plain file or folder, a safe relative name under ``model/``, listed in the manifest with
exactly that size, below a size cap), extraction uses tarfile's ``filter="data"`` as a second
line of defence, every file is hashed, and only then is the model swapped into the store.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tarfile
import uuid
from dataclasses import asdict, dataclass, replace
from pathlib import Path, PurePosixPath

from tui_speech.errors import Action, TuiSpeechError, UsageError
from tui_speech.fileio import sha256_file
from tui_speech.hub import store
from tui_speech.hub.embedded import EMBEDDED_ID
from tui_speech.hub.ids import MANIFEST_NAME, safe_relpath, validate_model_id

BUNDLE_JSON = "tui-speech-bundle.json"
BUNDLE_FORMAT = 1
PREFIX = "model"
#: No single file of a speech model comes near this; a larger member is an attack or a mistake.
MAX_MEMBER_BYTES = 8 << 30
_MAX_JSON_BYTES = 8 << 20


class BundleError(TuiSpeechError):
    """A bundle that cannot be used: damaged, tampered with, or unsafe."""

    exit_code = 6


@dataclass(frozen=True)
class BundleInfo:
    model_id: str
    path: Path
    files: int
    size: int


def _record(folder: Path, rel: str) -> dict:
    path = folder / rel
    return {"path": rel, "size": path.stat().st_size, "sha256": sha256_file(path)}


def create(model_id: str, out: Path) -> BundleInfo:
    """Write ``model_id`` from the store into the tar ``out`` (atomically)."""
    validate_model_id(model_id)
    if model_id == EMBEDDED_ID:
        raise UsageError(f"{EMBEDDED_ID} ships with tui-speech; every install already has it")
    folder = store.require(model_id)
    with store.model_lock(model_id):
        manifest = store.read_manifest(model_id)
        assert manifest is not None  # require() checked it; the lock keeps it
        listed = {f.path for f in manifest.files}
        extras = []
        for path in sorted(folder.rglob("*")):
            rel = path.relative_to(folder).as_posix()
            if path.is_file() and not path.is_symlink() and rel not in listed:
                if rel != MANIFEST_NAME:
                    extras.append(_record(folder, rel))
        for rec in manifest.files:
            fresh = _record(folder, rec.path) if (folder / rec.path).is_file() else None
            if fresh is None or fresh["sha256"] != rec.sha256:
                raise BundleError(
                    f"{model_id}/{rec.path} is damaged or missing",
                    "repair it by pulling it again before bundling",
                    action=Action("pull-model", model_id),
                )
        header = {
            "format": BUNDLE_FORMAT,
            "id": model_id,
            "manifest": asdict(manifest),
            "extras": extras,
        }
        out = out.expanduser()
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.{uuid.uuid4().hex[:8]}.part")
        try:
            with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as tar:
                data = json.dumps(header, indent=2, ensure_ascii=False).encode()
                info = tarfile.TarInfo(BUNDLE_JSON)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
                for rel in [*sorted(listed), *(e["path"] for e in extras)]:
                    tar.add(folder / rel, f"{PREFIX}/{rel}", recursive=False, filter=_anonymous)
            os.replace(tmp, out)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    files = len(listed) + len(extras)
    return BundleInfo(model_id, out, files, out.stat().st_size)


def _anonymous(info: tarfile.TarInfo) -> tarfile.TarInfo:
    """Drop who made the bundle (user and group names/ids) from each member."""
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def _parse_header(data: bytes) -> tuple[store.Manifest, dict[str, dict]]:
    """The manifest and a path -> record map of every file the bundle must contain."""
    try:
        header = json.loads(data)
        if header.get("format") != BUNDLE_FORMAT:
            raise ValueError(f"format {header.get('format')!r}")
        manifest = store.Manifest.from_dict(header["manifest"])
        if manifest.id != header["id"]:
            raise ValueError("id mismatch")
        expected = {f.path: asdict(f) for f in manifest.files}
        for rec in header.get("extras", []):
            safe_relpath(rec["path"])
            if rec["path"] in expected or rec["path"] == MANIFEST_NAME:
                raise ValueError(f"duplicate {rec['path']!r}")
            expected[rec["path"]] = {
                "path": rec["path"],
                "size": int(rec["size"]),
                "sha256": str(rec["sha256"]),
            }
    except (ValueError, KeyError, TypeError, UsageError) as exc:
        raise BundleError(f"not a valid tui-speech bundle ({exc})") from exc
    return manifest, expected


def _check_members(
    tar: tarfile.TarFile, source: Path, max_member: int
) -> tuple[store.Manifest, dict[str, dict], list[tarfile.TarInfo]]:
    members = tar.getmembers()
    first = members[0] if members else None
    if first is None or first.name != BUNDLE_JSON or not first.isfile():
        raise BundleError(f"{source} is not a tui-speech bundle (no {BUNDLE_JSON} first)")
    if first.size > _MAX_JSON_BYTES:
        raise BundleError(f"{source}: {BUNDLE_JSON} is too large to be genuine")
    handle = tar.extractfile(first)
    assert handle is not None
    manifest, expected = _parse_header(handle.read())
    chosen, seen = [], set()
    for member in members[1:]:
        name = member.name
        if member.isdir() and name.rstrip("/") == PREFIX:
            continue
        where = f"{source}: member {name!r}"
        if member.issym() or member.islnk():
            raise BundleError(f"{where} is a link; refusing (bundles hold plain files only)")
        if not (member.isfile() or member.isdir()):
            raise BundleError(f"{where} is not a plain file; refusing")
        parts = PurePosixPath(name).parts
        if name.startswith("/") or ".." in parts or not parts or parts[0] != PREFIX:
            raise BundleError(f"{where} points outside the model folder; refusing")
        rel = PurePosixPath(*parts[1:]).as_posix()
        try:
            safe_relpath(rel)
        except UsageError as exc:
            raise BundleError(f"{where} has an unsafe name; refusing") from exc
        if member.isdir():
            continue
        if member.size > max_member:
            raise BundleError(f"{where} is oversize ({member.size} bytes); refusing")
        rec = expected.get(rel)
        if rel in seen:
            raise BundleError(f"{where} appears twice; refusing")
        if rec is None:
            raise BundleError(f"{where} is not in the bundle's manifest; refusing")
        if member.size != rec["size"]:
            raise BundleError(f"{where} is {member.size} bytes, the manifest says {rec['size']}")
        seen.add(rel)
        chosen.append(member)
    missing = sorted(set(expected) - seen)
    if missing:
        raise BundleError(f"{source} is incomplete: missing {', '.join(missing[:3])}")
    return manifest, expected, chosen


def import_bundle(source: Path, max_member: int = MAX_MEMBER_BYTES) -> BundleInfo:
    """Register the model in the bundle ``source`` (a tar, or a folder it was unpacked into)."""
    source = source.expanduser()
    if source.is_dir():
        return _import_dir(source)
    if not source.is_file():
        raise UsageError(f"no such bundle: {source}")
    try:
        with tarfile.open(source, "r:*") as tar:
            manifest, expected, members = _check_members(tar, source, max_member)
            work = _workdir(manifest.id)
            _check_space(manifest.id, work, sum(r["size"] for r in expected.values()))
            try:
                tar.extractall(work, members=members, filter="data")
                return _register(manifest, expected, work / PREFIX, source)
            finally:
                _drop(work)
    except (tarfile.TarError, EOFError) as exc:
        raise BundleError(f"{source} is not a readable tar file ({exc})") from exc


def _import_dir(source: Path) -> BundleInfo:
    header = source / BUNDLE_JSON
    if not header.is_file():
        raise BundleError(f"{source} is not an unpacked bundle (no {BUNDLE_JSON})")
    manifest, expected = _parse_header(header.read_bytes())
    root = source / PREFIX
    for path in source.rglob("*"):
        if path.is_symlink():
            raise BundleError(f"{path} is a link; refusing (bundles hold plain files only)")
    work = _workdir(manifest.id)
    _check_space(manifest.id, work, sum(r["size"] for r in expected.values()))
    try:
        for rel in expected:
            src = root / rel
            if not src.is_file():
                raise BundleError(f"{source} is incomplete: missing {rel}")
            dest = work / PREFIX / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dest)
        return _register(manifest, expected, work / PREFIX, source)
    finally:
        _drop(work)


def _workdir(model_id: str) -> Path:
    work = store.staging_dir(model_id) / f"import-{uuid.uuid4().hex[:8]}"
    work.mkdir(parents=True)
    return work


def _drop(work: Path) -> None:
    """Remove an import's work folder, and the model's staging folder if nothing else is in it
    (it may hold a pull's partial downloads, which stay for that pull to resume)."""
    shutil.rmtree(work, ignore_errors=True)
    try:
        work.parent.rmdir()
    except OSError:
        pass


def _check_space(model_id: str, work: Path, need: int) -> None:
    free = shutil.disk_usage(work).free
    if need > free:
        shutil.rmtree(work, ignore_errors=True)
        raise BundleError(
            f"not enough disk space to import {model_id}: {need / 1e6:.0f} MB needed, "
            f"{free / 1e6:.0f} MB free"
        )


def _register(
    manifest: store.Manifest, expected: dict[str, dict], files: Path, source: Path
) -> BundleInfo:
    """Hash the extracted files, then swap them into the store as one new snapshot."""
    for rel, rec in expected.items():
        path = files / rel
        if not path.is_file() or sha256_file(path) != rec["sha256"]:
            raise BundleError(f"{source}: {rel} does not match its SHA-256; the bundle is damaged")
    model_id = manifest.id
    with store.model_lock(model_id):
        old = store.read_manifest(model_id)
        replaced = set(expected) | ({f.path for f in old.files} if old else set())
        # Local files the bundle does not bring (an ONNX export made here) stay.
        new = store.new_snapshot(model_id, keep=lambda rel: rel not in replaced)
        for rel in expected:
            dest = new / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(files / rel, dest)
        fresh = replace(manifest, source="bundle", verified=True, verified_at=store.now())
        store.write_manifest(new, fresh)
        path = store.install(model_id, new)
    size = sum(r["size"] for r in expected.values())
    return BundleInfo(model_id, path, len(expected), size)
