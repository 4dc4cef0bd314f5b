"""Reading back a transcript saved as JSON (``tui_speech.asr.formats.to_json``), so the Listen
pane can reopen a past session: the characters with their confidences and alternatives, and
the audio for replay when the source file is still where it was.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tui_speech.errors import UsageError


def transcript_from_json(text: str, where: str = "the file") -> Any:
    """A ``Transcript`` from the JSON the app exports; UsageError for anything else."""
    from tui_speech.asr.ctc import CharResult
    from tui_speech.asr.recognizer import Transcript

    try:
        data = json.loads(text)
        chars = tuple(
            CharResult(
                str(c["char"]),
                float(c["t0"]),
                float(c["t1"]),
                float(c["confidence"]),
                float(c["min_confidence"]),
                tuple((str(a), float(p)) for a, p in c.get("alternatives", [])),
            )  # fmt: skip
            for c in data["chars"]
        )
        return Transcript(
            text=str(data.get("text", "".join(c.char for c in chars))),
            chars=chars,
            duration=float(data.get("duration", chars[-1].t1 if chars else 0.0)),
            model=str(data.get("model", "")),
            language=str(data.get("language", "zh-CN")),
            source=str(data.get("source", "")),
        )
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        raise UsageError(
            f"{where} is not a transcript saved by tui-speech (JSON with chars): {exc}"
        ) from None


def load_session(path: Path) -> tuple[Any, Any]:
    """(transcript, 16 kHz samples or None when the source audio is gone)."""
    from tui_speech.audio.reader import read_audio

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    transcript = transcript_from_json(text, str(path))
    source = Path(transcript.source) if transcript.source else None
    samples = read_audio(source) if source is not None and source.is_file() else None
    return transcript, samples
