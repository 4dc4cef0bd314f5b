"""Hotwords for the embedded Whisper: a listed term is written where the text sounds like it,
and nowhere else (bench/whisper_hotwords.py measures it on real speech)."""

from __future__ import annotations

from tui_speech.asr.ctc import CharResult
from tui_speech.asr.sound_alike import SoundAlike, distance


def heard(text: str, confidence: float = 0.6) -> list[CharResult]:
    return [
        CharResult(c, i * 0.2, i * 0.2 + 0.1, confidence, confidence) for i, c in enumerate(text)
    ]


def written(chars: list[CharResult]) -> str:
    return "".join(c.char for c in chars)


def test_a_misheard_term_is_written_as_listed_with_the_times_it_was_heard_at() -> None:
    terms = SoundAlike(["通义千问", "梯度下降", "卷积"])
    before = heard("我们用同意千万写了一份报告")
    after = terms.apply(before)
    assert written(after) == "我们用通义千问写了一份报告"
    assert [(c.t0, c.t1, c.confidence) for c in after] == [
        (c.t0, c.t1, c.confidence) for c in before
    ]
    assert written(terms.apply(heard("训练时我们用技度下降来更新参数"))) == (
        "训练时我们用梯度下降来更新参数"
    )
    assert written(terms.apply(heard("图像识别通常用拳击网络"))) == "图像识别通常用卷积网络"


def test_ordinary_speech_is_left_alone() -> None:
    terms = SoundAlike(["蜀黍", "叶酸", "张一鸣", "通义千问"])
    # 叔叔 sounds exactly like 蜀黍 but is a common word of its own.
    for text in ("小朋友把叔叔叫成了阿姨", "今天天气很好", "我同意你的看法", "他们一起去学校"):
        assert written(terms.apply(heard(text))) == text
    # Sounds like a term, but Whisper was sure of what it heard.
    sure = heard("这个孩子长大以后想当一名医生", confidence=0.95)
    assert written(terms.apply(sure)) == "这个孩子长大以后想当一名医生"
    assert written(SoundAlike(["张一鸣"]).apply(heard("想当一名医生"))) == "想张一鸣医生"
    # Far in sound: not a term.
    assert written(terms.apply(heard("他请客人喝了一杯浓酒"))) == "他请客人喝了一杯浓酒"


def test_which_terms_are_used() -> None:
    # One character sounds like too many others, and a Latin term has no syllables to compare.
    assert SoundAlike(["乐", "Python", "深度", "深度学习"]).terms == ["深度学习", "深度"]
    # Syllables are read in context, tones dropped: 长 here is zhǎng, as in 张.
    assert distance("长一名", "张一鸣") == 0.0
    assert distance("浓酒", "龙井") > 0.3
