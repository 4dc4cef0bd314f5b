"""Which writing system a text is in, and which languages read it.

Only the Mandarin and Japanese G2Ps read Chinese characters, and only the Japanese one kana;
espeak-ng, left to them, spells out each character's script ("Chinese letter"). G2P uses these
to read such runs another way or skip them (``tts.g2p``), and the pipeline to name, when a text
has nothing to say in its language, the language that reads it.
"""

from __future__ import annotations

import re

HAN_RE = re.compile(r"[\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")  # 〇 too
KANA_RE = re.compile(r"[\u3041-\u309f\u30a0-\u30ff\u31f0-\u31ff]")

#: Languages that read each script (Japanese reads kanji as well as kana).
_READERS = {"Chinese characters": ("zh", "ja"), "Japanese kana": ("ja",)}
#: The languages whose G2P reads these scripts itself.
READS_CJK = frozenset(lang for langs in _READERS.values() for lang in langs)


def unread_script(text: str, lang: str) -> tuple[str, str] | None:
    """``(script, language)`` when ``text`` is written in a script ``lang`` does not read and
    ``language`` does (kana means Japanese, even among kanji); else None."""
    if KANA_RE.search(text):
        script = "Japanese kana"
    elif HAN_RE.search(text):
        script = "Chinese characters"
    else:
        return None
    readers = _READERS[script]
    return None if lang in readers else (script, readers[0])
