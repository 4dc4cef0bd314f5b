"""English G2P start-up: the cached lexicon reads exactly like misaki's own."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui_speech.config import get_paths
from tui_speech.tts import g2p


@pytest.fixture
def lexicon_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TUI_SPEECH_HOME", str(tmp_path))
    return get_paths().cache


def test_the_cached_lexicon_holds_what_misaki_builds(lexicon_cache: Path):
    from misaki import en

    built = g2p._cached_lexicon(False)  # no cache yet: misaki builds it, and it is saved
    (saved,) = lexicon_cache.glob("misaki-*-us.marshal")
    cached = g2p._cached_lexicon(False)
    reference = en.Lexicon(False)
    assert cached.golds == reference.golds == built.golds
    assert cached.silvers == reference.silvers
    for word in ("read", "lighthouse", "Tuesday", "harbour"):
        assert cached.golds.get(word) == reference.golds.get(word)
    saved.write_bytes(b"not marshal data")  # a broken cache is rebuilt, not an error
    assert g2p._cached_lexicon(False).golds == reference.golds
