"""Looking after what is in the store: list, verify, remove (whole models or variants)."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tui_speech.errors import Action, ModelMissingError, UsageError
from tui_speech.fileio import sha256_file
from tui_speech.hub import store
from tui_speech.hub.catalog import CATALOG, entry_for
from tui_speech.hub.embedded import EMBEDDED_ID, WHISPER_ID
from tui_speech.hub.ids import MANIFEST_NAME, validate_model_id

TORCH_SUFFIXES = (".safetensors", ".bin", ".pth")
VARIANTS = ("torch", "onnx", "onnx-int8", "onnx-fp16")
_ALIASES = {"fp16": "onnx-fp16", "int8": "onnx-int8"}


@dataclass(frozen=True)
class ModelEntry:
    """One row of ``models list``: a catalog model (present or not) or a pulled one."""

    id: str
    kind: str
    title: str
    present: bool
    revision: str | None = None
    commit: str | None = None
    size: int = 0
    variants: tuple[str, ...] = ()
    voices: int = 0
    last_used: str | None = None
    verified: bool | None = None
    path: str | None = None
    source: str | None = None


def onnx_variant(path: Path) -> str:
    """Which variant an ONNX file is, from its name (``model.int8.onnx`` -> ``onnx-int8``)."""
    stem = path.name.lower()
    if "int8" in stem or "uint8" in stem or "q8" in stem:
        return "onnx-int8"
    if "fp16" in stem or "f16" in stem:
        return "onnx-fp16"
    return "onnx"


def variants_in(folder: Path, manifest: store.Manifest | None) -> tuple[str, ...]:
    found = set()
    if manifest is not None and any(f.path.endswith(TORCH_SUFFIXES) for f in manifest.files):
        found.add("torch")
    found.update(onnx_variant(p) for p in folder.rglob("*.onnx"))
    return tuple(v for v in VARIANTS if v in found)


def describe(model_id: str) -> ModelEntry:
    entry = entry_for(model_id)
    if model_id == WHISPER_ID:
        return _describe_whisper()
    if entry.embedded:
        return _describe_embedded()
    manifest = store.read_manifest(model_id)
    folder = store.path_of(model_id)
    if manifest is None:
        return ModelEntry(model_id, entry.kind, entry.title, present=False)
    return ModelEntry(
        id=model_id,
        kind=manifest.kind,
        title=entry.title,
        present=True,
        revision=manifest.revision,
        commit=manifest.commit,
        size=store.dir_size(folder),
        variants=variants_in(folder, manifest),
        voices=sum(1 for f in manifest.files if f.path.startswith("voices/")),
        last_used=manifest.last_used,
        verified=manifest.verified,
        path=str(folder),
        source=manifest.source,
    )


def _describe_embedded() -> ModelEntry:
    from tui_speech.hub import embedded

    entry = CATALOG[EMBEDDED_ID]
    folder = embedded.model_dir()
    model = folder / embedded.MODEL_FILENAME
    size = store.dir_size(folder) if folder.is_dir() else 0
    extra = tuple(v for v in variants_in(folder, None) if v != "onnx-int8") if size else ()
    return ModelEntry(
        id=EMBEDDED_ID,
        kind=entry.kind,
        title=entry.title,
        present=True,  # assembled from the installed packages on first use
        revision=None,
        commit=None,
        size=size,
        variants=("onnx-int8", *extra),
        # The marker is written only after a full hash; before first use there is none yet.
        verified=True if model.with_name(model.name + ".verified").is_file() else None,
        path=str(folder),
        source="embedded",
    )


def _describe_whisper() -> ModelEntry:
    from tui_speech.hub import embedded

    folder = embedded.whisper_dir()
    entry = CATALOG[WHISPER_ID]
    return ModelEntry(
        id=WHISPER_ID,
        kind=entry.kind,
        title=entry.title,
        present=True,  # assembled from the installed packages on first use
        size=store.dir_size(folder) if folder.is_dir() else 0,
        variants=entry.variants,
        verified=True if embedded.whisper_verified(folder) else None,
        path=str(folder),
        source="embedded",
    )


def list_models() -> list[ModelEntry]:
    """The catalog's models (present or not) followed by every other model in the store."""
    ids = list(CATALOG)
    ids += [i for i in store.registered_ids() if i not in CATALOG]
    return [describe(i) for i in ids]


@dataclass(frozen=True)
class VerifyReport:
    model_id: str
    checked: int
    bad: tuple[str, ...]  # present but with the wrong size or SHA-256
    missing: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.bad and not self.missing


def verify(model_id: str, on_file: Callable[[str], None] | None = None) -> VerifyReport:
    """Hash every file of ``model_id`` against its manifest and record the outcome."""
    validate_model_id(model_id)
    if model_id == EMBEDDED_ID:
        return _verify_embedded()
    if model_id == WHISPER_ID:
        from tui_speech.hub.embedded import WHISPER_MODEL_FILE, verify_whisper

        ok = verify_whisper()
        return VerifyReport(
            WHISPER_ID,
            1,
            () if ok is not False else (WHISPER_MODEL_FILE,),
            (WHISPER_MODEL_FILE,) if ok is None else (),
        )
    with store.model_lock(model_id):
        manifest = store.read_manifest(model_id)
        if manifest is None:
            raise ModelMissingError(
                f"{model_id} is not in the model store",
                "fetch it",
                action=Action("pull-model", model_id),
            )
        folder = store.path_of(model_id)
        bad, missing = [], []
        for rec in manifest.files:
            if on_file is not None:
                on_file(rec.path)
            path = folder / rec.path
            if not path.is_file() or path.is_symlink():
                missing.append(rec.path)
            elif path.stat().st_size != rec.size or sha256_file(path) != rec.sha256:
                bad.append(rec.path)
        report = VerifyReport(model_id, len(manifest.files), tuple(bad), tuple(missing))
        store.update_manifest(model_id, verified=report.ok, verified_at=store.now())
    return report


def _verify_embedded() -> VerifyReport:
    from tui_speech.hub import embedded

    model = embedded.model_dir() / embedded.MODEL_FILENAME
    if not model.is_file():
        return VerifyReport(EMBEDDED_ID, 1, (), (embedded.MODEL_FILENAME,))
    ok = sha256_file(model) == embedded.expected_sha256()
    return VerifyReport(EMBEDDED_ID, 1, () if ok else (embedded.MODEL_FILENAME,), ())


def remove(model_id: str, variant: str | None = None) -> list[str]:
    """Delete a model (or one variant of it) from the store; returns what was removed."""
    validate_model_id(model_id)
    if model_id == EMBEDDED_ID and variant in (None, "onnx-int8", "int8"):
        raise UsageError(f"{EMBEDDED_ID} ships with tui-speech and cannot be removed")
    if model_id == WHISPER_ID:
        raise UsageError(f"{WHISPER_ID} ships with tui-speech and cannot be removed")
    if variant is not None:
        variant = _ALIASES.get(variant, variant)
        if variant not in VARIANTS:
            raise UsageError(f"unknown variant {variant!r}; choose from {', '.join(VARIANTS)}")
    folder = store.path_of(model_id)
    with store.model_lock(model_id):
        if not folder.is_dir():
            raise ModelMissingError(f"{model_id} is not in the model store")
        if variant is None:
            trash = store.staging_dir(model_id) / f"trash-{uuid.uuid4().hex[:8]}"
            trash.parent.mkdir(parents=True, exist_ok=True)
            folder.replace(trash)  # one rename: the model is gone at once, never half-deleted
            shutil.rmtree(store.staging_dir(model_id), ignore_errors=True)
            if not any(folder.parent.iterdir()):
                folder.parent.rmdir()
            return [model_id]
        return _remove_variant(model_id, folder, variant)


def _remove_variant(model_id: str, folder: Path, variant: str) -> list[str]:
    manifest = store.read_manifest(model_id)
    if variant == "torch":
        targets = [
            folder / f.path
            for f in (manifest.files if manifest else ())
            if f.path.endswith(TORCH_SUFFIXES) and not f.path.startswith("voices/")
        ]
    else:
        targets = [p for p in folder.rglob("*.onnx") if onnx_variant(p) == variant]
        # Weights stored next to the graph (``model.onnx.data``) and sidecars go with it.
        targets += [s for p in list(targets) for s in p.parent.glob(p.name + ".*")]
    targets = [p for p in targets if p.is_file() and p.name != MANIFEST_NAME]
    if not targets:
        raise UsageError(f"{model_id} has no {variant} variant")
    removed = [p.relative_to(folder).as_posix() for p in targets]
    if manifest is not None:
        kept = tuple(f for f in manifest.files if f.path not in removed)
        store.update_manifest(model_id, files=kept)
    for path in targets:
        path.unlink()
    return removed
