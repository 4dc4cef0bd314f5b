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
#: ``TUI_SPEECH_EXPORT=0``: ``transcribe`` never builds a model's ONNX export on first use
#: (the setting behind ``--no-export``; an export already there is still used).
EXPORT_ENV = "TUI_SPEECH_EXPORT"


def auto_export() -> bool:
    """Whether ``transcribe`` may build a model's ONNX export on first use."""
    return os.environ.get(EXPORT_ENV, "1").strip().lower() not in ("0", "no", "false", "off")


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


# --- Listen settings ----------------------------------------------------------------------------

LISTEN_SETTINGS_FILE = "listen.toml"
#: Choices of the string settings (the CLI's flags offer the same).
LISTEN_CHOICES = {
    "backend": ("auto", "torch", "onnx"),
    "precision": ("fp32", "bf16", "int8", "fp16"),
    "draft": ("auto", "off"),
    # How heard characters are written (tui_speech.asr.written, the CLI's --punct/--script).
    "punct": ("auto", "none"),
    "script": ("simplified", "traditional", "tw", "hk"),
}


@dataclass(frozen=True)
class ListenSettings:
    """How a live session listens: the options of ``tui-speech listen``, and what the Listen
    pane reads from ``listen.toml`` in the config folder (a key per field, same names).

    The one place their defaults live: the CLI's flags take theirs from here. Out-of-range
    values are refused with a :class:`~tui_speech.errors.UsageError` when the settings are made.
    """

    model: str = ""
    """Repo id or folder of the ASR model; "" = the default model if stored, else the first
    stored ASR model (``tui_speech.asr.model.default_model``)."""
    backend: str = "auto"
    """auto (ONNX when exported, else PyTorch), torch or onnx."""
    precision: str = "fp32"
    """Precision of the finals: fp32, bf16 (PyTorch), int8 or fp16 (ONNX variants)."""
    draft: str = "auto"
    """auto: partials on the model's int8 ONNX variant where it is measured faster on this CPU
    (once, remembered); off: on ``precision``."""
    compute_budget: float = 1.5
    """Model time at most this many times an offline pass over the heard audio; 0 = no limit."""
    threads: int = 0
    """CPU threads for the model; 0 = all."""
    record: bool = False
    """Keep the session's audio (FLAC) beside its transcript."""
    vad: bool = True
    """Drop silence before the model (silero-vad); off sends everything, silence too."""
    vad_threshold: float = 0.5
    """Speech probability above which a frame is speech."""
    min_silence: float = 0.5
    """Seconds of pause that end an utterance."""
    vad_pad: float = 0.2
    """Seconds of audio kept either side of speech."""
    window: float = 8.0
    """Seconds of audio a partial decodes at most."""
    stable: int = 2
    """Partials a character must come out the same in before it is committed."""
    partial_every: float = 0.25
    """Seconds of new speech between partials; larger costs less compute."""
    max_utterance: float = 30.0
    """An utterance this long without a pause is cut (seconds)."""
    queue: int = 64
    """Capture queue length, in 0.1 s blocks; a live source drops blocks beyond it."""
    punct: str = "auto"
    """auto: "，" at pauses, "。" or "？" at the end of each utterance; none: as heard."""
    itn: bool = False
    """Numbers, dates, times, money and percentages written in digits (二百五十六 -> 256)."""
    script: str = "simplified"
    """Script of the written text: simplified (as heard), traditional, tw or hk."""
    hotwords: str = ""
    """Hotwords file (one term per line, optionally ``term<TAB>weight``) the search is biased
    towards; "" = ``hotwords.txt`` in the config folder (the Listen pane's list) if it exists."""

    def __post_init__(self) -> None:
        from tui_speech.errors import UsageError

        for key, choices in LISTEN_CHOICES.items():
            if getattr(self, key) not in choices:
                raise UsageError(
                    f"{key} must be one of {', '.join(choices)}, not {getattr(self, key)!r}"
                )
        problems = [
            ("compute_budget", self.compute_budget != 0 and self.compute_budget < 1,
             "at least 1 (the finals alone cost 1x), or 0 for no limit"),
            ("threads", self.threads < 0, "0 (all) or more"),
            ("window", self.window < 1, "at least 1 s"),
            ("stable", self.stable < 1, "at least 1"),
            ("partial_every", self.partial_every <= 0, "more than 0 s"),
            ("max_utterance", self.max_utterance < 2, "at least 2 s"),
            ("queue", self.queue < 1, "at least 1"),
        ]  # fmt: skip
        for key, bad, rule in problems:
            if bad:
                raise UsageError(f"{key} must be {rule}, not {getattr(self, key)}")


def listen_settings_path() -> Path:
    return get_paths().config / LISTEN_SETTINGS_FILE


HOTWORDS_FILE = "hotwords.txt"


def hotwords_path() -> Path:
    """The hotwords list the Listen pane edits, used by live sessions without ``hotwords``."""
    return get_paths().config / HOTWORDS_FILE


def load_listen_settings() -> ListenSettings:
    """The Listen settings from ``listen.toml``; defaults when there is no file.

    Unlike the TUI's remembered state, this file is written by hand, so a mistake in it (a
    typo'd key, a value of the wrong type or range) is reported rather than silently ignored.
    """
    import tomllib
    from dataclasses import fields

    from tui_speech.errors import UsageError

    path = listen_settings_path()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return ListenSettings()
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"{path} is not readable TOML: {exc}") from None
    known = {f.name: f for f in fields(ListenSettings)}
    defaults = ListenSettings()
    values = {}
    for key, value in data.items():
        if key not in known:
            raise UsageError(f"{path}: unknown setting {key!r}; known: {', '.join(known)}")
        expected = type(getattr(defaults, key))
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise UsageError(f"{path}: {key} must be a {expected.__name__}, not {value!r}")
        values[key] = value
    try:
        return ListenSettings(**values)
    except UsageError as exc:
        raise UsageError(f"{path}: {exc.message}") from None
