"""Proof-listen: transcribe a Mandarin take with our recogniser and mark what it heard wrong.

Kokoro can read a word the wrong way (a polyphone: 银行 as yin2 xing2, 重 as zhong4 for
chong2) while the text looks right. :func:`proof_listen` runs the take through the recogniser
and aligns the characters of the text with the ones heard (``difflib``, on Han characters
only: punctuation, spaces and Latin words are not checked). Each character of the text gets
a :class:`CharCheck`:

- ``ok``: heard as written, with confidence above the low steps of the confidence scale;
- ``unsure``: heard as written, but the recogniser's confidence is in the lowest
  :data:`UNSURE_STEPS` steps of ``asr.confidence`` (the Listen pane's colours for it);
- ``different``: the recogniser heard another character there (``heard`` says which);
- ``missing``: nothing was heard for it.

The CLI (``speak --check``) and the Speak pane call the same function; a marked word is one
key away from a lexicon entry (``tts.lexicon``).
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from tui_speech.asr.confidence import bucket

if TYPE_CHECKING:
    from tui_speech.asr.recognizer import Recognizer, Transcript

Verdict = Literal["ok", "unsure", "different", "missing"]
#: Characters heard in these lowest steps of the confidence scale (of STEPS) are "unsure".
UNSURE_STEPS = 2
#: Silence put before and after a take before it is transcribed (seconds).
EDGE_SILENCE_S = (0.3, 0.6)


def is_han(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff"


@dataclass(frozen=True)
class CharCheck:
    """One character of the text and what the recogniser made of it."""

    #: Offset in the checked text.
    index: int
    char: str
    verdict: Verdict
    #: What was heard in its place ("" when missing), and how sure the recogniser was.
    heard: str = ""
    confidence: float = 0.0

    @property
    def marked(self) -> bool:
        return self.verdict != "ok"


@dataclass(frozen=True)
class ProofResult:
    """The check of one take: every Han character of ``text`` with its verdict."""

    text: str
    heard: str
    chars: tuple[CharCheck, ...]
    transcript: Transcript

    @property
    def marked(self) -> tuple[CharCheck, ...]:
        return tuple(c for c in self.chars if c.marked)

    def marked_words(self, words: Sequence[tuple[int, int, str]]) -> list[str]:
        """Of ``words`` (start, end, text) spans of the checked text, those holding a marked
        character, in order and once each: what a lexicon entry would fix."""
        hits = {c.index for c in self.marked}
        return list(dict.fromkeys(w for a, b, w in words if any(a <= i < b for i in hits)))


def check_transcript(text: str, transcript: Transcript) -> ProofResult:
    """Align ``text``'s Han characters with the ``transcript``'s and give each a verdict."""
    expected = [(i, ch) for i, ch in enumerate(text) if is_han(ch)]
    heard = [c for c in transcript.chars if is_han(c.char)]
    matcher = difflib.SequenceMatcher(
        None, [ch for _, ch in expected], [c.char for c in heard], autojunk=False
    )
    checks: list[CharCheck] = []
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op == "insert":  # heard more than was written: the neighbours carry the doubt
            continue
        for k in range(a1 - a0):
            index, ch = expected[a0 + k]
            other = heard[b0 + k] if b0 + k < b1 else None
            if other is None:
                checks.append(CharCheck(index, ch, "missing"))
            elif op == "equal":
                verdict: Verdict = "unsure" if bucket(other.confidence) < UNSURE_STEPS else "ok"
                checks.append(CharCheck(index, ch, verdict, other.char, other.confidence))
            else:
                checks.append(CharCheck(index, ch, "different", other.char, other.confidence))
    return ProofResult(text, transcript.text, tuple(checks), transcript)


def proof_listen(
    text: str, audio: np.ndarray, sample_rate: int, recognizer: Recognizer
) -> ProofResult:
    """Transcribe ``audio`` (mono float32 at ``sample_rate``, e.g. a 24 kHz take) and check
    it against ``text`` (blocking; seconds for a sentence on the real model)."""
    samples = np.asarray(audio, dtype=np.float32).reshape(-1)
    # A take is trimmed close to its speech; CTC models hear the first and last characters
    # better with some silence around them (Kokoro's own output has ~0.3 s / ~0.7 s).
    lead, tail = (np.zeros(round(s * sample_rate), np.float32) for s in EDGE_SILENCE_S)
    samples = np.concatenate([lead, samples, tail])
    if sample_rate != recognizer.sample_rate:
        import soxr

        samples = soxr.resample(samples, sample_rate, recognizer.sample_rate).astype(np.float32)
    return check_transcript(text, recognizer.decode(samples))


def load_checker(model: str | None = None) -> Recognizer:
    """The recogniser a proof-listen uses: ``model``, else the stored wav2vec2 model Listen
    uses by default (its characters carry the confidences the check reads)."""
    from tui_speech.asr.model import DEFAULT_MODEL, default_model, stored_asr_models
    from tui_speech.asr.recognizer import Recognizer
    from tui_speech.errors import Action, ModelMissingError

    if model is None:
        stored = stored_asr_models()
        if not stored:
            raise ModelMissingError(
                "proof-listening needs a Mandarin wav2vec2 model in the store",
                "pull one",
                action=Action("pull-model", model=DEFAULT_MODEL),
            )
        model = default_model(stored)
    return Recognizer.load(model)
