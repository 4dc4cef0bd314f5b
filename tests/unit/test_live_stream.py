"""The streaming transcriber with the trained tiny model: finals equal offline decoding, the
committed prefix never changes, times sit on the session clock, long utterances are cut."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.asr_fixtures import live_blocks as blocks
from tests.asr_fixtures import speech_with_pauses
from tests.asr_models import PHRASES
from tui_speech.asr.recognizer import Recognizer
from tui_speech.asr.stream import LiveStream, LiveTranscriber, quietest_cut
from tui_speech.audio.vad import SpeechSegmenter

RATE = 16_000


@pytest.fixture(scope="module")
def recognizer(trained_model: Path) -> Recognizer:
    return Recognizer.load(str(trained_model), "torch", threads=1)


def segmenter(recognizer: Recognizer) -> SpeechSegmenter:
    return SpeechSegmenter(align=recognizer.info.hop)


def test_finals_equal_offline_decoding_and_committed_text_only_grows(
    recognizer, phrase_clips
) -> None:
    audio = speech_with_pauses(phrase_clips, recognizer.info.hop)
    live = LiveTranscriber(LiveStream(recognizer, stable_updates=2), segmenter(recognizer))
    events = list(live.run(blocks(audio)))
    finals = [e for e in events if e.type == "final"]
    assert [f.text for f in finals] == list(PHRASES)
    for final in finals:
        # Offline decoding of the same stretch of the session gives the same characters.
        a, b = round(final.t0 * RATE), round(final.t1 * RATE)
        offline = recognizer.decode(audio[a:b])
        assert final.text == offline.text
        assert [round(c.t0 + final.t0, 4) for c in offline.chars] == [
            round(c.t0, 4) for c in final.chars
        ]
        assert final.committed == final.text
    # Times are on the session clock: each final lies where its phrase was played.
    starts, pos = [], RATE
    for clip in phrase_clips.values():
        starts.append(pos / RATE)
        pos += len(clip) + RATE + (-len(clip)) % recognizer.info.hop
    for final, start, clip in zip(finals, starts, phrase_clips.values(), strict=True):
        assert start - 0.3 <= final.chars[0].t0 and final.chars[-1].t1 <= start + len(clip) / RATE
    # Partials come before their final; the committed prefix of an utterance only grows.
    partials = [e for e in events if e.type == "partial"]
    assert len(partials) >= len(PHRASES)
    by_utterance: dict[int, list[str]] = {}
    for e in events:
        if e.type == "partial":
            assert e.text.startswith(e.committed)
            seen = by_utterance.setdefault(e.utterance, [])
            if seen:
                assert e.committed.startswith(seen[-1]), (seen[-1], e.committed)
            seen.append(e.committed)
    assert any(c for cs in by_utterance.values() for c in cs), "nothing was ever committed"


def test_silence_is_never_sent_to_the_model(recognizer) -> None:
    calls: list[int] = []
    original = recognizer.window_logits

    def counting(samples: np.ndarray) -> np.ndarray:
        calls.append(len(samples))
        return original(samples)

    recognizer.window_logits = counting  # type: ignore[method-assign]
    try:
        noise = np.random.default_rng(0).standard_normal(5 * RATE).astype(np.float32) * 1e-3
        live = LiveTranscriber(LiveStream(recognizer), segmenter(recognizer))
        assert list(live.run(blocks(noise))) == []
    finally:
        del recognizer.window_logits
    assert calls == []


def test_a_long_utterance_is_cut_at_its_quietest_point(recognizer, phrase_clips) -> None:
    clips = list(phrase_clips.values())
    short_gap = np.zeros(int(0.3 * RATE), np.float32)  # shorter than the VAD's pause
    audio = np.concatenate([p for c in clips for p in (c, short_gap)])
    stream = LiveStream(recognizer, max_utterance_s=6.0)
    live = LiveTranscriber(stream, None)
    finals = [e for e in live.run(blocks(audio)) if e.type == "final"]
    assert len(finals) >= 2
    assert all(f.t1 - f.t0 <= 6.0 + 1e-6 for f in finals)
    gaps, pos = [], 0
    for clip in clips:
        pos += len(clip)
        gaps.append((pos / RATE, (pos + len(short_gap)) / RATE))
        pos += len(short_gap)
    for a, b in zip(finals, finals[1:], strict=False):
        assert a.t1 == pytest.approx(b.t0, abs=1e-6)  # no audio lost at a cut
        # Cut in a pause between phrases, never through one.
        assert any(g0 <= a.t1 <= g1 for g0, g1 in gaps), a.t1
    for f in finals:
        assert f.text == recognizer.decode(audio[round(f.t0 * RATE) : round(f.t1 * RATE)]).text


def test_quietest_cut_finds_the_gap() -> None:
    rng = np.random.default_rng(1)
    audio = rng.standard_normal(10 * RATE).astype(np.float32)
    audio[7 * RATE : int(7.3 * RATE)] *= 0.01
    cut = quietest_cut(audio, 6 * RATE, 10 * RATE, RATE)
    assert 7 * RATE <= cut <= int(7.3 * RATE)


def test_reset_forgets_the_utterance(recognizer, phrase_clips) -> None:
    stream = LiveStream(recognizer)
    stream.accept_waveform(next(iter(phrase_clips.values())), 0.0)
    assert stream.decode() is not None
    stream.reset()
    assert stream.pending_s == 0 and stream.finalize() is None
