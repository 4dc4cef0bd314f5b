"""Output formats: txt, json, jsonl, srt and vtt as players and parsers expect them."""

from __future__ import annotations

import json
import re

import pytest

from tui_speech.asr.ctc import CharResult
from tui_speech.asr.formats import FORMATS, render, split_cues, timestamp
from tui_speech.asr.recognizer import Transcript


def char(c: str, t0: float, t1: float, conf: float = 0.9) -> CharResult:
    return CharResult(c, t0, t1, conf, conf - 0.1, (("田", 0.05),))


def transcript(chars: list[CharResult]) -> Transcript:
    text = "".join(c.char for c in chars)
    return Transcript(text, tuple(chars), 3725.5, "tiny/zh", "zh-CN", "clip.wav")


SAMPLE = transcript(
    [char("今", 0.10, 0.18), char("天", 0.20, 0.30), char("好", 0.32, 0.40, 0.4)]
    + [char("明", 2.00, 2.10), char("天", 2.12, 2.2), char("见", 3724.0, 3725.0)]
)
SRT_TIME = r"\d\d:\d\d:\d\d,\d\d\d --> \d\d:\d\d:\d\d,\d\d\d"


def test_timestamps_in_both_subtitle_styles() -> None:
    assert timestamp(3725.0426, ",") == "01:02:05,043"
    assert timestamp(0.0, ".") == "00:00:00.000"


def test_cues_split_at_pauses_and_at_the_length_limits() -> None:
    assert [c.text for c in split_cues(SAMPLE.chars)] == ["今天好", "明天", "见"]
    many = [char("天", i * 0.1, i * 0.1 + 0.08) for i in range(30)]
    assert [len(c.chars) for c in split_cues(many, max_chars=12)] == [12, 12, 6]
    assert len(split_cues(many, max_s=1.0)) == 3  # 3 s of speech, at most 1 s per cue
    spaced = [char("天", 0, 0.1), char(" ", 0.1, 0.2), char(" ", 1.0, 1.1), char("气", 1.1, 1.2)]
    assert [c.text for c in split_cues(spaced)] == ["天", "气"]  # no cue is only a space


def test_srt_is_numbered_timed_blocks() -> None:
    srt = render(SAMPLE, "srt")
    blocks = srt.strip("\n").split("\n\n")
    assert len(blocks) == 3
    for number, block in enumerate(blocks, start=1):
        index, times, text = block.split("\n")
        assert index == str(number) and re.fullmatch(SRT_TIME, times) and text
    assert blocks[0].split("\n")[1] == "00:00:00,100 --> 00:00:00,400"
    assert blocks[2].split("\n")[1] == "01:02:04,000 --> 01:02:05,000"


def test_vtt_has_its_header_and_dotted_times() -> None:
    vtt = render(SAMPLE, "vtt")
    assert vtt.startswith("WEBVTT\n\n00:00:00.100 --> 00:00:00.400\n今天好\n\n")
    assert vtt.count(" --> ") == 3


def test_json_carries_every_character_with_timing_confidence_and_alternatives() -> None:
    data = json.loads(render(SAMPLE, "json"))
    assert data["text"] == "今天好明天见" and data["language"] == "zh-CN"
    assert data["duration"] == 3725.5 and data["model"] == "tiny/zh"
    assert data["chars"][2] == {
        "char": "好",
        "t0": 0.32,
        "t1": 0.4,
        "confidence": 0.4,
        "min_confidence": 0.3,
        "alternatives": [["田", 0.05]],
    }


def test_jsonl_is_one_object_per_cue() -> None:
    lines = render(SAMPLE, "jsonl").splitlines()
    items = [json.loads(line) for line in lines]
    assert [i["text"] for i in items] == ["今天好", "明天", "见"]
    assert items[0]["start"] == 0.1 and items[0]["end"] == 0.4
    assert items[0]["confidence"] == pytest.approx((0.9 + 0.9 + 0.4) / 3, abs=1e-4)
    assert items[1]["source"] == "clip.wav" and len(items[1]["chars"]) == 2


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_empty_transcript_is_still_a_valid_file(fmt: str) -> None:
    out = render(Transcript("", (), 2.0, "m"), fmt)
    if fmt == "json":
        assert json.loads(out)["chars"] == []
    else:
        assert out == {"txt": "\n", "jsonl": "", "srt": "", "vtt": "WEBVTT\n\n"}[fmt]


def test_written_text_in_every_format_with_the_heard_kept_beside_it() -> None:
    from tui_speech.asr.written import WrittenOptions

    options = WrittenOptions(script="tw")
    # No audio at clip.wav, so nothing tells a pause: one utterance, one end mark...
    assert render(SAMPLE, "txt", options) == "今天好明天見。\n"
    # ...unless the utterances are known, as a session's finals are.
    said = [(0, 3), (3, 5), (5, 6)]
    assert render(SAMPLE, "txt", options, said) == "今天好。明天。見。\n"
    srt = render(SAMPLE, "srt", options, said)
    assert [b.splitlines()[2] for b in srt.strip().split("\n\n")] == ["今天好。", "明天。", "見。"]
    data = json.loads(render(SAMPLE, "json", options, said))
    assert data["text"] == "今天好明天见" and data["written"] == "今天好。明天。見。"
    see = data["spans"][-2]
    assert see == {**see, "text": "見", "heard": "见", "chars": [5], "t0": 3724.0}
    assert data["spans"][-1] == {**data["spans"][-1], "text": "。", "confidence": None}
    cues = [json.loads(line) for line in render(SAMPLE, "jsonl", options, said).splitlines()]
    assert [(c["text"], c["written"]) for c in cues][1] == ("明天", "明天。")
    assert [s["chars"] for s in cues[1]["spans"]] == [[0], [1], []]  # counted in the cue
    assert render(SAMPLE, "txt") == "今天好明天见\n"  # the default of the function: as heard
