"""The tui-speech Textual app: Listen, Speak and Models panes, themes, help and palette.

Start-up imports only Textual and the light parts of the core (no numpy, torch, onnxruntime,
spaCy or PortAudio); models, G2P and audio libraries load in workers when a pane first needs
them, and the background look-ups (audio device, model store) wait for the first frame.
"""

from __future__ import annotations

import sys
import time

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header, TabbedContent, TabPane

from tui_speech.audio.pipe import PipedAudio
from tui_speech.errors import AudioDeviceError
from tui_speech.tui.errors import describe_error, log_unexpected
from tui_speech.tui.help import HelpScreen
from tui_speech.tui.keymap import AppKeysFirstScreen, KeyAction
from tui_speech.tui.listen import ListenPane
from tui_speech.tui.messages import ErrorRaised, StatusInfo
from tui_speech.tui.models import ModelsPane
from tui_speech.tui.palette import ActionsProvider
from tui_speech.tui.speak.pane import SpeakPane
from tui_speech.tui.state import load_settings, save_settings
from tui_speech.tui.themes import DEFAULT_THEME, derived_variables, load_themes

#: The same message again within this many seconds is not shown twice (e.g. a G2P error that
#: every pause in typing would repeat).
REPEAT_WINDOW_S = 5.0


class SpeechApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "tui-speech"
    COMMANDS = App.COMMANDS | {ActionsProvider}
    PANES = (
        ("listen", "Listen", ListenPane),
        ("speak", "Speak", SpeakPane),
        ("models", "Models", ModelsPane),
    )
    BINDINGS = [
        Binding("f1", "help", "Help"),
        Binding("f2", "show_pane('listen')", "Listen", priority=True),
        Binding("f3", "show_pane('speak')", "Speak", priority=True),
        Binding("f4", "show_pane('models')", "Models", priority=True),
        Binding("f10", "next_theme", "Theme", show=False),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    def __init__(
        self,
        check_audio: bool = True,
        piped: PipedAudio | None = None,
        terminal_fd: int | None = None,
    ) -> None:
        super().__init__()
        #: The terminal the app draws on, watched so the app quits when it hangs up.
        self._terminal_fd = terminal_fd
        self.settings = load_settings()
        #: Audio piped into stdin (the Listen pane offers it as a source); None on a terminal.
        self.piped = piped
        self._check_audio = check_audio
        self._last_error: tuple[str, float] = ("", 0.0)
        # The TTS variant is known once Speak loads its engine (int8 unless an export is faster).
        self.status = {"tts": "Kokoro-82M", "asr": "none", "audio": "…"}
        loaded = load_themes()
        for theme in loaded.themes:
            self.register_theme(theme)
        self._theme_problems = loaded.problems
        known = self.settings.theme in self.available_themes
        self.theme = self.settings.theme if known else DEFAULT_THEME

    def get_css_variables(self) -> dict[str, str]:
        # Textual's own themes lack the speech colours: derive them, so any theme works.
        variables = super().get_css_variables()
        variables = {**derived_variables(self.current_theme), **variables}
        self.theme_variables = variables
        return variables

    def get_default_screen(self) -> Screen:
        # Its footer shows help, the pane keys and quit first: they must fit in 80 columns.
        return AppKeysFirstScreen(id="_default")

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(initial="speak", id="panes"):
            keys = {"listen": "F2", "speak": "F3", "models": "F4"}
            for pane_id, title, pane_type in self.PANES:
                with TabPane(f"{keys[pane_id]} {title}", id=pane_id):
                    if pane_type in (SpeakPane, ListenPane):
                        yield pane_type(self.settings, id=f"{pane_id}-pane")
                    else:
                        yield pane_type(id=f"{pane_id}-pane")  # type: ignore[call-arg]
        yield Footer(compact=True)

    def on_mount(self) -> None:
        if self._terminal_fd is not None:
            from tui_speech.tui.terminal_watch import watch_terminal

            watch_terminal(self, self._terminal_fd)
        self.theme_changed_signal.subscribe(self, self._remember_theme)
        self._show_status()
        for problem in self._theme_problems:
            self.notify(problem, severity="warning", markup=False)
        self.query_one("#speak-editor").focus()
        if self.piped is not None:  # audio was piped in: the user came to listen to it
            self.call_after_refresh(self._switch_pane, "listen")
        if self._check_audio:
            # After the first frame: importing PortAudio would compete with it for the GIL.
            self.call_after_refresh(self._find_audio_device)
        else:
            self._set_audio(None, "?")

    # --- header ---------------------------------------------------------------------------------

    def _show_status(self) -> None:
        s = self.status
        self.sub_title = f"{s['tts']} · ASR {s['asr']} · audio {s['audio']}"

    def on_status_info(self, message: StatusInfo) -> None:
        self.status[message.key] = message.value
        self._show_status()

    @work(thread=True, group="audio-check", exit_on_error=False)
    def _find_audio_device(self) -> None:
        from tui_speech.audio.playback import default_output_device

        try:
            name = str(default_output_device().get("name", "default"))
        except AudioDeviceError as exc:
            self.call_from_thread(self._set_audio, exc.reason, "none")
            return
        self.call_from_thread(self._set_audio, None, name)

    def _set_audio(self, problem: str | None, label: str) -> None:
        self.status["audio"] = label
        self._show_status()
        self.main_screen.query_one(SpeakPane).set_audio_state(problem)
        self.main_screen.query_one(ListenPane).set_audio_state(problem)

    # --- errors: the one place they are shown ---------------------------------------------------

    def on_error_raised(self, message: ErrorRaised) -> None:
        self.show_error(message.error, message.where)

    def show_error(self, error: BaseException, where: str = "") -> None:
        log_unexpected(error, where)
        text = describe_error(error)
        now = time.monotonic()
        if self._last_error[0] == text and now - self._last_error[1] < REPEAT_WINDOW_S:
            return
        self._last_error = (text, now)
        self.notify(text, title="Error", severity="error", markup=False)

    # --- actions --------------------------------------------------------------------------------

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    @property
    def main_screen(self) -> Screen:
        """The screen holding the panes (queries on ``self`` would search a dialog on top)."""
        return self.screen_stack[0]

    async def action_show_pane(self, pane: str) -> None:
        # Help, and screens that say they may be left (fine-tuning when no run is going).
        if isinstance(self.screen, HelpScreen) or getattr(self.screen, "leave_on_pane_key", False):
            await self.pop_screen()
            # The resumed screen refocuses its last widget, which would switch the tab back.
            self.call_after_refresh(self._switch_pane, pane)
        elif self.screen is not self.main_screen:
            self.bell()  # a dialog is open: finish or cancel it first
        else:
            self._switch_pane(pane)

    def _switch_pane(self, pane: str) -> None:
        self.main_screen.query_one(TabbedContent).active = pane
        self._focus_pane(pane)

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id:
            self._focus_pane(event.pane.id)

    def _focus_pane(self, pane: str) -> None:
        main = self.main_screen
        if pane == "speak":
            main.query_one("#speak-editor").focus()
            main.query_one(SpeakPane).pane_shown()
        elif pane == "models":
            main.query_one("#models-table").focus()
            main.query_one(ModelsPane).action_refresh()
        else:
            main.query_one("#listen-transcript").focus()
            main.query_one(ListenPane).action_refresh()

    def action_next_theme(self) -> None:
        names = [t.name for t in load_themes().themes]
        current = names.index(self.theme) if self.theme in names else -1
        self.theme = names[(current + 1) % len(names)]

    def _remember_theme(self, theme: object) -> None:
        self.settings.theme = self.theme
        save_settings(self.settings)

    async def run_key_action(self, action: KeyAction) -> None:
        """Run an action chosen in the command palette, in its pane."""
        if action.pane is None:
            await self.run_action(action.action)
            return
        # The palette has only just closed: the main screen, resumed, refocuses the widget it
        # had before, which would switch back to its pane. Show the action's pane after that.
        self.call_after_refresh(self._run_in_pane, action)

    async def _run_in_pane(self, action: KeyAction) -> None:
        await self.action_show_pane(str(action.pane))
        # The pane's focus lands on the next refresh. An action that opens a screen must run
        # after it: the main screen remembers what had the focus when the screen opened, and
        # gives it back (with its tab) when the screen closes.
        pane = self.main_screen.query_one(f"#{action.pane}-pane")
        self.call_after_refresh(self.run_action, action.action, pane)


def run_app(piped: PipedAudio | None = None) -> int:
    """Run the TUI until the user quits; returns the exit code."""
    stdin = sys.__stdin__
    terminal = stdin.fileno() if stdin is not None and stdin.isatty() else None
    result = SpeechApp(piped=piped, terminal_fd=terminal).run()
    return int(result or 0)
