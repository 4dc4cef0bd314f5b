"""Normalisation, scoring, batch planning, head growth and checkpoint safety (no training)."""

from __future__ import annotations

import errno
from pathlib import Path

import numpy as np
import pytest

from tui_speech.asr import checkpoints
from tui_speech.asr.evaluate import align, evaluate
from tui_speech.asr.normalize import normalize_text, unknown_chars
from tui_speech.asr.training_loop import plan_epoch, schedule

VOCAB = set("今天我有三个苹果十二点五元百分之的人") | {"|"}


def test_normalise_strips_punctuation_of_both_widths_and_writes_digits_out():
    assert normalize_text("今天，我有3个苹果！", VOCAB) == "今天我有三个苹果"
    assert normalize_text("１２.5元。", VOCAB) == "十二点五元"
    assert normalize_text("50%的人", VOCAB) == "百分之五十的人"


def test_digits_stay_when_the_vocabulary_has_them():
    assert normalize_text("我有3个", VOCAB | set("0123456789")) == "我有3个"


def test_spaces_become_the_delimiter_and_letters_follow_the_tokenizer_case():
    assert normalize_text("Hello  World", VOCAB, lower_case=True) == "hello|world"
    assert normalize_text("今天 我", VOCAB - {"|"}) == "今天我"
    assert unknown_chars("今天北京北", VOCAB) == ["北", "京"]


def test_alignment_counts_substitutions_deletions_and_insertions():
    pairs = align(list("今天好"), list("今大好了"))
    assert pairs == [(0, 0), (1, 1), (2, 2), (None, 3)]
    answers = iter([(list("今大好了"), [0.9, 0.6, 0.99, 0.3]), (list("我"), [0.97])])
    audio = np.zeros(16_000, np.float32)
    result = evaluate([(audio, "今天好"), (audio, "我有")], lambda _audio: next(answers))
    assert (result.substitutions, result.insertions, result.deletions) == (1, 1, 1)
    assert result.cer == pytest.approx(3 / 5)
    assert ("天", "大", 1) in result.confusions
    by_bin = {(b.low, b.high): b for b in result.calibration if b.count}
    # 0.9 and 0.99 / 0.97 are right; 0.6 (substituted) and 0.3 (inserted) are wrong.
    assert by_bin[(0.0, 0.5)].accuracy == 0.0
    assert by_bin[(0.5, 0.7)].accuracy == 0.0
    assert by_bin[(0.95, 1.0)].count == 2 and by_bin[(0.95, 1.0)].accuracy == 1.0


def test_batches_group_similar_lengths_and_fill_steps_by_audio_seconds():
    seconds = [1.0, 5.0, 1.1, 5.2, 0.9, 4.8, 1.2, 5.1]
    steps = plan_epoch(seconds, batch_seconds=6.0, micro_seconds=6.0, seed=0, epoch=0)
    micro = [b for s in steps for b in s]
    assert sorted(i for b in micro for i in b) == list(range(8))  # every clip once
    for batch in micro:
        lengths = [seconds[i] for i in batch]
        assert max(lengths) * len(batch) <= 6.0 or len(batch) == 1
        assert max(lengths) - min(lengths) < 1.0  # short with short, long with long
    for step in steps[:-1]:
        assert sum(seconds[i] for b in step for i in b) >= 6.0
    assert steps == plan_epoch(seconds, 6.0, 6.0, seed=0, epoch=0)  # what resume relies on
    assert steps != plan_epoch(seconds, 6.0, 6.0, seed=0, epoch=1)


def test_learning_rate_warms_up_then_decays_to_zero():
    f = schedule(warmup=2, total=10)
    assert [round(f(s), 3) for s in (0, 1, 2, 6, 10)] == [0.5, 1.0, 1.0, 0.5, 0.0]


def _state(step: int) -> checkpoints.TrainState:
    return checkpoints.TrainState(step, 0, None, ("<pad>", "a"), "fp")


def test_a_checkpoint_that_cannot_be_written_leaves_the_previous_one_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    import torch

    work = tmp_path / "run"
    checkpoints.save(work, "last", _state(5), {"model": {"w": torch.ones(3)}})

    def disk_full(*_a, **_k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(torch, "save", disk_full)
    with pytest.raises(checkpoints.CheckpointError, match="disk is full.*intact"):
        checkpoints.save(work, "last", _state(9), {"model": {"w": torch.zeros(3)}})
    monkeypatch.undo()
    state, tensors = checkpoints.load(checkpoints.find(work))
    assert state.step == 5 and torch.equal(tensors["model"]["w"], torch.ones(3))
    assert [p.name for p in work.iterdir()] == ["last"]  # no temp folder left behind


def test_a_crash_between_the_renames_still_finds_the_old_checkpoint(tmp_path: Path):
    import torch

    checkpoints.save(tmp_path, "last", _state(7), {"model": {"w": torch.ones(1)}})
    (tmp_path / "last").rename(tmp_path / ".old-last-1234abcd")
    found = checkpoints.find(tmp_path)
    assert found == tmp_path / "last"
    assert checkpoints.load(found)[0].step == 7


def test_augmentation_noise_has_the_asked_snr_and_reverb_keeps_length_and_level():
    from tui_speech.asr.synth_data import add_noise, add_reverb

    rng = np.random.default_rng(0)
    # Broadband, like speech: a pure tone would meet one random phase of the room.
    clean = (rng.standard_normal(32_000) * 0.1).astype(np.float32)
    noisy = add_noise(clean, 20.0, rng)
    snr = 10 * np.log10(np.mean(clean**2) / np.mean((noisy - clean) ** 2))
    assert snr == pytest.approx(20.0, abs=0.5)
    wet = add_reverb(clean, rng)
    assert wet.shape == clean.shape and wet.dtype == np.float32
    assert not np.allclose(wet, clean)
    assert 0.5 < np.sqrt(np.mean(wet**2)) / np.sqrt(np.mean(clean**2)) < 1.5


def test_synth_voice_lists_take_plain_voices_and_blends():
    from tui_speech.commands.dataset import parse_voices

    assert parse_voices("jf_alpha,jm_kumo") == ["jf_alpha", "jm_kumo"]
    assert parse_voices("jf_alpha:0.5,jm_kumo:0.5") == ["jf_alpha:0.5,jm_kumo:0.5"]
    assert parse_voices("jf_alpha:0.5,jm_kumo:0.5;jf_nezumi") == [
        "jf_alpha:0.5,jm_kumo:0.5",
        "jf_nezumi",
    ]
