"""Drafts, sentence takes, pause tags and export formats, with the embedded Kokoro."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.conftest import ROOT
from tests.unit.test_word_timings import _speech_gaps
from tui_speech.errors import UsageError
from tui_speech.tts.captions import Timeline
from tui_speech.tts.draft_render import export, render
from tui_speech.tts.drafts import DraftStore, SentenceTake, draft_units
from tui_speech.tts.engine import SAMPLE_RATE, load_engine
from tui_speech.tts.pauses import split_pauses
from tui_speech.tts.pipeline import Pipeline

NUMBERS = (
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen twenty"
).split()


class CountingEngine:
    """The real embedded engine, counting the synthesis calls made through it."""

    def __init__(self) -> None:
        self.real = load_engine()
        self.parallel_runs = getattr(self.real, "parallel_runs", 1)
        self.calls: list[int] = []

    def synthesize(self, token_ids, style, speed):
        self.calls.append(len(token_ids))
        return self.real.synthesize(token_ids, style, speed)


def _longest_silence(audio: np.ndarray, floor: float = 1e-4) -> float:
    """Seconds of the longest run of samples quieter than ``floor`` (digital silence)."""
    quiet = np.concatenate([[False], np.abs(audio) < floor, [False]])
    edges = np.flatnonzero(np.diff(quiet.astype(np.int8)))
    runs = edges[1::2] - edges[::2]
    return float(runs.max()) / SAMPLE_RATE if len(runs) else 0.0


def test_a_malformed_pause_tag_is_one_line_naming_it_and_where():
    assert [p if isinstance(p, str) else p.seconds for p in split_pauses("a [pause:300ms] b")] == [
        "a ", 0.3, " b",
    ]  # fmt: skip
    for bad in ("[pause:1.5]", "[pause:fast]", "[ pause 2s]", "[pause:99s]"):
        with pytest.raises(UsageError) as caught:
            split_pauses(f"Hello. {bad} World.")
        line = str(caught.value)
        assert bad in line and "at character 8" in line and "\n" not in line
    with pytest.raises(UsageError, match=r"\[pause:2x\]"):
        next(Pipeline("en-us").plan("Hi. [pause:2x]"))


@pytest.mark.slow
def test_pause_tags_give_exactly_that_silence_in_speak_and_in_drafts(tmp_path: Path):
    engine = CountingEngine()
    text = "Hello there. [pause:1.5s] Good morning."
    pipeline = Pipeline("en-us")
    pipeline._engine = engine
    spoken = np.concatenate([c.audio for c in pipeline(text)])
    assert abs(_longest_silence(spoken) - 1.5) < 0.010
    store = DraftStore(tmp_path / "drafts")
    draft = store.create("p", "Good morning. [pause:300ms] Hello there.")
    rendered = np.concatenate([r.audio for r in render(draft, store, engine=engine)])
    assert abs(_longest_silence(rendered) - 0.3) < 0.010
    assert len(engine.calls) == 4  # a pause costs no synthesis


@pytest.mark.slow
def test_word_timings_of_a_rendered_draft_follow_its_audio_beside_pause_tags(tmp_path: Path):
    """A sentence beside a pause tag is trimmed again (the tag alone sets the silence): its
    words move with the cut, in the render that made the take and in one reading it back."""
    store = DraftStore(tmp_path / "drafts")
    text = "Hello there. [pause:300ms] One, two, three. [pause:200ms] Good night."
    draft = store.create("timed", text)
    for made in (True, False):
        rendered = list(render(draft, store))
        assert all(r.synthesized == made for r in rendered if r.unit.spoken)
        timeline = Timeline()  # the draft's take, as the Speak pane adds it up
        for r in rendered:
            assert all(0 <= w.start < w.end <= len(r.audio) for w in r.words), r.unit
            timeline.add_audio(r.words, len(r.audio), r.sample_rate)
        words = timeline.words
        assert [w.text for w in words] == "Hello there One two three Good night".split()
        audio = np.concatenate([r.audio for r in rendered])
        for prev, word in zip(words, words[1:], strict=False):
            assert prev.end <= word.start + 1e-9
        gaps = _speech_gaps(audio, SAMPLE_RATE)
        assert len(gaps) >= 2  # the two tags
        for gap_start, gap_end in gaps:
            before = max((w for w in words if w.end <= gap_start + 0.08), key=lambda w: w.end)
            after = min((w for w in words if w.start >= gap_end - 0.08), key=lambda w: w.start)
            assert abs(before.end - gap_start) <= 0.08, (before, gap_start)
            assert abs(after.start - gap_end) <= 0.08, (after, gap_end)
        draft = store.load("timed")


@pytest.mark.slow
def test_rerendering_one_sentence_of_thirty_synthesizes_only_that_one(tmp_path: Path):
    engine = CountingEngine()
    store = DraftStore(tmp_path / "drafts")
    sentences = [f"Line {n}." for n in NUMBERS] + [f"Row {n}." for n in NUMBERS[:10]]
    draft = store.create("thirty", " ".join(sentences))
    first = list(render(draft, store, engine=engine))
    assert len(first) == 30 and all(r.synthesized for r in first)
    assert len(engine.calls) == 30
    # Edit sentence 13; the other 29 keep their audio, read back from their takes.
    engine.calls.clear()
    edited = store.update("thirty", text=draft.text.replace("Line thirteen.", "Line 13 again."))
    second = list(render(edited, store, engine=engine))
    assert [r.unit.index for r in second if r.synthesized] == [12]
    assert len(engine.calls) == 1
    for old, new in zip(first, second, strict=True):
        if new.unit.index != 12:
            assert new.take.file == old.take.file
    # Re-render one sentence on purpose: a new take for it alone; a locked take is kept.
    engine.calls.clear()
    again = list(render(store.load("thirty"), store, engine=engine, redo=frozenset({3})))
    assert [r.unit.index for r in again if r.synthesized] == [3] and len(engine.calls) == 1
    store.set_locked("thirty", again[3].take.file, True)
    engine.calls.clear()
    locked = list(render(store.load("thirty"), store, engine=engine, redo=frozenset({3})))
    assert not any(r.synthesized for r in locked) and engine.calls == []
    assert locked[3].take.file == again[3].take.file


@pytest.mark.slow
def test_a_draft_exports_to_every_format_and_per_chapter(tmp_path: Path):
    store = DraftStore(tmp_path / "drafts")
    draft = store.create("book", "# One\nThe first part. [pause:500ms]\n# Two\nThe second part.")
    assert [u.chapter for u in draft_units(draft.text)] == [1, 1, 1, 2, 2]
    out = tmp_path / "out"
    out.mkdir()
    whole = None
    for suffix in (".wav", ".flac", ".ogg", ".opus", ".mp3"):
        (path,) = export(draft, out / f"book{suffix}", store)
        audio, rate = sf.read(path, dtype="float32")
        assert rate == SAMPLE_RATE and np.abs(audio).max() > 0.05
        whole = whole or len(audio) / rate
        assert abs(len(audio) / rate - whole) < 0.1  # lossy codecs pad a few frames
    parts = export(draft, out / "ch.opus", store, chapters=True)
    assert [p.name for p in parts] == ["ch-01.opus", "ch-02.opus"]
    assert abs(sum(sf.info(p).duration for p in parts) - whole) < 0.2
    assert not [p for p in out.iterdir() if p.name.endswith(".part")]


def test_a_draft_survives_kill_9_mid_save(tmp_path: Path):
    """A real process saving its draft over and over, killed with SIGKILL: the draft reads
    back whole, as one of the versions it saved, never half of one."""
    folder = tmp_path / "drafts"
    script = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from tui_speech.tts.drafts import DraftStore
        store = DraftStore(Path({str(folder)!r}))
        store.create("d", "")
        n = 0
        while True:
            n += 1
            store.update("d", text="word " * n * 50 + str(n))
            if n == 20:
                print("saving", flush=True)
    """)
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, cwd=ROOT, env=dict(os.environ)
    )
    assert proc.stdout.readline() == b"saving\n"
    time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    text = DraftStore(folder).load("d").text
    n = int(text.rsplit(" ", 1)[1])
    assert n >= 20 and text == "word " * n * 50 + str(n)


def test_takes_of_sentences_gone_from_the_text_are_pruned_unless_locked(tmp_path: Path):
    store = DraftStore(tmp_path / "drafts")
    store.create("d", "Kept. Gone. Locked.")
    silence = np.zeros(2400, np.float32)
    for n, sentence in enumerate(("Kept.", "Gone.", "Locked.")):
        take = SentenceTake(f"k{n}", sentence, f"t{n}.flac", 0.1)
        store.add_take("d", take, silence, SAMPLE_RATE)
    store.set_locked("d", "t2.flac", True)
    store.update("d", text="Kept. New.")
    draft = store.prune("d")
    assert [t.sentence for t in draft.takes] == ["Kept.", "Locked."]
    assert sorted(p.name for p in store.takes_folder("d").iterdir()) == ["t0.flac", "t2.flac"]
    assert DraftStore(tmp_path / "drafts").load("d").takes == draft.takes


@pytest.mark.slow
def test_a_headings_take_is_followed_by_a_sentences_pause(tmp_path: Path):
    from tui_speech.tts.silences import LEAD_IN, pause_after, speech_bounds

    store = DraftStore(tmp_path / "drafts")
    draft = store.create("book", "# Chapter One\n\nIt was a dark and stormy night.")
    heading, sentence = list(render(draft, store))
    assert heading.unit.kind == "heading"
    first, second = speech_bounds(heading.audio), speech_bounds(sentence.audio)
    gap = (len(heading.audio) - first[1] + second[0]) / SAMPLE_RATE
    assert gap == pytest.approx(pause_after("One.") + LEAD_IN, abs=0.02)
    # The export reads the same audio back from the takes.
    assert len(heading.piece.read()) == len(heading.audio)


def test_a_hard_wrapped_paragraph_is_a_drafts_whole_sentences():
    """A .md or .txt file opened as a draft is often wrapped at 70-80 columns: its sentence
    list (and its takes) are its sentences, not its lines; a list's lines stay their own."""
    text = (
        "# Notes\n\nThe old lighthouse keeper climbed the stairs every evening, counting\n"
        "each step as he went. From the top, he could see the fishing boats\n"
        "returning to the harbour.\n\nThings to pack\nWarm socks\n"
    )
    units = [(u.kind, u.text, u.ends_line) for u in draft_units(text)]
    assert units == [
        ("heading", "Notes", True),
        ("sentence", "The old lighthouse keeper climbed the stairs every evening, counting each "
         "step as he went.", False),
        ("sentence", "From the top, he could see the fishing boats returning to the harbour.",
         False),
        ("sentence", "Things to pack", True),
        ("sentence", "Warm socks", True),
    ]  # fmt: skip
