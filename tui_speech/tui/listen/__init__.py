"""The Listen pane and its screens.

- ``pane``: :class:`ListenPane` (files, live sessions through ``tui_speech.asr.live``, review);
- ``source_picker``: F8's list of what to listen to;
- ``sessions_browser``: F9's list of past sessions (the files ``tui_speech.asr.sessions``
  writes; ``tui-speech sessions`` is the CLI's view of the same).
"""

from tui_speech.tui.listen.pane import ListenPane

__all__ = ["ListenPane"]
