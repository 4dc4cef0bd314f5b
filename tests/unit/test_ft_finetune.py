"""Fine-tuning mechanics on a tiny random model and noise clips (no synthesis: seconds)."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import numpy as np
import pytest

from tests.asr_fixtures import noise_dataset
from tests.asr_models import save_random_model
from tui_speech.asr.finetune import FinetuneConfig, Interrupted, TrainProgress, finetune
from tui_speech.errors import ModelMissingError, UsageError

TEXTS = ("今天天气", "你好世界", "我们去学校", "明天见")


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_random_model(tmp_path_factory.mktemp("ft-base") / "model", hidden=32)


def make_dataset(root: Path, texts=TEXTS, dev: bool = True) -> Path:
    return noise_dataset(root, texts, dev)


def config(data: Path, base: Path, name: str, **changes) -> FinetuneConfig:
    settings = dict(epochs=2, lr=1e-3, batch_seconds=1.5, threads=1, checkpoint_every=0)
    settings.update(changes)
    return FinetuneConfig(data=data, base=str(base), name=name, **settings)


def weights(model_id: str) -> dict:
    from safetensors.numpy import load_file

    from tui_speech.hub import store

    return load_file(str(store.require(model_id) / "model.safetensors"))


def test_frozen_parameters_are_bit_for_bit_unchanged(tmp_path: Path, base: Path):
    from safetensors.numpy import load_file

    data = make_dataset(tmp_path / "data")
    result = finetune(config(data, base, "frozen", freeze_feature_encoder=True, freeze_layers=1))
    assert result.model_id == "local/frozen" and result.steps > 0
    before, after = load_file(str(base / "model.safetensors")), weights("local/frozen")
    frozen = set(result.frozen)
    # The conv stack, layer 0 and what feeds it (projection, positional conv) are frozen.
    assert {k for k in before if "feature_extractor" in k or "encoder.layers.0." in k} <= frozen
    assert "wav2vec2.feature_projection.projection.weight" in frozen
    checked = [k for k in before if k in frozen]
    assert len(checked) >= 20
    for key in checked:
        assert np.array_equal(before[key], after[key]), key
    trained = [k for k in before if "encoder.layers.1." in k or k.startswith("lm_head")]
    assert trained and all(not np.array_equal(before[k], after[k]) for k in trained)


def test_resume_continues_at_the_step_it_stopped_and_matches_an_uninterrupted_run(
    tmp_path: Path, base: Path
):
    data = make_dataset(tmp_path / "data")
    whole = finetune(config(data, base, "whole"))
    events: list[TrainProgress] = []
    first = finetune(config(data, base, "split", max_steps=3), events.append)
    assert first.model_id is None and first.steps == 3
    assert events[-1].event == "stopped"
    events.clear()
    second = finetune(config(data, base, "split"), events.append)
    assert events[0].event == "resumed" and events[0].step == 3
    assert [e.step for e in events if e.event == "step"][0] == 4
    assert second.steps == whole.steps
    a, b = weights("local/whole"), weights("local/split")
    for key in a:
        np.testing.assert_allclose(a[key], b[key], rtol=0, atol=1e-6, err_msg=key)


def test_ctrl_c_writes_a_checkpoint_and_the_run_resumes_from_it(tmp_path: Path, base: Path):
    from tui_speech.asr import checkpoints
    from tui_speech.asr.finetune import work_dir

    data = make_dataset(tmp_path / "data")

    def interrupt(p: TrainProgress) -> None:
        if p.event == "step" and p.step == 2:
            os.kill(os.getpid(), signal.SIGINT)  # what Ctrl-C in the terminal sends

    with pytest.raises(Interrupted, match="stopped at step 2 of .*run the same command"):
        finetune(config(data, base, "ctrlc"), interrupt)
    state, _ = checkpoints.load(checkpoints.find(work_dir("ctrlc")))
    assert state.step == 2
    events: list[TrainProgress] = []
    result = finetune(config(data, base, "ctrlc"), events.append)
    assert events[0].event == "resumed" and events[0].step == 2
    assert result.model_id == "local/ctrlc"
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler restored


def test_new_characters_extend_the_vocabulary_and_the_output_layer(tmp_path: Path, base: Path):
    from tui_speech.asr.model import find_model

    data = make_dataset(tmp_path / "data", texts=("今天鑫", "你好鑫鑫", "我们去学校", "明天见"))
    base_vocab = json.loads((base / "vocab.json").read_text(encoding="utf-8"))
    result = finetune(config(data, base, "extended"))
    assert result.vocab_added == ("鑫",)
    info = find_model("local/extended")
    assert info.vocab[len(base_vocab)] == "鑫" and len(info.vocab) == len(base_vocab) + 1
    assert weights("local/extended")["lm_head.weight"].shape[0] == len(base_vocab) + 1
    provenance = json.loads((info.path / "finetune.json").read_text(encoding="utf-8"))
    assert provenance["base"] == base.name and provenance["vocab_added"] == "鑫"


def test_new_rows_start_as_the_mean_of_the_old_ones():
    import torch
    from transformers import Wav2Vec2ForCTC

    from tests.asr_models import tiny_config
    from tui_speech.asr.training_loop import extend_head

    model = Wav2Vec2ForCTC(tiny_config(10, hidden=32))
    old = model.lm_head.weight.detach().clone()
    extend_head(model, 2)
    assert model.lm_head.weight.shape == (12, 32) and model.config.vocab_size == 12
    assert torch.equal(model.lm_head.weight[:10], old)
    assert torch.allclose(model.lm_head.weight[10], old.mean(0))


def test_unk_maps_new_characters_without_growing_the_head(tmp_path: Path, base: Path):
    data = make_dataset(tmp_path / "data", texts=("今天鑫", "你好", "我们", "明天"))
    result = finetune(config(data, base, "unk", new_chars="unk", epochs=1))
    assert result.vocab_added == ()
    base_rows = json.loads((base / "config.json").read_text())["vocab_size"]
    assert weights("local/unk")["lm_head.weight"].shape[0] == base_rows


def test_bad_input_is_one_clear_error(tmp_path: Path, base: Path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "transcripts.tsv").write_text("", encoding="utf-8")
    with pytest.raises(UsageError, match="lists no clips"):
        finetune(config(empty, base, "x"))
    latin = make_dataset(tmp_path / "latin", texts=("abc", "xyz", "hello", "qq"))
    with pytest.raises(UsageError, match="none of the characters .* is in the vocabulary"):
        finetune(config(latin, base, "x"))
    ok = make_dataset(tmp_path / "ok")
    finetune(config(ok, base, "taken", epochs=1))
    with pytest.raises(UsageError, match="local/taken is already in the model store") as taken:
        finetune(config(ok, base, "taken", epochs=1))
    assert taken.value.hint and taken.value.action is not None  # each face words the fix
    not_ctc = tmp_path / "not-ctc"
    cfg = json.loads((base / "config.json").read_text())
    not_ctc.mkdir()
    for f in base.iterdir():
        (not_ctc / f.name).write_bytes(f.read_bytes())
    cfg["architectures"] = ["Wav2Vec2Model"]
    (not_ctc / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(UsageError, match="not a wav2vec2 CTC"):
        finetune(config(ok, not_ctc, "x"))
    cfg["architectures"] = ["Wav2Vec2ForCTC"]
    (not_ctc / "config.json").write_text(json.dumps(cfg))
    (not_ctc / "model.safetensors").write_bytes(b"truncated")
    with pytest.raises(ModelMissingError, match="cannot load the weights"):
        finetune(config(ok, not_ctc, "x"))
