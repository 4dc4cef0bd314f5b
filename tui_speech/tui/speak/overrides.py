"""Where each G2P token sits in the editor text, and writing ``[word](/phonemes/)`` overrides.

G2P tokens carry their grapheme but not its offset, so offsets are found by scanning the text
left to right. A token found inside an existing override is mapped to the whole override, so
editing it again replaces the override instead of nesting a new one.
"""

from __future__ import annotations

from tui_speech.errors import UsageError
from tui_speech.tts.g2p import OVERRIDE_RE, G2PToken

Span = tuple[int, int]


def token_spans(text: str, tokens: tuple[G2PToken, ...] | list[G2PToken]) -> list[Span | None]:
    """For each token, the (start, end) of its text: the word, or the whole override around it.

    None where the token cannot be found (G2P normalised it, e.g. a number read as words).
    """
    overrides = [(m.start(), m.end()) for m in OVERRIDE_RE.finditer(text)]
    spans: list[Span | None] = []
    pos = 0
    for token in tokens:
        grapheme = token.grapheme
        start = text.find(grapheme, pos) if grapheme.strip() else -1
        if start < 0:
            spans.append(None)
            continue
        end = start + len(grapheme)
        for o_start, o_end in overrides:
            if o_start <= start < o_end:
                start, end = o_start, o_end
                break
        spans.append((start, end))
        pos = end
    return spans


def check_phonemes(phonemes: str) -> str:
    """Phonemes usable inside ``(/.../)``: no slash or parenthesis, no line breaks."""
    phonemes = phonemes.strip()
    if any(ch in phonemes for ch in "/()[]\n"):
        raise UsageError("phonemes cannot contain / ( ) [ ] or line breaks")
    return phonemes


def apply_override(text: str, span: Span, phonemes: str) -> str:
    """Replace the word (or override) at ``span`` by ``[word](/phonemes/)``.

    Empty ``phonemes`` removes an override and leaves the plain word.
    """
    start, end = span
    piece = text[start:end]
    match = OVERRIDE_RE.fullmatch(piece)
    word = match.group(1) if match else piece
    phonemes = check_phonemes(phonemes)
    replacement = f"[{word}](/{phonemes}/)" if phonemes else word
    return text[:start] + replacement + text[end:]
