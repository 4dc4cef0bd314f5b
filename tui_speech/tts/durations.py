"""Kokoro's predicted durations as a graph output, and word timings from them.

Kokoro predicts how many frames each phoneme token lasts, rounds them (at least one frame) and
expands the encoder's features by them (the length regulator). The kokoro-onnx export computes
that tensor but outputs only the audio. So, for each model file the engine runs (int8, or the
float variant the tuning picked), a *timed copy* is kept in ``timed/`` beside it:

1. the source's bytes, unchanged, followed by one small ``ModelProto`` whose graph lists one
   more output: the rounded durations (int64, one per token, pads included), found by the
   graph's structure (:func:`find_duration_tensor`). Protobuf merges concatenated messages
   (repeated fields append), so the copy parses as the source with a second output; no node
   or weight changes, and the audio is the same bit for bit (tested);
2. a ``.verified`` stamp records the source's size and mtime, the copy's size, mtime and
   SHA-256, and the tensor's name: a copy that no longer matches (truncated, rewritten, a new
   source) is rebuilt, so a stale graph is never loaded.

Each predicted frame is :data:`SAMPLES_PER_FRAME` samples of audio (two F0 frames of the
decoder's 300-sample iSTFT hop at 24 kHz); the engine checks that the durations add up to
the audio's length on every chunk and drops them when they do not, so a wrong timing is never
shown as a right one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import mmap
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tui_speech.fileio import atomic_write_text, atomic_writer

if TYPE_CHECKING:
    from tui_speech.tts.g2p import G2PToken

log = logging.getLogger(__name__)

#: Audio samples per predicted duration frame (24 kHz); checked against every chunk's audio.
SAMPLES_PER_FRAME = 600
TIMED_DIR = "timed"
#: Bumped when the rewrite changes, so older timed copies are rebuilt.
TIMED_VERSION = 1
_STAMP_SUFFIX = ".verified"
_lock = threading.Lock()


# --- Finding the tensor: a walk over the protobuf wire format, without loading the weights ------


def _varint(buf: Any, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


def _fields(buf: Any, start: int, end: int) -> Iterator[tuple[int, int, int]]:
    """(field number, start, end) of the length-delimited fields in ``buf[start:end]``; other
    wire types are skipped."""
    pos = start
    while pos < end:
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            _, pos = _varint(buf, pos)
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        elif wire == 2:
            length, pos = _varint(buf, pos)
            yield number, pos, pos + length
            pos += length
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")


# Field numbers of onnx.proto3 (read and written by hand: the onnx package is an optional
# extra, and only these few fields matter here).
_MODEL_GRAPH, _GRAPH_NODE, _GRAPH_OUTPUT = 7, 1, 12
_NODE_INPUT, _NODE_OUTPUT, _NODE_OP_TYPE = 1, 2, 4
_INT64 = 7  # TensorProto.INT64


@dataclass(frozen=True)
class Node:
    """The parts of an ONNX ``NodeProto`` the search needs."""

    op_type: str
    input: tuple[str, ...]
    output: tuple[str, ...]


def _node(buf: Any, start: int, end: int) -> Node:
    fields: dict[int, list[str]] = {_NODE_INPUT: [], _NODE_OUTPUT: [], _NODE_OP_TYPE: []}
    for number, s, e in _fields(buf, start, end):
        if number in fields:
            fields[number].append(bytes(buf[s:e]).decode("utf-8"))
    op = fields[_NODE_OP_TYPE]
    return Node(op[0] if op else "", tuple(fields[_NODE_INPUT]), tuple(fields[_NODE_OUTPUT]))


def graph_nodes(path: Path) -> list[Node]:
    """The nodes of an ONNX file's graph, read from a memory map: the weights (the bulk of the
    file) are skipped, so a 325 MB float model costs a few MB here, not 650."""
    nodes = []
    with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
        for number, start, end in _fields(buf, 0, len(buf)):
            if number != _MODEL_GRAPH:
                continue
            for field, s, e in _fields(buf, start, end):
                if field == _GRAPH_NODE:
                    nodes.append(_node(buf, s, e))
    return nodes


def find_duration_tensor(nodes: Sequence[Node]) -> str:
    """The name of the rounded per-token durations: the tensor a ``CumSum`` sums into the
    length regulator's frame positions, reached from the predictor's ``Round`` through only
    Clip / Cast / Gather / Squeeze / Reshape (rounding, the one-frame minimum, int64, batch 0).

    Raises ValueError when the graph has no such path (not a Kokoro export we know)."""
    producer = {out: node for node in nodes for out in node.output}
    passthrough = {"Clip", "Cast", "Gather", "Squeeze", "Reshape", "Unsqueeze", "Max"}
    for node in nodes:
        if node.op_type != "CumSum":
            continue
        tensor = node.input[0]
        step = producer.get(tensor)
        for _ in range(8):
            if step is None or step.op_type not in passthrough | {"Round"}:
                break
            if step.op_type == "Round":
                return tensor
            step = producer.get(step.input[0])
    raise ValueError("no rounded duration tensor feeding a CumSum: not a Kokoro export")


# --- The timed copy ------------------------------------------------------------------------------


def timed_path(source: Path) -> Path:
    return source.parent / TIMED_DIR / source.name


def _stamp(path: Path) -> Path:
    return path.with_name(path.name + _STAMP_SUFFIX)


def _read_stamp(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(_stamp(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def is_current(source: Path, target: Path | None = None) -> bool:
    """True when the timed copy of ``source`` is the one its stamp describes, made from the
    ``source`` that is there now by this rewrite (sizes and mtimes: no hashing)."""
    target = target or timed_path(source)
    info = _read_stamp(target)
    if not (source.is_file() and target.is_file()):
        return False
    src, dst = source.stat(), target.stat()
    return (
        info.get("version") == TIMED_VERSION
        and info.get("source_size") == src.st_size
        and info.get("source_mtime_ns") == src.st_mtime_ns
        and info.get("size") == dst.st_size
        and info.get("mtime_ns") == dst.st_mtime_ns
    )


def _key(number: int, wire: int) -> bytes:
    return _encode_varint(number << 3 | wire)


def _encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _message(number: int, payload: bytes) -> bytes:
    return _key(number, 2) + _encode_varint(len(payload)) + payload


def _output_suffix(tensor: str) -> bytes:
    """A ``ModelProto`` holding only one more graph output: ``tensor``, int64 of one symbolic
    dimension (``ModelProto.graph.output: ValueInfoProto{name, type.tensor_type{elem_type,
    shape.dim[dim_param]}}``)."""
    dim = _message(1, _message(2, b"duration_tokens"))  # TensorShapeProto.dim.dim_param
    tensor_type = _key(1, 0) + _encode_varint(_INT64) + _message(2, dim)
    value_info = _message(1, tensor.encode("utf-8")) + _message(2, _message(1, tensor_type))
    return _message(_MODEL_GRAPH, _message(_GRAPH_OUTPUT, value_info))


def build_timed(source: Path, target: Path | None = None) -> Path:
    """Write the timed copy of ``source`` (atomically) and its stamp; returns its path."""
    target = target or timed_path(source)
    tensor = find_duration_tensor(graph_nodes(source))
    src = source.stat()
    digest = hashlib.sha256()
    with atomic_writer(target) as out, source.open("rb") as f:
        while block := f.read(1 << 22):
            digest.update(block)
            out.write(block)
        suffix = _output_suffix(tensor)
        digest.update(suffix)
        out.write(suffix)
        if source.stat().st_size != src.st_size:  # the source changed while it was copied
            raise OSError(f"{source} changed while its timed copy was written")
    dst = target.stat()
    record = {
        "version": TIMED_VERSION,
        "source": source.name,
        "source_size": src.st_size,
        "source_mtime_ns": src.st_mtime_ns,
        "output": tensor,
        "sha256": digest.hexdigest(),
        "size": dst.st_size,
        "mtime_ns": dst.st_mtime_ns,
    }
    atomic_write_text(_stamp(target), json.dumps(record, indent=2))
    return target


def timed_model(source: Path) -> Path:
    """The timed copy of ``source``, built on first use (a copy, ~0.1 s for the int8 model);
    ``source`` itself when no copy can be made (an unknown graph, a read-only store): the
    audio is the same, only the word timings are missing."""
    with _lock:
        if is_current(source):
            return timed_path(source)
        try:
            return build_timed(source)
        except (OSError, ValueError) as exc:
            log.warning("no word timings for %s: %s", source.name, exc)
            return source


# --- Word timings --------------------------------------------------------------------------------


@dataclass(frozen=True)
class WordTiming:
    """When one word of a chunk sounds, in samples of the chunk's (trimmed) audio."""

    #: Index of the word's token in the chunk's tokens.
    token: int
    text: str
    start: int
    end: int
    #: Punctuation and space that follow it in the text (kept in phrase captions).
    tail: str = ""


def is_word(token: G2PToken) -> bool:
    """A token a listener hears as a word (not punctuation or a bare space)."""
    return any(ch.isalnum() for ch in token.grapheme)


def checked_durations(durations: np.ndarray | None, n_samples: int) -> np.ndarray | None:
    """``durations`` if they account for every sample of the raw audio, else None."""
    if durations is None or len(durations) == 0:
        return None
    frames = np.asarray(durations, dtype=np.int64).reshape(-1)
    if int(frames.sum()) * SAMPLES_PER_FRAME != n_samples:
        log.warning(
            "durations (%d frames) do not match %d samples: no word timings",
            int(frames.sum()),
            n_samples,
        )
        return None
    return frames


def word_timings(
    tokens: Sequence[G2PToken],
    durations: np.ndarray | None,
    *,
    offset: int = 0,
    length: int | None = None,
    audio: np.ndarray | None = None,
) -> tuple[WordTiming, ...]:
    """Each word's span in a chunk's audio, from the per-token ``durations`` (pads included)
    the engine returned for the chunk's phonemes.

    The chunk's phonemes are its tokens' phonemes and whitespace joined and stripped (what the
    pipeline encodes); every symbol in Kokoro's vocabulary is one duration. ``offset``: samples
    cut from the start of the raw audio (the trimmed lead-in); ``length``: samples kept. Spans
    are clipped to the kept audio, so a word is never placed outside it.

    With the raw ``audio``, each span's silent edges are trimmed (:func:`_snap`): Kokoro gives
    the last phoneme before a pause the pause's frames too (a final "r" of 19 frames, 0.3 s
    of them silent), and a first word's onset starts ~50 ms before its predicted frame.
    """
    from tui_speech.tts.vocab import MAX_PHONEMES, vocab

    if durations is None:
        return ()
    frames = np.asarray(durations, dtype=np.int64).reshape(-1)
    known = vocab()
    joined = "".join(t.phonemes + t.whitespace for t in tokens)
    lead = len(joined) - len(joined.lstrip())
    end_all = len(joined.rstrip())
    # Which token owns each encoded symbol (None: the whitespace after a token).
    owners: list[int | None] = []
    pos = 0
    for i, token in enumerate(tokens):
        for part, owner in ((token.phonemes, i), (token.whitespace, None)):
            for ch in part:
                if lead <= pos < end_all and ch in known:
                    owners.append(owner)
                pos += 1
    owners = owners[:MAX_PHONEMES]
    if len(frames) != len(owners) + 2:  # not this chunk's durations
        return ()
    starts = np.concatenate([[0], np.cumsum(frames)]) * SAMPLES_PER_FRAME
    spans: dict[int, list[int]] = {}
    for k, owner in enumerate(owners):
        if owner is None:
            continue
        a, b = int(starts[k + 1]), int(starts[k + 2])  # k + 1: the leading pad comes first
        span = spans.setdefault(owner, [a, b])
        span[1] = b
    limit = length if length is not None else int(starts[-1]) - offset
    loud = _loud_frames(audio) if audio is not None else None
    words = []
    previous_end = 0
    for i, (a, b) in sorted(spans.items()):
        if not is_word(tokens[i]):
            continue
        if loud is not None:
            a, b = _snap(a, b, loud, previous_end)
        previous_end = b
        start = min(max(0, a - offset), limit)
        end = min(max(start, b - offset), limit)
        words.append(WordTiming(i, tokens[i].grapheme, start, end, _tail(tokens, i)))
    return tuple(words)


def _tail(tokens: Sequence[G2PToken], index: int) -> str:
    """The token's whitespace, plus the punctuation tokens (and their spaces) after it."""
    tail = tokens[index].whitespace
    for token in tokens[index + 1 :]:
        if is_word(token):
            break
        tail += token.grapheme + token.whitespace
    return tail


#: Energy frames for trimming a word's silent edges (10 ms); a frame is speech when within
#: :data:`_SPEECH_DB` of the chunk's loudest frame: the pipeline's trim threshold, so a soft
#: falling tone or a breathy tail stays in its word as it stays in the take.
_ENERGY_FRAME = 240
_SPEECH_DB = -50.0
#: How far before its predicted start a word's onset may be found (samples: 100 ms).
_ONSET_REACH = 2400


def _loud_frames(audio: np.ndarray) -> np.ndarray:
    n = len(audio) // _ENERGY_FRAME
    if n == 0:
        return np.zeros(0, dtype=bool)
    frames = np.asarray(audio[: n * _ENERGY_FRAME], dtype=np.float64).reshape(n, _ENERGY_FRAME)
    rms = np.sqrt(np.mean(frames**2, axis=1))
    peak = float(rms.max())
    return rms > peak * 10 ** (_SPEECH_DB / 20) if peak > 0 else np.zeros(n, dtype=bool)


def _snap(a: int, b: int, loud: np.ndarray, floor: int) -> tuple[int, int]:
    """The span ``[a, b)`` (samples) without its silent edges: its end moved back to its last
    speech frame, its start to the onset of the speech it begins with (searched from
    ``_ONSET_REACH`` before it, never before ``floor``, the previous word's end). A span with
    no speech in it is left as predicted."""
    first, last = a // _ENERGY_FRAME, min(len(loud), -(-b // _ENERGY_FRAME))
    inside = np.flatnonzero(loud[first:last])
    if len(inside) == 0:
        return a, b
    end = min(b, (first + int(inside[-1]) + 1) * _ENERGY_FRAME)
    onset = first + int(inside[0])
    reach = max(floor, a - _ONSET_REACH) // _ENERGY_FRAME
    while onset > reach and loud[onset - 1]:
        onset -= 1
    start = max(floor, min(onset * _ENERGY_FRAME, end - _ENERGY_FRAME))
    return start, max(end, start)
