"""Text -> speech, chunk by chunk.

``Pipeline(lang, voice, speed)(text)`` is a lazy generator of :class:`SpeechChunk`: sentences are
found, phonemized and synthesized only as the caller consumes chunks, so the first audio of a
200,000-character text comes as soon as that of a short one and memory stays bounded.

The plan follows the text, because Kokoro reads tone and rhythm from the whole phrase it is
given: cutting a clause in pieces costs Mandarin its tones and English its stress (measured with
a listener, ``bench/intelligibility.py``). So (:func:`chunk_sentences`):
- A chunk is one sentence, or several short ones, of at most ``MAX_CHUNK_PHONEMES`` (300)
  phoneme tokens: Kokoro reads 510, but its activations for 510 tokens alone take ~630 MB,
  past what ``speak`` may use (900 MB); 300 holds a sentence of ~40 English words.
- A sentence longer than that is cut at its clause marks (, ; : — … and ，、；：), and only where
  none fits between words; never between two tokens of one number (三百 | 二十五), and never
  inside a word (Mandarin tokens are whole words).
- First audio: the first sentence is spoken on its own. Only a very long one (over 200 tokens,
  ~13 s of speech) is cut once, at a clause mark, to start sooner: the listener heard clauses
  spoken alone less clearly (English WER 0.056 with first sentences over 80 tokens cut at their
  first clause, 0.041 uncut; bench/RESULTS.md), so the cut is kept for where waiting costs most.
- Kokoro pads every call with silence: each chunk keeps what its end mark calls for, as long
  as the voice pauses there itself when that was measured, and no onset or tail is ever
  clipped (``tts.silences``).
"""

from __future__ import annotations

import dataclasses
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from tui_speech.errors import Action, UsageError
from tui_speech.tts import voice_pauses
from tui_speech.tts.durations import WordTiming, word_timings
from tui_speech.tts.engine import (
    SAMPLE_RATE,
    EngineOutput,
    KokoroEngine,
    check_speed,
    load_engine,
)
from tui_speech.tts.g2p import G2PToken, _is_word, normalise_language, phonemize, script_advice
from tui_speech.tts.scripts import unread_script
from tui_speech.tts.sentences import NUMBER_CHARS, sentences_and_breaks
from tui_speech.tts.silences import (
    CLAUSE_MARKS,
    LEAD_IN,
    mark_after,
    pause_for,
    shape_speech,
)
from tui_speech.tts.vocab import MAX_PHONEMES, encode
from tui_speech.tts.voice_pauses import Gaps
from tui_speech.tts.voices import default_voice, resolve_voice, style_for

#: Longest chunk (phoneme tokens); Kokoro's own limit is MAX_PHONEMES (510), see above.
MAX_CHUNK_PHONEMES = 300
#: Sentences shorter than this (phoneme tokens, ~3 s of speech) are merged with the next one:
#: Kokoro reads a lone "Yes." or "Really?" with odd intonation, and each call costs overhead.
MIN_CHUNK_PHONEMES = 60
#: A first sentence longer than this is spoken in two parts, cut at its first clause mark...
FIRST_SPLIT_PHONEMES = 200
#: ...that leaves at least this much on each side (a short clause alone sounds clipped).
FIRST_CLAUSE_MIN_PHONEMES = 50


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
    #: When each word sounds in ``audio`` (``tts.durations``); empty when the model gives no
    #: durations (a model file without the timed output) and for a pause tag's silence.
    words: tuple[WordTiming, ...] = ()

    @property
    def duration(self) -> float:
        return len(self.audio) / self.sample_rate


@dataclass(frozen=True)
class PhonemeChunk:
    """A chunk before synthesis: what the model will be given, or a pause tag's silence."""

    index: int
    tokens: tuple[G2PToken, ...]
    warnings: tuple[str, ...] = ()
    #: Seconds of silence a ``[pause:…]`` tag asks for (a chunk with no tokens), else 0.
    pause: float = 0.0
    #: Beside a pause tag the tag alone says how long the silence is: this chunk's own lead-in
    #: (after a tag) or trailing pause (before one) is cut to its speech.
    after_pause: bool = False
    before_pause: bool = False

    @property
    def graphemes(self) -> str:
        return "".join(t.grapheme + t.whitespace for t in self.tokens).strip()

    @property
    def phonemes(self) -> str:
        return "".join(t.phonemes + t.whitespace for t in self.tokens).strip()

    @property
    def end_mark(self) -> str:
        """What ends the chunk (:func:`mark_after`); a line break ends a sentence."""
        ends_line = bool(self.tokens) and isinstance(self.tokens[-1], _LineEnd)
        return mark_after(self.graphemes, ends_line=ends_line)


# --- Tokens: chunks -----------------------------------------------------------------------------


def _size(tokens: Iterable[G2PToken]) -> int:
    return len(encode("".join(t.phonemes + t.whitespace for t in tokens).strip()))


def _ends_clause(token: G2PToken) -> bool:
    return token.phonemes[-1:] in CLAUSE_MARKS or token.grapheme[-1:] in CLAUSE_MARKS


def _is_number(token: G2PToken) -> bool:
    return bool(token.grapheme) and set(token.grapheme) <= NUMBER_CHARS


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
    """How many leading tokens of an over-long sentence make the next piece: up to the last
    clause mark that fits, else the last word boundary that fits and does not split a number."""
    fitting = clause = word = 0
    for i in range(1, len(tokens) + 1):
        if _size(tokens[:i]) > limit:
            break
        fitting = i
        if _ends_clause(tokens[i - 1]):
            clause = i
        if i < len(tokens) and not (_is_number(tokens[i - 1]) and _is_number(tokens[i])):
            word = i
    return clause or word or max(fitting, 1)


def split_sentence(tokens: list[G2PToken], limit: int = MAX_CHUNK_PHONEMES) -> list[list[G2PToken]]:
    """A sentence as pieces of at most ``limit`` phoneme tokens (one piece when it fits)."""
    flat: list[G2PToken] = []
    for token in tokens:
        flat.extend(_split_long_token(token, limit) if _size([token]) > limit else [token])
    pieces = []
    while _size(flat) > limit:
        cut = _cut_point(flat, limit)
        pieces.append(flat[:cut])
        flat = flat[cut:]
    if flat:
        pieces.append(flat)
    return pieces


def _first_clause(tokens: list[G2PToken]) -> int:
    """Where to cut a long first sentence for early audio: its first clause mark that leaves
    enough on both sides, or 0 (no cut)."""
    if _size(tokens) <= FIRST_SPLIT_PHONEMES:
        return 0
    for i in range(1, len(tokens)):
        if _ends_clause(tokens[i - 1]) and _size(tokens[:i]) >= FIRST_CLAUSE_MIN_PHONEMES:
            return i if _size(tokens[i:]) >= FIRST_CLAUSE_MIN_PHONEMES else 0
    return 0


def chunk_sentences(
    sentences: Iterable[list[G2PToken]], limit: int = MAX_CHUNK_PHONEMES
) -> Iterator[list[G2PToken]]:
    """Group token lists (one per sentence) into chunks that follow the text (lazy).

    The first sentence goes alone (cut once at a clause if it is long), so audio starts early;
    after it, short sentences are merged until a chunk has ``MIN_CHUNK_PHONEMES``.
    """
    pending: list[G2PToken] = []
    first = True
    for sentence in sentences:
        pieces = split_sentence(sentence, limit)
        if first and pieces:
            cut = _first_clause(pieces[0])
            if cut:
                pieces[:1] = [pieces[0][:cut], pieces[0][cut:]]
            yield pieces.pop(0)
            first = False
        for piece in pieces:
            if pending and _size(pending + piece) > limit:
                yield pending
                pending = []
            pending = pending + piece
            if _size(pending) >= MIN_CHUNK_PHONEMES:
                yield pending
                pending = []
    if pending:
        yield pending


@dataclass(frozen=True)
class _LineEnd(G2PToken):
    """The last token of a sentence that a line break ended without a mark: the chunk it ends
    is followed by a sentence's pause (:attr:`PhonemeChunk.end_mark`). The same token
    otherwise; ``dataclasses.replace`` keeps the class."""


#: Languages whose lines that end without a mark (a heading, a list's items) are given Kokoro's
#: full stop. The listener (bench/intelligibility.py --items lines) heard English lists and
#: headings better with it (WER 0.054 -> 0.025 pooled, with the wrapped lines joined) and
#: Mandarin ones worse (CER 0.178 -> 0.206); the other languages are not measured.
LINE_STOP_LANGUAGES = frozenset({"en-us", "en-gb"})


def _line_end(token: G2PToken, *, stop: bool) -> _LineEnd:
    """The last token of a line that ends without a mark; with ``stop``, Kokoro reads it as the
    end of a sentence: merged into one chunk with the lines after it (short lines are), a list
    item or a heading would otherwise run into the next line as one phrase."""
    line_end = _LineEnd(*dataclasses.astuple(token))
    return dataclasses.replace(line_end, phonemes=token.phonemes + ".") if stop else line_end


def _spaced(tokens: list[G2PToken]) -> list[G2PToken]:
    """A sentence's last token gets a trailing space, so merged sentences stay apart."""
    if tokens and not tokens[-1].whitespace:
        last = tokens[-1]
        tokens[-1] = dataclasses.replace(last, whitespace=" ")
    return tokens


def _phoneme_tokens(phonemes: str) -> list[G2PToken]:
    """Raw phonemes (``--phonemes``) as word tokens, so they chunk like text."""
    return [G2PToken(word, word, " ") for word in phonemes.split()]


# --- Synthesis ----------------------------------------------------------------------------------


class Pipeline:
    """Kokoro synthesis for one language, voice and speed.

    The engine loads on first synthesis (or ``load()``), not at construction, so a pipeline can
    be made cheaply to validate user input. On first synthesis the engine loads in a thread
    while the first sentence is phonemized, so a cold start pays for the slower of the two,
    not for both.
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
        #: What the voice's recorded pauses hold for (``tts.voice_pauses``): the engine and model.
        self._model_key = voice_pauses.model_key(backend, model)
        self._engine: KokoroEngine | None = None

    def load(self) -> KokoroEngine:
        if self._engine is None:
            self._engine = load_engine(self.backend, self.model)
        return self._engine

    def warm_up(self) -> None:
        """Load the G2P for this language and the engine and run one tiny synthesis, so that
        the next call sounds at once (the TUI does this in the background when it opens); and
        have the voice's pauses measured if they are not recorded."""
        from tui_speech.tts.g2p import warm_up

        engine = self._load_beside_g2p()
        warm_up(self.lang)
        ids = encode("ə")
        engine().synthesize(ids, style_for(self.pack, len(ids)), self.speed)
        # The voice's own pauses, measured once at idle priority, for the texts to come.
        if self.voice_gaps() is None:
            self.measure_voice_later()

    def plan(self, text: str, *, is_phonemes: bool = False) -> Iterator[PhonemeChunk]:
        """The chunks ``text`` will be spoken in, without synthesis (lazy). Pause tags
        (``tts.pauses``) are chunks of their own; a malformed one fails before any chunk."""
        from tui_speech.tts.pauses import Pause, split_pauses

        parts = split_pauses(text)
        index = 0
        for n, part in enumerate(parts):
            if isinstance(part, Pause):
                yield PhonemeChunk(index, (), pause=part.seconds)
                index += 1
                continue
            after = n > 0 and isinstance(parts[n - 1], Pause)
            before = n + 1 < len(parts) and isinstance(parts[n + 1], Pause)
            # Before a tag, the last chunk must be known as last: hold one back (only then, so
            # the first audio of a text never waits for a second chunk's G2P).
            held: PhonemeChunk | None = None
            first = True
            for chunk in self._plan_text(part, is_phonemes):
                chunk = dataclasses.replace(chunk, index=index, after_pause=after and first)
                first = False
                index += 1
                if not before:
                    yield chunk
                    continue
                if held is not None:
                    yield held
                held = chunk
            if held is not None:
                yield dataclasses.replace(held, before_pause=True)

    def _plan_text(self, text: str, is_phonemes: bool) -> Iterator[PhonemeChunk]:
        warnings: list[str] = []

        def sentences() -> Iterator[list[G2PToken]]:
            for sentence, at_break in sentences_and_breaks(text):
                if is_phonemes:
                    tokens = _phoneme_tokens(sentence)
                else:
                    result = phonemize(sentence, self.lang)
                    warnings.extend(w for w in result.warnings if w not in warnings)
                    tokens = _spaced([t for t in result.tokens if t.phonemes])
                if at_break and tokens:
                    stop = not is_phonemes and self.lang in LINE_STOP_LANGUAGES
                    tokens[-1] = _line_end(tokens[-1], stop=stop)
                yield tokens

        reported = 0
        for index, tokens in enumerate(chunk_sentences(sentences())):
            new, reported = tuple(warnings[reported:]), len(warnings)
            yield PhonemeChunk(index, tuple(tokens), new)

    def __call__(self, text: str, *, is_phonemes: bool = False) -> Iterator[SpeechChunk]:
        """Synthesize ``text`` chunk by chunk (lazy). Raises UsageError when nothing is
        speakable, before yielding anything."""
        if not text or not text.strip():
            raise UsageError("nothing to say: the text is empty")
        engine = self._load_beside_g2p()
        try:
            yield from self._speak(text, is_phonemes, engine)
        finally:
            engine.settle()

    def _speak(self, text: str, is_phonemes: bool, engine: _EngineLoad) -> Iterator[SpeechChunk]:
        planned = (
            (c, encode(c.phonemes)[:MAX_PHONEMES]) for c in self.plan(text, is_phonemes=is_phonemes)
        )
        work = _speakable(planned)
        spoken = said = 0
        gaps: Gaps | None = None
        for chunk, out, more in _in_order(engine, work, self._synthesize_or_pause):
            if out is not None and said == 0:
                gaps = self.voice_gaps()
            # The voice's gap is a pause between two pieces of speech: the end of the text
            # keeps the short fixed one (a take does not end in a second of silence).
            yield self._shaped(spoken, chunk, out, gaps if more else None)
            spoken += 1
            said += out is not None
        if said > 1 and gaps is None:
            self.measure_voice_later()
        if said == 0:
            unread = unread_script(text, self.lang)
            raise UsageError(
                "nothing to say: the text has no speakable words",
                script_advice(unread, self.lang) if unread else None,
                action=Action("pick-language", value=unread[1]) if unread else None,
            )

    def voice_gaps(self) -> Gaps | None:
        """The voice's recorded pauses (``tts.voice_pauses``), or None: the fixed ones. A text
        is spoken with one or the other all through."""
        return voice_pauses.cached(self._model_key, self.pack, self.lang)

    def measure_voice_later(self) -> None:
        """After a text of more than one piece was spoken with the fixed gaps: measure the
        voice's pauses in the background, for the texts after it."""
        voice_pauses.measure_in_background(
            self.backend, self.model, self.voice, self.pack, self.lang
        )

    def _shaped(
        self, index: int, chunk: PhonemeChunk, out: EngineOutput | None, gaps: Gaps | None
    ) -> SpeechChunk:
        """A synthesized chunk with its silences cut to what the text calls for."""
        words: tuple[WordTiming, ...] = ()
        if out is None:  # a pause tag: exactly the silence it asks for
            audio = np.zeros(round(chunk.pause * SAMPLE_RATE), dtype=np.float32)
        else:
            pause = 0.0 if chunk.before_pause else pause_for(chunk.end_mark, gaps, self.speed)
            lead_in = 0.0 if chunk.after_pause else LEAD_IN
            # Timings move with the trim: what is cut from the front is lost.
            audio, cut = shape_speech(out.audio, pause, lead_in=lead_in, fill=True)
            words = word_timings(
                chunk.tokens, out.durations, offset=cut, length=len(audio), audio=out.audio
            )
        return SpeechChunk(
            index, chunk.graphemes, chunk.phonemes, chunk.tokens, audio,
            SAMPLE_RATE, chunk.warnings, words,
        )  # fmt: skip

    def _load_beside_g2p(self) -> _EngineLoad:
        """The engine, loading in a thread (if not loaded yet) while G2P runs in this one."""
        return _EngineLoad(self.load, loaded=self._engine is not None)

    def _synthesize_or_pause(self, ids: list[int]) -> EngineOutput | None:
        return self._synthesize(ids) if ids else None

    def _synthesize(self, ids: list[int]) -> EngineOutput:
        return self.load().synthesize(ids, style_for(self.pack, len(ids)), self.speed)


def _speakable(
    planned: Iterable[tuple[PhonemeChunk, list[int]]],
) -> Iterator[tuple[PhonemeChunk, list[int]]]:
    """The chunks worth synthesizing: pause tags, and chunks with a word to say (punctuation
    alone makes Kokoro breathe, not speak). What a skipped chunk warned of moves to the next."""
    carried: tuple[str, ...] = ()
    for chunk, ids in planned:
        if not chunk.pause and not (ids and any(_is_word(t.grapheme) for t in chunk.tokens)):
            carried += tuple(w for w in chunk.warnings if w not in carried)
            continue
        if carried:
            fresh = tuple(w for w in chunk.warnings if w not in carried)
            chunk = dataclasses.replace(chunk, warnings=carried + fresh)
            carried = ()
        yield chunk, ids


class _EngineLoad:
    """The engine loading in a thread while G2P runs in the caller's; calling it waits."""

    def __init__(self, load: Callable[[], KokoroEngine], *, loaded: bool) -> None:
        self._load = load
        self._errors: list[BaseException] = []
        self._thread: threading.Thread | None = None
        if not loaded:
            self._thread = threading.Thread(
                target=self._run, name="tui-speech-engine-load", daemon=True
            )
            self._thread.start()

    def _run(self) -> None:
        try:
            self._load()
        except BaseException as error:  # re-raised in the caller's thread
            self._errors.append(error)

    def __call__(self) -> KokoroEngine:
        self.settle()
        if self._errors:
            raise self._errors[0]
        return self._load()  # loaded by now: returns the engine at once

    def settle(self) -> None:
        """Wait for the load to end. A process that exits while onnxruntime is still building
        a session aborts ("terminate called without an active exception"), so the pipeline
        settles before any error of the text's own (nothing to say) leaves it."""
        if self._thread is not None:
            self._thread.join()


def _in_order(
    engine: Callable[[], KokoroEngine],
    work: Iterator[tuple[PhonemeChunk, list[int]]],
    synthesize: Callable[[list[int]], EngineOutput | None],
) -> Iterator[tuple[PhonemeChunk, EngineOutput | None, bool]]:
    """Synthesize up to ``engine.parallel_runs`` chunks (with their token ids) at once, yielding
    them in text order, each with whether more chunks follow (lazy: at most one chunk more than
    that is planned ahead).

    ``engine`` is called only once the first chunk's phonemes are ready, so G2P and loading
    the engine overlap; after that, the next chunk is phonemized while the current ones are
    synthesized (onnxruntime releases the GIL while it runs)."""
    work = iter(work)
    head = next(work, None)
    if head is None:
        return
    runs = max(1, getattr(engine(), "parallel_runs", 1))
    with ThreadPoolExecutor(max_workers=runs, thread_name_prefix="tui-speech-tts") as pool:
        pending: deque[tuple[PhonemeChunk, Future[EngineOutput | None]]] = deque()
        try:
            for chunk, ids in _prepend(head, work):
                pending.append((chunk, pool.submit(synthesize, ids)))
                # One more than the workers: it waits in the queue, already phonemized.
                if len(pending) > runs:
                    done, future = pending.popleft()
                    yield done, future.result(), True
            while pending:
                done, future = pending.popleft()
                yield done, future.result(), bool(pending)
        finally:  # the consumer stopped early: don't start what is still queued
            for _, future in pending:
                future.cancel()


def _prepend(
    head: tuple[PhonemeChunk, list[int]], rest: Iterator[tuple[PhonemeChunk, list[int]]]
) -> Iterator[tuple[PhonemeChunk, list[int]]]:
    yield head
    yield from rest


def synthesize(
    text: str, lang: str = "en-us", voice: str | None = None, speed: float = 1.0
) -> tuple[np.ndarray, int]:
    """Convenience: the whole text as one array (for short texts and tests)."""
    chunks = [c.audio for c in Pipeline(lang, voice, speed)(text)]
    return np.concatenate(chunks), SAMPLE_RATE
