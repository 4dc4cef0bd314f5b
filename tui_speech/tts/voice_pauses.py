"""How long a voice pauses at a full stop and at a comma, measured from Kokoro itself.

Inside one call Kokoro decides the silence at each mark, and it depends on the voice and the
language: in one call of "A. B." jf_alpha pauses 0.30 s in English, jf_gongitsune 0.78 s in
Mandarin (bench/RESULTS.md). Between two chunks the pipeline makes the silence itself, and one
fixed gap for every voice made the Mandarin default's sentence breaks shorter than its own
commas. So the pipeline asks here what the voice would have done:

- one probe call per model file, voice and language: two long sentences with commas,
  synthesized whole; each mark's silence is the time between the speech of the word
  before it and of the word after it, where Kokoro's predicted durations place them and the
  pipeline's speech threshold finds their edges (``durations.word_timings``);
- Kokoro is deterministic for one model and voice, so the result is cached for good
  (``tts/voice-pauses.json`` in the cache folder) and the probe runs once, in a process of its
  own at idle priority (``tts.background``), started by the TUI's warm-up or after a text of
  more than one chunk was spoken without a record: the probe (~200 tokens) costs more than a
  short text, so it is never on the user's time;
- until then, for a language without a probe text (hi, ja), for an engine that gives no
  durations, or
  with ``TUI_SPEECH_PAUSES=0``, the pipeline's fixed gaps are used (a text is spoken with one
  or the other all through).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import statistics
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tui_speech.config import ensure_dir, get_paths
from tui_speech.fileio import atomic_write_text
from tui_speech.tts import background

if TYPE_CHECKING:
    from tui_speech.tts.engine import KokoroEngine

log = logging.getLogger(__name__)

#: "0": no probe, the pipeline's fixed gaps (the test suite's default, as TUI_SPEECH_TUNE).
PAUSES_ENV = "TUI_SPEECH_PAUSES"
CACHE_FILENAME = "voice-pauses.json"
#: Bumped when the probe or the measure changes, so older records are measured again.
PROBE_VERSION = 1
#: Probe texts: two long sentences with commas. Kokoro's pause at a full stop grows with the
#: sentences around it (jf_alpha, English: 0.30 s between two short ones, 0.56 s in the
#: listener's paragraphs), so the probe is paragraph-like: what ``speak`` mostly reads.
PROBES = {
    "en": "When the rain stopped in the afternoon, the children ran out to play in the garden, "
    "where the grass was still wet. Their mother watched them from the kitchen window, smiling, "
    "while the kettle began to boil.",
    "zh": "下午雨停了以后，孩子们跑到院子里去玩，草地上还是湿的。"
    "妈妈站在厨房的窗户旁边看着他们，一边笑一边烧水。",
    "es": "Cuando dejó de llover por la tarde, los niños salieron a jugar al jardín, donde la "
    "hierba seguía mojada. Su madre los miraba desde la ventana de la cocina, sonriendo, "
    "mientras el agua empezaba a hervir.",
    "fr": "Quand la pluie s'est arrêtée dans l'après-midi, les enfants sont sortis jouer dans le "
    "jardin, où l'herbe était encore mouillée. Leur mère les regardait par la fenêtre de la "
    "cuisine, en souriant, pendant que l'eau commençait à bouillir.",
    "it": "Quando la pioggia si è fermata nel pomeriggio, i bambini sono usciti a giocare in "
    "giardino, dove l'erba era ancora bagnata. La loro madre li guardava dalla finestra della "
    "cucina, sorridendo, mentre l'acqua cominciava a bollire.",
    "pt-br": "Quando a chuva parou à tarde, as crianças saíram para brincar no jardim, onde a "
    "grama ainda estava molhada. A mãe delas olhava pela janela da cozinha, sorrindo, enquanto "
    "a água começava a ferver.",
}
#: A measured silence outside these bounds (seconds) is not trusted: the fixed gaps are kept.
SENTENCE_RANGE = (0.15, 1.5)
CLAUSE_RANGE = (0.0, 1.2)


@dataclass(frozen=True)
class Gaps:
    """Seconds of silence between the speech either side of a mark, at speed 1."""

    sentence: float
    clause: float


def probe_language(lang: str) -> str | None:
    """The probe a language is measured with (English for both English variants), or None."""
    if lang.startswith("en"):
        return "en"
    return lang if lang in PROBES else None


def enabled() -> bool:
    return os.environ.get(PAUSES_ENV, "1") != "0"


# --- the record: one entry per engine and model, voice and language ----------------------------

_lock = threading.Lock()
_memory: dict[str, dict[str, Any]] = {}


def _cache_file() -> Path:
    return get_paths().cache / "tts" / CACHE_FILENAME


def model_key(backend: str, model: str | None) -> str:
    """The engine and model a record is for: ``onnx:embedded``, or a model's path."""
    return f"{backend}:{model or 'embedded'}"


def record_key(model: str, pack: np.ndarray, lang: str) -> str | None:
    """What a measurement holds for: the engine and model (:func:`model_key`), the voice's
    style pack (a blend is its own voice) and the probe's language; None
    for a language without a probe. (The embedded model's int8 and fp32 builds pause alike.)"""
    probe = probe_language(lang)
    if probe is None:
        return None
    voice = hashlib.sha1(np.ascontiguousarray(pack).tobytes()).hexdigest()[:16]
    return f"v{PROBE_VERSION}:{model}:{voice}:{probe}"


def _read() -> dict[str, Any]:
    try:
        data = json.loads(_cache_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _known(key: str) -> dict[str, Any] | None:
    """The record's entry for ``key`` (the memory first, then the file), or None."""
    with _lock:
        if key in _memory:
            return _memory[key]
    entry = _read().get(key)
    if not isinstance(entry, dict):
        return None
    with _lock:
        _memory[key] = entry
    return entry


def cached(model: str, pack: np.ndarray, lang: str) -> Gaps | None:
    """The voice's measured gaps, if it was measured with this model, in this language."""
    key = record_key(model, pack, lang) if enabled() else None
    entry = _known(key) if key is not None else None
    try:
        gaps = Gaps(float(entry["sentence"]), float(entry["clause"]))  # type: ignore[index]
    except (TypeError, KeyError, ValueError):  # none, damaged, or "cannot be measured"
        return None
    return gaps if _trusted(gaps) else None


def _trusted(gaps: Gaps) -> bool:
    """Whether measured gaps look like pauses (a damaged record or a failed probe does not)."""
    return (SENTENCE_RANGE[0] <= gaps.sentence <= SENTENCE_RANGE[1]
            and CLAUSE_RANGE[0] <= gaps.clause <= CLAUSE_RANGE[1])  # fmt: skip


def _store(key: str, entry: dict[str, Any]) -> None:
    with _lock:
        _memory[key] = entry
        records = _read()  # another process may have added its own since
        records[key] = entry
        try:
            atomic_write_text(ensure_dir(_cache_file().parent) / CACHE_FILENAME,
                              json.dumps(records, indent=1, sort_keys=True))  # fmt: skip
        except OSError as exc:  # a read-only cache: measured again next time, nothing lost
            log.warning("could not save the voice's pauses: %s", exc)


# --- the probe ---------------------------------------------------------------------------------


def measure(engine: KokoroEngine, pack: np.ndarray, lang: str) -> Gaps | None:
    """Synthesize the language's probe in one call and read the silence at its marks."""
    from tui_speech.tts.durations import word_timings
    from tui_speech.tts.engine import SAMPLE_RATE
    from tui_speech.tts.g2p import phonemize
    from tui_speech.tts.silences import mark_after
    from tui_speech.tts.vocab import encode
    from tui_speech.tts.voices import style_for

    probe = probe_language(lang)
    if probe is None:
        return None
    tokens = [t for t in phonemize(PROBES[probe], lang).tokens if t.phonemes]
    ids = encode("".join(t.phonemes + t.whitespace for t in tokens).strip())
    out = engine.synthesize(ids, style_for(pack, len(ids)), 1.0)
    words = word_timings(tokens, out.durations, audio=out.audio)
    found: dict[str, list[float]] = {"sentence": [], "clause": []}
    for before, after in zip(words, words[1:], strict=False):
        kind = mark_after(before.text + before.tail)
        if kind in found:
            found[kind].append(max(0, after.start - before.end) / SAMPLE_RATE)
    if not found["sentence"] or not found["clause"]:
        return None  # no durations from this engine, or the marks were not found
    gaps = Gaps(
        round(statistics.median(found["sentence"]), 3),
        round(statistics.median(found["clause"]), 3),
    )
    if not _trusted(gaps):
        log.warning("the voice's measured pauses %s look wrong: the fixed gaps are kept", gaps)
        return None
    return gaps


def measure_now(engine: KokoroEngine, model: str, pack: np.ndarray, lang: str) -> Gaps | None:
    """The voice's gaps: from the record, or measured now with ``engine`` (running ``model``)
    and recorded. A voice the probe cannot measure (an engine without durations) is recorded
    as such, so it is not probed again."""
    key = record_key(model, pack, lang) if enabled() else None
    if key is None or _known(key) is not None:
        return cached(model, pack, lang)
    gaps = measure(engine, pack, lang)
    _store(key, asdict(gaps) if gaps is not None else {"measured": False})
    return gaps


# --- in the background, after a text ------------------------------------------------------------

#: The voices this process started a measurement for (one child each).
_started: dict[str, threading.Thread] = {}


def measure_in_background(
    backend: str, model: str | None, voice: str, pack: np.ndarray, lang: str
) -> threading.Thread | None:
    """Measure the voice in a process of its own at idle priority (``tts.background``), if it
    has no record and this process has not started that already; returns at once (the
    thread that waits for the child, or None). Called when a text of more than one chunk has
    been spoken: the probe costs more than a short text, so it is never on the user's time."""
    key = record_key(model_key(backend, model), pack, lang) if enabled() else None
    if key is None or _known(key) is not None:
        return None
    with _lock:
        running = _started.get(key)
        if running is not None:
            return running
        args = ["--backend", backend, "--voice", voice, "--lang", lang]
        if model:
            args += ["--model", model]
        log_path = _cache_file().with_name("voice-pauses.log")
        thread = background.spawn(__name__, args, log_path, f"the pauses of {voice}")
        if thread is not None:
            _started[key] = thread
        return thread


def wait_background(timeout: float | None = None) -> bool:
    """Wait for the measurements this process started (tests); True if none is running."""
    for thread in list(_started.values()):
        thread.join(timeout)
    return not any(t.is_alive() for t in _started.values())


def main(argv: list[str] | None = None) -> int:
    import argparse

    from tui_speech.tts.engine import load_engine
    from tui_speech.tts.voices import resolve_voice

    parser = argparse.ArgumentParser(description="measure a voice's pauses (background)")
    parser.add_argument("--backend", default="onnx")
    parser.add_argument("--model", default=None)
    parser.add_argument("--voice", required=True)
    parser.add_argument("--lang", required=True)
    args = parser.parse_args(argv)
    background.become_background()
    model, pack = model_key(args.backend, args.model), resolve_voice(args.voice)
    try:
        measure_now(load_engine(args.backend, args.model), model, pack, args.lang)
    except Exception as exc:
        # Recorded as failed, so each later text does not start the same failing probe again
        # (the fixed gaps stay; a new PROBE_VERSION or removing the record tries again).
        key = record_key(model, pack, args.lang)
        if key is not None:
            _store(key, {"measured": False, "error": str(exc)[:300]})
        raise
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
