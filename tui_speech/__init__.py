"""tui-speech: a terminal workstation for speech."""

__version__ = "0.1.0"
