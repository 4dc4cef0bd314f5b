"""Start-up stays light: --help imports no heavy library, and no core module imports one (nor
textual) when it is imported."""

from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from tui_speech.cli import COMMAND_MODULES

HEAVY = ("torch", "transformers", "onnxruntime", "spacy", "misaki", "textual", "numpy")
#: Loaded at first use, never by importing a core module (numpy is the core's own currency).
LAZY = ("torch", "transformers", "onnxruntime", "spacy", "misaki", "textual")
CORE_PACKAGES = ("asr", "tts", "hub", "audio")
CORE_MODULES = ("config", "errors", "fileio")


def _modules_after(code: str) -> set[str]:
    probe = code + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, cwd=ROOT, check=True, timeout=60
    ).stdout
    return set(json.loads(out.decode().splitlines()[-1]))


@pytest.mark.parametrize("command", [[]] + [[name] for name in COMMAND_MODULES])
def test_help_imports_no_heavy_library(command: list[str]):
    code = (
        "import contextlib, io\n"
        "from tui_speech.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n"
        f"        main({command + ['--help']!r})\n"
        "    except SystemExit:\n"
        "        pass"
    )
    loaded = _modules_after(code)
    assert not {m for m in loaded if m.split(".")[0] in HEAVY}


def _core_modules() -> list[str]:
    """Every module of the core, found by walking its packages (so a new one is covered too)."""
    names = [f"tui_speech.{m}" for m in CORE_MODULES]
    for pkg in CORE_PACKAGES:
        package = importlib.import_module(f"tui_speech.{pkg}")
        names.append(package.__name__)
        names += [m.name for m in pkgutil.walk_packages(package.__path__, package.__name__ + ".")]
    return names


def test_the_walk_finds_every_core_file():
    files = {
        ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for pkg in CORE_PACKAGES
        for p in (ROOT / "tui_speech" / pkg).rglob("*.py")
    }
    assert files | {f"tui_speech.{m}" for m in CORE_MODULES} == set(_core_modules())


def test_importing_any_core_module_loads_no_heavy_library():
    """What a core module imports at module level is what the TUI and --help pay at start-up.
    (The CLI's entry module comes along: it must not pull Textual in either.)"""
    names = _core_modules() + ["tui_speech.cli"]
    loaded = _modules_after("\n".join(f"import {name}" for name in names))
    assert set(names) <= loaded
    assert sorted(m for m in loaded if m.split(".")[0] in LAZY) == []


def test_help_lists_the_commands():
    out = subprocess.run(
        [sys.executable, "-m", "tui_speech", "--help"], capture_output=True, cwd=ROOT, timeout=60
    )
    assert out.returncode == 0
    for name in ("speak", "phonemize", "voices"):
        assert name in out.stdout.decode()
