"""What hotwords do for the embedded recogniser (Whisper base): terms fixed, and the cost.

    .venv/bin/python bench/whisper_hotwords.py [--threads 2] [--voice jf_alpha]

Sentences with a term in them (:data:`TERM_SENTENCES`: product names, technical words, names
and idioms Whisper base rarely writes right) and the term-free sentences of
``bench/sentences_zh.txt`` are spoken by the product's pipeline (the embedded Kokoro),
resampled to 16 kHz and transcribed as ``transcribe --model embedded`` does (beam 5), once
without hotwords and once with every term listed (``WhisperRecognizer(hotwords=...)``: terms
written where the text sounds like them, tui_speech/asr/sound_alike.py). Reported:

- per term sentence: whether the term is in the text heard without and with the list;
- misread terms fixed / terms lost, CER of the term sentences without and with the list;
- CER of the term-free sentences without and with the list (the list must not make them worse);
- the decoding time with the list against without, same clips, same run.

Scoring is bench/intelligibility.py's (Simplified, digits folded, Han characters as units).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

os.environ.setdefault("TUI_SPEECH_TUNE", "0")  # no per-CPU Kokoro measurement mid-benchmark

#: (term, a sentence that says it).
TERM_SENTENCES = (
    ("通义千问", "我们用通义千问写了一份报告。"),
    ("鲁棒性", "这个模型的鲁棒性还不够好。"),
    ("梯度下降", "训练时我们用梯度下降来更新参数。"),
    ("卷积", "图像识别通常用卷积网络。"),
    ("饕餮", "青铜器上刻着饕餮的花纹。"),
    ("诸葛亮", "诸葛亮是三国时期有名的人物。"),
    ("龙井", "他请客人喝了一杯龙井。"),
    ("霍格沃茨", "哈利去了霍格沃茨上学。"),
    ("量子纠缠", "老师今天讲了量子纠缠。"),
    ("叶酸", "医生让她每天吃一片叶酸。"),
    ("魑魅魍魉", "故事里到处都是魑魅魍魉。"),
    ("杭州西溪", "周末我们去杭州西溪散步。"),
    ("深度学习", "他在大学研究深度学习。"),
    ("张一鸣", "张一鸣创办了这家公司。"),
    ("蜀黍", "小朋友把叔叔叫成了蜀黍。"),
    ("鲅鱼", "妈妈今天包了鲅鱼饺子。"),
)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--voice", default="jf_alpha")
    args = ap.parse_args()

    from intelligibility import LANG_SETS, edit_distance, read_items, units_zh
    from whisper import spoken_zh

    from tui_speech.asr.hotwords import Hotword
    from tui_speech.asr.whisper import WhisperRecognizer, to_simplified
    from tui_speech.tts.tuning import simd_flags

    with_terms = spoken_zh([s for _, s in TERM_SENTENCES], args.voice)
    term_free = spoken_zh(read_items(LANG_SETS["zh"].sentences), args.voice)
    plain = WhisperRecognizer.load(args.threads)
    listed = WhisperRecognizer(
        plain.model, plain.info.path, hotwords=[Hotword(t) for t, _ in TERM_SENTENCES]
    )
    plain.decode(with_terms[0][1])  # warm-up: the first call pays one-off set-up

    def run(rec, items) -> tuple[list[str], float, float]:
        heard, edits, units, wall = [], 0, 0, 0.0
        for text, audio in items:
            t = time.perf_counter()
            hyp = rec.decode(audio).text
            wall += time.perf_counter() - t
            heard.append(hyp)
            ref = units_zh(text)
            edits, units = edits + edit_distance(ref, units_zh(hyp)), units + len(ref)
        return heard, edits / max(1, units), wall

    print(
        f"Whisper {plain.info.name}, int8, beam 5, {args.threads} threads; CPU flags "
        f"{simd_flags()}; {len(with_terms)} term sentences, {len(term_free)} term-free "
        f"(embedded Kokoro, voice {args.voice})"
    )
    base_t, cer_t0, wall0 = run(plain, with_terms)
    hot_t, cer_t1, wall1 = run(listed, with_terms)
    base_f, cer_f0, wall2 = run(plain, term_free)
    hot_f, cer_f1, wall3 = run(listed, term_free)

    misread = fixed = lost = 0
    for (term, _), before, after in zip(TERM_SENTENCES, base_t, hot_t, strict=True):
        was, now = term in to_simplified(before), term in to_simplified(after)
        misread += not was
        fixed += (not was) and now
        lost += was and not now
        print(
            f"  {term:8} {'ok ' if was else 'no '}-> {'ok ' if now else 'no '} {before} | {after}"
        )
    changed = sum(a != b for a, b in zip(base_f, hot_f, strict=True))
    print(f"misread terms fixed: {fixed} of {misread}; terms lost: {lost}")
    print(f"term sentences CER: {cer_t0:.3f} -> {cer_t1:.3f}")
    print(f"term-free CER: {cer_f0:.3f} -> {cer_f1:.3f} ({changed} of {len(term_free)} changed)")
    print(f"decoding time with the list: {(wall1 + wall3) / (wall0 + wall2):.2f}x without")


if __name__ == "__main__":
    main()
