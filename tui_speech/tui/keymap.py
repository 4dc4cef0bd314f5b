"""Every key action of the app in one list, for the help screen and the command palette.

Both are built from the ``BINDINGS`` of the app and of each pane, so an action cannot be
missing from either: adding a binding adds it to the footer, the help screen and the palette.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.binding import ActiveBinding, Binding
from textual.screen import Screen

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


def app_keys_first(app: App, bindings: dict[str, ActiveBinding]) -> dict[str, ActiveBinding]:
    """``bindings`` with the app's own keys first, in the order the app declares them.

    The footer lays keys out in this order and cuts what does not fit; the focused widget's keys
    come first by default, which at 80 columns pushed help, the pane keys and quit off screen.
    """
    declared = [b.action for b in type(app).BINDINGS if isinstance(b, Binding)]

    def rank(item: tuple[int, tuple[str, ActiveBinding]]) -> tuple[int, int]:
        position, (_key, active) = item
        if active.node is app and active.binding.action in declared:
            return (0, declared.index(active.binding.action))
        return (1, position)

    ordered = sorted(enumerate(bindings.items()), key=rank)
    return dict(item for _position, item in ordered)


class AppKeysFirstScreen(Screen[None]):
    """A screen whose footer shows the app's keys (help, panes, quit) before the pane's own."""

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        return app_keys_first(self.app, super().active_bindings)
