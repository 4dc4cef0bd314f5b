"""Word timings benchmark: the timed copy of the embedded Kokoro against the unmodified model.

In one run, side by side:

- the timed copy's one-off build (a copy of the model plus one graph output) against loading
  an onnxruntime session of the model, which every process pays anyway;
- synthesis with the timed copy against the unmodified model, alternating sentence by sentence
  (CPU seconds per second of audio: robust when other processes share the cores), and whether
  the audio is the same bit for bit;
- how far each caption boundary next to a pause lies from where the audio's energy says it is
  (20 ms frames, 45 dB below the loudest: the same measure as the tests), on English and
  Mandarin sentences with sentence and clause pauses.

Run: ``.venv/bin/python bench/word_timings.py``; it prints the CPU flags it ran on.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TUI_SPEECH_TUNE", "0")  # no background measurement during the run

SENTENCES = {
    "en-us": [
        "Hello there. One, two, three. The quick brown fox jumps over the lazy dog.",
        "She sells sea shells, by the sea shore. Nobody remembered the night the light failed.",
        "Wait, listen; the boats are back. The harbour was quiet, and the lanterns swayed.",
    ],
    "zh": [
        "你好。我们去学校。今天天气很好。",
        "谢谢你的帮助，明天见。我喜欢音乐，学校很大。",
        "天气不好，我们在家。老师说，明天再来。",
    ],
}


def gaps(audio: np.ndarray, rate: int) -> list[tuple[float, float]]:
    frame = rate // 50
    n = len(audio) // frame
    rms = np.sqrt(np.mean(audio[: n * frame].reshape(n, frame).astype(np.float64) ** 2, axis=1))
    loud = np.flatnonzero(rms > rms.max() * 10 ** (-45 / 20))
    return [
        ((a + 1) * frame / rate, b * frame / rate)
        for a, b in zip(loud[:-1], loud[1:], strict=True)
        if (b - a - 1) * frame >= 0.12 * rate
    ]


def boundary_errors(lang: str, text: str) -> list[float]:
    from tui_speech.tts.captions import Timeline
    from tui_speech.tts.pipeline import Pipeline

    timeline = Timeline()
    chunks = list(Pipeline(lang)(text))
    for chunk in chunks:
        timeline.add(chunk)
    audio = np.concatenate([c.audio for c in chunks])
    words = timeline.words
    errors = []
    for start, end in gaps(audio, chunks[0].sample_rate):
        before = [w for w in words if w.end <= start + 0.2]
        after = [w for w in words if w.start >= end - 0.2]
        if before:
            errors.append(abs(max(w.end for w in before) - start))
        if after:
            errors.append(abs(min(w.start for w in after) - end))
    return errors


def main() -> None:
    from tui_speech.hub.embedded import embedded_model_path
    from tui_speech.tts import durations
    from tui_speech.tts.engine import OnnxKokoro
    from tui_speech.tts.g2p import phonemize
    from tui_speech.tts.tuning import simd_flags
    from tui_speech.tts.vocab import encode
    from tui_speech.tts.voices import resolve_voice, style_for

    print(f"CPU flags: {simd_flags()}; cores: {len(os.sched_getaffinity(0))}")
    source = embedded_model_path()
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / source.name
        started = time.perf_counter()
        durations.build_timed(source, target)
        build = time.perf_counter() - started
        started = time.perf_counter()
        plain = OnnxKokoro(source)
        load = time.perf_counter() - started
        timed = OnnxKokoro(target)
    print(f"timed copy build {build:.2f} s vs one session load {load:.2f} s "
          f"(ratio {build / load:.2f}; once per machine)")  # fmt: skip

    pack = resolve_voice("jf_alpha")
    cpu = {"plain": 0.0, "timed": 0.0}
    seconds = 0.0
    same = True
    inputs = [encode(phonemize(t, lang).phonemes) for lang, ts in SENTENCES.items() for t in ts]
    for engine in (plain, timed):  # first runs allocate
        engine.synthesize(inputs[0][:8], style_for(pack, 8), 1.0)
    for _ in range(2):
        for ids in inputs:
            out = {}
            for name, engine in (("plain", plain), ("timed", timed)):
                c = time.process_time()
                out[name] = engine.synthesize(ids, style_for(pack, len(ids)), 1.0)
                cpu[name] += time.process_time() - c
            seconds += len(out["plain"].audio) / 24_000
            same &= bool(np.array_equal(out["plain"].audio, out["timed"].audio))
            assert out["timed"].durations is not None
    print(f"synthesis CPU s per audio s: plain {cpu['plain'] / seconds:.3f}, "
          f"timed {cpu['timed'] / seconds:.3f} (timed/plain {cpu['timed'] / cpu['plain']:.3f}); "
          f"audio bit for bit the same: {same}")  # fmt: skip

    for lang, texts in SENTENCES.items():
        errors = [e * 1000 for t in texts for e in boundary_errors(lang, t)]
        print(f"{lang}: {len(errors)} boundaries at pauses, error vs energy median "
              f"{statistics.median(errors):.0f} ms, max {max(errors):.0f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
