"""Pauses at full stops: our speech against one Kokoro call of the same text.

    .venv/bin/python bench/pauses.py [--voice LANG:VOICE ...]

The reference is Kokoro itself: each multi-sentence item of the listener's sets
(``bench/sentences_en.txt`` / ``sentences_zh.txt``; for es, fr, it and pt-br two paragraphs
each, below) synthesized in ONE call, where Kokoro sets
every pause from the whole text. Against it, the product's ``Pipeline`` on the same text, which
speaks sentences as chunks and makes the silence between two chunks itself, two ways:

- ``fixed``: the pipeline's fixed gap (``TUI_SPEECH_PAUSES=0``), one length for every voice;
- ``measured``: the gap of the voice's recorded pauses (``tts.voice_pauses``; the probe is run
  first if the voice has no record).

A pause is the silence between the speech of the words either side of a sentence mark, its
edges found as the pipeline trims (within 50 dB of the loudest 10 ms; ``durations.word_timings``
places the words), inside a chunk or across two. The pauses of one text pair up in text
order; printed per voice: the median pause of each rendering and the median and mean of
|pipeline - one call| over all pairs. It prints the CPU flags, though the figures do not depend
on the CPU (Kokoro is deterministic for one model file).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
os.environ.setdefault("TUI_SPEECH_TUNE", "0")  # no CPU measurement beside this one

DEFAULT_VOICES = ("en-us:jf_alpha", "zh:jf_gongitsune", "en-us:jf_gongitsune", "zh:jf_alpha")
SENTENCE_FILES = {"en": HERE / "sentences_en.txt", "zh": HERE / "sentences_zh.txt"}


#: Reference paragraphs for the languages the listener has no sentences for (espeak-ng G2P):
#: everyday prose, sentences of 15-25 words with commas, none of them the probe's.
PARAGRAPHS = {
    "es": [
        "La biblioteca abre a las nueve, pero la mayoría de la gente llega un poco más tarde, "
        "después de la hora punta. En los días tranquilos, la sala de lectura está casi vacía y "
        "se oye el reloj de la pared. Los estudiantes prefieren sentarse junto a las ventanas, "
        "donde hay más luz.",
        "El tren llegó a la estación con casi cuarenta minutos de retraso, y el andén estaba "
        "lleno de viajeros cansados. Un revisor, que ya había dejado de pedir disculpas, hizo "
        "subir a todos sin mirar los billetes. Cuando llegamos a la ciudad, el sol se había "
        "puesto y las calles estaban en silencio.",
    ],
    "fr": [
        "La bibliothèque ouvre à neuf heures, mais la plupart des gens arrivent un peu plus "
        "tard, après l'heure de pointe. Les jours calmes, la salle de lecture est presque vide "
        "et l'on entend l'horloge du mur. Les étudiants préfèrent s'asseoir près des fenêtres, "
        "là où il y a plus de lumière.",
        "Le train est arrivé en gare avec presque quarante minutes de retard, et le quai était "
        "plein de voyageurs fatigués. Un contrôleur, qui avait renoncé à s'excuser, a fait "
        "monter tout le monde sans vérifier les billets. Quand nous sommes arrivés en ville, le "
        "soleil s'était couché et les rues étaient silencieuses.",
    ],
    "it": [
        "La biblioteca apre alle nove, ma la maggior parte delle persone arriva un po' più "
        "tardi, dopo l'ora di punta. Nei giorni tranquilli, la sala di lettura è quasi vuota e "
        "si sente l'orologio appeso al muro. Gli studenti preferiscono sedersi vicino alle "
        "finestre, dove c'è più luce.",
        "Il treno è arrivato in stazione con quasi quaranta minuti di ritardo, e il binario era "
        "pieno di viaggiatori stanchi. Un controllore, che aveva smesso di scusarsi, ha fatto "
        "salire tutti senza controllare i biglietti. Quando siamo arrivati in città, il sole "
        "era tramontato e le strade erano silenziose.",
    ],
    "pt-br": [
        "A biblioteca abre às nove, mas a maioria das pessoas chega um pouco mais tarde, depois "
        "do horário de pico. Nos dias tranquilos, a sala de leitura fica quase vazia e dá para "
        "ouvir o relógio na parede. Os estudantes preferem sentar perto das janelas, onde há "
        "mais luz.",
        "O trem chegou à estação com quase quarenta minutos de atraso, e a plataforma estava "
        "cheia de passageiros cansados. Um fiscal, que já tinha desistido de pedir desculpas, "
        "deixou todos embarcarem sem olhar as passagens. Quando chegamos à cidade, o sol já "
        "tinha se posto e as ruas estavam silenciosas.",
    ],
}


def paragraphs(lang: str) -> list[str]:
    """The items with two sentences or more."""
    from intelligibility import read_items  # the listener's items, read as it reads them

    from tui_speech.tts.sentences import iter_sentences

    if lang in PARAGRAPHS:
        return PARAGRAPHS[lang]
    items = read_items(SENTENCE_FILES["en" if lang.startswith("en") else "zh"])
    return [t for t in items if len(list(iter_sentences(t))) > 1]


def sentence_pauses(chunks: list[tuple[object, object, object]]) -> list[float]:
    """Seconds of silence at each sentence mark of the joined chunks (audio, tokens, words)."""
    from tui_speech.tts.engine import SAMPLE_RATE
    from tui_speech.tts.silences import mark_after

    pauses: list[float] = []
    offset = 0
    previous: tuple[int, str] | None = None  # (end sample of the last word, its text and tail)
    for audio, _tokens, words in chunks:
        for word in words:  # type: ignore[attr-defined]
            if previous is not None and mark_after(previous[1]) == "sentence":
                pauses.append((offset + word.start - previous[0]) / SAMPLE_RATE)
            previous = (offset + word.end, word.text + word.tail)
        offset += len(audio)  # type: ignore[arg-type]
    return pauses


def one_call(text: str, lang: str, voice: str) -> list[float]:
    from tui_speech.tts.durations import word_timings
    from tui_speech.tts.engine import load_engine
    from tui_speech.tts.g2p import phonemize
    from tui_speech.tts.vocab import encode
    from tui_speech.tts.voices import resolve_voice, style_for

    tokens = [t for t in phonemize(text, lang).tokens if t.phonemes]
    ids = encode("".join(t.phonemes + t.whitespace for t in tokens).strip())
    out = load_engine().synthesize(ids, style_for(resolve_voice(voice), len(ids)), 1.0)
    return sentence_pauses(
        [(out.audio, tokens, word_timings(tokens, out.durations, audio=out.audio))]
    )


def pipeline(text: str, lang: str, voice: str) -> list[float]:
    from tui_speech.tts.pipeline import Pipeline

    return sentence_pauses([(c.audio, c.tokens, c.words) for c in Pipeline(lang, voice)(text)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voice", nargs="+", default=list(DEFAULT_VOICES), metavar="LANG:VOICE")
    args = parser.parse_args(argv)

    from tui_speech.tts import voice_pauses
    from tui_speech.tts.engine import load_engine
    from tui_speech.tts.tuning import simd_flags
    from tui_speech.tts.voices import resolve_voice

    print(f"CPU flags: {simd_flags()}")
    for spec in args.voice:
        lang, voice = spec.split(":", 1)
        os.environ[voice_pauses.PAUSES_ENV] = "1"
        model = voice_pauses.model_key("onnx", None)  # what Pipeline(lang, voice) records under
        gaps = voice_pauses.measure_now(load_engine(), model, resolve_voice(voice), lang)
        rows: dict[str, list[float]] = {"one call": [], "fixed": [], "measured": []}
        for text in paragraphs(lang):
            reference = one_call(text, lang, voice)
            os.environ[voice_pauses.PAUSES_ENV] = "0"
            fixed = pipeline(text, lang, voice)
            os.environ[voice_pauses.PAUSES_ENV] = "1"
            measured = pipeline(text, lang, voice)
            if not len(reference) == len(fixed) == len(measured):
                print(f"  skipped (marks differ): {text[:40]}")
                continue
            rows["one call"] += reference
            rows["fixed"] += fixed
            rows["measured"] += measured
        print(f"{lang} {voice}: probe {gaps}; {len(rows['one call'])} full stops")
        for name, values in rows.items():
            line = f"  {name:9s} median {statistics.median(values):.2f} s"
            if name != "one call":
                off = [abs(a - b) for a, b in zip(values, rows["one call"], strict=True)]
                line += f"; |vs one call| median {statistics.median(off):.2f}"
                line += f", mean {statistics.mean(off):.2f}"
            print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
