"""Hotwords for the embedded Whisper: a listed term is written where the text sounds like it.

Whisper has no CTC search to bias (:mod:`tui_speech.asr.hotwords` biases the wav2vec2 one), and
its own hint, the terms in the decoder's prompt, was measured to do harm: Whisper base went on
to write the list itself after the speech (bench/whisper_hotwords.py: term-free CER 0.095 to
0.34). So the terms are applied to what it wrote instead. A run of heard Han characters as long
as a term is replaced by the term when the two sound alike in Mandarin: their syllables
(pypinyin, tones dropped: Whisper's misreadings of a rare term are mostly near-homophones, 同意
千万 for 通义千问) differ by at most :data:`MAX_DISTANCE` per syllable, where an initial or a
final counts 0.5 when it differs, 0.25 when it is a pair speakers and recognisers confuse
(zh/z, n/l, an/ang, ...), 0 when it is the same.

Only a run Whisper was unsure of is replaced: its characters' mean confidence is under
:data:`SURE`. Whisper's misreadings of the listed terms had means of 0.17-0.82, the runs of
ordinary speech that sounded like one 0.93 and more (bench/whisper_hotwords.py), so a list
cannot rewrite what Whisper heard clearly. A heard run that is a common word in its own right
(its jieba frequency at least :data:`COMMON_WORD_FREQ`) is left alone too, even when it sounds
exactly like the term: 叔叔 is not rewritten as a listed 蜀黍.

Each replaced character keeps the time and confidence of the one heard in its place.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tui_speech.asr.ctc import CharResult

#: The largest mean distance per syllable at which a heard run is taken for a term.
MAX_DISTANCE = 0.3
#: A heard run with a mean confidence of at least this is taken as heard (see the docstring).
SURE = 0.9
#: A heard run with at least this jieba frequency is a word of its own (see the docstring).
COMMON_WORD_FREQ = 1000
DIFFERENT, CONFUSED = 0.5, 0.25
_CONFUSED_INITIALS = ("zh z", "ch c", "sh s", "n l", "l r", "f h", "j q", "q x", "j x", "b p")
_CONFUSED_FINALS = ("an ang", "en eng", "in ing", "ian iang", "uan uang", "o uo", "u uo", "e o")
CONFUSED_PAIRS = frozenset(frozenset(p.split()) for p in _CONFUSED_INITIALS + _CONFUSED_FINALS)


@dataclass(frozen=True)
class Syllable:
    initial: str
    final: str


def _han(char: str) -> bool:
    return len(char) == 1 and "\u4e00" <= char <= "\u9fff"


#: Heard runs are new text all the time (a live session re-reads them every partial): the
#: caches of what was read keep this many.
RECENT = 4096


@lru_cache(maxsize=RECENT)
def syllables(text: str) -> tuple[Syllable, ...]:
    """The toneless syllables of Han ``text``, one per character (pypinyin's reading in
    context, so 重 in 重要 and in 重新 differ)."""
    from pypinyin import Style, pinyin

    initials = pinyin(text, style=Style.INITIALS, strict=True, errors="default")
    finals = pinyin(text, style=Style.FINALS, strict=True, errors="default")
    return tuple(Syllable(i[0], f[0]) for i, f in zip(initials, finals, strict=True))


def _part_distance(a: str, b: str) -> float:
    if a == b:
        return 0.0
    return CONFUSED if frozenset((a, b)) in CONFUSED_PAIRS else DIFFERENT


def distance(heard: str, term: str) -> float:
    """Mean distance per syllable between two Han strings of one length (see the docstring)."""
    pairs = list(zip(syllables(heard), syllables(term), strict=True))
    total = sum(
        _part_distance(a.initial, b.initial) + _part_distance(a.final, b.final) for a, b in pairs
    )
    return total / max(1, len(pairs))


@lru_cache(maxsize=RECENT)
def _frequency(word: str) -> int:
    from tui_speech.tts.jieba_words import ready_jieba

    return int(ready_jieba().get_FREQ(word) or 0)


class SoundAlike:
    """The listed terms, ready to put back into heard text (see the module docstring)."""

    def __init__(self, terms: Iterable[str]) -> None:
        # Longest first, so 深度学习 is tried before 深度; only all-Han terms of 2+ characters
        # (one character sounds like too many others).
        kept = {t for t in terms if len(t) >= 2 and all(_han(c) for c in t)}
        self.terms = sorted(kept, key=lambda t: (-len(t), t))
        if self.terms:  # load the dictionaries now, with the model, not mid-utterance
            syllables(self.terms[0])
            _frequency(self.terms[0])

    def _term_for(self, heard: str) -> str | None:
        for term in self.terms:
            if len(term) != len(heard) or term == heard:
                continue
            if distance(heard, term) <= MAX_DISTANCE and _frequency(heard) < COMMON_WORD_FREQ:
                return term
        return None

    def apply(self, chars: Sequence[CharResult]) -> list[CharResult]:
        """``chars`` with every run that sounds like a term written as the term."""
        out = list(chars)
        if not self.terms:
            return out
        lengths = sorted({len(t) for t in self.terms}, reverse=True)
        i = 0
        while i < len(out):
            for n in lengths:
                run = out[i : i + n]
                if len(run) < n or not all(_han(c.char) for c in run):
                    continue
                if sum(c.confidence for c in run) / n >= SURE:
                    continue
                term = self._term_for("".join(c.char for c in run))
                if term is not None:
                    out[i : i + n] = [replace(c, char=t) for c, t in zip(run, term, strict=True)]
                    i += n - 1
                    break
            i += 1
        return out
