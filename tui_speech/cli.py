"""The headless ``tui-speech`` command.

Each subcommand lives in ``tui_speech/commands/<name>.py`` with two functions:
``add_parser(subparsers)`` declares its arguments and ``run(args) -> int`` does the work.
Command modules import only the standard library at module level, so ``--help`` stays fast;
heavy libraries load inside ``run``.

User errors (``TuiSpeechError``) print one line to stderr and exit non-zero, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from tui_speech import __version__
from tui_speech.errors import TuiSpeechError

#: Subcommand modules, in the order ``--help`` lists them.
COMMAND_MODULES = (
    "speak",
    "phonemize",
    "voices",
    "models",
    "transcribe",
    "embed",
    "dataset",
    "finetune",
    "evaluate",
    "listen",
    "sessions",
    "devices",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tui-speech",
        description="A terminal workstation for speech. With no command, opens the TUI.",
    )
    parser.add_argument("--version", action="version", version=f"tui-speech {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"tui_speech.commands.{name}")
        sub = module.add_parser(subparsers)
        sub.set_defaults(handler=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command is None:
            from tui_speech.tui.app import run_app

            return run_app()
        return int(args.handler(args) or 0)
    except TuiSpeechError as exc:
        print(f"tui-speech: error: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("tui-speech: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): not an error worth a traceback.
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
