"""Hotwords: the context graph's bonus and take-back, and the beam search it biases, on
hand-made probabilities whose answer is known by construction (the acoustic gate, the
evidence check); then the trained tiny model: a live stream's partials and finals read a
misread term right, term-free speech is read as without the terms."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tui_speech.asr.beam import prefix_beam_search
from tui_speech.asr.hotwords import ContextGraph, Hotword, parse_hotwords
from tui_speech.errors import UsageError

BLANK, A, B, C, D, E = range(6)


def frames(*rows: dict[int, float], vocab: int = 6) -> np.ndarray:
    """Log-probabilities: each row's named tokens, the rest of the mass on blank."""
    out = np.full((len(rows), vocab), 1e-6)
    for i, row in enumerate(rows):
        for tok, p in row.items():
            out[i, tok] = p
        out[i, BLANK] = max(1e-6, 1 - sum(row.values()))
    return np.log(out / out.sum(axis=1, keepdims=True))


def graph(*terms: tuple[tuple[int, ...], float]) -> ContextGraph:
    return ContextGraph(terms)


def test_each_matched_token_earns_its_bonus_and_a_failed_match_gives_it_back() -> None:
    g = graph(((A, B, C), 1.5))
    s, gain = g.forward(0, A)
    assert gain == pytest.approx(1.5)
    s, gain = g.forward(s, B)
    assert gain == pytest.approx(1.5)
    assert g.finalize(s) == pytest.approx(-3.0)  # ending mid-term: all of it back
    s2, gain = g.forward(s, D)
    assert (s2, gain) == (0, pytest.approx(-3.0))  # broken off: back to the root
    done, gain = g.forward(s, C)
    assert gain == pytest.approx(1.5) and g.finalize(done) == 0  # a whole term keeps it all


def test_a_term_may_restart_where_a_match_broke_and_prefix_terms_bank() -> None:
    g = graph(((A, B), 1.0))
    s, _ = g.forward(0, A)
    s, gain = g.forward(s, A)  # "AAB": the second A starts the term afresh
    assert gain == pytest.approx(0.0)  # -1 taken back, +1 for the new start
    _, gain = g.forward(s, B)
    assert gain == pytest.approx(1.0)
    nested = graph(((A, B), 1.0), ((A, B, C, D), 1.0))
    s = 0
    for tok in (A, B, C):
        s, _ = nested.forward(s, tok)
    # Failing after AB (a finished term) and C takes back only C's bonus.
    assert nested.finalize(s) == pytest.approx(-1.0)
    assert nested.forward(s, E)[1] == pytest.approx(-1.0)


def test_the_search_s_move_table_is_the_graph_for_every_state_and_token() -> None:
    g = graph(((A, B), 1.0), ((A, B, C, D), 2.0), ((C, A), 0.5))
    for state, (known, other) in enumerate(g.moves()):
        for tok in range(BLANK, E + 1):
            assert known.get(tok, other) == g.forward(state, tok)


def test_frames_settled_without_the_vocabulary_pass_have_the_candidates_of_the_full_one() -> None:
    from tui_speech.asr.beam import PRUNE, _Frames

    rng = np.random.default_rng(7)
    # Frames from sure to torn, with the runner-up placed around the candidate floor.
    best = rng.uniform(0.3, 1.0, 400)
    second = best * np.exp(-PRUNE) * rng.choice([0.3, 0.9, 0.999, 1.0, 1.001, 1.2, 50], 400)
    probs = np.zeros((400, 6), np.float32)
    probs[:, BLANK], probs[:, A] = best, np.minimum(second, best)
    probs[:, 2:] = rng.dirichlet(np.ones(4), 400) * 1e-6
    probs /= probs.sum(axis=1, keepdims=True)
    # The comparison the search made for every frame before (a float32 floor).
    full = probs >= (probs.max(axis=1) * math.exp(-PRUNE))[:, None]
    f = _Frames.of(probs)
    seen = np.zeros_like(full)
    seen[np.arange(400), f.winner] = True
    seen[f.unsure] = f.keep
    assert (seen == full).all()
    assert 0 < len(f.unsure) < 400  # both ways were taken


def test_the_bonus_turns_a_close_second_into_the_term_only_if_it_completes() -> None:
    # A sure, then a frame where C (0.55) narrowly beats B (0.4).
    lp = frames({A: 0.98}, {}, {C: 0.55, B: 0.4}, {})
    assert prefix_beam_search(lp, BLANK, 8) == (A, C)
    assert prefix_beam_search(lp, BLANK, 8, graph(((A, B), 1.5))) == (A, B)
    # A term the audio only begins (ABD, no D anywhere) earns nothing in the end: the
    # bonus that led the search towards AB is taken back and C wins again.
    assert prefix_beam_search(lp, BLANK, 8, graph(((A, B, D), 1.5))) == (A, C)
    # Broken off mid-utterance by E: taken back there too.
    lp_e = frames({A: 0.98}, {}, {C: 0.55, B: 0.4}, {}, {E: 0.98}, {})
    assert prefix_beam_search(lp_e, BLANK, 8, graph(((A, B, D), 1.5))) == (A, C, E)
    assert prefix_beam_search(lp_e, BLANK, 8, graph(((A, B), 1.5))) == (A, B, E)
    # A weight too small for the gap changes nothing.
    assert prefix_beam_search(lp, BLANK, 8, graph(((A, B), 0.1))) == (A, C)


def test_a_term_is_read_only_where_the_acoustics_support_its_characters() -> None:
    g = graph(((A, B), 7.0))
    # B far below the frame's most probable character (C): no bonus, however large.
    weak = frames({A: 0.98}, {}, {C: 0.9, B: 0.05}, {})
    assert prefix_beam_search(weak, BLANK, 8, g) == (A, C)
    # B the most probable character under a sure blank (CTC dropped it into the blank): the
    # term brings it back, though greedy decoding and the plain search never see it.
    hidden = frames({A: 0.98}, {}, {B: 0.003}, {})
    assert prefix_beam_search(hidden, BLANK, 8) == (A,)
    assert prefix_beam_search(hidden, BLANK, 8, g) == (A, B)


def test_a_term_whose_characters_were_all_dropped_is_not_written(trained_model) -> None:
    from tui_speech.asr.beam import BeamRecognizer

    rec = BeamRecognizer.load(str(trained_model), "torch", 1, hotwords=[Hotword("帮助")])
    index = {t: i for i, t in enumerate(rec.info.vocab)}
    v = len(rec.info.vocab)

    def read(*rows: dict[int, float]) -> str:
        probs = np.exp(frames(*rows, vocab=v)).astype(np.float32)
        return "".join(c.char for c in rec.search(rec.new_decoder(), probs))

    de, bang, zhu = index["的"], index["帮"], index["助"]
    # One character heard, the other dropped: the term is written.
    assert read({de: 0.98}, {}, {bang: 0.98}, {}, {zhu: 0.003}, {}) == "的帮助"
    # Both dropped (each the best character under a sure blank): too little evidence.
    assert read({de: 0.98}, {}, {bang: 0.003}, {}, {zhu: 0.003}, {}) == "的"


def test_hotword_files_take_weights_comments_and_refuse_bad_weights() -> None:
    words = parse_hotwords("# names\n通义\n深度学习\t3\n\n通义\n")
    assert [w.term for w in words] == ["通义", "深度学习"]
    assert words[1].weight == 3.0 and words[0].weight > 0
    with pytest.raises(UsageError, match="line 2"):
        parse_hotwords("通义\n深度\tloud\n")
    with pytest.raises(UsageError, match="line 1"):
        parse_hotwords("深度\t-1\n")


def test_the_beam_keeps_times_confidence_and_alternatives_of_the_terms_characters(
    trained_model,
) -> None:
    from tui_speech.asr.beam import BeamRecognizer

    rec = BeamRecognizer.load(str(trained_model), "torch", 1, hotwords=[Hotword("帮助")])
    index = {t: i for i, t in enumerate(rec.info.vocab)}
    v = len(rec.info.vocab)
    rows = [{index["的"]: 0.98}, {}, {index["帮"]: 0.4, index["很"]: 0.55}, {}]
    rows += [{index["助"]: 0.98}, {}]
    probs = np.exp(frames(*rows, vocab=v)).astype(np.float32)
    greedy = rec.new_decoder()
    assert "".join(c.char for c in greedy.feed(probs) + greedy.flush()) == "的很助"
    chars = rec.search(rec.new_decoder(), probs)
    assert "".join(c.char for c in chars) == "的帮助"
    bang = chars[1]
    frame = rec.info.frame_seconds
    assert (bang.t0, bang.t1) == (pytest.approx(2 * frame), pytest.approx(3 * frame))
    assert bang.confidence == pytest.approx(0.4, abs=1e-3)
    assert bang.alternatives[0][0] == "很"  # what greedy decoding read is offered back
    assert chars[2].t0 == pytest.approx(4 * frame)


def test_live_partials_and_finals_both_search_with_the_hotwords(
    trained_model, phrase_clips
) -> None:
    from tests.asr_fixtures import live_blocks, with_noise
    from tui_speech.asr.beam import BeamRecognizer
    from tui_speech.asr.live import make_vad
    from tui_speech.asr.recognizer import Recognizer
    from tui_speech.asr.stream import LiveStream, LiveTranscriber
    from tui_speech.config import ListenSettings

    clip = with_noise(phrase_clips["我们去学校"], 40.0, seed=1)
    audio = np.concatenate([np.zeros(16_000, np.float32), clip, np.zeros(16_000, np.float32)])
    audio = ((np.clip(audio, -1, 1) * 32767).round() / 32767).astype(np.float32)

    def live(rec: Recognizer) -> tuple[list[str], list[str]]:
        t = LiveTranscriber(LiveStream(rec), make_vad(ListenSettings(), rec.info.hop))
        evs = list(t.run(live_blocks(audio)))
        return [e.text for e in evs if e.type == "final"], [
            e.text for e in evs if e.type == "partial"
        ]

    plain_finals, plain_partials = live(Recognizer.load(str(trained_model), "torch", 1))
    biased = BeamRecognizer.load(str(trained_model), "torch", 1, hotwords=[Hotword("学校")])
    finals, partials = live(biased)
    assert "学校" not in "".join(plain_finals) and finals == ["我们去学校"]
    assert partials != plain_partials and any("学校" in p for p in partials)


def test_term_free_speech_is_read_as_without_hotwords(trained_model, shared_models) -> None:
    from tests.asr_fixtures import with_noise
    from tests.asr_models import synthesize
    from tui_speech.asr.beam import BeamRecognizer
    from tui_speech.asr.recognizer import Recognizer

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TUI_SPEECH_HOME", str(shared_models))
        clip = with_noise(synthesize("今天天气很好", "jf_alpha", 0.9), 40.0, seed=1)
    plain = "".join(
        c.char for c in Recognizer.load(str(trained_model), "torch", 1).iter_chars([clip])
    )
    # The tiny model hears 好 as 校 here; a bonus used to complete it into 学校.
    assert "校" in plain and "学校" not in plain
    terms = [Hotword(t) for t in ("帮助", "音乐", "世界", "学校")]
    biased = BeamRecognizer.load(str(trained_model), "torch", 1, hotwords=terms)
    assert "".join(c.char for c in biased.iter_chars([clip])) == plain
