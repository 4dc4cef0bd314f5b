"""Find a wav2vec2 CTC model on disk and read what decoding needs, without loading weights.

A model is a directory in ``save_pretrained`` layout: ``config.json``, weights
(``model.safetensors`` or ``pytorch_model.bin``), ``vocab.json`` (+ ``tokenizer_config.json``)
and the feature extractor's settings (``preprocessor_config.json``, or the ``feature_extractor``
section of ``processor_config.json`` that newer transformers write). An ONNX export lives in
``onnx/model.onnx`` inside it. ``--model`` takes such a directory or a repo id ``owner/name``,
which resolves to the model store.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui_speech.audio.rates import ASR_RATE
from tui_speech.config import get_paths
from tui_speech.errors import Action, ModelMissingError, TuiSpeechError, UsageError
from tui_speech.hub.catalog import WAV2VEC2_ZH

#: The ASR model used when none is named (the catalog holds the id).
DEFAULT_MODEL = WAV2VEC2_ZH
_PICK = Action("pick-model")
#: Download sizes users are told about when a model is missing.
KNOWN_SIZES = {DEFAULT_MODEL: "~1.3 GB"}
KNOWN_DESCRIPTIONS = {DEFAULT_MODEL: "the Mandarin wav2vec2 XLSR-53 speech recogniser"}
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
ONNX_FILE = Path("onnx") / "model.onnx"
#: Precisions each backend runs: bf16 is torch autocast; int8 and fp16 are ONNX variants that
#: ``models export ID --quantize int8|fp16`` builds beside the fp32 graph.
TORCH_PRECISIONS = ("fp32", "bf16")
ONNX_PRECISIONS = ("fp32", "int8", "fp16")


def onnx_file(precision: str = "fp32") -> Path:
    """The ONNX graph of a precision, relative to the model folder."""
    return ONNX_FILE if precision == "fp32" else ONNX_FILE.with_name(f"model.{precision}.onnx")


_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


@dataclass(frozen=True)
class ModelInfo:
    """Everything about a model that is not its weights."""

    path: Path
    name: str  # the repo id, or the directory name
    vocab: tuple[str, ...]  # token string per id
    blank_id: int  # the CTC blank (the tokenizer's pad token)
    delimiter_id: int | None  # the word delimiter, decoded as a space
    lower_case: bool
    do_normalize: bool  # zero-mean unit-variance per input, as the feature extractor does
    sample_rate: int
    hop: int  # input samples per output frame (product of conv strides)
    receptive_field: int  # samples the conv stack needs for one frame
    hidden_size: int
    num_layers: int
    config: dict[str, Any]

    @property
    def frame_seconds(self) -> float:
        """Seconds per output frame (0.02 for wav2vec2)."""
        return self.hop / self.sample_rate

    def frames_for(self, samples: int) -> int:
        """Output frames the conv stack gives for ``samples`` input samples."""
        kernels = self.config.get("conv_kernel", ())
        strides = self.config.get("conv_stride", ())
        n = samples
        for k, s in zip(kernels, strides, strict=True):
            n = (n - k) // s + 1
            if n <= 0:
                return 0
        return n


def _missing(spec: str, what: str) -> ModelMissingError:
    size = KNOWN_SIZES.get(spec, "size unknown")
    desc = KNOWN_DESCRIPTIONS.get(spec, "a wav2vec2 CTC model")
    return ModelMissingError(
        f"{what} {spec} ({desc}, {size}) is not in the model store",
        "fetch it",
        action=Action("pull-model", spec),
    )


def stored_asr_models() -> list[str]:
    """Ids of the wav2vec2 CTC models in the store, sorted (bookkeeping folders skipped)."""
    root = get_paths().models
    found = []
    for config in sorted(root.glob("*/*/config.json")):
        owner, name = config.parent.parent.name, config.parent.name
        if owner.startswith(".") or name.startswith("."):
            continue
        try:  # the same test loading applies: a wav2vec2 CTC model, readable
            _check_architecture(config.parent, _read_json(config))
        except UsageError:
            continue
        found.append(f"{owner}/{name}")
    return found


def default_model(stored: list[str] | None = None) -> str:
    """The model used when none is named, the same for every command and the TUI: the
    default model when it is stored, else the first stored ASR model, else the embedded
    Whisper (``tui_speech.asr.whisper``: offline, from the installed packages)."""
    from tui_speech.hub.embedded import WHISPER_ID

    stored = stored_asr_models() if stored is None else stored
    if DEFAULT_MODEL in stored:
        return DEFAULT_MODEL
    return stored[0] if stored else WHISPER_ID


def resolve_model_dir(spec: str | None) -> tuple[Path, str]:
    """Map a model spec (a folder or a repo id) to a directory and a display name; raise if
    there is nothing there."""
    from tui_speech.config import get_paths

    spec = spec or DEFAULT_MODEL
    as_path = Path(spec).expanduser()
    if as_path.is_dir():
        return as_path.resolve(), as_path.resolve().name
    if _REPO_ID.match(spec) and not spec.startswith("."):
        owner, name = spec.split("/")
        folder = get_paths().models / owner / name
        if not (folder / "config.json").exists():
            raise _missing(spec, "model")
        return folder, spec
    if as_path.exists():
        raise UsageError(
            f"model {spec} is a file", "give a model directory or a repo id", action=_PICK
        )
    raise UsageError(
        f"model {spec}: no such directory, and not a repo id",
        "give a model folder or a repo id like owner/name",
        action=_PICK,
    )


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(
            f"{path} is not valid JSON ({exc.__class__.__name__}); re-fetch the model"
        ) from None
    if not isinstance(data, dict):
        raise UsageError(f"{path} is not a JSON object; re-fetch the model")
    return data


def _feature_settings(folder: Path) -> dict[str, Any]:
    pre = folder / "preprocessor_config.json"
    if pre.exists():
        return _read_json(pre)
    proc = folder / "processor_config.json"
    if proc.exists():
        section = _read_json(proc).get("feature_extractor")
        if isinstance(section, dict):
            return section
    # wav2vec2's feature extractor defaults: normalise, 16 kHz.
    return {}


def _check_architecture(folder: Path, config: dict[str, Any]) -> None:
    model_type = config.get("model_type")
    archs = config.get("architectures") or []
    if model_type != "wav2vec2" or (archs and "Wav2Vec2ForCTC" not in archs):
        kind = "/".join(archs) or model_type or "unknown"
        raise UsageError(
            f"{folder} holds a {kind} model, not a wav2vec2 CTC speech recogniser",
            f"use {DEFAULT_MODEL} or another Wav2Vec2ForCTC model",
            action=_PICK,
        )


def _vocab(folder: Path, config: dict[str, Any]) -> tuple[tuple[str, ...], dict[str, Any]]:
    vocab_file = folder / "vocab.json"
    raw = _read_json(vocab_file)
    # Multilingual tokenizers nest one vocab per language; take the only one there is.
    if raw and all(isinstance(v, dict) for v in raw.values()):
        raw = next(iter(raw.values()))
    by_id: dict[int, str] = {}
    for token, index in raw.items():
        if isinstance(index, int):
            by_id[index] = token
    size = int(config.get("vocab_size", len(by_id)))
    if not by_id or max(by_id) >= size:
        raise UsageError(f"{vocab_file} does not match config.json's vocab_size {size}")
    tokens = tuple(by_id.get(i, "") for i in range(size))
    tok_cfg_path = folder / "tokenizer_config.json"
    tok_cfg = _read_json(tok_cfg_path) if tok_cfg_path.exists() else {}
    return tokens, tok_cfg


def _token(value: Any, default: str) -> str:
    # tokenizer_config stores special tokens either as strings or as AddedToken dicts.
    if isinstance(value, dict):
        return str(value.get("content", default))
    return str(value) if value else default


def load_model_info(
    folder: Path, name: str | None = None, need: str = "torch", precision: str = "fp32"
) -> ModelInfo:
    """Check ``folder`` holds a complete wav2vec2 CTC model for backend ``need`` (and, for
    onnx, the graph of ``precision``); describe it."""
    label = name or folder.name
    config_path = folder / "config.json"
    if not config_path.exists():
        raise ModelMissingError(
            f"{folder} has no config.json; it is not a complete model",
            "re-fetch it",
            action=Action("pull-model", label if "/" in label else DEFAULT_MODEL),
        )
    config = _read_json(config_path)
    _check_architecture(folder, config)
    missing = [f for f in ("vocab.json",) if not (folder / f).exists()]
    if need == "torch" and not any((folder / w).exists() for w in WEIGHT_FILES):
        missing.append(" or ".join(WEIGHT_FILES))
    if need == "onnx" and not (folder / onnx_file(precision)).exists():
        target = label if "/" in label else str(folder)
        export = Action("export-model", target, precision)
        if precision == "fp32":
            raise ModelMissingError(
                f"{folder} has no ONNX export ({ONNX_FILE})",
                "build it, or run on the torch backend",
                action=export,
            )
        raise ModelMissingError(
            f"{folder} has no {precision} variant ({onnx_file(precision)})",
            "build it",
            action=export,
        )
    if missing:
        raise ModelMissingError(
            f"{folder} is incomplete: {', '.join(missing)} missing",
            "re-fetch it",
            action=Action("pull-model", label if "/" in label else DEFAULT_MODEL),
        )
    vocab, tok_cfg = _vocab(folder, config)
    index = {tok: i for i, tok in enumerate(vocab)}
    pad = _token(tok_cfg.get("pad_token"), "<pad>")
    blank = index.get(pad, int(config.get("pad_token_id") or 0))
    delimiter = index.get(_token(tok_cfg.get("word_delimiter_token"), "|"))
    features = _feature_settings(folder)
    strides = [int(s) for s in config.get("conv_stride", (5, 2, 2, 2, 2, 2, 2))]
    kernels = [int(k) for k in config.get("conv_kernel", (10, 3, 3, 3, 3, 2, 2))]
    config = {**config, "conv_stride": strides, "conv_kernel": kernels}
    field, jump = 1, 1
    for k, s in zip(kernels, strides, strict=True):
        field += (k - 1) * jump
        jump *= s
    return ModelInfo(
        path=folder,
        name=label,
        vocab=vocab,
        blank_id=blank,
        delimiter_id=delimiter,
        lower_case=bool(tok_cfg.get("do_lower_case", False)),
        do_normalize=bool(features.get("do_normalize", True)),
        sample_rate=int(features.get("sampling_rate", ASR_RATE)),
        hop=math.prod(strides),
        receptive_field=field,
        hidden_size=int(config.get("hidden_size", 1024)),
        num_layers=int(config.get("num_hidden_layers", 24)),
        config=config,
    )


def pick_backend(choice: str, spec: str | None, precision: str = "fp32") -> str:
    """``--backend auto`` made concrete: the backend that runs ``precision`` (int8/fp16 are ONNX
    variants, bf16 is torch autocast); for fp32, onnx when the model has an ONNX export,
    unless PyTorch was measured faster on this CPU (:mod:`tui_speech.asr.tuning`)."""
    if choice != "auto":
        return choice
    if precision in ONNX_PRECISIONS[1:]:
        return "onnx"
    if precision in TORCH_PRECISIONS[1:]:
        return "torch"
    folder, _ = resolve_model_dir(spec)
    if not (folder / ONNX_FILE).exists():
        return "torch"
    from tui_speech.asr.tuning import chosen_backend

    return chosen_backend(folder) or "onnx"


def find_model(spec: str | None, need: str = "torch", precision: str = "fp32") -> ModelInfo:
    """Resolve ``--model`` and check it in one step (what the commands call)."""
    folder, name = resolve_model_dir(spec)
    info = load_model_info(folder, name, need=need, precision=precision)
    models = get_paths().models
    if folder.resolve().is_relative_to(models.resolve()):
        _mark_used("/".join(folder.resolve().relative_to(models.resolve()).parts[:2]))
    return info


def _mark_used(model_id: str) -> None:
    """Note the load in the store's manifest (``models list`` shows it); never fatal."""
    from tui_speech.hub.store import mark_used

    try:
        mark_used(model_id)
    except (OSError, ValueError, TypeError, TuiSpeechError):  # read-only store, odd manifest
        pass
