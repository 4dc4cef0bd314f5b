"""``models export``: the wav2vec2 ONNX export with its parity record, and what is refused."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.hub_fixtures import ASR_ID, KOKORO_ID
from tui_speech.asr import export as asr_export
from tui_speech.asr.backends import load_backend
from tui_speech.asr.export import parity_inputs
from tui_speech.asr.model import load_model_info
from tui_speech.asr.recognizer import Recognizer
from tui_speech.commands._common import error_line
from tui_speech.errors import ModelMissingError, UsageError
from tui_speech.hub import export as hub_export
from tui_speech.hub import store
from tui_speech.hub.export import ExportResult
from tui_speech.hub.manage import describe, remove
from tui_speech.hub.pull import pull
from tui_speech.tts import export as tts_export

#: What both faces pass: each engine's builder.
BUILDERS = {"asr": asr_export.build, "tts": tts_export.build}


def export(model_id: str, quantize: str | None = None) -> ExportResult:
    return hub_export.export(model_id, quantize, builders=BUILDERS)


def test_wav2vec2_export_records_parity_and_shows_as_a_variant(hub) -> None:
    pull(ASR_ID)
    result = export(ASR_ID)
    assert result.path == store.path_of(ASR_ID) / "onnx" / "model.onnx"
    record = json.loads((result.path.parent / "model.onnx.json").read_text())
    assert record == result.parity
    assert record["max_abs_diff"] < 1e-3 and record["argmax_agreement"] == 1.0
    assert record["source_commit"] == hub.repos[ASR_ID].commit
    assert describe(ASR_ID).variants == ("torch", "onnx")
    # A later pull keeps the export (it is not a Hub file) ...
    assert pull(ASR_ID).fetched == 0 and result.path.is_file()
    # ... and removing the variant takes its parity record with it.
    # (the ASR export keeps its weights in model.onnx.data, memory-mapped at load time).
    assert sorted(remove(ASR_ID, "onnx")) == [
        "onnx/model.onnx", "onnx/model.onnx.data", "onnx/model.onnx.json",
        "onnx/model.onnx.verified",
    ]  # fmt: skip
    assert describe(ASR_ID).variants == ("torch",)


def test_export_refusals(hub) -> None:
    with pytest.raises(ModelMissingError, match="not in the model store") as missing:
        export(ASR_ID)
    assert f"`tui-speech models pull {ASR_ID}`" in error_line(missing.value)
    pull(ASR_ID)
    pull(KOKORO_ID, voices=["af_heart"])
    # The fake Hub's Kokoro is not a real model: the export says so in one line.
    with pytest.raises(ModelMissingError, match="not a complete Kokoro model"):
        export(KOKORO_ID)
    with pytest.raises(UsageError, match="int8 already") as int8:
        export("embedded/kokoro-82m-int8", "int8")
    assert error_line(int8.value).endswith("--quantize fp16`)")
    with pytest.raises(UsageError, match="only the fp32 ONNX export") as kokoro:
        export(KOKORO_ID, "fp16")
    assert error_line(kokoro.value).endswith(f"(`tui-speech models export {KOKORO_ID}`)")
    for error in (missing.value, int8.value, kokoro.value):
        assert "--" not in error.message and "tui-speech " not in error.message
    assert not (store.path_of(ASR_ID) / "onnx").exists()


@pytest.mark.parametrize("quantize", ["int8", "fp16"])
def test_smaller_variants_are_built_with_parity(hub, quantize: str) -> None:
    pull(ASR_ID)
    result = export(ASR_ID, quantize)  # builds the fp32 graph first, as their source
    assert result.path.name == f"model.{quantize}.onnx"
    assert (result.path.parent / "model.onnx").is_file()
    parity = json.loads((result.path.parent / f"model.{quantize}.onnx.json").read_text())
    assert parity["variant"] == f"onnx-{quantize}"
    # A tiny random model's logits are near-ties, so only loose bounds are meaningful here.
    assert parity["max_abs_diff"] < 0.5 and parity["argmax_agreement"] > 0.5
    assert describe(ASR_ID).variants == ("torch", "onnx", f"onnx-{quantize}")


@pytest.mark.parametrize("normalise", [True, False])
def test_parity_measures_what_transcription_runs(hub, normalise: bool) -> None:
    """The record compares the two backends as the recogniser runs them: its normalisation
    (none when the model asks for none), its windows and its CTC decoder, so it tells what
    ``transcribe --backend onnx`` changes."""
    pull(ASR_ID)
    features = store.path_of(ASR_ID) / "preprocessor_config.json"
    settings = json.loads(features.read_text()) | {"do_normalize": normalise}
    features.write_text(json.dumps(settings))
    result = export(ASR_ID, "int8")
    info = load_model_info(store.path_of(ASR_ID), ASR_ID)
    assert info.do_normalize is normalise
    torch_rec = Recognizer(load_backend("torch", info))
    onnx_rec = Recognizer(load_backend("onnx", info, precision="int8"))
    inputs = parity_inputs(info.sample_rate)
    diffs = [
        float(np.max(np.abs(torch_rec.window_logits(x) - onnx_rec.window_logits(x))))
        for x in inputs
    ]
    same_text = [torch_rec.decode(x).text == onnx_rec.decode(x).text for x in inputs]
    assert result.parity["max_abs_diff"] == max(diffs)
    assert result.parity["text_agreement"] == sum(same_text) / len(inputs)
    assert result.parity["inputs"] == [len(x) for x in inputs]
