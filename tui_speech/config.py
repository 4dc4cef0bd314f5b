"""Where tui-speech keeps its files.

Locations follow the platform's conventions (platformdirs). Setting ``TUI_SPEECH_HOME`` moves
every directory under that one folder, which keeps tests hermetic and allows portable installs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "tui-speech"
HOME_ENV = "TUI_SPEECH_HOME"


@dataclass(frozen=True)
class Paths:
    """The directories the app writes to; created on first use, not at import."""

    config: Path
    cache: Path
    data: Path

    @property
    def models(self) -> Path:
        """The model store: one folder per model id."""
        return self.cache / "models"

    @property
    def sessions(self) -> Path:
        """Live transcription sessions (JSONL + optional FLAC)."""
        return self.data / "sessions"

    @property
    def voices(self) -> Path:
        """Saved voice blends (one .npy per named blend)."""
        return self.data / "voices"

    @property
    def drafts(self) -> Path:
        """Autosaved Speak-pane drafts."""
        return self.data / "drafts"

    @property
    def themes(self) -> Path:
        """User themes, loaded next to the built-in ones."""
        return self.config / "themes"


def get_paths() -> Paths:
    """Resolve the directories now (the environment may change between calls in tests)."""
    home = os.environ.get(HOME_ENV)
    if home:
        root = Path(home).expanduser().resolve()
        return Paths(config=root / "config", cache=root / "cache", data=root / "data")
    import platformdirs

    return Paths(
        config=Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
        cache=Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)),
        data=Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
    )


def ensure_dir(path: Path) -> Path:
    """Create ``path`` (and parents) if needed and return it."""
    path.mkdir(parents=True, exist_ok=True)
    return path
