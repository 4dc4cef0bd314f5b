"""The live phonemes of the Speak pane: G2P of the draft as it is typed, and edits made from it.

G2P runs in a thread worker: spaCy and misaki take seconds to load the first time, and the
preview says so until the first result. A token's phonemes edited in the preview are written
into the text as an inline override (``tui/speak/overrides.py``) or kept in the lexicon.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from textual.worker import get_current_worker

from tui_speech.errors import UsageError
from tui_speech.tts.pauses import strip_pauses
from tui_speech.tui.messages import ErrorRaised
from tui_speech.tui.speak.dialogs import PhonemeEditScreen, ToLexicon
from tui_speech.tui.speak.overrides import apply_override, token_spans

if TYPE_CHECKING:
    from tui_speech.tts.g2p import G2PResult
    from tui_speech.tui.speak.pane import SpeakPane


class LivePhonemes:
    """The G2P behind the phoneme preview, and the edits the preview asks for."""

    def __init__(self, pane: SpeakPane) -> None:
        self.pane = pane
        #: Languages whose G2P has answered once (loaded): no "loading" notice for them.
        self._loaded: set[str] = set()

    def start(self) -> None:
        """Phonemize the editor's text in the pane's language (a run still going is dropped)."""
        pane = self.pane
        lang = pane.settings.lang
        if lang not in self._loaded:
            pane.preview.show_status(f"loading G2P for {lang}… (the first time takes seconds)")
        pane.run_worker(
            partial(self._phonemize, pane.editor.text, lang),
            name="_phonemize", group="g2p", thread=True, exclusive=True, exit_on_error=False,
        )  # fmt: skip

    def _phonemize(self, text: str, lang: str) -> None:
        from tui_speech.tts.g2p import phonemize

        result = phonemize(strip_pauses(text), lang)  # a pause tag has no phonemes
        if not get_current_worker().is_cancelled:
            self.pane.post_message(self.pane.PhonemesReady(text, lang, result))

    def show(self, text: str, lang: str, result: G2PResult) -> None:
        """A G2P result for ``text`` in ``lang``, shown if the editor still holds that text."""
        pane = self.pane
        self._loaded.add(lang)
        # A slow result for text that has changed since would show stale phonemes.
        if text == pane.editor.text and lang == pane.settings.lang:
            pane.preview.show_result(result)

    def edit(self, result: G2PResult, index: int) -> None:
        """Ask for token ``index``'s phonemes, then write them into the text (or the lexicon)."""
        pane = self.pane
        token = result.tokens[index]
        text = pane.editor.text
        span = token_spans(text, result.tokens)[index]
        if span is None or result.text != strip_pauses(text):
            pane.post_message(
                ErrorRaised(UsageError(f"cannot find {token.grapheme!r} in the text"), "edit")
            )
            return

        def write(phonemes: str | ToLexicon | None) -> None:
            if phonemes is None:
                return
            if isinstance(phonemes, ToLexicon):
                self._to_lexicon(token.grapheme, phonemes.phonemes, result.lang)
                return
            try:
                new_text = apply_override(pane.editor.text, span, phonemes)
            except UsageError as exc:
                pane.post_message(ErrorRaised(exc, "edit"))
                return
            pane.editor.load_text(new_text)
            pane.text_changed()
            pane.preview.focus()

        pane.app.push_screen(PhonemeEditScreen(token.grapheme, token.phonemes), write)

    def _to_lexicon(self, word: str, phonemes: str, lang: str) -> None:
        """The edit dialog's ctrl+g: the word's phonemes (or pinyin) kept in the lexicon, for
        every draft and the CLI, instead of an inline override in this text."""
        from tui_speech.tts import lexicon

        pane = self.pane
        try:
            entry = lexicon.add(word, phonemes, lang)
        except UsageError as exc:
            pane.post_message(ErrorRaised(exc, "lexicon"))
            return
        pane.say(f"lexicon: {entry.word} = /{entry.phonemes}/ in every {lang} draft")
        self.start()
        pane.show_sentences()
        pane.preview.focus()
