"""Streaming transcription over a :class:`~tui_speech.asr.recognizer.Recognizer`.

wav2vec2 is bidirectional: there is no cache to carry from one chunk to the next, so a partial
hypothesis means re-running the model on recent audio. :class:`LiveStream` (the state of one
session, in the sherpa-onnx shape: ``accept_waveform``, ``decode``, ``is_endpoint``,
``finalize``, ``reset``) keeps that re-computation small and the text steady:

- a partial decodes a *bounded window*: the audio after the committed prefix plus a second of
  context, never more than ``window_s``;
- characters that came out the same in ``stable_updates`` consecutive partials are *committed*:
  a partial's ``committed`` text only ever grows within an utterance; only the tail may change;
- a final decodes the whole utterance with :meth:`Recognizer.decode` (so it equals offline
  decoding of that audio) and carries per-character confidence, alternatives and times on the
  *session clock* (seconds since the session started, silences included). It is the
  authoritative text of the utterance and replaces its partials, committed prefix included:
  with the whole utterance as context the model may read a committed character differently;
- an utterance reaching ``max_utterance_s`` without a pause is cut at its quietest point in the
  last third, and the rest starts the next utterance;
- partials may run on a cheaper *draft* recogniser (the model's int8 ONNX variant) while finals
  use the main one, and a :class:`ComputeBudget` keeps all model time within a multiple of what
  decoding the heard audio once would cost: partials come every ``partial_interval_s`` when
  compute is plentiful and thin out when it is not.

:class:`LiveTranscriber` wires a VAD (silence never reaches the model) to a stream and turns
batches of source blocks into events. It decodes at most one partial per batch: when the model
is slower than the audio, blocks pile up in the source's queue and are taken together, so
stale partials are skipped rather than queued. Both faces run it through
:class:`tui_speech.asr.live.LiveSession` (source, session file, hooks), so what these tests
check is what users run.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal, TypeVar

import numpy as np

from tui_speech.asr.budget import ComputeBudget
from tui_speech.asr.ctc import CharResult
from tui_speech.audio.block import Block  # re-exported: callers import it from here

if TYPE_CHECKING:
    from tui_speech.asr.recognizer import Recognizer
    from tui_speech.audio.vad import SpeechSegmenter

EventType = Literal["partial", "final"]
_T = TypeVar("_T")
#: Context decoded before the first uncommitted character, so it is not at the window's edge.
CONTEXT_S = 1.0
#: Loudness is compared over 100 ms frames when looking for a place to cut.
CUT_FRAME_S = 0.1


@dataclass(frozen=True)
class StreamEvent:
    """A partial or final hypothesis of one utterance; times on the session clock (seconds).

    ``text`` is the whole hypothesis; ``committed`` is its prefix that will not change any more
    (for a final, all of it). ``latency_s`` is the wall time from the arrival of the newest
    audio the hypothesis covers to the event.
    """

    type: EventType
    text: str
    committed: str
    chars: tuple[CharResult, ...]
    t0: float
    t1: float
    latency_s: float
    utterance: int


def shift(chars: Iterable[CharResult], offset: float) -> tuple[CharResult, ...]:
    """Characters moved by ``offset`` seconds (utterance time -> session time)."""
    return tuple(replace(c, t0=round(c.t0 + offset, 6), t1=round(c.t1 + offset, 6)) for c in chars)


def quietest_cut(samples: np.ndarray, lo: int, hi: int, rate: int) -> int:
    """The sample index in [lo, hi) at the centre of the quietest 100 ms frame."""
    frame = max(1, int(CUT_FRAME_S * rate))
    hi = min(hi, len(samples))
    if hi - lo < 2 * frame:
        return max(lo, min(hi, len(samples)))
    n = (hi - lo) // frame
    frames = samples[lo : lo + n * frame].reshape(n, frame)
    energy = np.mean(np.square(frames, dtype=np.float64), axis=1)
    return lo + int(np.argmin(energy)) * frame + frame // 2


class LiveStream:
    """The state of one live session over a recogniser (see the module docstring)."""

    def __init__(
        self,
        recognizer: Recognizer,
        window_s: float = 8.0,
        stable_updates: int = 2,
        partial_interval_s: float = 0.25,
        max_utterance_s: float = 30.0,
        draft: Recognizer | None = None,
        budget: ComputeBudget | None = None,
    ) -> None:
        if stable_updates < 1:
            raise ValueError("stable_updates must be at least 1")
        self.recognizer = recognizer
        self.draft = draft or recognizer  # partials decode on this one
        self.budget = budget or ComputeBudget()
        self.budget.window_s = recognizer.budget_window_s  # audio per offline call
        self.rate = recognizer.sample_rate
        self.window = int(window_s * self.rate)
        self.stable_updates = stable_updates
        self.interval = int(partial_interval_s * self.rate)
        self.max_samples = int(max_utterance_s * self.rate)
        self.utterance = 0
        self.reset()

    def reset(self) -> None:
        """Forget the current utterance (audio, partial state, endpoint)."""
        self._chunks: list[np.ndarray] = []
        self._held = 0
        self._start_s = 0.0  # session time of the utterance's first sample
        self._arrival = 0.0  # monotonic time the newest sample arrived
        self._decoded_at = 0  # samples held at the last partial
        self._committed: list[CharResult] = []  # utterance time
        self._recent: deque[tuple[CharResult, ...]] = deque(maxlen=self.stable_updates)
        self._endpoint = False

    def advance_clock(self, session_s: float) -> None:
        """Audio up to ``session_s`` on the session clock has been heard (speech or not)."""
        self.budget.heard_s = max(self.budget.heard_s, session_s)

    @property
    def pending_s(self) -> float:
        """Seconds of audio in the current utterance."""
        return self._held / self.rate

    def accept_waveform(
        self, samples: np.ndarray, start_s: float | None = None, arrival: float | None = None
    ) -> None:
        """Append 16 kHz float32 speech; ``start_s`` places the utterance on the session clock
        (read only for its first block: an utterance is contiguous audio)."""
        samples = np.asarray(samples, dtype=np.float32)
        if len(samples) == 0:
            return
        if self._held == 0 and start_s is not None:
            self._start_s = start_s
        self._chunks.append(samples)
        self._held += len(samples)
        self.advance_clock(self._start_s + self._held / self.rate)
        self._arrival = time.monotonic() if arrival is None else arrival

    def mark_endpoint(self) -> None:
        """The speaker paused (the VAD says so): the utterance is over."""
        if self._held:
            self._endpoint = True

    def is_endpoint(self) -> bool:
        """True when the utterance should be finalised: a pause, or too long without one."""
        return self._endpoint or self._held >= self.max_samples

    def _audio(self) -> np.ndarray:
        if len(self._chunks) > 1:
            self._chunks = [np.concatenate(self._chunks)]
        return self._chunks[0] if self._chunks else np.zeros(0, np.float32)

    def _committed_end(self) -> float:
        return self._committed[-1].t1 if self._committed else 0.0

    def decode(self) -> StreamEvent | None:
        """A partial for the audio so far, or None when too little is new since the last one
        or the compute budget has no room for it."""
        if self._held - self._decoded_at < max(1, self.interval):
            return None
        if self._held < self.recognizer.min_samples():
            return None
        hop = self.recognizer.info.hop
        context = int(CONTEXT_S * self.rate)
        start = max(0, int(self._committed_end() * self.rate) - context, self._held - self.window)
        start -= start % hop  # frame-aligned, so times are whole frames
        if not self.budget.allows_partial((self._held - start) / self.rate, self.pending_s):
            return None  # skipped, not queued: the next batch tries again with newer audio
        self._decoded_at = self._held
        audio = self._audio()
        if start / self.rate > self._committed_end() and self._recent:
            # The window has moved past characters never confirmed twice: keep what the last
            # partial said about them rather than lose them from the text.
            self._commit([c for c in self._recent[-1] if c.t1 <= start / self.rate])
        offset = start / self.rate
        prompt = "".join(c.char for c in self._committed)  # context for a seq2seq recogniser
        found = self._timed("draft", lambda a: self.draft.window_chars(a, prompt), audio[start:])
        chars = shift(found, offset)
        end = self._committed_end()
        # Characters centred before the committed end are the committed ones seen again.
        tail = tuple(c for c in chars if (c.t0 + c.t1) / 2 > end)
        if not self._committed:
            tail = tuple(_lstrip(list(tail)))
        self._recent.append(tail)
        if len(self._recent) == self.stable_updates:
            self._commit(_common_prefix(list(self._recent)))
            end = self._committed_end()
            tail = tuple(c for c in tail if (c.t0 + c.t1) / 2 > end)
        committed = tuple(self._committed)
        return self._event("partial", committed, committed + tail)

    def _timed(self, kind: str, fn: Callable[[np.ndarray], _T], audio: np.ndarray) -> _T:
        # CPU time of the process, not wall time: on a busy machine wall time counts other
        # programs' turns as ours, while the model's own threads are what the budget is about.
        began = time.process_time()
        try:
            return fn(audio)
        finally:
            self.budget.record(kind, time.process_time() - began, len(audio) / self.rate)

    def _commit(self, chars: list[CharResult]) -> None:
        if not chars:
            return
        self._committed.extend(chars)
        end = self._committed_end()
        # What was confirmed leaves the candidates, so the next comparison starts after it.
        self._recent = deque(
            (tuple(c for c in cand if (c.t0 + c.t1) / 2 > end) for cand in self._recent),
            maxlen=self.stable_updates,
        )

    def finalize(self) -> StreamEvent | None:
        """The final of the current utterance (None if it holds no characters); then reset.

        An utterance over ``max_utterance_s`` is cut at its quietest point in the last third;
        the audio after the cut stays as the start of the next utterance.
        """
        if self._held == 0:
            self.reset()
            return None
        audio = self._audio()
        rest = np.zeros(0, np.float32)
        if not self._endpoint and self._held >= self.max_samples:
            cut = quietest_cut(audio, 2 * self.max_samples // 3, self.max_samples, self.rate)
            audio, rest = audio[:cut], audio[cut:]
        start_s, arrival = self._start_s, self._arrival
        event = None
        if len(audio) >= self.recognizer.min_samples():
            t = self._timed("main", self.recognizer.decode, audio)
            if t.chars:
                chars = shift(t.chars, start_s)
                event = self._event("final", chars, chars, start_s, len(audio))
        self.reset()
        if len(rest):
            self.accept_waveform(rest, start_s + len(audio) / self.rate, arrival)
        self.utterance += 1
        return event

    def _event(
        self,
        kind: EventType,
        committed: tuple[CharResult, ...],
        chars: tuple[CharResult, ...],
        start_s: float | None = None,
        samples: int | None = None,
    ) -> StreamEvent:
        if kind == "partial":  # utterance time -> session time
            start_s = self._start_s
            committed, chars = shift(committed, start_s), shift(chars, start_s)
        assert start_s is not None
        samples = self._held if samples is None else samples
        return StreamEvent(
            type=kind,
            text="".join(c.char for c in chars),
            committed="".join(c.char for c in committed),
            chars=chars,
            t0=round(start_s, 6),
            t1=round(start_s + samples / self.rate, 6),
            latency_s=max(0.0, time.monotonic() - self._arrival) if self._arrival else 0.0,
            utterance=self.utterance,
        )


def _lstrip(chars: list[CharResult]) -> list[CharResult]:
    while chars and not chars[0].char.strip():
        chars.pop(0)
    return chars


def _common_prefix(candidates: list[tuple[CharResult, ...]]) -> list[CharResult]:
    """The leading characters every candidate agrees on (by text), taken from the newest."""
    newest = candidates[-1]
    n = min(len(c) for c in candidates)
    k = 0
    while k < n and all(c[k].char == newest[k].char for c in candidates):
        k += 1
    return list(newest[:k])


class LiveTranscriber:
    """VAD + :class:`LiveStream`: batches of blocks in, partial and final events out."""

    def __init__(self, stream: LiveStream, vad: SpeechSegmenter | None = None) -> None:
        self.stream = stream
        self.vad = vad

    def process(self, batch: Iterable[Block]) -> list[StreamEvent]:
        """Feed blocks that arrived together; at most one partial is decoded for all of them."""
        events: list[StreamEvent] = []
        for block in batch:
            self.stream.advance_clock(block.start_s + len(block.samples) / self.stream.rate)
            pieces = (
                self.vad.feed(block.samples, block.start_s)
                if self.vad is not None
                else [(block.samples, block.start_s, False)]
            )
            for samples, start_s, ends in pieces:
                self.stream.accept_waveform(samples, start_s, block.arrival)
                if ends:
                    self.stream.mark_endpoint()
                while self.stream.is_endpoint():
                    if (final := self.stream.finalize()) is not None:
                        events.append(final)
        partial = self.stream.decode()
        if partial is not None and partial.text:
            events.append(partial)
        return events

    def flush(self) -> list[StreamEvent]:
        """End of input: finalise what is pending (speech the VAD still holds included)."""
        if self.vad is not None:
            for samples, start_s, _ in self.vad.flush():
                self.stream.accept_waveform(samples, start_s)
        final = self.stream.finalize()
        return [final] if final is not None else []

    def run(self, batches: Iterable[Iterable[Block]]) -> Iterator[StreamEvent]:
        """Events for a whole source (lazy: each batch is processed when it is reached)."""
        for batch in batches:
            yield from self.process(batch)
        yield from self.flush()
