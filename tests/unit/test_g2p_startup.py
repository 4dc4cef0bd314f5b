"""English G2P start-up: the cached lexicon reads exactly like misaki's own."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui_speech.config import get_paths
from tui_speech.tts import g2p_en


@pytest.fixture
def lexicon_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TUI_SPEECH_HOME", str(tmp_path))
    return get_paths().cache


def test_the_cached_lexicon_holds_what_misaki_builds(lexicon_cache: Path):
    from misaki import en

    built = g2p_en._cached_lexicon(False)  # no cache yet: misaki builds it, and it is saved
    saved = sorted(p.name for p in lexicon_cache.glob("misaki-*-us/*.bin"))
    assert saved == ["golds.bin", "silvers.bin"]
    cached = g2p_en._cached_lexicon(False)  # now read from the word files
    assert type(cached.golds).__name__ == "WordFile"
    reference = en.Lexicon(False)
    assert cached.golds == reference.golds == built.golds  # every entry, str or by tag
    assert cached.silvers == reference.silvers
    assert cached.british is False and list(cached.cap_stresses) == list(reference.cap_stresses)
    for word in ("read", "lighthouse", "Tuesday", "harbour", "used"):
        assert cached.golds.get(word) == reference.golds.get(word)
    assert "notawordatall" not in cached.golds and cached.silvers.get("notawordatall") is None
    (golds,) = lexicon_cache.glob("misaki-*-us/golds.bin")
    golds.write_bytes(b"not a word file")  # a broken cache is rebuilt, not an error
    assert g2p_en._cached_lexicon(False).golds == reference.golds
    assert type(g2p_en._cached_lexicon(False).golds).__name__ == "WordFile"


def test_the_lean_spacy_load_tags_as_spacy_itself_loads():
    """spaCy loaded without its command line and with its tokenizer built once tokenizes and
    tags exactly as ``spacy.load`` does; ``spacy.cli`` is still there for whoever imports it.
    In a fresh process: only spaCy's first import goes through the stand-in."""
    probe = """
import json
from tui_speech.tts import spacy_en
lean = spacy_en.find_spacy_pipeline()
import spacy, spacy.cli
name = next(n for n in spacy_en.SPACY_PIPELINES if __import__("importlib").util.find_spec(n))
with spacy_en.quiet_spacy():  # spaCy's own loader, torch still kept out
    full = spacy.load(name, exclude=list(spacy_en.UNUSED_COMPONENTS))
text = ("Dr. Smith paid $5.50 at 8:30 a.m. on Jan. 3rd (see https://example.com/x?y=1), "
        "e.g. U.S.A. tickets; don't y'all read? I read the lead article; they'd've said no...")
tags = [[(t.text, t.tag_, t.whitespace_) for t in nlp(text)] for nlp in (lean, full)]
print(json.dumps({"tags": tags, "cli": callable(getattr(spacy.cli, "download", None)),
                  "info": callable(spacy.info), "pipes": lean.pipe_names}))
"""
    import json
    import subprocess
    import sys

    from tests.conftest import ROOT

    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, check=True, cwd=ROOT, timeout=120
    )
    result = json.loads(out.stdout.decode().splitlines()[-1])
    lean, full = result["tags"]
    assert len(lean) > 30 and lean == full
    words = [t[0] for t in lean]  # the saved tokenizer's special cases and rules are in force
    assert words[:2] == ["Dr.", "Smith"] and "5.50" in words and "a.m." in words
    assert result["cli"] and result["info"] and result["pipes"] == ["tok2vec", "tagger"]
