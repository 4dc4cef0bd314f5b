"""Text -> speech, chunk by chunk.

``Pipeline(lang, voice, speed)(text)`` is a lazy generator of :class:`SpeechChunk`: sentences are
found, phonemized and synthesized only as the caller consumes chunks, so the first audio of a
200,000-character text comes as soon as that of a short one and memory stays bounded.

Chunking rules (why):
- Kokoro reads at most 510 phoneme tokens, so no chunk is longer.
- The first chunk is short (a clause, or a few words) so audio starts fast; each next chunk may be
  twice as long as the one before, which keeps synthesis ahead of real-time playback (RTF < 0.5)
  while later chunks grow to where the model runs most efficiently.
- Cuts fall after a clause mark (, ; : — …) when one is near, else between words.
- Kokoro pads every call with silence (here ~0.3 s before and ~0.7 s after the speech), so
  played back to back, chunks cut between two words would pause for a second mid-phrase. Each
  chunk's silence is cut to what the text calls for at its end: a short breath between words,
  more after a clause, a sentence's pause after a sentence (:func:`shape_pauses`).
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from tui_speech.errors import UsageError
from tui_speech.tts.engine import (
    SAMPLE_RATE,
    EngineOutput,
    KokoroEngine,
    check_speed,
    load_engine,
)
from tui_speech.tts.g2p import G2PToken, normalise_language, phonemize
from tui_speech.tts.vocab import MAX_PHONEMES, encode
from tui_speech.tts.voices import default_voice, resolve_voice, style_for

FIRST_CHUNK_PHONEMES = 20
# Far below Kokoro's 510: two chunks are synthesized at once and onnxruntime's arena grows with
# the longest chunk seen, so 80 keeps `speak` near 600 MB; speed changes little past ~60.
MAX_CHUNK_PHONEMES = 80
#: Longest piece of text phonemized at once (G2P of a piece costs time before its audio).
MAX_SENTENCE_CHARS = 400
_CLAUSE_MARKS = frozenset(",;:—…")
_SENTENCE_MARKS = frozenset(".!?")
#: Silence kept after a chunk, by how its text ends (seconds), and before its speech.
PAUSE_AFTER_WORD, PAUSE_AFTER_CLAUSE, PAUSE_AFTER_SENTENCE = 0.06, 0.2, 0.4
LEAD_IN = 0.05
#: Samples below this fraction of the chunk's peak count as silence (-40 dB).
SILENCE_FRACTION = 0.01
FADE_S = 0.005

# A sentence ends at . ! ? … followed by space (so "5.50" and "e.g" stay whole), at CJK marks,
# or at a line break.
_SENTENCE_END = re.compile(r"[.!?…]+[\"”’)\]]*(?=\s|$)|[。！？]+[\"”’」』)）]*|\n\s*")


@dataclass(frozen=True)
class SpeechChunk:
    """One synthesized piece of the text."""

    index: int
    graphemes: str
    phonemes: str
    tokens: tuple[G2PToken, ...]
    audio: np.ndarray  # float32 mono
    sample_rate: int
    warnings: tuple[str, ...] = ()

    @property
    def duration(self) -> float:
        return len(self.audio) / self.sample_rate


@dataclass(frozen=True)
class PhonemeChunk:
    """A chunk before synthesis: what the model will be given."""

    index: int
    tokens: tuple[G2PToken, ...]
    warnings: tuple[str, ...] = ()

    @property
    def graphemes(self) -> str:
        return "".join(t.grapheme + t.whitespace for t in self.tokens).strip()

    @property
    def phonemes(self) -> str:
        return "".join(t.phonemes + t.whitespace for t in self.tokens).strip()


def iter_sentences(text: str) -> Iterator[str]:
    """Lazily yield sentences (with their end marks); blank ones are skipped.

    A run without sentence marks is cut every ``MAX_SENTENCE_CHARS`` (at a clause mark or a
    space), so text with no punctuation is still phonemized a piece at a time.
    """
    pos = 0
    for match in _SENTENCE_END.finditer(text):
        yield from _bounded(text[pos : match.end()])
        pos = match.end()
    yield from _bounded(text[pos:])


def _bounded(sentence: str) -> Iterator[str]:
    while len(sentence) > MAX_SENTENCE_CHARS:
        head = sentence[:MAX_SENTENCE_CHARS]
        cut = max(head.rfind(mark) for mark in ",;:，、；：") + 1 or head.rfind(" ") + 1
        cut = cut or MAX_SENTENCE_CHARS  # one unbroken word: cut it anyway
        if sentence[:cut].strip():
            yield sentence[:cut].strip()
        sentence = sentence[cut:]
    if sentence.strip():
        yield sentence.strip()


def _size(tokens: Iterable[G2PToken]) -> int:
    return len(encode("".join(t.phonemes + t.whitespace for t in tokens).strip()))


def _split_long_token(token: G2PToken, limit: int) -> list[G2PToken]:
    """A single token longer than ``limit`` (a run-on espeak word) is cut into hard pieces."""
    pieces: list[G2PToken] = []
    ps = token.phonemes
    while ps:
        pieces.append(G2PToken(token.grapheme if not pieces else "", ps[:limit], ""))
        ps = ps[limit:]
    last = pieces[-1]
    pieces[-1] = G2PToken(last.grapheme, last.phonemes, token.whitespace)
    return pieces


def _cut_point(tokens: list[G2PToken], limit: int) -> int:
    """How many leading tokens make the next chunk: the last clause end that fits, if it is not
    too early, else as many whole tokens as fit."""
    fitting = 0
    best_clause = 0
    for i in range(1, len(tokens) + 1):
        if _size(tokens[:i]) > limit:
            break
        fitting = i
        if tokens[i - 1].phonemes[-1:] in _CLAUSE_MARKS | _SENTENCE_MARKS:
            best_clause = i
    if best_clause and best_clause >= fitting // 3:
        return best_clause
    return max(fitting, 1)


def chunk_tokens(
    sentences: Iterable[list[G2PToken]],
    first_limit: int = FIRST_CHUNK_PHONEMES,
    max_limit: int = MAX_CHUNK_PHONEMES,
) -> Iterator[list[G2PToken]]:
    """Group token lists (one per sentence) into chunks with growing size limits (lazy)."""
    limit = first_limit
    pending: list[G2PToken] = []
    for sentence in sentences:
        for token in sentence:
            if _size([token]) > max_limit:
                pending.extend(_split_long_token(token, max_limit))
            else:
                pending.append(token)
        # Emit while what is pending overflows the limit; keep the remainder for merging.
        while _size(pending) > limit:
            cut = _cut_point(pending, limit)
            yield pending[:cut]
            pending = pending[cut:]
            limit = min(limit * 2, max_limit)
        if limit == first_limit and pending:
            # The first sentence fits the first limit: send it right away.
            yield pending
            pending = []
            limit = min(limit * 2, max_limit)
    if pending:
        yield pending


def _spaced(tokens: list[G2PToken]) -> list[G2PToken]:
    """A sentence's last token gets a trailing space, so merged sentences stay apart."""
    if tokens and not tokens[-1].whitespace:
        last = tokens[-1]
        tokens[-1] = G2PToken(last.grapheme, last.phonemes, " ", last.known, last.override)
    return tokens


def _phoneme_tokens(phonemes: str) -> list[G2PToken]:
    """Raw phonemes (``--phonemes``) as word tokens, so they chunk like text."""
    return [G2PToken(word, word, " ") for word in phonemes.split()]


class Pipeline:
    """Kokoro synthesis for one language, voice and speed.

    The engine loads on first synthesis (or ``load()``), not at construction, so a pipeline can
    be made cheaply to validate user input.
    """

    def __init__(
        self,
        lang: str = "en-us",
        voice: str | None = None,
        speed: float = 1.0,
        backend: str = "onnx",
        model: str | None = None,
    ) -> None:
        self.lang = normalise_language(lang)
        self.speed = check_speed(speed)
        self.voice = voice or default_voice(self.lang)
        self.pack = resolve_voice(self.voice)
        self.backend = backend
        self.model = model
        self._engine: KokoroEngine | None = None

    def load(self) -> KokoroEngine:
        if self._engine is None:
            self._engine = load_engine(self.backend, self.model)
        return self._engine

    def plan(self, text: str, *, is_phonemes: bool = False) -> Iterator[PhonemeChunk]:
        """The chunks ``text`` will be spoken in, without synthesis (lazy)."""
        warnings: list[str] = []

        def sentences() -> Iterator[list[G2PToken]]:
            for sentence in iter_sentences(text):
                if is_phonemes:
                    yield _phoneme_tokens(sentence)
                    continue
                result = phonemize(sentence, self.lang)
                warnings.extend(w for w in result.warnings if w not in warnings)
                yield _spaced([t for t in result.tokens if t.phonemes])

        reported = 0
        for index, tokens in enumerate(chunk_tokens(sentences())):
            new, reported = tuple(warnings[reported:]), len(warnings)
            yield PhonemeChunk(index, tuple(tokens), new)

    def __call__(self, text: str, *, is_phonemes: bool = False) -> Iterator[SpeechChunk]:
        """Synthesize ``text`` chunk by chunk (lazy). Raises UsageError when nothing is
        speakable, before yielding anything."""
        if not text or not text.strip():
            raise UsageError("nothing to say: the text is empty")
        engine = self.load()
        planned = (
            (c, encode(c.phonemes)[:MAX_PHONEMES]) for c in self.plan(text, is_phonemes=is_phonemes)
        )
        work = ((chunk, ids) for chunk, ids in planned if ids)
        spoken = 0
        for chunk, out in _in_order(engine, work, self._synthesize):
            audio = shape_pauses(out.audio, pause_after(chunk.graphemes))
            yield SpeechChunk(
                spoken, chunk.graphemes, chunk.phonemes, chunk.tokens, audio,
                SAMPLE_RATE, chunk.warnings,
            )  # fmt: skip
            spoken += 1
        if spoken == 0:
            raise UsageError("nothing to say: the text has no speakable words")

    def _synthesize(self, ids: list[int]) -> EngineOutput:
        return self.load().synthesize(ids, style_for(self.pack, len(ids)), self.speed)


def pause_after(graphemes: str) -> float:
    """Seconds of silence the text calls for after ``graphemes``."""
    end = graphemes.rstrip().rstrip('"”’)]」』）')
    if not end:
        return PAUSE_AFTER_WORD
    if end[-1] in _SENTENCE_MARKS or end[-1] in "。！？" or end.endswith("..."):
        return PAUSE_AFTER_SENTENCE
    if end[-1] in _CLAUSE_MARKS or end[-1] in "，；：、":
        return PAUSE_AFTER_CLAUSE
    return PAUSE_AFTER_WORD


def shape_pauses(audio: np.ndarray, pause_s: float, rate: int = SAMPLE_RATE) -> np.ndarray:
    """``audio`` with its leading silence cut to :data:`LEAD_IN` and its trailing silence to
    ``pause_s`` (never lengthened); cut edges fade over 5 ms so no click is heard."""
    if len(audio) == 0:
        return audio
    loud = np.flatnonzero(np.abs(audio) > SILENCE_FRACTION * float(np.max(np.abs(audio))))
    if len(loud) == 0:
        return audio
    start = max(0, int(loud[0]) - int(LEAD_IN * rate))
    end = min(len(audio), int(loud[-1]) + 1 + int(pause_s * rate))
    if start == 0 and end == len(audio):
        return audio
    out = audio[start:end].copy()
    fade = min(int(FADE_S * rate), len(out) // 2)
    if fade:
        ramp = np.linspace(0.0, 1.0, fade, dtype=out.dtype)
        if start > 0:
            out[:fade] *= ramp
        if end < len(audio):
            out[-fade:] *= ramp[::-1]
    return out


def _in_order(
    engine: KokoroEngine,
    work: Iterator[tuple[PhonemeChunk, list[int]]],
    synthesize: Callable[[list[int]], EngineOutput],
) -> Iterator[tuple[PhonemeChunk, EngineOutput]]:
    """Synthesize up to ``engine.parallel_runs`` chunks (with their token ids) at once, yielding
    them in text order (lazy: no more than that many chunks are ahead of the consumer)."""
    runs = getattr(engine, "parallel_runs", 1)
    if runs <= 1:
        for chunk, ids in work:
            yield chunk, synthesize(ids)
        return
    with ThreadPoolExecutor(max_workers=runs, thread_name_prefix="tui-speech-tts") as pool:
        pending: deque[tuple[PhonemeChunk, Future[EngineOutput]]] = deque()
        try:
            for chunk, ids in work:
                pending.append((chunk, pool.submit(synthesize, ids)))
                if len(pending) >= runs:
                    done, future = pending.popleft()
                    yield done, future.result()
            while pending:
                done, future = pending.popleft()
                yield done, future.result()
        finally:  # the consumer stopped early: don't start what is still queued
            for _, future in pending:
                future.cancel()


def synthesize(
    text: str, lang: str = "en-us", voice: str | None = None, speed: float = 1.0
) -> tuple[np.ndarray, int]:
    """Convenience: the whole text as one array (for short texts and tests)."""
    chunks = [c.audio for c in Pipeline(lang, voice, speed)(text)]
    return np.concatenate(chunks), SAMPLE_RATE
