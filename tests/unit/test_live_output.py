"""What ``listen`` prints: the text view's colours and the jsonl event schema."""

from __future__ import annotations

from tui_speech.asr.ctc import CharResult
from tui_speech.asr.stream import StreamEvent
from tui_speech.commands.listen import event_json, event_text


def chars(*confidences: float) -> tuple[CharResult, ...]:
    return tuple(
        CharResult("天", i * 0.1, i * 0.1 + 0.02, p, p, (("大", 0.01),))
        for i, p in enumerate(confidences)
    )


def test_committed_text_is_coloured_by_confidence_and_the_tail_dimmed() -> None:
    cs = chars(0.95, 0.1, 0.95, 0.95)
    text = event_text(StreamEvent("partial", "天天天天", "天天", cs, 0.0, 0.4, 0.1, 0))
    styles = [str(span.style) for span in text.spans]
    assert styles == ["green", "red", "dim", "dim"]
    assert text.plain == "天天天天"
    final = event_text(StreamEvent("final", "天天天天", "天天天天", cs, 0.0, 0.4, 0.1, 0))
    assert [str(span.style) for span in final.spans] == ["green", "red", "green", "green"]


def test_events_follow_the_documented_schema() -> None:
    cs = chars(0.9, 0.8)
    partial = StreamEvent("partial", "天天", "天", cs, 1.0, 1.5, 0.12345, 0)
    d = event_json(partial)
    assert set(d) == {"type", "text", "committed", "chars", "t0", "t1", "latency_s", "utterance"}
    assert d["chars"][0] == {"char": "天", "t0": 0.0, "t1": 0.02, "confidence": 0.9}
    assert d["latency_s"] == 0.1235 and d["committed"] == "天"
    # Finals carry everything a reviewer needs: alternatives and the weakest frame.
    final = event_json(StreamEvent("final", "天天", "天天", cs, 1.0, 1.5, 0.2, 0))
    assert final["chars"][1]["alternatives"] == [["大", 0.01]]
    assert final["chars"][1]["min_confidence"] == 0.8
