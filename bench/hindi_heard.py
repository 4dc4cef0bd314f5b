"""What a listener hears of our Hindi: eight sentences through the pipeline, then Whisper base.

    .venv/bin/python bench/hindi_heard.py
    PYTHONPATH=/tmp/old .venv/bin/python bench/hindi_heard.py   # another tree, to compare

Whisper base hears Hindi poorly and often writes it in Latin or Urdu script, so a character
error rate against the Devanagari text says little (it is printed, but read the transcripts):
the point is whether the sentence is heard at all. Same listener settings as
``bench/intelligibility.py`` (language fixed, beam 5, temperature 0).
"""

from __future__ import annotations

import os
import re
import sys
import unicodedata
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from intelligibility import Listener, edit_distance, to_listener_rate  # noqa: E402

SENTENCES = [
    "जब शाम को बारिश रुकी, तो बच्चे बगीचे में खेलने के लिए बाहर निकल आए।",
    "उनकी माँ ने खिड़की से देखा और मुस्कुराई।",
    "मेरा भाई हर सुबह सात बजे उठता है और दौड़ने जाता है।",
    "यह किताब बहुत अच्छी है, मैंने इसे दो दिन में पढ़ लिया।",
    "कल हम दिल्ली जाएंगे और अपने दोस्तों से मिलेंगे।",
    "लड़का पेड़ के नीचे बैठकर अख़बार पढ़ रहा था।",
    "आज मौसम साफ़ है, लेकिन शाम को ठंड बढ़ सकती है।",
    "कृपया दरवाज़ा बंद कर दीजिए, बाहर बहुत शोर है।",
]


def units(text: str) -> list[str]:
    return list(re.sub(r"[\s.,!?।॥\"'“”:;\-]", "", unicodedata.normalize("NFC", text)))


def main() -> None:
    os.environ.setdefault("TUI_SPEECH_TUNE", "0")
    import tui_speech
    from tui_speech.tts.engine import default_threads
    from tui_speech.tts.pipeline import Pipeline
    from tui_speech.tts.tuning import simd_flags

    print(f"# tui_speech from {Path(tui_speech.__file__).parent}; CPU flags: {simd_flags()}")
    listener = Listener(default_threads())
    pipeline = Pipeline("hi")
    edits = total = 0
    for text in SENTENCES:
        audio = np.concatenate([c.audio for c in pipeline(text)])
        heard = listener(to_listener_rate(audio, 24_000), "hi")
        e, n = edit_distance(units(text), units(heard)), len(units(text))
        edits, total = edits + e, total + n
        print(f"{e / n:5.2f}  {text}\n       heard: {heard}")
    print(f"CER pooled {edits / total:.3f} (Devanagari characters; see the docstring)")


if __name__ == "__main__":
    main()
