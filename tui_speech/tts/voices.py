"""Kokoro voice packs: the embedded ones, those in the model store, and saved blends.

A voice pack is a float32 array of shape (510, 1, 256): one style vector per phoneme-sequence
length (Kokoro picks row ``len(tokens) - 1``). A blend is a weighted average of packs, written
``jf_alpha:0.7,jm_kumo:0.3``; weights are normalised to sum to 1 so a blend is as loud and as
fast as its parts. A weight may be omitted (``jf_alpha,jm_kumo`` = equal parts).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from tui_speech.config import get_paths
from tui_speech.errors import UsageError
from tui_speech.fileio import atomic_write_text, atomic_writer

PACK_SHAPE = (510, 1, 256)
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,63}$")
#: The preferred voice per language, used when that pack is in the store (Kokoro-82M's names).
PREFERRED_VOICE = {
    "en-us": "af_heart",
    "en-gb": "bf_emma",
    "zh": "zf_xiaoxiao",
    "es": "ef_dora",
    "fr": "ff_siwis",
    "hi": "hf_alpha",
    "it": "if_sara",
    "pt-br": "pf_dora",
    "ja": "jf_alpha",
}
EMBEDDED_DEFAULT = "jf_alpha"
#: The embedded voice a language sounds clearest in, when its own voice is not in the store.
#: Mandarin: jf_gongitsune, CER 0.054 mean / 0.042 pooled against jf_alpha's 0.131 / 0.095
#: (bench/intelligibility.py --lang zh --renderings pipeline, Whisper base, 24 items).
EMBEDDED_VOICE = {"zh": "jf_gongitsune"}


@dataclass(frozen=True)
class VoiceInfo:
    """One entry of ``tui-speech voices``."""

    name: str
    source: str  # "embedded", "store" or "blend"
    language: str
    gender: str
    detail: str = ""


_LANG_PREFIX = {
    "a": "en-us", "b": "en-gb", "e": "es", "f": "fr", "h": "hi", "i": "it", "j": "ja",
    "p": "pt-br", "z": "zh",
}  # fmt: skip


def _describe(name: str, source: str, detail: str = "") -> VoiceInfo:
    lang = _LANG_PREFIX.get(name[:1], "?") if len(name) > 2 and name[2] == "_" else "?"
    gender = {"f": "female", "m": "male"}.get(name[1:2], "?") if lang != "?" else "?"
    return VoiceInfo(name, source, lang, gender, detail)


@cache
def _embedded() -> dict[str, np.ndarray]:
    from tui_speech.hub.embedded import data_file

    with data_file("voices_ja.npz").open("rb") as f, np.load(f) as npz:
        return {name: np.asarray(npz[name], dtype=np.float32) for name in npz.files}


def store_voice_dirs() -> list[Path]:
    """Folders of voice packs that downloaded Kokoro models keep in the store."""
    models = get_paths().models
    if not models.is_dir():
        return []
    return sorted(p for p in models.glob("*/*/voices") if p.is_dir())


def _store_files() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for folder in store_voice_dirs():
        for path in sorted(folder.iterdir()):
            if path.suffix in (".pt", ".npy") and path.stem not in found:
                found[path.stem] = path
    return found


def _blend_files() -> dict[str, Path]:
    folder = get_paths().voices
    if not folder.is_dir():
        return {}
    return {p.stem: p for p in sorted(folder.glob("*.npy"))}


def list_voices() -> list[VoiceInfo]:
    """Every voice that can be used by name: embedded, in the store, and saved blends."""
    voices = [_describe(n, "embedded") for n in _embedded()]
    voices += [_describe(n, "store", str(p)) for n, p in _store_files().items()]
    for name, path in _blend_files().items():
        spec = ""
        meta = path.with_suffix(".json")
        if meta.is_file():
            spec = json.loads(meta.read_text()).get("blend", "")
        voices.append(VoiceInfo(name, "blend", "?", "?", spec))
    return voices


def voice_names() -> list[str]:
    return [v.name for v in list_voices()]


def _load_file(path: Path) -> np.ndarray:
    if path.suffix == ".pt":
        import torch  # only store voices from the Hub come as .pt; torch is loaded just for them

        array = torch.load(path, map_location="cpu", weights_only=True).numpy()
    else:
        array = np.load(path, allow_pickle=False)
    return _checked(np.asarray(array, dtype=np.float32), str(path))


def _checked(pack: np.ndarray, where: str) -> np.ndarray:
    if pack.shape != PACK_SHAPE:
        if pack.shape == (510, 256):
            return pack.reshape(PACK_SHAPE)
        raise UsageError(f"voice pack {where} has shape {pack.shape}, expected {PACK_SHAPE}")
    return pack


def load_voice(name: str) -> np.ndarray:
    """One named voice: a saved blend, an embedded pack or a pack from the store."""
    blends = _blend_files()
    if name in blends:
        return _checked(np.load(blends[name], allow_pickle=False), name)
    embedded = _embedded()
    if name in embedded:
        return embedded[name]
    stored = _store_files()
    if name in stored:
        return _load_file(stored[name])
    valid = ", ".join(voice_names())
    raise UsageError(f"unknown voice {name!r}; available voices: {valid}")


def parse_blend(spec: str) -> list[tuple[str, float]]:
    """``a:0.7,b:0.3`` -> [("a", 0.7), ("b", 0.3)], weights normalised to sum to 1."""
    parts = [p.strip() for p in spec.split(",")]
    if not spec.strip() or any(not p for p in parts):
        raise UsageError(f"malformed voice blend {spec!r}; write it like jf_alpha:0.7,jm_kumo:0.3")
    pairs: list[tuple[str, float]] = []
    for part in parts:
        name, sep, weight_text = part.partition(":")
        name = name.strip()
        try:
            weight = float(weight_text) if sep else 1.0
        except ValueError:
            raise UsageError(f"malformed weight {weight_text!r} in voice blend {spec!r}") from None
        if not name or not np.isfinite(weight) or weight <= 0:
            raise UsageError(f"each voice in a blend needs a name and a weight > 0: {part!r}")
        pairs.append((name, weight))
    names = [n for n, _ in pairs]
    if len(set(names)) != len(names):
        raise UsageError(f"a voice appears twice in the blend {spec!r}")
    total = sum(w for _, w in pairs)
    return [(n, w / total) for n, w in pairs]


def resolve_voice(spec: str) -> np.ndarray:
    """A voice name or a blend spec -> the style pack (510, 1, 256)."""
    spec = spec.strip()
    if "," not in spec and ":" not in spec:
        return load_voice(spec)
    pairs = parse_blend(spec)
    return np.sum([w * load_voice(n) for n, w in pairs], axis=0).astype(np.float32)


def save_blend(name: str, spec: str) -> Path:
    """Save a blend as a named voice in the user data dir; returns the pack's path."""
    if not _NAME_RE.match(name):
        raise UsageError(f"invalid voice name {name!r}: use letters, digits, '_' or '-'")
    if name in _embedded() or name in _store_files():
        raise UsageError(f"{name!r} is already a voice pack; choose another name for the blend")
    pack = resolve_voice(spec)
    folder = get_paths().voices
    target = folder / f"{name}.npy"
    with atomic_writer(target) as f:
        np.save(f, pack, allow_pickle=False)
    normalised = spec
    if "," in spec or ":" in spec:
        normalised = ",".join(f"{n}:{w:.4g}" for n, w in parse_blend(spec))
    atomic_write_text(target.with_suffix(".json"), json.dumps({"name": name, "blend": normalised}))
    return target


def default_voice(lang: str) -> str:
    """The language's own voice when its pack is in the store, else the embedded voice that
    language is clearest in (:data:`EMBEDDED_VOICE`), else the embedded default."""
    preferred = PREFERRED_VOICE.get(lang)
    if preferred and (preferred in _store_files() or preferred in _embedded()):
        return preferred
    return EMBEDDED_VOICE.get(lang, EMBEDDED_DEFAULT)


def style_for(pack: np.ndarray, n_tokens: int) -> np.ndarray:
    """Kokoro's style vector for a sequence of ``n_tokens`` phonemes: row n-1, shape (1, 256)."""
    row = min(max(n_tokens, 1), pack.shape[0]) - 1
    return pack[row].reshape(1, -1)
