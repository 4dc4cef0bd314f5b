"""Proof-listening in the Speak pane: a Mandarin take heard back, its misheard words fixed.

ctrl+l runs the take through the recogniser (``asr.proof``, the embedded Whisper) and marks the
words holding a character heard otherwise; shift+f6 asks how the first marked word is said and
keeps that in the lexicon, for every draft and the CLI.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from tui_speech.errors import UsageError
from tui_speech.tui.messages import ErrorRaised
from tui_speech.tui.prompt import PromptScreen
from tui_speech.tui.speak.playback import show_take
from tui_speech.tui.speak.takes import Take
from tui_speech.tui.speak.waveform import TakeWaveform

if TYPE_CHECKING:
    from tui_speech.tts.captions import TimedWord
    from tui_speech.tui.speak.pane import SpeakPane


def marked_words(words: Sequence[TimedWord], marked_chars: set[int]) -> list[int]:
    """The indices of the words holding any of ``marked_chars`` (indices into the words' text
    joined with their tails, the text the recogniser was checked against)."""
    spans, pos = [], 0
    for i, word in enumerate(words):
        spans.append((pos, pos + len(word.text), i))
        pos += len(word.text) + len(word.tail)
    return [i for a, b, i in spans if any(a <= h < b for h in marked_chars)]


class ProofListening:
    """The pane's proof-listen, and the marked words still waiting for a lexicon fix."""

    def __init__(self, pane: SpeakPane) -> None:
        self.pane = pane
        #: (word, language) of each marked word not fixed yet, in the take's order.
        self.words: list[tuple[str, str]] = []

    def start(self) -> None:
        """Proof-listen to the selected take (a Mandarin one)."""
        pane = self.pane
        take = pane.selected_take("proof")
        if take is None:
            return
        if not take.lang.startswith("zh"):
            error = UsageError("proof-listening checks Mandarin takes", "make a zh take")
            pane.post_message(ErrorRaised(error, "proof"))
            return
        pane.say(f"proof-listening to take #{take.number}…")
        pane.run_worker(
            partial(self._listen, take),
            name="_proof_listen", group="proof", thread=True, exclusive=True, exit_on_error=False,
        )  # fmt: skip

    def _listen(self, take: Take) -> None:
        from tui_speech.asr.proof import load_checker, proof_listen

        text = "".join(w.text + w.tail for w in take.words) or take.text
        result = proof_listen(text, take.whole(), take.sample_rate, load_checker())
        self.pane.app.call_from_thread(self._show, take, result)

    def _show(self, take: Take, result: Any) -> None:
        """Mark the words holding a character heard otherwise; shift+f6 fixes the first."""
        pane = self.pane
        marked = marked_words(take.words, {c.index for c in result.marked})
        wave = pane.query_one(TakeWaveform)
        show_take(wave, take)
        wave.set_marks(frozenset(marked))
        self.words = [(take.words[i].text, take.lang) for i in marked]
        if not result.marked:
            pane.say(f"proof-listen: heard {result.heard!r}, every character as written")
            return
        what = ", ".join(f"{c.char}→{c.heard or '∅'}" for c in result.marked[:6])
        fix = " · shift+f6 fix in lexicon" if self.words else ""
        pane.say(f"proof-listen: heard {result.heard!r}; {len(result.marked)} marked: {what}{fix}")

    def fix_first(self) -> None:
        """The first word the proof-listen marked, to a lexicon entry (pinyin or phonemes)."""
        pane = self.pane
        if not self.words:
            error = UsageError("no marked word yet", "proof-listen a Mandarin take with ctrl+l")
            pane.post_message(ErrorRaised(error, "lexicon"))
            return
        word, lang = self.words[0]

        def add(written: str | None) -> None:
            if not written:
                return
            from tui_speech.tts import lexicon

            try:
                entry = lexicon.add(word, written, lang)
            except UsageError as exc:
                pane.post_message(ErrorRaised(exc, "lexicon"))
                return
            self.words = self.words[1:]
            pane.say(f"lexicon: {entry.word} = /{entry.phonemes}/ in every {lang} draft · F6 again")

        hint = "pinyin with tone numbers, e.g. yin2 hang2"
        pane.app.push_screen(PromptScreen(f"How {word} is said ({lang})", "", hint), add)
