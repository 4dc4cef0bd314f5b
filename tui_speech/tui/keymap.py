"""Every key action of the app in one list, for the help screen and the command palette.

Both are built from the ``BINDINGS`` of the app and of each pane, so an action cannot be
missing from either: adding a binding adds it to the footer, the help screen and the palette.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.binding import Binding

if TYPE_CHECKING:
    from textual.app import App
    from textual.dom import DOMNode


@dataclass(frozen=True)
class KeyAction:
    scope: str  # "App" or a pane title
    key: str  # spelled out, e.g. "ctrl+s"
    description: str
    action: str
    pane: str | None  # the pane id to show before running the action, None for app actions
    runnable: bool = True  # False for keys that only make sense inside a widget (help only)


def _bindings(node_type: type[DOMNode]) -> Iterator[Binding]:
    for binding in node_type.BINDINGS:
        if isinstance(binding, Binding) and binding.description:
            yield binding


def key_text(binding: Binding) -> str:
    """Keys spelled out ("ctrl+q", "f5 / ctrl+r"): the footer's "^q" is terse for a reference."""
    return " / ".join(k.strip() for k in binding.key.split(","))


def key_actions(app: App) -> list[KeyAction]:
    """The app's actions, then each pane's, then keys of widgets inside panes (help only)."""
    actions = [
        KeyAction("App", key_text(b), b.description, b.action, None) for b in _bindings(type(app))
    ]
    actions.append(KeyAction("App", "ctrl+p", "Command palette", "command_palette", None))
    for pane_id, title, pane_type in getattr(app, "PANES", ()):
        for binding in _bindings(pane_type):
            key = key_text(binding)
            actions.append(KeyAction(title, key, binding.description, binding.action, pane_id))
        for widget_type in getattr(pane_type, "HELP_WIDGETS", ()):
            for binding in _bindings(widget_type):
                key = key_text(binding)
                scope = f"{title} › {widget_type.HELP_TITLE}"
                actions.append(
                    KeyAction(scope, key, binding.description, binding.action, pane_id, False)
                )
    return actions
