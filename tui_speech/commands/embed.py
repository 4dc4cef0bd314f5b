"""``tui-speech embed FILE -o out.npy``: wav2vec2 hidden states as a NumPy array.

Shapes (H = the model's hidden size, L = its layer count, one frame per 20 ms):
``--layer N``: (frames, H), or (H,) with ``--pool mean``; ``--layer all``: (L + 1, frames, H),
or (L + 1, H) with ``--pool mean``. Layer 0 is the transformer's input, L its output.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tui_speech.asr.model import DEFAULT_MODEL  # light: no numpy, no model
from tui_speech.errors import UsageError


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "embed",
        help="write wav2vec2 hidden states of an audio file as .npy",
        description="Hidden states of any layer (or all), per 20 ms frame or mean-pooled. "
        "Shapes: layer N -> (frames, H) or (H,) pooled; all -> (L+1, frames, H) or (L+1, H).",
    )
    p.add_argument("file", metavar="FILE", type=Path)
    p.add_argument(
        "--model",
        default=None,
        help=f"repo id or directory (default: {DEFAULT_MODEL} if it is in the store, "
        "else the first ASR model there)",
    )
    p.add_argument("--layer", default="-1", help="layer number (0 = input, -1 = last) or 'all'")
    p.add_argument("--pool", choices=("mean", "none"), default="mean", help="pool over frames")
    p.add_argument("-o", "--output", type=Path, required=True, help="the .npy file to write")
    p.add_argument("--threads", type=int, default=None, help="CPU threads (default: all)")
    return p


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from tui_speech.asr.backends import TorchBackend
    from tui_speech.asr.embeddings import embed, parse_layer
    from tui_speech.asr.model import default_model, find_model
    from tui_speech.audio.reader import iter_blocks, probe
    from tui_speech.fileio import atomic_writer

    if args.output.suffix.lower() != ".npy":
        raise UsageError(f"-o {args.output}: the output is a NumPy file; name it *.npy")
    probe(args.file)
    model = args.model or default_model()
    _refuse_embedded(model)
    info = find_model(model, need="torch")
    layer = parse_layer(args.layer, info.num_layers)
    backend = TorchBackend(info, args.threads)
    try:
        array = embed(
            backend, iter_blocks(args.file, target_rate=info.sample_rate), layer, args.pool
        )
    except UsageError as exc:
        raise UsageError(f"{args.file}: {exc.message}") from None
    with atomic_writer(args.output) as f:
        np.save(f, array)
    print(f"{args.output}: float32 {tuple(array.shape)}", file=sys.stderr)
    return 0


def _refuse_embedded(model: str) -> None:
    """Embeddings are wav2vec2 hidden states: the embedded Whisper has none to give."""
    from tui_speech.asr.model import DEFAULT_MODEL, KNOWN_SIZES
    from tui_speech.asr.whisper import is_embedded
    from tui_speech.errors import Action, ModelMissingError

    if is_embedded(model):
        raise ModelMissingError(
            f"embed needs the wav2vec2 model {DEFAULT_MODEL} ({KNOWN_SIZES[DEFAULT_MODEL]}); "
            "the embedded Whisper recogniser has no wav2vec2 layers",
            "fetch it",
            action=Action("pull-model", DEFAULT_MODEL),
        )
