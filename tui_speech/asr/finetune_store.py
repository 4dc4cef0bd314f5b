"""Saving a fine-tuned model in ``save_pretrained`` layout and registering it in the store.

The result is an ordinary wav2vec2 CTC model folder (what :mod:`tui_speech.asr.model` reads),
plus ``finetune.json`` recording where it came from (base model, dataset, settings, dev CER).
It is registered as ``local/NAME`` with ``kind="asr"`` and ``source="finetune"``, assembled in
the store's staging folder and swapped in under the model's lock like a pull, so
``transcribe --model local/NAME`` and ``models export local/NAME`` work as for any pulled model.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tui_speech.asr.model import ModelInfo
from tui_speech.fileio import swap_dir

LOCAL_OWNER = "local"
#: Tokenizer and feature-extractor files carried over from the base unchanged.
CARRIED = ("tokenizer_config.json", "special_tokens_map.json", "preprocessor_config.json")


def model_id_for(name: str) -> str:
    from tui_speech.hub.ids import validate_model_id

    return validate_model_id(name if "/" in name else f"{LOCAL_OWNER}/{name}")


def save_model(model: Any, base: ModelInfo, vocab: Sequence[str], folder: Path) -> None:
    """``model`` with ``vocab`` and the base's tokenizer settings, in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(folder))
    tokens = {tok: i for i, tok in enumerate(vocab) if tok}
    (folder / "vocab.json").write_text(json.dumps(tokens, ensure_ascii=False), "utf-8")
    for name in CARRIED:
        if (base.path / name).is_file():
            shutil.copyfile(base.path / name, folder / name)
    if not (folder / "preprocessor_config.json").exists():
        features = {
            "feature_extractor_type": "Wav2Vec2FeatureExtractor",
            "feature_size": 1,
            "sampling_rate": base.sample_rate,
            "padding_value": 0.0,
            "do_normalize": base.do_normalize,
            "return_attention_mask": True,
        }
        (folder / "preprocessor_config.json").write_text(json.dumps(features), "utf-8")


def save_model_atomic(model: Any, base: ModelInfo, vocab: Sequence[str], target: Path) -> None:
    """:func:`save_model` into a temp folder swapped in for ``target``: never half-written."""
    import uuid

    tmp = target.with_name(f".{target.name}-{uuid.uuid4().hex[:8]}")
    try:
        save_model(model, base, vocab, tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    swap_dir(tmp, target, target.with_name(f".{target.name}-old-{uuid.uuid4().hex[:8]}"))


def register(model_id: str, built: Path, provenance: dict[str, Any]) -> Path:
    """Copy the model in ``built`` into the store as ``model_id``; returns its folder."""
    from tui_speech.fileio import sha256_file
    from tui_speech.hub import store

    with store.model_lock(model_id):
        new = store.staging_dir(model_id) / "new"
        shutil.rmtree(new, ignore_errors=True)
        shutil.copytree(built, new, ignore=shutil.ignore_patterns(".*"))
        (new / "finetune.json").write_text(
            json.dumps(provenance, ensure_ascii=False, indent=2), "utf-8"
        )
        records = tuple(
            store.FileRecord(p.relative_to(new).as_posix(), p.stat().st_size, sha256_file(p))
            for p in sorted(new.rglob("*"))
            if p.is_file()
        )
        manifest = store.Manifest(
            id=model_id,
            kind="asr",
            revision="finetune",
            commit="",
            files=records,
            source="finetune",
            pulled_at=store.now(),
            verified=True,
            verified_at=store.now(),
        )
        store.write_manifest(new, manifest)
        return store.install(model_id, new)
