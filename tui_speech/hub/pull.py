"""``models pull``: bring a model in the store up to a Hub revision, resumably and atomically.

Steps: resolve the revision to a commit and list its files (hashes included); take the model's
lock; keep every local file that already matches; download the rest into the staging area
(resuming partial files); verify each against the Hub's SHA-256 / git id; assemble the new
snapshot next to the old one and swap it in. Nothing in the model's folder changes before the
swap, so a cancel, a network failure or a full disk leaves the old state (or no model) intact.
"""

from __future__ import annotations

import errno
import json
import shutil
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tui_speech.fileio import sha256_file
from tui_speech.hub import store
from tui_speech.hub.catalog import check_architecture, entry_for, select_files
from tui_speech.hub.download import HubError, RemoteFile, fetch, matches, resolve
from tui_speech.hub.ids import validate_model_id, validate_revision


@dataclass(frozen=True)
class PullProgress:
    """One progress report; ``done``/``total`` count the bytes this pull has to transfer.

    ``stage`` is one of: resolving, waiting (another process pulls the same model), checking,
    downloading, verifying, installing, done. High-rate: consumers may drop all but the latest.
    """

    model_id: str
    stage: str
    file: str | None = None
    file_done: int = 0
    file_total: int = 0
    done: int = 0
    total: int = 0


@dataclass(frozen=True)
class PullResult:
    model_id: str
    commit: str
    path: Path
    files: int
    size: int
    #: Bytes that had to come over the network in this pull (resumed bytes excluded).
    fetched: int


ProgressCallback = Callable[[PullProgress], None]


def pull(
    model_id: str,
    revision: str | None = None,
    voices: Sequence[str] | None = None,
    on_progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    token: str | None = None,
) -> PullResult:
    """Download (or repair, or update) ``model_id``; see the module docstring.

    ``voices`` adds those Kokoro voice packs (``["all"]`` for every one); without it a new model
    gets every pack and a registered one keeps the packs it has. Blocking; call it from a worker.
    """
    validate_model_id(model_id)
    if revision is not None:
        validate_revision(revision)
    emit = on_progress or (lambda _p: None)
    entry = entry_for(model_id)
    if entry.embedded:
        return _pull_embedded(model_id)

    emit(PullProgress(model_id, "resolving"))
    remote = resolve(model_id, revision, token)
    check_architecture(model_id, remote.config)
    by_path = {f.path: f for f in remote.files}

    with store.model_lock(model_id, on_wait=lambda: emit(PullProgress(model_id, "waiting"))):
        old = store.read_manifest(model_id)
        wanted = _voices_wanted(entry.voices, voices, old)
        selected = [by_path[p] for p in select_files(entry, by_path, wanted)]
        emit(PullProgress(model_id, "checking"))
        reuse, need = _check_local(model_id, old, selected)
        staging = store.staging_dir(model_id) / "blobs"

        def inspect(remote_file: RemoteFile, blob: Path) -> None:
            # The Hub does not always summarise config.json; then read it before the (large)
            # weights come, which the download order puts last.
            if remote_file.path == "config.json" and remote.config is None:
                check_architecture(model_id, _read_config(blob))

        blobs, fetched = _download_all(
            model_id, remote.commit, need, staging, emit, cancel, token, inspect
        )

        emit(PullProgress(model_id, "installing"))
        records = dict(reuse)
        unchanged = (
            old is not None
            and not blobs
            and old.commit == remote.commit
            and [f.path for f in old.files] == [f.path for f in selected]
        )
        if unchanged:
            # Everything is in place and was just re-hashed: leave the folder alone (a
            # running recogniser may be reading it) and only record the check.
            store.update_manifest(model_id, verified=True, verified_at=store.now())
            shutil.rmtree(store.staging_dir(model_id), ignore_errors=True)
            path = store.path_of(model_id)
            total = sum(f.size for f in selected)
            emit(PullProgress(model_id, "done", done=total, total=total))
            return PullResult(model_id, remote.commit, path, len(selected), total, 0)
        try:
            old_paths = {f.path for f in old.files} if old else set()
            # Keep files pulled before only if they still match; keep everything else
            # (ONNX exports and other derived files) as it is.
            new = store.new_snapshot(
                model_id, keep=lambda rel: rel not in old_paths or rel in reuse
            )
            for remote_file, (blob, sha) in blobs.items():
                dest = new / remote_file.path
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.unlink(missing_ok=True)
                store.link_or_copy(blob, dest)
                record = store.FileRecord(remote_file.path, remote_file.size, sha)
                records[remote_file.path] = record
            manifest = store.Manifest(
                id=model_id,
                kind=entry.kind,
                revision=remote.revision,
                commit=remote.commit,
                files=tuple(records[f.path] for f in selected),
                pulled_at=store.now(),
                verified=True,
                verified_at=store.now(),
                last_used=old.last_used if old else None,
            )
            store.write_manifest(new, manifest)
            path = store.install(model_id, new)
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                raise HubError(
                    f"disk full while installing {model_id}; free space and pull again "
                    "(downloaded files are kept and reused)"
                ) from exc
            raise
        shutil.rmtree(store.staging_dir(model_id), ignore_errors=True)
    total = sum(f.size for f in selected)
    emit(PullProgress(model_id, "done", done=total, total=total))
    return PullResult(model_id, remote.commit, path, len(selected), total, fetched)


def _voices_wanted(
    pattern: str | None, voices: Sequence[str] | None, old: store.Manifest | None
) -> list[str] | None:
    if not pattern:
        return list(voices) if voices else None
    have = [
        f.path.rsplit("/", 1)[-1].removesuffix(".pt")
        for f in (old.files if old else ())
        if f.path.startswith("voices/")
    ]
    if voices and "all" in voices:
        return None
    if voices:
        return list(dict.fromkeys([*have, *voices]))
    return have or None  # a registered model keeps its set; a new one gets every pack


def _check_local(
    model_id: str, old: store.Manifest | None, selected: list[RemoteFile]
) -> tuple[dict[str, store.FileRecord], list[RemoteFile]]:
    """Split ``selected`` into files already present and intact, and files to download.

    Every present file is hashed again: this is what lets ``pull`` repair a corrupted file.
    """
    folder = store.path_of(model_id)
    reuse: dict[str, store.FileRecord] = {}
    need: list[RemoteFile] = []
    for remote_file in selected:
        local = folder / remote_file.path
        if old is not None and local.is_file() and not local.is_symlink():
            sha = sha256_file(local)
            if matches(local, remote_file, sha):
                reuse[remote_file.path] = store.FileRecord(remote_file.path, remote_file.size, sha)
                continue
        need.append(remote_file)
    return reuse, need


def _download_all(
    model_id: str,
    commit: str,
    need: list[RemoteFile],
    staging: Path,
    emit: ProgressCallback,
    cancel: threading.Event | None,
    token: str | None,
    inspect: Callable[[RemoteFile, Path], None],
) -> tuple[dict[RemoteFile, tuple[Path, str]], int]:
    """Fetch ``need`` into content-addressed staging blobs.

    Returns each file's blob path and SHA-256, and how many bytes came over the network.
    """
    total = sum(f.size for f in need)
    _check_space(model_id, staging, need)
    state = {"done": 0, "fetched": 0}
    blobs: dict[RemoteFile, tuple[Path, str]] = {}
    for remote_file in need:
        blob = staging / remote_file.key
        partial = staging / f"{remote_file.key}.incomplete"
        file_done = 0
        first = True

        def on_bytes(n: int, remote_file: RemoteFile = remote_file) -> None:
            nonlocal file_done, first
            file_done += n
            state["done"] += n
            if not first:
                state["fetched"] += n
            first = False
            emit(
                PullProgress(
                    model_id,
                    "downloading",
                    remote_file.path,
                    file_done,
                    remote_file.size,
                    state["done"],
                    total,
                )
            )

        if not blob.is_file():
            fetch(model_id, commit, remote_file, partial, on_bytes, cancel, token)
            partial.replace(blob)
        else:
            on_bytes(remote_file.size)
        emit(PullProgress(model_id, "verifying", remote_file.path, file_done, remote_file.size))
        sha = sha256_file(blob)
        if not matches(blob, remote_file, sha):
            blob.unlink()
            raise HubError(
                f"{remote_file.path} of {model_id} does not match the Hub's checksum "
                "(corrupted in transit); run the pull again"
            )
        blobs[remote_file] = (blob, sha)
        inspect(remote_file, blob)
    return blobs, state["fetched"]


def _read_config(path: Path) -> dict:
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise HubError(f"config.json in {path.parent} is not valid JSON ({exc})") from exc
    return config if isinstance(config, dict) else {}


def _check_space(model_id: str, staging: Path, need: list[RemoteFile]) -> None:
    staging.mkdir(parents=True, exist_ok=True)
    missing = 0
    for f in need:
        partial = staging / f"{f.key}.incomplete"
        have = partial.stat().st_size if partial.is_file() else 0
        missing += 0 if (staging / f.key).is_file() else f.size - have
    free = shutil.disk_usage(staging).free
    if missing > free:
        raise HubError(
            f"not enough disk space for {model_id}: {missing / 1e6:.0f} MB needed, "
            f"{free / 1e6:.0f} MB free in {staging.parent.parent}; free space and pull again"
        )


def _pull_embedded(model_id: str) -> PullResult:
    """The embedded model is never downloaded: rebuild it from its packages if it is damaged."""
    from tui_speech.hub import embedded

    target = embedded.model_dir() / embedded.MODEL_FILENAME
    sha = embedded.expected_sha256()
    if target.is_file() and sha256_file(target) != sha:
        embedded.assemble(target, sha)
    path = embedded.embedded_model_path()
    size = path.stat().st_size
    return PullResult(model_id, "embedded", path.parent, 1, size, 0)
