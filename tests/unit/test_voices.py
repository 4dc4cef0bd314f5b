"""Voices: embedded packs, store packs, weighted blends saved and reloaded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tui_speech.errors import UsageError
from tui_speech.tts import voices


def test_the_five_embedded_voices_are_listed():
    names = {v.name for v in voices.list_voices() if v.source == "embedded"}
    assert names == {"jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo"}
    assert voices.load_voice("jm_kumo").shape == (510, 1, 256)


def test_blend_weights_are_normalised_to_sum_to_one():
    pairs = voices.parse_blend("jf_alpha:0.7,jm_kumo:0.7")
    assert pairs == [("jf_alpha", 0.5), ("jm_kumo", 0.5)]
    assert sum(w for _, w in voices.parse_blend("jf_alpha:3,jm_kumo:1,jf_nezumi")) == 1.0


def test_a_blend_is_the_weighted_mean_of_its_packs():
    blend = voices.resolve_voice("jf_alpha:0.7,jm_kumo:0.3")
    expected = 0.7 * voices.load_voice("jf_alpha") + 0.3 * voices.load_voice("jm_kumo")
    np.testing.assert_allclose(blend, expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("jf_alpha:0.7,", "malformed voice blend"),
        ("jf_alpha:x,jm_kumo:1", "malformed weight"),
        ("jf_alpha:-1,jm_kumo:1", "weight > 0"),
        ("jf_alpha:1,jf_alpha:1", "appears twice"),
        ("jf_alpha:0.5,nobody:0.5", "unknown voice 'nobody'"),
    ],
)
def test_malformed_blends_are_clear_errors(spec: str, message: str):
    with pytest.raises(UsageError, match=message):
        voices.resolve_voice(spec)


def test_unknown_voice_lists_the_valid_ones():
    with pytest.raises(UsageError, match="jf_alpha, jf_gongitsune"):
        voices.load_voice("af_nobody")


def test_saved_blend_is_reloaded_by_name_and_listed(isolated_home: Path):
    path = voices.save_blend("warm", "jf_alpha:0.7,jm_kumo:0.3")
    assert path.is_relative_to(isolated_home)
    np.testing.assert_allclose(
        voices.load_voice("warm"), voices.resolve_voice("jf_alpha:0.7,jm_kumo:0.3"), atol=1e-6
    )
    listed = {v.name: v for v in voices.list_voices()}
    assert listed["warm"].source == "blend"
    assert listed["warm"].detail == "jf_alpha:0.7,jm_kumo:0.3"


def test_a_blend_cannot_take_an_embedded_voices_name_or_a_bad_name():
    with pytest.raises(UsageError, match="already a voice"):
        voices.save_blend("jf_alpha", "jf_alpha:0.5,jm_kumo:0.5")
    with pytest.raises(UsageError, match="invalid voice name"):
        voices.save_blend("../evil", "jf_alpha:0.5,jm_kumo:0.5")


def test_the_default_voice_follows_the_language_when_its_pack_is_in_the_store(
    isolated_home: Path,
):
    assert voices.default_voice("en-us") == "jf_alpha"
    assert voices.default_voice("ja") == "jf_alpha"
    store = isolated_home / "cache" / "models" / "hexgrad" / "Kokoro-82M" / "voices"
    store.mkdir(parents=True)
    np.save(store / "af_heart.npy", np.zeros((510, 1, 256), np.float32))
    assert voices.default_voice("en-us") == "af_heart"
    # zf_xiaoxiao is not in the store: the embedded voice Mandarin is clearest in
    assert voices.default_voice("zh") == "jf_gongitsune"
    assert any(v.name == "af_heart" and v.source == "store" for v in voices.list_voices())
    assert voices.load_voice("af_heart").shape == (510, 1, 256)


def test_style_row_follows_the_token_count():
    pack = voices.load_voice("jf_alpha")
    np.testing.assert_array_equal(voices.style_for(pack, 10), pack[9].reshape(1, 256))
    np.testing.assert_array_equal(voices.style_for(pack, 9999), pack[509].reshape(1, 256))
