"""jieba's dictionary from our sorted word file cuts Chinese exactly as jieba's own load does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tui_speech.tts.jieba_words import open_frequencies, write_word_file

LISTENER = (ROOT / "bench" / "sentences_zh.txt").read_text(encoding="utf-8").splitlines()
SENTENCES = [
    *(line for line in LISTENER if line.strip() and not line.startswith("#")),
    "银行行长说他长大以后要重新学习音乐，行不行？",
    "2026年3月15日下午3点半，我们在北京大学的一楼会议室见面。",
    "我用Python写代码，Wi-Fi和GPU都不太好用。",
    "南京市长江大桥",
    "他说：“这件事情，我们明天再讨论吧……”",
]


@pytest.fixture(scope="module")
def reference():
    """A jieba tokenizer loaded by jieba itself (not the shared ``jieba.dt``)."""
    import jieba

    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


@pytest.fixture
def from_file(reference, tmp_path: Path):
    """A second tokenizer whose dictionary is served from the word file written from it."""
    import jieba

    path = tmp_path / "words.bin"
    write_word_file(path, reference.FREQ, reference.total)
    tokenizer = jieba.Tokenizer()
    tokenizer.FREQ = words = open_frequencies(path)
    assert words is not None
    tokenizer.total = words.total
    tokenizer.initialized = True
    return tokenizer


def test_the_word_file_cuts_every_sentence_as_jieba_does(reference, from_file):
    assert len(SENTENCES) >= 29
    for sentence in SENTENCES:
        for hmm in (True, False):
            assert from_file.lcut(sentence, HMM=hmm) == reference.lcut(sentence, HMM=hmm)
        assert from_file.lcut_for_search(sentence) == reference.lcut_for_search(sentence)


def test_the_word_file_holds_jiebas_words_and_prefixes(reference, from_file):
    words = from_file.FREQ
    assert words.total == reference.total > 0
    assert len(words) == len(reference.FREQ)
    for word in ("银行", "行长", "长江大桥", "南京市", "的", "一楼"):
        assert words[word] == reference.FREQ[word] > 0
    prefix = next(w for w, f in reference.FREQ.items() if f == 0 and len(w) > 1)
    assert prefix in words and words[prefix] == 0  # a prefix only: in the map, frequency 0
    assert "不是一个词的串" not in words and words.get("不是一个词的串") is None
    with pytest.raises(KeyError):
        words["不是一个词的串"]


def test_words_a_user_adds_are_cut_whole(from_file):
    sentence = "他在天枢星辰科技上班"
    assert "天枢星辰科技" not in from_file.lcut(sentence)
    from_file.add_word("天枢星辰科技", 2000)
    assert "天枢星辰科技" in from_file.lcut(sentence)


_PROBE = """
import json, jieba
from tui_speech.tts.jieba_words import ready_jieba
ready = ready_jieba()
print(json.dumps({"store": type(ready.dt.FREQ).__name__,
                  "cut": ready.lcut("银行行长说他长大以后要重新学习音乐"),
                  "freq": ready.get_FREQ("银行")}))
"""


def _fresh_python(code: str, home: Path) -> subprocess.CompletedProcess[bytes]:
    """``code`` run by a new interpreter (jieba's dictionary is loaded once per process)."""
    env = {**os.environ, "TUI_SPEECH_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, check=True, cwd=ROOT, env=env,
        timeout=120,
    )  # fmt: skip


def _probe(home: Path) -> dict:
    out = _fresh_python(_PROBE, home)
    assert out.stderr == b""  # no "Building prefix dict" on the user's terminal
    return json.loads(out.stdout)


def test_the_first_use_writes_the_file_and_later_ones_open_it(tmp_path: Path):
    first = _probe(tmp_path)
    assert first["store"] == "dict"  # jieba's own load, then the file is written from it
    (saved,) = (tmp_path / "cache" / "jieba").glob("words-*.bin")
    later = _probe(tmp_path)
    assert later["store"] == "WordFrequencies"
    assert later["cut"] == first["cut"] and later["freq"] == first["freq"] > 0
    whole = saved.stat().st_size
    with open(saved, "r+b") as f:  # cut short, as a full disk might leave it
        f.truncate(whole // 2)
    damaged = _probe(tmp_path)
    assert damaged["store"] == "dict" and damaged["cut"] == first["cut"]
    assert saved.stat().st_size == whole  # written again, whole
    assert _probe(tmp_path)["store"] == "WordFrequencies"


def test_the_mandarin_warm_up_readies_the_words_of_chinese_text(tmp_path: Path):
    """The Speak pane warms its language up in the background; for Mandarin that must include
    jieba's words, or the first F6 pays for them."""
    probe = (
        "import jieba; from tui_speech.tts import g2p; g2p.warm_up('zh'); "
        "print(jieba.dt.initialized)"
    )
    assert _fresh_python(probe, tmp_path).stdout.strip() == b"True"
