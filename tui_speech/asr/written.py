"""The written form of a transcript: punctuation, numbers and script, with the heard kept.

The model *hears* characters (each with times and a confidence); people *read* written text:
"我们三点见" becomes "我们3点見。". :func:`write` turns the heard characters into a
:class:`Written` – a tuple of :class:`Span` s, each with its text, time span, the lowest
confidence of the heard characters it stands for (``None`` for an inserted mark, which nobody
heard) and the indices of those characters – so every face can show what was written, colour it
by what was heard, and go back from a written span to the audio.

The steps, per clause (the characters between two marks), in this order:

1. punctuation (``punct``): a :class:`~tui_speech.asr.punctuation.Punctuator` places the marks;
2. numbers (``itn``): :mod:`tui_speech.asr.itn`;
3. script (``script``): :mod:`tui_speech.asr.script` (after numbers: cn2an reads Simplified).

:class:`WrittenOptions` holds the choices; ``transcribe``, ``listen``, ``sessions export``
and the Listen pane (``listen.toml``) take the same ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from tui_speech.asr.pieces import Piece, compose
from tui_speech.asr.punctuation import (
    PausePunctuator,
    Punctuator,
    Silences,
    Utterances,
    pause_utterances,
)
from tui_speech.asr.script import SCRIPTS, script_pieces
from tui_speech.config import LISTEN_CHOICES
from tui_speech.errors import UsageError

if TYPE_CHECKING:  # light at import: the CLI's option helpers read the choices here
    from tui_speech.asr.ctc import CharResult

PUNCT_CHOICES = LISTEN_CHOICES["punct"]


@dataclass(frozen=True)
class WrittenOptions:
    """How heard characters are written (the defaults are the CLI's and the Listen pane's)."""

    punct: str = "auto"
    """auto: marks from pauses and utterance ends; none: as heard."""
    itn: bool = False
    """Numbers, dates, times, money and percentages in digits (二百五十六 -> 256)."""
    script: str = "simplified"
    """simplified (as heard), traditional, tw (Taiwan) or hk (Hong Kong)."""

    @classmethod
    def of(cls, settings: Any) -> WrittenOptions:
        """The options a ``config.ListenSettings`` holds (the Listen pane's listen.toml)."""
        return cls(settings.punct, settings.itn, settings.script)

    def __post_init__(self) -> None:
        if self.punct not in PUNCT_CHOICES:
            raise UsageError(f"punct must be one of {', '.join(PUNCT_CHOICES)}, not {self.punct!r}")
        if self.script not in SCRIPTS:
            raise UsageError(f"script must be one of {', '.join(SCRIPTS)}, not {self.script!r}")

    @property
    def as_heard(self) -> bool:
        """Whether writing changes nothing (one span per heard character)."""
        return self.punct == "none" and not self.itn and self.script == "simplified"


#: The options that write exactly what was heard.
AS_HEARD = WrittenOptions(punct="none")


@dataclass(frozen=True)
class Span:
    """A piece of written text and the heard characters it came from."""

    text: str
    start: float
    end: float
    confidence: float | None
    """Lowest confidence of the heard characters; None for an inserted mark."""
    heard: tuple[int, ...]
    """Indices of the heard characters (into the transcript's ``chars``); () when inserted."""
    corrected: bool = False
    """The user's text (a correction stored in a session), in whole or in part (numbers may
    join it with heard characters beside it); ``heard`` names what it replaced."""

    @property
    def inserted(self) -> bool:
        return self.confidence is None


@dataclass(frozen=True)
class Written:
    """A transcript as written: spans in order (see the module docstring)."""

    spans: tuple[Span, ...]

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.spans)

    def shifted(self, offset: int) -> Written:
        """The same spans with heard indices ``offset`` further on (joining utterances)."""
        return Written(
            tuple(replace(s, heard=tuple(i + offset for i in s.heard)) for s in self.spans)
        )

    def __add__(self, other: Written) -> Written:
        return Written(self.spans + other.spans)


def _span(chars: Sequence[CharResult], text: str, heard: Sequence[int]) -> Span:
    picked = [chars[i] for i in heard]
    return Span(
        text,
        min(c.t0 for c in picked),
        max(c.t1 for c in picked),
        min(c.confidence for c in picked),
        tuple(heard),
    )


def _clause_pieces(text: str, options: WrittenOptions) -> list[Piece]:
    pieces: list[Piece] = [(c, i, i + 1) for i, c in enumerate(text)]
    if options.itn:
        from tui_speech.asr.itn import itn_pieces

        pieces = itn_pieces(text)
    if options.script != "simplified":
        written = "".join(p for p, _, _ in pieces)
        pieces = compose(pieces, script_pieces(written, options.script))
    return pieces


def _clauses(n: int, marks: dict[int, str], utterances: Utterances) -> list[tuple[int, int]]:
    cuts = {end for _, end in utterances} | {i + 1 for i in marks}
    bounds = sorted({0, n} | {c for c in cuts if 0 < c < n})
    return list(zip(bounds, bounds[1:], strict=False))


def write(
    chars: Sequence[CharResult],
    options: WrittenOptions = WrittenOptions(),
    utterances: Utterances | None = None,
    silences: Silences | None = None,
    punctuator: Punctuator | None = None,
) -> Written:
    """The written form of ``chars`` (see the module docstring).

    ``utterances``: ``(start, end)`` index ranges the speaker said as one (a live session's
    finals); by default a file's are found from its long pauses. ``silences``: the audio's
    silent stretches (``punctuation.find_silences``), which tell the pauses; without them
    there are no commas, only the utterances' end marks (CTC times alone do not tell a pause).
    """
    if options.as_heard:
        return Written(tuple(_span(chars, c.char, (i,)) for i, c in enumerate(chars)))
    if utterances is None:
        utterances = pause_utterances(chars, silences)
    marks: dict[int, str] = {}
    if options.punct == "auto":
        marks = (punctuator or PausePunctuator()).marks(chars, utterances, silences)
    spans: list[Span] = []
    for start, end in _clauses(len(chars), marks, utterances):
        # A space the CTC delimiter (or a join of utterances) left after a mark is not written.
        while start < end and spans and spans[-1].inserted and not chars[start].char.strip():
            start += 1
        text = "".join(c.char for c in chars[start:end])
        # A token may be several characters long (<unk>, a Latin word): pieces are over the
        # text, spans over the heard tokens.
        owner = [k for k in range(start, end) for _ in chars[k].char]
        for piece, a, b in _clause_pieces(text, options):
            heard = sorted(set(owner[a:b]))
            if heard and spans and not spans[-1].inserted and spans[-1].heard[-1] >= heard[0]:
                last = spans.pop()  # two pieces of one token: one span
                heard = sorted(set(last.heard) | set(heard))
                piece = last.text + piece
            if heard:
                spans.append(_span(chars, piece, heard))
        mark = marks.get(end - 1)
        if mark and end > start:
            t = chars[end - 1].t1
            spans.append(Span(mark, t, t, None, ()))
    return Written(tuple(spans))


def audio_silences(source: str) -> Silences | None:
    """The silences of the audio file ``source`` (a transcript's), or None if it cannot be
    read (gone, or not a file: stdin, a device)."""
    from tui_speech.asr.punctuation import find_silences
    from tui_speech.audio.rates import ASR_RATE
    from tui_speech.audio.reader import iter_blocks
    from tui_speech.errors import TuiSpeechError

    try:
        return find_silences(iter_blocks(source, target_rate=ASR_RATE), ASR_RATE)
    except (TuiSpeechError, OSError, RuntimeError, ValueError):
        return None


def write_heard(
    chars: Sequence[CharResult],
    options: WrittenOptions,
    samples: Any = None,
    rate: int = 16_000,
    utterances: Utterances | None = None,
) -> Written:
    """:func:`write` with the pauses measured in ``samples`` (the heard audio on the same
    clock as the characters, at ``rate``), when there are any."""
    silences = None
    if options.punct == "auto" and samples is not None and len(samples):
        from tui_speech.asr.punctuation import find_silences

        silences = find_silences([samples], rate)
    return write(chars, options, utterances, silences)


def write_transcript(
    transcript: Any, options: WrittenOptions, utterances: Utterances | None = None
) -> Written:
    """The written form of a Transcript; pauses measured in its source audio when that can be
    read (see :func:`write`)."""
    silences = None
    if options.punct == "auto" and transcript.chars and transcript.source:
        silences = audio_silences(transcript.source)
    return write(transcript.chars, options, utterances, silences)


def span_dict(span: Span, chars: Sequence[CharResult], first: int = 0) -> dict[str, Any]:
    """A span as JSON-ready data: its text, times, confidence (null when inserted), the heard
    text it stands for, the indices of those characters (counted from ``first``), and
    ``corrected: true`` on the user's corrections."""
    data: dict[str, Any] = {
        "text": span.text,
        "t0": round(span.start, 4),
        "t1": round(span.end, 4),
        "confidence": None if span.confidence is None else round(span.confidence, 4),
        "heard": "".join(chars[i].char for i in span.heard),
        "chars": [i - first for i in span.heard],
    }
    if span.corrected:  # only there when true: transcripts without corrections stay as they were
        data["corrected"] = True
    return data


def session_utterances(origins: Sequence[tuple[int, int, int] | None]) -> list[tuple[int, int]]:
    """The utterance ranges of a session's transcript, from where each of its characters came
    from (``asr.sessions.session_chars``: the final's index, or None between two finals)."""
    out: list[tuple[int, int]] = []
    previous: int | None = None  # the final the character before came from
    for i, origin in enumerate(origins):
        final = None if origin is None else origin[0]
        if final is not None and final == previous:
            out[-1] = (out[-1][0], i + 1)
        elif final is not None:
            out.append((i, i + 1))
        previous = final
    return out


def write_session(info: Any, options: WrittenOptions) -> tuple[Any, Written, list[tuple[int, int]]]:
    """A stored session as the Listen pane shows it: its transcript with the user's
    corrections as characters (the cursor moves over what the user sees), its written form (one
    utterance per final) and the utterance ranges. Exports take :func:`export_session`."""
    from tui_speech.asr.sessions import session_chars, session_transcript

    transcript = session_transcript(info)
    utterances = session_utterances([o for _, o in session_chars(info)])
    return transcript, write_transcript(transcript, options, utterances), utterances


def export_session(
    info: Any, options: WrittenOptions
) -> tuple[Any, Written, list[tuple[int, int]]]:
    """A stored session as its exports keep it: the transcript as the model heard it (its
    characters, confidences and times), its written form with each of the user's corrections
    one span marked ``corrected`` over the heard characters it replaced, and the utterances.

    The written text is the Listen pane's (:func:`write_session`: punctuation, numbers and
    script over the text as corrected); only what each span points at changes.
    """
    from tui_speech.asr.sessions import session_heard, session_transcript

    _, shown, _ = write_session(info, options)
    heard = session_heard(info)
    transcript = session_transcript(info, heard.chars)
    return transcript, on_heard(shown, heard), list(heard.utterances)


def on_heard(shown: Written, heard: Any) -> Written:
    """``shown`` (the written form of a session as written) pointing at the session as heard
    (``heard``: an ``asr.sessions.HeardSession``)."""
    from tui_speech.asr.sessions import WRITTEN_CONFIDENCE

    chars = heard.chars
    spans: list[Span] = []
    for s in shown.spans:
        if s.inserted:
            spans.append(s)
            continue
        picked = sorted({j for i in s.heard for j in heard.sources[i][0]})
        if not picked:  # the space after an utterance corrected to nothing
            continue
        corrected = any(heard.sources[i][1] for i in s.heard)
        # A correction's confidence is the user's (sessions.WRITTEN_CONFIDENCE, as in the
        # Listen pane), not null: null says "inserted, nobody heard it", and these characters
        # replaced heard ones, whose own confidences stay in the transcript's chars.
        confidence = s.confidence
        text = s.text
        k = next((n for n in range(len(spans) - 1, -1, -1) if spans[n].heard), None)
        if k is not None and spans[k].heard[-1] >= picked[0]:
            # Pieces of one correction (script or numbers cut the user's text; a pause fell
            # inside it) are one span; a mark placed inside the user's text is not theirs.
            last = spans[k]
            del spans[k:]
            text = last.text + text
            picked = sorted(set(last.heard) | set(picked))
            corrected = corrected or last.corrected
            confidence = min(c for c in (last.confidence, confidence) if c is not None)
        spans.append(_on(chars, text, picked, confidence, corrected))
    for a, b in heard.deleted:  # corrected to nothing: an empty span keeps what it replaced
        at = next((n for n, x in enumerate(spans) if x.heard and x.heard[0] >= b), len(spans))
        spans.insert(at, _on(chars, "", range(a, b), WRITTEN_CONFIDENCE, True))
    return Written(tuple(spans))


def _on(
    chars: Sequence[CharResult],
    text: str,
    heard: Sequence[int],
    confidence: float | None,
    corrected: bool,
) -> Span:
    """A span over heard characters: their time span (a correction's too: the audio it
    replaced), ``confidence`` as written."""
    t0 = min(chars[i].t0 for i in heard)
    t1 = max(chars[i].t1 for i in heard)
    return Span(text, t0, t1, confidence, tuple(heard), corrected)
