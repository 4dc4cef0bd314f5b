"""Rewrite a dynamically quantized (int8) ONNX graph into float ops on dequantised weights.

Dynamic quantization feeds activations through DynamicQuantizeLinear into MatMulInteger /
ConvInteger / DynamicQuantizeLSTM with int8 weights. Those integer kernels are fast only with
VNNI; on AVX2-only CPUs float kernels on the same weights, dequantised once, may be faster
(``kokoro_variants`` measures it). The rewrite turns each into float MatMul / Conv / LSTM with
``(q - zero_point) * scale`` weights (per tensor or per channel, as the graph has them) and
leaves every other node alone.

Every pattern is matched strictly; a node that does not match stays quantized, so the result is
always a correct model, at worst only partly float.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import onnx

#: Bump when the rewrite changes: variants built by an older rewrite are rebuilt.
REWRITE_VERSION = 1


@dataclass(frozen=True)
class RewriteReport:
    """How many quantized nodes became float ones, and how many were left alone."""

    matmul: int = 0
    conv: int = 0
    lstm: int = 0
    left_quantized: int = 0


class _Graph:
    """Index of one ONNX graph: who produces and who consumes each tensor, and the weights."""

    def __init__(self, graph: onnx.GraphProto) -> None:
        from onnx import numpy_helper

        self.graph = graph
        self.inits = {t.name: t for t in graph.initializer}
        self.producer = {o: n for n in graph.node for o in n.output}
        self.consumers: dict[str, list[Any]] = {}
        for node in graph.node:
            for name in node.input:
                self.consumers.setdefault(name, []).append(node)
        self._to_array = numpy_helper.to_array

    def array(self, name: str) -> np.ndarray | None:
        return self._to_array(self.inits[name]) if name in self.inits else None

    def made_by(self, name: str, op: str) -> Any | None:
        node = self.producer.get(name)
        return node if node is not None and node.op_type == op else None

    def only_consumer(self, name: str, op: str) -> Any | None:
        nodes = self.consumers.get(name, [])
        return nodes[0] if len(nodes) == 1 and nodes[0].op_type == op else None

    def weight_scale(self, scale_mul: Any | None, act_scale: str) -> str | None:
        """The weight's scale initializer in ``Mul(activation_scale, weight_scale)``, if any."""
        if scale_mul is None or scale_mul.op_type != "Mul" or act_scale not in scale_mul.input:
            return None
        others = [name for name in scale_mul.input if name != act_scale]
        return others[0] if len(others) == 1 and others[0] in self.inits else None


def _dequantize(q: np.ndarray, zero_point: np.ndarray | None, scale: np.ndarray, axis: int):
    """``(q - zero_point) * scale``; 1-D zero point / scale are per channel along ``axis``."""
    shape = [1] * q.ndim
    zp = np.zeros((), np.float32) if zero_point is None else zero_point.astype(np.float32)
    if zp.ndim == 1:
        zp = zp.reshape([-1 if i == axis % q.ndim else 1 for i in range(q.ndim)])
    sc = scale.astype(np.float32)
    if sc.ndim == 1:
        shape[axis % q.ndim] = -1
        sc = sc.reshape(shape)
    return (q.astype(np.float32) - zp) * sc


def _match_integer_op(g: _Graph, node: Any) -> tuple[str, str, str | None, list[Any]] | None:
    """For MatMulInteger / ConvInteger fed by DynamicQuantizeLinear and followed by the usual
    Cast + Mul(scales) (+ an int32 bias for Conv), return (float input, weight scale name,
    float bias initializer name or None, the nodes the float op replaces)."""
    x_q, w_q, x_zp = node.input[0], node.input[1], node.input[2] if len(node.input) > 2 else ""
    w_zp = node.input[3] if len(node.input) > 3 else ""
    dql = g.made_by(x_q, "DynamicQuantizeLinear")
    if dql is None or w_q not in g.inits or x_zp != dql.output[2] or (w_zp and w_zp not in g.inits):
        return None
    replaced = [node]
    after, bias = node.output[0], None
    if node.op_type == "ConvInteger":
        add = g.only_consumer(after, "Add")
        if add is not None:  # bias quantized at run time: Reshape(Cast(Floor(Div(b, scale))))
            other = [n for n in add.input if n != after]
            reshape = g.made_by(other[0], "Reshape") if len(other) == 1 else None
            cast_b = g.made_by(reshape.input[0], "Cast") if reshape else None
            floor = g.made_by(cast_b.input[0], "Floor") if cast_b else None
            div = g.made_by(floor.input[0], "Div") if floor else None
            if div is None or div.input[0] not in g.inits:
                return None
            bias, after = div.input[0], add.output[0]
            replaced.append(add)
    cast = g.only_consumer(after, "Cast")
    if cast is None or [a.i for a in cast.attribute if a.name == "to"] != [1]:  # 1: FLOAT
        return None
    mul = g.only_consumer(cast.output[0], "Mul")
    if mul is None:
        return None
    scale_name = [n for n in mul.input if n != cast.output[0]]
    scale = g.weight_scale(g.producer.get(scale_name[0]) if scale_name else None, dql.output[1])
    if scale is None:
        return None
    return dql.input[0], scale, bias, [*replaced, cast, mul]


def _lstm_weight(q: np.ndarray, zero_point: np.ndarray | None, scale: np.ndarray) -> np.ndarray:
    """DynamicQuantizeLSTM keeps W as (dirs, input, 4*hidden) with a scale per direction
    (dirs,) or per direction and gate channel (dirs, 4*hidden); LSTM wants (dirs, 4*hidden,
    input) floats."""

    def per_direction(a: np.ndarray) -> np.ndarray:
        a = a.astype(np.float32)
        return a.reshape(a.shape[0], 1, -1) if a.ndim == 2 else a.reshape(-1, 1, 1)

    zp = np.zeros((1, 1, 1), np.float32) if zero_point is None else per_direction(zero_point)
    w = (q.astype(np.float32) - zp) * per_direction(scale)
    return np.ascontiguousarray(w.transpose(0, 2, 1))


def _match_lstm(g: _Graph, node: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """Float W and R (ONNX LSTM layout) for a DynamicQuantizeLSTM with constant weights."""
    names = list(node.input) + [""] * (12 - len(node.input))
    w_q, r_q, w_scale, w_zp, r_scale, r_zp = (
        g.array(n) if n else None for n in names[1:3] + names[8:12]
    )
    if w_q is None or r_q is None or w_scale is None or r_scale is None:
        return None
    return _lstm_weight(w_q, w_zp, w_scale), _lstm_weight(r_q, r_zp, r_scale)


def dequantize_model(model: onnx.ModelProto, weight_dtype: str = "float32") -> RewriteReport:
    """Rewrite ``model`` in place into float ops on dequantised weights.

    ``weight_dtype="float16"`` stores the new weights as fp16 behind a Cast to float, which
    onnxruntime folds at load: half the file, the same float kernels.
    """
    from onnx import TensorProto, helper, numpy_helper

    g = _Graph(model.graph)
    # New weights go straight into the model, one tensor at a time: a list of them appended at
    # the end would hold a second copy of all 325 MB while protobuf copies them in.
    new_init = model.graph.initializer.add
    replaced: dict[int, list[Any]] = {}  # id(first replaced node) -> new nodes in its place
    dropped: set[int] = set()
    counts = {"matmul": 0, "conv": 0, "lstm": 0, "left_quantized": 0}

    made: dict[tuple[str, ...], str] = {}  # ALBERT shares one weight across its 12 layers

    def weight(key: tuple[str, ...], name: str, make: Callable[..., np.ndarray], *args: Any):
        """The float weight for ``key``, made once (``make(*args)``) and shared by every user."""
        if key in made:
            return made[key], []
        made[key] = name
        array = make(*args)
        if weight_dtype == "float16":
            new_init().CopyFrom(numpy_helper.from_array(array.astype(np.float16), name + "_fp16"))
            cast = helper.make_node("Cast", [name + "_fp16"], [name], to=TensorProto.FLOAT)
            return name, [cast]
        new_init().CopyFrom(numpy_helper.from_array(array.astype(np.float32), name))
        return name, []

    for index, node in enumerate(model.graph.node):
        # Exporters may leave node names empty; output names are unique, the index makes sure.
        base = f"{node.name or node.output[0]}_fp{index}"
        if node.op_type in ("MatMulInteger", "ConvInteger"):
            match = _match_integer_op(g, node)
            if match is None:
                counts["left_quantized"] += 1
                continue
            x, scale, bias, old = match
            w_q, w_zp = node.input[1], node.input[3] if len(node.input) > 3 else ""
            # MatMul weights are (K, N), channels last; Conv's (C_out, C_in, k...), first.
            axis = -1 if node.op_type == "MatMulInteger" else 0
            w_name, pre = weight(
                (w_q, w_zp, scale),
                base + "_weight",
                _dequantize,
                g.array(w_q),
                g.array(w_zp) if w_zp else None,
                g.array(scale),
                axis,
            )
            if node.op_type == "MatMulInteger":
                op = helper.make_node("MatMul", [x, w_name], [old[-1].output[0]], base)
                counts["matmul"] += 1
            else:
                inputs = [x, w_name] + ([bias] if bias else [])
                op = helper.make_node("Conv", inputs, [old[-1].output[0]], base)
                op.attribute.extend(node.attribute)  # same pads/strides/dilations/group
                counts["conv"] += 1
        elif node.op_type == "DynamicQuantizeLSTM":
            lstm = _match_lstm(g, node)
            if lstm is None:
                counts["left_quantized"] += 1
                continue
            w_name, pre_w = weight((node.name, "W"), base + "_W", np.asarray, lstm[0])
            r_name, pre_r = weight((node.name, "R"), base + "_R", np.asarray, lstm[1])
            pre = pre_w + pre_r
            inputs = [node.input[0], w_name, r_name, *node.input[3:8]]
            while inputs and not inputs[-1]:
                inputs.pop()
            op = helper.make_node("LSTM", inputs, list(node.output), base)
            op.attribute.extend(node.attribute)
            old = [node]
            counts["lstm"] += 1
        else:
            continue
        replaced[id(node)] = [*pre, op]
        dropped.update(id(n) for n in old)

    # Rebuild in order: each float op takes its integer op's place, so the order stays valid.
    nodes: list[Any] = []
    for node in model.graph.node:
        if id(node) in replaced:
            nodes.extend(replaced[id(node)])
        elif id(node) not in dropped:
            nodes.append(node)
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    _prune(model)
    return RewriteReport(**counts)


def _prune(model: onnx.ModelProto) -> None:
    """Drop nodes whose outputs nobody reads (the now idle quantizers) and unused weights."""
    graph = model.graph
    needed = {o.name for o in graph.output}
    keep: list[Any] = []
    for node in reversed(graph.node):
        if any(o in needed for o in node.output):
            keep.append(node)
            needed.update(i for i in node.input if i)
    keep.reverse()
    del graph.node[:]
    graph.node.extend(keep)
    # In place, from the end: copying the kept weights out and back would double the memory.
    for index in reversed(range(len(graph.initializer))):
        if graph.initializer[index].name not in needed:
            del graph.initializer[index]
    produced = {o for n in keep for o in n.output}
    infos = [v for v in graph.value_info if v.name in produced]
    del graph.value_info[:]
    graph.value_info.extend(infos)
