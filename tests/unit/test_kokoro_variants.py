"""Float variants of the embedded int8 Kokoro: the rewrite, the parity record, the cached choice."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tui_speech.tts import variants as kokoro_variants
from tui_speech.tts.dequant import dequantize_model

INTEGER_OPS = {"MatMulInteger", "ConvInteger", "DynamicQuantizeLSTM", "DynamicQuantizeLinear"}


def _tiny_float_model(path: Path) -> None:
    """MatMul + bias -> bidirectional LSTM, and a 1-D Conv with bias: the op kinds Kokoro has.

    Weights are multiples of 0.01 with 1.27 in every output channel, so int8 (scale 0.01) holds
    them exactly: a correct dequantisation gives back the float model's weights bit for bit.
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)

    def weight(name: str, shape: tuple[int, ...], channel_max: object) -> onnx.TensorProto:
        values = rng.integers(-100, 101, size=shape) * 0.01
        values[channel_max] = 1.27  # type: ignore[index]
        return numpy_helper.from_array(values.astype(np.float32), name)

    nodes = [
        helper.make_node("MatMul", ["x", "W"], ["h"]),
        helper.make_node("Add", ["h", "b"], ["h2"]),
        helper.make_node(
            "LSTM", ["h2", "LW", "LR", "LB"], ["y"], hidden_size=8, direction="bidirectional"
        ),
        helper.make_node("Transpose", ["x"], ["xt"], perm=[1, 2, 0]),
        helper.make_node("Conv", ["xt", "CW", "CB"], ["c"], kernel_shape=[3], pads=[1, 1]),
    ]
    s = np.s_
    graph = helper.make_graph(
        nodes,
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["T", 1, 16])],
        [
            helper.make_tensor_value_info("y", TensorProto.FLOAT, ["T", 2, 1, 8]),
            helper.make_tensor_value_info("c", TensorProto.FLOAT, [1, 24, "T"]),
        ],
        [
            weight("W", (16, 32), s[0, :]),
            weight("b", (32,), s[0]),
            weight("LW", (2, 32, 32), s[:, :, 0]),
            weight("LR", (2, 32, 8), s[:, :, 0]),
            weight("LB", (2, 64), s[:, 0]),
            weight("CW", (24, 16, 3), s[:, 0, 0]),
            weight("CB", (24,), s[0]),
        ],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))


def _run(model: bytes | str, x: np.ndarray) -> list[np.ndarray]:
    import onnxruntime as ort

    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x})


@pytest.mark.parametrize("per_channel", [False, True])
def test_dequantised_graph_computes_what_the_float_model_did(tmp_path: Path, per_channel: bool):
    import onnx
    from onnxruntime.quantization import quantize_dynamic

    _tiny_float_model(tmp_path / "float.onnx")
    quantize_dynamic(
        tmp_path / "float.onnx",
        tmp_path / "int8.onnx",
        per_channel=per_channel,
        op_types_to_quantize=["MatMul", "Conv", "LSTM"],
    )
    model = onnx.load(str(tmp_path / "int8.onnx"))
    assert INTEGER_OPS & {n.op_type for n in model.graph.node}

    report = dequantize_model(model)

    assert (report.matmul, report.conv, report.lstm, report.left_quantized) == (1, 1, 1, 0)
    assert not INTEGER_OPS & {n.op_type for n in model.graph.node}
    x = np.random.default_rng(1).standard_normal((20, 1, 16)).astype(np.float32)
    expected = _run(str(tmp_path / "float.onnx"), x)
    quantized = _run(str(tmp_path / "int8.onnx"), x)
    rewritten = _run(model.SerializeToString(), x)
    for want, int8, got in zip(expected, quantized, rewritten, strict=True):
        assert np.abs(want - int8).max() > 1e-3  # int8 quantizes activations: visibly off
        np.testing.assert_allclose(got, want, atol=1e-4)


def test_fp16_weights_stay_close_and_take_half_the_space(tmp_path: Path):
    import onnx
    from onnxruntime.quantization import quantize_dynamic

    _tiny_float_model(tmp_path / "float.onnx")
    quantize_dynamic(
        tmp_path / "float.onnx",
        tmp_path / "int8.onnx",
        op_types_to_quantize=["MatMul", "Conv", "LSTM"],
    )
    fp32, fp16 = (onnx.load(str(tmp_path / "int8.onnx")) for _ in range(2))
    dequantize_model(fp32)
    dequantize_model(fp16, "float16")

    x = np.random.default_rng(2).standard_normal((12, 1, 16)).astype(np.float32)
    for a, b in zip(
        _run(fp32.SerializeToString(), x), _run(fp16.SerializeToString(), x), strict=True
    ):
        np.testing.assert_allclose(b, a, atol=2e-2 * max(1.0, float(np.abs(a).max())))
    assert fp16.ByteSize() < 0.7 * fp32.ByteSize()


@pytest.fixture
def short_parity(monkeypatch: pytest.MonkeyPatch) -> None:
    """One short phrase keeps the real-model timing to seconds."""
    monkeypatch.setattr(kokoro_variants, "PARITY_PHONEMES", ("hˈɛloʊ wˈɜːld, hˈaʊ ɑːɹ juː?",))


def test_a_variant_from_an_older_int8_or_rewrite_is_rebuilt(short_parity: None):
    kokoro_variants.build_variant("fp16", check_parity=False)
    path = kokoro_variants.variant_path("fp16")
    assert kokoro_variants.is_current(path)

    manifest = path.with_name(path.name + ".manifest.json")
    info = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({**info, "rewrite_version": 0}))
    assert not kokoro_variants.is_current(path)
    manifest.write_text(json.dumps(info))
    with path.open("r+b") as f:  # a truncated copy of our own build, not the shared int8
        f.truncate(1000)
    assert not kokoro_variants.is_current(path)
