"""One confidence scale: the CLI's colours and the TUI's theme steps come from the same buckets."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tui_speech.asr.confidence import STEPS, bucket
from tui_speech.asr.ctc import CharResult
from tui_speech.asr.stream import StreamEvent
from tui_speech.commands._common import CONFIDENCE_COLOURS, confidence_text
from tui_speech.commands.listen import event_text
from tui_speech.tui.themes import builtin_themes, with_speech_colours
from tui_speech.tui.transcript import render_chars


@dataclass(frozen=True)
class Char:
    char: str
    confidence: float


CONFIDENCES = (0.0, 0.19, 0.2, 0.45, 0.55, 0.69, 0.75, 0.85, 0.95, 1.0)


def cli_steps(chars: list[Char]) -> list[int]:
    text = confidence_text(chars)
    return [CONFIDENCE_COLOURS.index(str(span.style)) for span in text.spans]


def tui_steps(chars: list[Char]) -> list[int]:
    content = render_chars(tuple(chars), threshold=0.0, cursor=None)
    return [int(str(span.style).removeprefix("$confidence-")) for span in content.spans]


def test_a_character_gets_the_same_step_in_the_cli_and_the_tui() -> None:
    chars = [Char("字", c) for c in CONFIDENCES]
    assert cli_steps(chars) == tui_steps(chars) == [bucket(c) for c in CONFIDENCES]
    # 0.75 was yellow in the CLI (>= 0.7) but the TUI's step 3 of 5: now both say step 3.
    assert cli_steps([Char("字", 0.75)]) == tui_steps([Char("字", 0.75)]) == [3]


def test_a_listen_final_looks_as_in_the_listen_pane() -> None:
    # `tui-speech listen` on a terminal prints each final with event_text; the pane shows it
    # with render_chars. 0.75 and 0.85 were both yellow in listen (>= 0.7): now steps 3 and 4.
    chars = tuple(
        CharResult("字", i * 0.1, i * 0.1 + 0.05, c, c, ()) for i, c in enumerate(CONFIDENCES)
    )
    text = "字" * len(chars)
    final = event_text(StreamEvent("final", text, text, chars, 0.0, 1.0, 0.1, 0))
    listen_steps = [CONFIDENCE_COLOURS.index(str(span.style)) for span in final.spans]
    assert final.plain == text
    assert listen_steps == tui_steps(list(chars)) == [bucket(c) for c in CONFIDENCES]


@pytest.mark.parametrize("theme", builtin_themes(), ids=lambda t: t.name)
def test_every_step_has_a_cli_colour_and_a_theme_colour(theme) -> None:
    variables = with_speech_colours(theme).variables
    assert len(CONFIDENCE_COLOURS) == STEPS
    assert [f"confidence-{i}" in variables for i in range(STEPS)] == [True] * STEPS
    assert f"confidence-{STEPS}" not in variables
