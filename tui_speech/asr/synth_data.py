"""Synthetic training data: each line of a text rendered by our Kokoro over voices and speeds.

:func:`synthesize_dataset` writes a dataset in the ``transcripts`` layout (see
:mod:`tui_speech.asr.dataset`): ``clips/NNNNN.wav`` (16 kHz, 16-bit mono), ``transcripts.tsv``
(train) and ``dev.tsv``. It is a lazy generator: one clip is synthesised per item the caller
takes, so a progress display (or a Ctrl-C) sees every clip as it is written.

The dev split holds one rendering of every ``dev_every``-th line – same text, a voice/speed
combination picked round-robin – so it measures what a fine-tuned model learned about those
words, not about one voice. With fewer than two renderings nothing goes to dev.

Augmentation (optional, seeded per clip so a re-run writes the same data):
- ``noise_snr``: white noise at that signal-to-noise ratio in dB;
- ``reverb``: a synthetic room (exponentially decaying noise, RT60 ~0.3 s) mixed under the dry
  signal – cheap, and enough to stop a model relying on perfectly clean TTS.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tui_speech.audio.rates import ASR_RATE as RATE
from tui_speech.audio.rates import TTS_RATE as KOKORO_RATE
from tui_speech.errors import UsageError

REVERB_RT60 = 0.3
REVERB_WET = 0.3


@dataclass(frozen=True)
class SynthClip:
    """One written clip."""

    index: int
    total: int
    path: Path
    text: str
    voice: str
    speed: float
    seconds: float
    split: str


def read_lines(path: Path) -> list[str]:
    """Non-empty lines of a UTF-8 text file (``UsageError`` if there are none)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UsageError(f"text file {path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise UsageError(f"text file {path} is not UTF-8 text (byte {exc.start})") from None
    lines = list(dict.fromkeys(line.strip() for line in text.splitlines() if line.strip()))
    if not lines:
        raise UsageError(f"text file {path} has no lines to synthesise")
    if any("\t" in line for line in lines):
        raise UsageError(
            f"text file {path}: a line holds a tab, which transcripts.tsv cannot store"
        )
    return lines


def add_noise(audio: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    power = float(np.mean(audio**2)) or 1e-12
    noise = rng.standard_normal(len(audio)).astype(np.float32)
    return (audio + noise * np.sqrt(power / 10 ** (snr_db / 10))).astype(np.float32)


def add_reverb(audio: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    length = int(REVERB_RT60 * RATE)
    t = np.arange(length) / RATE
    # -60 dB at RT60: amplitude decays as 10^(-3 t / RT60).
    impulse = rng.standard_normal(length) * 10 ** (-3 * t / REVERB_RT60)
    impulse /= np.sqrt(np.sum(impulse**2))
    wet = np.convolve(audio, impulse)[: len(audio)]
    return ((1 - REVERB_WET) * audio + REVERB_WET * wet).astype(np.float32)


def render(text: str, voice: str, speed: float) -> np.ndarray:
    """Kokoro Mandarin speech for ``text``, float32 at 16 kHz."""
    import soxr

    from tui_speech.tts.pipeline import Pipeline

    chunks = [c.audio for c in Pipeline("zh", voice=voice, speed=speed)(text)]
    if not chunks:
        raise UsageError(f"nothing to synthesise in {text!r}")
    audio = np.concatenate(chunks).astype(np.float32)
    return soxr.resample(audio, KOKORO_RATE, RATE).astype(np.float32)


def synthesize_dataset(
    lines: Sequence[str],
    out: Path,
    voices: Sequence[str] = ("jf_alpha",),
    speeds: Sequence[float] = (1.0,),
    noise_snr: float | None = None,
    reverb: bool = False,
    dev_every: int = 5,
    seed: int = 0,
) -> Iterator[SynthClip]:
    """Render every line with every voice and speed into ``out`` (lazy; see module docstring)."""
    import soundfile as sf

    from tui_speech.fileio import atomic_write_text, atomic_writer
    from tui_speech.tts.engine import check_speed
    from tui_speech.tts.voices import resolve_voice

    for voice in voices:
        resolve_voice(voice)  # an unknown voice fails before any work
    for speed in speeds:
        check_speed(speed)
    if out.exists() and any(out.iterdir()):
        raise UsageError(f"-o {out} is not empty; give a new folder")
    clips_dir = out / "clips"
    clips_dir.mkdir(parents=True, exist_ok=True)
    combos = [(v, s) for v in voices for s in speeds]
    total = len(lines) * len(combos)
    rows: dict[str, list[str]] = {"train": [], "dev": []}
    index = 0
    for n, text in enumerate(lines):
        dev_combo = n % len(combos) if total > 1 and n % max(1, dev_every) == 0 else -1
        for c, (voice, speed) in enumerate(combos):
            rng = np.random.default_rng([seed, index])
            audio = render(text, voice, speed)
            if reverb:
                audio = add_reverb(audio, rng)
            if noise_snr is not None:
                audio = add_noise(audio, noise_snr, rng)
            peak = float(np.max(np.abs(audio))) or 1.0
            audio = audio * min(1.0, 0.95 / peak)  # never clip when written as 16-bit
            name = f"clips/{index:05d}.wav"
            with atomic_writer(out / name) as f:
                sf.write(f, audio, RATE, format="WAV", subtype="PCM_16")
            split = "dev" if c == dev_combo else "train"
            rows[split].append(f"{name}\t{text}")
            index += 1
            yield SynthClip(index, total, out / name, text, voice, speed, len(audio) / RATE, split)
    # The tables are written last: a run stopped half-way leaves no dataset that looks complete.
    atomic_write_text(out / "dev.tsv", "".join(f"{r}\n" for r in rows["dev"]))
    atomic_write_text(out / "transcripts.tsv", "".join(f"{r}\n" for r in rows["train"]))
