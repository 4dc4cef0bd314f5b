"""Start-up stays light: --help imports no heavy library, and the core never imports textual."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT

HEAVY = ("torch", "transformers", "onnxruntime", "spacy", "misaki", "textual", "numpy")


def _modules_after(code: str) -> set[str]:
    probe = code + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, cwd=ROOT, check=True, timeout=60
    ).stdout
    return set(json.loads(out.decode().splitlines()[-1]))


@pytest.mark.parametrize("command", [[], ["speak"], ["phonemize"], ["voices"]])
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


def test_the_core_never_imports_textual():
    code = "\n".join(
        f"import tui_speech.{m}"
        for m in ("config", "errors", "fileio", "tts.g2p", "tts.voices", "tts.pipeline",
                  "tts.engine", "hub.embedded", "audio.io", "audio.playback", "cli")
    )  # fmt: skip
    assert "textual" not in _modules_after(code)


def test_help_lists_the_commands():
    out = subprocess.run(
        [sys.executable, "-m", "tui_speech", "--help"], capture_output=True, cwd=ROOT, timeout=60
    )
    assert out.returncode == 0
    for name in ("speak", "phonemize", "voices"):
        assert name in out.stdout.decode()
