"""Greedy CTC decoding on hand-made probabilities: text, timing, confidence, alternatives."""

from __future__ import annotations

import numpy as np
import pytest

from tui_speech.asr.ctc import GreedyDecoder, decode_logits, softmax, trim_spaces

VOCAB = ("<pad>", "<s>", "</s>", "<unk>", "|", "天", "气", "好", "田")
BLANK, DELIM = 0, 4
IDX = {t: i for i, t in enumerate(VOCAB)}


def frames(*rows: dict[str, float]) -> np.ndarray:
    """Probabilities per frame: the named tokens get their value, the rest share what is left."""
    out = np.zeros((len(rows), len(VOCAB)), np.float32)
    for r, row in enumerate(rows):
        rest = (1.0 - sum(row.values())) / (len(VOCAB) - len(row))
        out[r] = rest
        for tok, p in row.items():
            out[r, IDX[tok]] = p
    return out


def decoder(k: int = 3) -> GreedyDecoder:
    return GreedyDecoder(VOCAB, BLANK, 0.02, DELIM, alternatives=k)


def decode(probs: np.ndarray, k: int = 3):
    d = decoder(k)
    return trim_spaces(d.feed(probs) + d.flush())


def test_repeats_collapse_and_a_blank_separates_a_doubled_character() -> None:
    probs = frames(
        {"天": 0.9}, {"天": 0.8}, {"<pad>": 0.9}, {"天": 0.7}, {"气": 0.6}, {"<pad>": 0.95}
    )
    chars = decode(probs)
    assert "".join(c.char for c in chars) == "天天气"
    first, second, third = chars
    assert (first.t0, first.t1) == (0.0, 0.04)
    assert (second.t0, second.t1) == (0.06, 0.08)
    assert (third.t0, third.t1) == (0.08, 0.1)
    assert first.confidence == pytest.approx(0.85)
    assert first.min_confidence == pytest.approx(0.8)
    assert third.confidence == pytest.approx(0.6)


def test_alternatives_are_the_other_likeliest_tokens_over_the_span_without_blank() -> None:
    probs = frames({"天": 0.5, "田": 0.3, "<pad>": 0.15}, {"天": 0.6, "田": 0.1, "好": 0.25})
    (char,) = decode(probs, k=2)
    assert char.char == "天"
    names = [a for a, _ in char.alternatives]
    assert names == ["田", "好"]  # mean 0.2 and ~0.13; the blank (0.08 mean) is never offered
    assert char.alternatives[0][1] == pytest.approx(0.2)
    assert decode(probs, k=0)[0].alternatives == ()


def test_word_delimiter_becomes_a_space_and_ends_are_trimmed() -> None:
    probs = frames({"|": 0.9}, {"天": 0.9}, {"|": 0.9}, {"好": 0.9}, {"|": 0.9})
    assert "".join(c.char for c in decode(probs)) == "天 好"


def test_feeding_in_pieces_stitches_spans_without_duplicates() -> None:
    rng = np.random.default_rng(1)
    # Long runs of the same token make many spans cross the cut points.
    tokens = np.repeat(rng.choice([0, 5, 6, 7, 8], size=40), rng.integers(1, 6, size=40))
    probs = rng.uniform(0.001, 0.03, (len(tokens), len(VOCAB))).astype(np.float32)
    probs[np.arange(len(tokens)), tokens] = rng.uniform(0.5, 0.9, len(tokens))
    whole = decode(probs)
    for cut_every in (1, 2, 3, 7, 50):
        d = decoder()
        pieces = []
        for start in range(0, len(probs), cut_every):
            pieces += d.feed(probs[start : start + cut_every])
        pieces += d.flush()
        assert [(c.char, c.t0, c.t1) for c in pieces] == [(c.char, c.t0, c.t1) for c in whole]
        for got, want in zip(pieces, whole, strict=True):
            # Sums in another order differ in the last bits only.
            assert got.confidence == pytest.approx(want.confidence, rel=1e-5)
            assert got.min_confidence == want.min_confidence
            assert [a for a, _ in got.alternatives] == [a for a, _ in want.alternatives]


def test_skip_closes_the_open_character_and_keeps_the_clock() -> None:
    d = decoder()
    out = d.feed(frames({"好": 0.9}))
    out += d.skip(50)
    out += d.feed(frames({"好": 0.9}))
    out += d.flush()
    assert [(c.char, c.t0) for c in out] == [("好", 0.0), ("好", 1.02)]


def test_decode_logits_uses_a_softmax_and_rejects_wrong_shapes() -> None:
    logits = np.log(frames({"气": 0.7}, {"<pad>": 0.9}))
    (char,) = decode_logits(logits, VOCAB, BLANK, 0.02, DELIM)
    assert char.char == "气" and char.confidence == pytest.approx(0.7, rel=1e-5)
    assert softmax(np.array([[1000.0, 1000.0]])).tolist() == [[0.5, 0.5]]
    with pytest.raises(ValueError):
        decoder().feed(np.zeros((3, 4), np.float32))
