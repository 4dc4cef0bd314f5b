"""Pure parts of the TUI: override placement, theme files and colours, settings and drafts."""

from __future__ import annotations

import pytest
from textual.color import Color

from tui_speech.config import get_paths
from tui_speech.errors import UsageError
from tui_speech.tts.g2p import G2PToken
from tui_speech.tui.speak.blend import blend_spec
from tui_speech.tui.speak.overrides import apply_override, token_spans
from tui_speech.tui.state import Settings, load_draft, load_settings, save_draft, save_settings
from tui_speech.tui.themes import (
    MIN_CONTRAST,
    builtin_themes,
    contrast_ratio,
    derived_variables,
    theme_from_toml,
)


def tok(grapheme: str) -> G2PToken:
    return G2PToken(grapheme, "x")


def test_token_spans_follow_the_text_and_cover_overrides():
    text = "the cat and [the](/ðə/) cat"
    tokens = [tok("the"), tok("cat"), tok("and"), tok("the"), tok("cat")]
    spans = token_spans(text, tokens)
    assert [text[a:b] for a, b in spans] == ["the", "cat", "and", "[the](/ðə/)", "cat"]
    assert spans[4][0] == len(text) - 3  # after the override, not inside its phonemes


def test_token_not_in_the_text_has_no_span():
    assert token_spans("five", [tok("5")]) == [None]


def test_apply_override_writes_replaces_and_removes():
    text = "say hello now"
    once = apply_override(text, (4, 9), "həlˈO")
    assert once == "say [hello](/həlˈO/) now"
    twice = apply_override(once, (4, 20), "hɛlO")
    assert twice == "say [hello](/hɛlO/) now"
    assert apply_override(twice, (4, 19), "  ") == text


@pytest.mark.parametrize("bad", ["a/b", "a)b", "a\nb", "[x"])
def test_apply_override_rejects_phonemes_that_break_the_syntax(bad):
    with pytest.raises(UsageError):
        apply_override("hello", (0, 5), bad)


def test_builtin_themes_have_readable_speech_colours():
    names = {t.name for t in builtin_themes()}
    assert names == {"tui-speech-dark", "tui-speech-light", "tui-speech-high-contrast"}
    for theme in builtin_themes():
        background = Color.parse(theme.background)
        keys = [f"confidence-{i}" for i in range(5)]
        keys += ["phoneme-oov", "phoneme-unknown", "phoneme-override"]
        for key in keys:
            ratio = contrast_ratio(Color.parse(theme.variables[key]), background)
            assert ratio >= MIN_CONTRAST, (theme.name, key, ratio)
        # The low end of the scale is not the high end: the scale carries information.
        assert theme.variables["confidence-0"] != theme.variables["confidence-4"]


def test_derived_colours_are_pushed_to_readable_on_a_pale_theme():
    theme = theme_from_toml(
        'name = "pale"\nprimary = "#888888"\ndark = false\nbackground = "#ffffff"\n'
        'warning = "#ffff66"\n',
        "pale.toml",
    )
    warning = Color.parse(theme.variables["phoneme-unknown"])
    assert contrast_ratio(warning, Color.parse("#ffffff")) >= MIN_CONTRAST


def test_theme_variables_in_the_file_win():
    theme = theme_from_toml(
        'name = "t"\nprimary = "#123456"\n[variables]\nphoneme-oov = "#ff00ff"\n', "t.toml"
    )
    assert theme.variables["phoneme-oov"] == "#ff00ff"
    assert "confidence-2" in derived_variables(theme)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name = 'x'", "needs at least 'name' and 'primary'"),
        ("name = 'x'\nprimary = '#000'\ncolour = 'red'", "unknown keys colour"),
        ("name = 'x'\nprimary = 'blurple'", "is not a colour"),
        ("name = [", "not valid TOML"),
    ],
)
def test_bad_theme_files_say_what_is_wrong(text, message):
    with pytest.raises(UsageError, match=message):
        theme_from_toml(text, "bad.toml")


def test_settings_round_trip_and_survive_a_broken_file():
    assert load_settings() == Settings()
    save_settings(Settings(theme="tui-speech-light", lang="zh", voice="mix", speed=1.25))
    assert load_settings() == Settings("tui-speech-light", "zh", "mix", 1.25, 0.6)
    (get_paths().config / "tui.json").write_text('{"speed": "fast", "lang": 3')
    assert load_settings() == Settings()
    (get_paths().config / "tui.json").write_text('{"speed": "fast", "lang": "fr"}')
    assert load_settings() == Settings(lang="fr")


def test_draft_round_trip():
    assert load_draft() == ""
    save_draft("你好 [world](/wɜɹld/)")
    assert load_draft() == "你好 [world](/wɜɹld/)"


def test_blend_spec_from_weights():
    assert blend_spec({"a": "0.7", "b": "", "c": "0.3", "d": "0"}) == "a:0.7,c:0.3"
    with pytest.raises(UsageError, match="at least one"):
        blend_spec({"a": "", "b": "0"})
    with pytest.raises(UsageError, match="must be a number"):
        blend_spec({"a": "lots"})
