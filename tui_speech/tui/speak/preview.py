"""The live phoneme preview: per token, grapheme and the phonemes Kokoro will be given.

Symbols outside Kokoro's vocabulary (the model would drop them silently) are highlighted with
``$phoneme-oov``, words no G2P could read with ``$phoneme-unknown``, and inline overrides with
``$phoneme-override`` (italic when they come from the pronunciation lexicon). A cursor moves over
tokens (left/right); enter asks the pane to edit the token's phonemes (the edit dialog's
ctrl+g saves them to the lexicon instead).
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Static

from tui_speech.tts.g2p import G2PResult, G2PToken

_OOV = "bold reverse $phoneme-oov"
_UNKNOWN = "bold underline $phoneme-unknown"
_OVERRIDE = "$phoneme-override"
_LEXICON = "italic $phoneme-override"


def is_word(token: G2PToken) -> bool:
    return any(ch.isalnum() for ch in token.grapheme)


def render_tokens(result: G2PResult, oov: set[str], cursor: int | None) -> Content:
    """The preview text for ``result``; ``cursor`` is the selected token index (or None)."""
    parts: list[str | tuple[str, str]] = []
    for i, token in enumerate(result.tokens):
        selected = " reverse" if i == cursor else ""
        if not is_word(token):
            parts.append((token.grapheme, "$text-muted" + selected))
            parts.append(" ")
            continue
        if not token.known:
            parts.append((token.grapheme, _UNKNOWN + selected))
            parts.append((" /?/", _UNKNOWN))
            parts.append("  ")
            continue
        chosen = token.override or token.lexicon
        parts.append((token.grapheme, ("$text" if chosen else "$text-muted") + selected))
        parts.append(" /")
        base = _OVERRIDE if token.override else _LEXICON if token.lexicon else "$text"
        for ch in token.phonemes:
            parts.append((ch, _OOV if ch in oov else base))
        parts.append("/  ")
    return Content.assemble(*parts)


def legend() -> Content:
    return Content.assemble(
        ("x", _OOV), " not in vocab  ",
        ("word", _UNKNOWN), " unknown  ",
        ("/ph/", _OVERRIDE), " override  ",
        ("/ph/", _LEXICON), " lexicon  ",
        ("^g ←/→ enter: edit", "$text-muted"),
    )  # fmt: skip


class PhonemePreview(VerticalScroll, can_focus=True):
    """Shows a G2PResult; keeps the cursor on a word token."""

    HELP_TITLE = "Phonemes"
    DEFAULT_CSS = """
    PhonemePreview { border: round $panel-lighten-2; padding: 0 1; }
    PhonemePreview:focus { border: round $primary; }
    PhonemePreview > .preview-status { color: $text-muted; }
    PhonemePreview > .preview-warnings { color: $warning; }
    """
    BINDINGS = [
        Binding("left", "move(-1)", "Previous word", show=False),
        Binding("right", "move(1)", "Next word", show=False),
        Binding("enter", "edit", "Edit phonemes"),
    ]

    @dataclass
    class EditRequested(Message):
        """The user wants to edit the phonemes of ``index`` in ``result``."""

        result: G2PResult
        index: int

    cursor: reactive[int | None] = reactive(None, init=False)

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.result: G2PResult | None = None
        self._oov: set[str] = set()

    def compose(self) -> ComposeResult:
        yield Static("type text to see its phonemes", classes="preview-status")
        yield Static("", classes="preview-tokens")
        yield Static("", classes="preview-warnings")
        yield Static(legend(), classes="preview-legend")

    def show_status(self, text: str) -> None:
        self.query_one(".preview-status", Static).update(text)

    def show_result(self, result: G2PResult) -> None:
        self.result = result
        self._oov = set(result.out_of_vocab)
        words = self._word_indices()
        if self.cursor not in words:
            self.cursor = words[0] if words else None
        self._refresh_tokens()
        n_words = sum(1 for t in result.tokens if is_word(t))
        summary = f"{n_words} word" + ("" if n_words == 1 else "s")
        if result.out_of_vocab:
            summary += " · not in vocab: " + " ".join(result.out_of_vocab)
        if result.unknown_words:
            summary += " · unknown: " + ", ".join(dict.fromkeys(result.unknown_words))
        self.show_status(summary if result.tokens else "type text to see its phonemes")
        warnings = [
            w for w in result.warnings if "vocabulary" not in w and "pronunciation" not in w
        ]
        self.query_one(".preview-warnings", Static).update(" · ".join(warnings))

    def _word_indices(self) -> list[int]:
        if self.result is None:
            return []
        return [i for i, t in enumerate(self.result.tokens) if is_word(t)]

    def _refresh_tokens(self) -> None:
        if self.result is None:
            return
        cursor = self.cursor if self.has_focus else None
        content = render_tokens(self.result, self._oov, cursor)
        self.query_one(".preview-tokens", Static).update(content)

    def watch_cursor(self) -> None:
        self._refresh_tokens()

    def on_focus(self) -> None:
        self._refresh_tokens()

    def on_blur(self) -> None:
        self._refresh_tokens()

    def action_move(self, step: int) -> None:
        words = self._word_indices()
        if not words:
            return
        position = words.index(self.cursor) if self.cursor in words else 0
        self.cursor = words[max(0, min(len(words) - 1, position + step))]

    def action_edit(self) -> None:
        if self.result is not None and self.cursor is not None:
            self.post_message(self.EditRequested(self.result, self.cursor))
