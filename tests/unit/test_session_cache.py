"""The optimized-graph cache (tts.session_cache): a cached session speaks exactly as a fresh
one, and a stale or broken copy is made again instead of failing or being trusted."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from tui_speech.hub.embedded import embedded_model_path
from tui_speech.tts import session_cache
from tui_speech.tts.durations import timed_model
from tui_speech.tts.engine import OnnxKokoro
from tui_speech.tts.vocab import encode
from tui_speech.tts.voices import resolve_voice, style_for

CPU = ["CPUExecutionProvider"]


def test_the_cached_graph_speaks_kokoro_to_the_bit():
    model = timed_model(embedded_model_path())
    OnnxKokoro(model, threads=2, cache_graph=True)  # a first use makes no copy...
    assert not session_cache.cached_path(model).exists()
    first = OnnxKokoro(model, threads=2, cache_graph=True)  # ...the second does
    second = OnnxKokoro(model, threads=2, cache_graph=True)
    assert (first.from_cache, second.from_cache) == (False, True)
    ids = encode("hˈɛloʊ, wˈɜɹld.")
    style = style_for(resolve_voice("jf_alpha"), len(ids))
    fresh, cached = (e.synthesize(ids, style, 1.0) for e in (first, second))
    assert len(fresh.audio) > 4800 and np.array_equal(fresh.audio, cached.audio)
    assert np.array_equal(fresh.durations, cached.durations)


def _small_model(path: Path, scale: float) -> Path:
    """A graph onnxruntime rewrites (Conv + BatchNormalization + Relu fuse into one node)."""
    rng = np.random.default_rng(0)
    inits = [
        numpy_helper.from_array(rng.standard_normal((4, 1, 3)).astype(np.float32) * scale, "w"),
        *(numpy_helper.from_array(np.full(4, v, np.float32), n) for n, v in
          (("g", 1.5), ("b", 0.1), ("m", 0.2), ("v", 2.0))),
    ]  # fmt: skip
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1]),
        helper.make_node("BatchNormalization", ["c", "g", "b", "m", "v"], ["n"]),
        helper.make_node("Relu", ["n"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes, "small",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, "t"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, "t"])],
        inits,
    )  # fmt: skip
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path


def _options() -> ort.SessionOptions:
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return options


def _run(session: ort.InferenceSession) -> np.ndarray:
    x = np.linspace(-1, 1, 50, dtype=np.float32).reshape(1, 1, -1)
    return session.run(None, {"x": x})[0]


def test_a_stale_or_broken_copy_is_made_again(tmp_path: Path):
    source = _small_model(tmp_path / "small.onnx", 1.0)
    reference = _run(ort.InferenceSession(str(source), _options(), providers=CPU))
    copy = session_cache.cached_path(source)
    for _ in range(2):  # the first use notes it, the second saves the copy
        session, cached = session_cache.create_session(source, _options, CPU)
        assert not cached and np.array_equal(_run(session), reference)
    assert copy.is_file()
    session, cached = session_cache.create_session(source, _options, CPU)
    assert cached and np.array_equal(_run(session), reference)

    # Broken with a stamp that still matches its size and time: loading fails, so it is rebuilt.
    copy.write_bytes(b"\0" * copy.stat().st_size)
    stamp = copy.with_suffix(".json")
    record = json.loads(stamp.read_text())
    record["mtime_ns"] = copy.stat().st_mtime_ns
    stamp.write_text(json.dumps(record))
    session, cached = session_cache.create_session(source, _options, CPU)
    assert not cached and np.array_equal(_run(session), reference)
    assert session_cache.create_session(source, _options, CPU)[1]

    # Made on another machine or onnxruntime build: not trusted, and removed.
    record = json.loads(stamp.read_text())
    stamp.write_text(json.dumps({**record, "machine": "another CPU"}))
    assert not session_cache.is_current(source)
    assert not session_cache.create_session(source, _options, CPU)[1]
    assert not copy.exists()

    # The source changed (same path, new weights): the old graph is not used.
    _small_model(source, 2.0)
    os.utime(source, ns=(1, 1))
    changed = _run(ort.InferenceSession(str(source), _options(), providers=CPU))
    for _ in range(2):
        session, cached = session_cache.create_session(source, _options, CPU)
        assert not cached and np.array_equal(_run(session), changed)
    assert session_cache.create_session(source, _options, CPU)[1]
    assert not np.array_equal(changed, reference)
    assert {p.name for p in copy.parent.iterdir()} == {copy.name, stamp.name}  # one copy, kept


def test_the_cache_can_be_switched_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(session_cache.ENV_SWITCH, "0")
    source = _small_model(tmp_path / "small.onnx", 1.0)
    for _ in range(2):
        assert not session_cache.create_session(source, _options, CPU)[1]
    assert not session_cache.cache_dir().exists()
