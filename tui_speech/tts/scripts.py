"""Which writing system a text is in, so that text the chosen language cannot read is named.

English, Spanish and the other espeak-ng languages skip Chinese characters and kana as words
they have no pronunciation for; a user who typed Mandarin with the language left at English
would hear nothing. These patterns let G2P and the pipeline say which language reads it.
"""

from __future__ import annotations

import re

HAN_RE = re.compile(r"[\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")  # 〇 too
KANA_RE = re.compile(r"[\u3041-\u309f\u30a0-\u30ff\u31f0-\u31ff]")

#: Languages that read each script (Japanese reads kanji as well as kana).
_READERS = {"Chinese characters": ("zh", "ja"), "Japanese kana": ("ja",)}


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
