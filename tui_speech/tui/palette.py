"""The command palette provider: every app and pane action, with its key."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from tui_speech.tui.keymap import KeyAction, key_actions


class ActionsProvider(Provider):
    """Lists every runnable action; choosing one shows its pane first, then runs it."""

    def _actions(self) -> list[KeyAction]:
        return [a for a in key_actions(self.app) if a.runnable and a.action != "command_palette"]

    @staticmethod
    def _label(action: KeyAction) -> str:
        return f"{action.scope}: {action.description}"

    async def _run(self, action: KeyAction) -> None:
        runner = getattr(self.app, "run_key_action", None)
        if runner is not None:
            await runner(action)
        else:
            await self.app.run_action(action.action)

    async def discover(self) -> Hits:
        for action in self._actions():
            yield DiscoveryHit(
                self._label(action), partial(self._run, action), help=f"key: {action.key}"
            )

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for action in self._actions():
            label = self._label(action)
            score = matcher.match(f"{label} {action.key}")
            if score > 0:
                yield Hit(
                    score, matcher.highlight(label), partial(self._run, action),
                    help=f"key: {action.key}",
                )  # fmt: skip
