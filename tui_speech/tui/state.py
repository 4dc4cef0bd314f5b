"""What the TUI remembers between runs: settings (``tui.json``) and the Speak draft.

Both are written atomically, so a crash mid-write never leaves a broken file; a broken or
missing file gives defaults (the app must start even if the user edited the file by hand).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from tui_speech.config import get_paths
from tui_speech.fileio import atomic_write_text

SETTINGS_FILE = "tui.json"
DRAFT_FILE = "speak.txt"


@dataclass
class Settings:
    theme: str = "tui-speech-dark"
    lang: str = "en-us"
    voice: str = ""  # "" = the language's default voice
    speed: float = 1.0
    threshold: float = 0.6  # Listen: characters below this confidence are flagged


def settings_path() -> Path:
    return get_paths().config / SETTINGS_FILE


def load_settings() -> Settings:
    try:
        data = json.loads(settings_path().read_text("utf-8"))
    except (OSError, ValueError):
        return Settings()
    if not isinstance(data, dict):
        return Settings()
    defaults = Settings()
    values = {}
    for f in fields(Settings):
        value = data.get(f.name, getattr(defaults, f.name))
        # Keep the default for a value of the wrong type rather than failing later.
        expected = type(getattr(defaults, f.name))
        if expected is float and isinstance(value, int):
            value = float(value)
        values[f.name] = value if isinstance(value, expected) else getattr(defaults, f.name)
    return Settings(**values)


def save_settings(settings: Settings) -> None:
    atomic_write_text(settings_path(), json.dumps(asdict(settings), indent=2) + "\n")


def draft_path() -> Path:
    return get_paths().drafts / DRAFT_FILE


def load_draft() -> str:
    try:
        return draft_path().read_text("utf-8")
    except OSError:
        return ""


def save_draft(text: str) -> None:
    atomic_write_text(draft_path(), text)
