"""The models tui-speech knows, and which of a repo's files each one needs.

A Hub repo holds more than a model needs (Flax and TensorFlow weights, READMEs, samples), so each
entry picks its files. Weights prefer safetensors; a pickle (``.bin``/``.pth``/``.pt``) is taken
only when the repo has no safetensors copy, and is only ever loaded with ``weights_only=True``.

Any other Hub repo of a ``Wav2Vec2ForCTC`` model can be pulled too: it gets the generic ASR
selection. Repos that ship their own modelling code (``auto_map``) are refused, because running
them would need ``trust_remote_code``.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from tui_speech.errors import UsageError
from tui_speech.hub.embedded import EMBEDDED_ID, WHISPER_ID


@dataclass(frozen=True)
class CatalogEntry:
    """One known model: what it is and which repo files make it usable."""

    id: str
    kind: str  # "asr" or "tts"
    title: str
    #: Files always needed (glob patterns on repo paths).
    required: tuple[str, ...] = ()
    #: Weight files in order of preference: the first alternative the repo has is taken.
    weights: tuple[str, ...] = ()
    #: Voice packs (Kokoro): all by default, or the ones named with ``--voices``.
    voices: str | None = None
    #: Shipped inside tui-speech (the int8 Kokoro): always present, never downloaded.
    embedded: bool = False
    size_hint: str = ""
    variants: tuple[str, ...] = field(default=())


_ASR_FILES = (
    "config.json",
    "preprocessor_config.json",
    "vocab.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
)
_ASR_WEIGHTS = ("model.safetensors", "pytorch_model.bin")

WAV2VEC2_ZH = "jonatasgrosman/wav2vec2-large-xlsr-53-chinese-zh-cn"
KOKORO = "hexgrad/Kokoro-82M"
KOKORO_ZH = "hexgrad/Kokoro-82M-v1.1-zh"

CATALOG: dict[str, CatalogEntry] = {
    e.id: e
    for e in (
        CatalogEntry(
            WAV2VEC2_ZH,
            "asr",
            "wav2vec2 XLSR-53 Mandarin (zh-CN), CTC",
            required=_ASR_FILES,
            weights=_ASR_WEIGHTS,
            size_hint="1.3 GB",
        ),
        CatalogEntry(
            KOKORO,
            "tts",
            "Kokoro-82M v1.0 (en, es, fr, hi, it, ja, pt-br, zh)",
            required=("config.json",),
            weights=("kokoro-v1_0.safetensors", "kokoro-v1_0.pth"),
            voices="voices/*.pt",
            size_hint="327 MB + 0.5 MB per voice",
        ),
        CatalogEntry(
            KOKORO_ZH,
            "tts",
            "Kokoro-82M v1.1 (Mandarin)",
            required=("config.json",),
            weights=("kokoro-v1_1-zh.safetensors", "kokoro-v1_1-zh.pth"),
            voices="voices/*.pt",
            size_hint="327 MB + 0.5 MB per voice",
        ),
        CatalogEntry(
            EMBEDDED_ID,
            "tts",
            "Kokoro-82M int8 ONNX, shipped with tui-speech",
            embedded=True,
            size_hint="90 MB",
            variants=("onnx-int8",),
        ),
        CatalogEntry(
            WHISPER_ID,
            "asr",
            "Whisper base int8 (faster-whisper), shipped with tui-speech: Listen until the "
            "wav2vec2 model is pulled",
            embedded=True,
            size_hint="145 MB",
            variants=("ctranslate2-int8",),
        ),
    )
}


def entry_for(model_id: str) -> CatalogEntry:
    """The catalog entry of ``model_id``, or the generic ``Wav2Vec2ForCTC`` entry for others."""
    known = CATALOG.get(model_id)
    if known is not None:
        return known
    return CatalogEntry(model_id, "asr", "Wav2Vec2ForCTC model", _ASR_FILES, _ASR_WEIGHTS)


def check_architecture(model_id: str, config: dict | None) -> None:
    """Refuse repos tui-speech cannot run safely: custom code, or not a ``Wav2Vec2ForCTC``.

    ``config`` is the Hub's summary of the repo's config.json (model info) or the file itself.
    """
    if config is None or model_id in CATALOG:
        return
    if config.get("auto_map"):
        raise UsageError(
            f"{model_id} ships its own model code; tui-speech never runs remote code "
            "(trust_remote_code), so it cannot use this model"
        )
    architectures = config.get("architectures") or []
    if "Wav2Vec2ForCTC" not in architectures:
        found = ", ".join(architectures) or "no architecture"
        raise UsageError(
            f"{model_id} is not a Wav2Vec2ForCTC model ({found}); tui-speech can pull the "
            f"catalog models and Wav2Vec2ForCTC speech recognisers"
        )


def select_files(
    entry: CatalogEntry, repo_files: Iterable[str], voices: Sequence[str] | None = None
) -> list[str]:
    """The repo files ``entry`` needs, in download order (small config files first).

    ``voices`` limits the voice packs to those names (without ``.pt``); unknown names raise.
    """
    files = sorted(repo_files)
    chosen = [f for f in files if any(fnmatch.fnmatchcase(f, p) for p in entry.required)]
    if entry.weights:
        weight = next((w for w in entry.weights if w in files), None)
        if weight is None:
            raise UsageError(
                f"{entry.id} has none of the weight files tui-speech expects "
                f"({', '.join(entry.weights)})"
            )
        chosen.append(weight)
    if entry.voices:
        packs = [f for f in files if fnmatch.fnmatchcase(f, entry.voices)]
        if voices:
            by_name = {f.rsplit("/", 1)[-1].removesuffix(".pt"): f for f in packs}
            missing = [v for v in voices if v not in by_name]
            if missing:
                raise UsageError(
                    f"{entry.id} has no voice {', '.join(missing)}; "
                    f"available: {', '.join(sorted(by_name)) or 'none'}"
                )
            packs = [by_name[v] for v in voices]
        chosen.extend(packs)
    elif voices:
        raise UsageError(f"{entry.id} has no voice packs", "pull it without naming voices")
    if "config.json" in entry.required and "config.json" not in chosen:
        raise UsageError(f"{entry.id} has no config.json; is it a model repo?")
    return list(dict.fromkeys(chosen))
