"""Helpers for the TUI tests: an app that does not probe the audio device, and waiting helpers."""

from __future__ import annotations

import asyncio
import inspect

import pytest

from tui_speech.tui.app import SpeechApp


@pytest.fixture
def make_app():
    """A SpeechApp that does not look for an audio device (the machine's devices vary)."""

    def make() -> SpeechApp:
        return SpeechApp(check_audio=False)

    return make


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run ``async def`` tests in a fresh event loop (no async plugin is a dev dependency)."""
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    names = pyfuncitem._fixtureinfo.argnames
    kwargs = {name: pyfuncitem.funcargs[name] for name in names}
    asyncio.run(pyfuncitem.obj(**kwargs))
    return True
