"""The headless ``tui-speech`` command.

Each subcommand lives in ``tui_speech/commands/<name>.py`` with two functions:
``add_parser(subparsers)`` declares its arguments and ``run(args) -> int`` does the work.
Command modules import only the standard library at module level, so ``--help`` stays fast;
heavy libraries load inside ``run``.

User errors (``TuiSpeechError``) print one line to stderr (reason; hint in the CLI's words) and
exit non-zero, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from tui_speech import __version__
from tui_speech.audio.rates import ASR_RATE
from tui_speech.commands._common import print_error
from tui_speech.errors import TuiSpeechError, UsageError

#: Subcommand modules, in the order ``--help`` lists them.
COMMAND_MODULES = (
    "speak",
    "phonemize",
    "lexicon",
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
    piped = parser.add_argument_group(
        "audio piped into the TUI (arecord -f S16_LE -r 16000 -c 1 -t raw | tui-speech)"
    )
    piped.add_argument(
        "--pcm", dest="tui_pcm", choices=("s16le", "f32le", "s32le"), default="s16le",
        help="raw format of piped audio (s16le); a WAV stream is detected by its header",
    )  # fmt: skip
    piped.add_argument("--rate", dest="tui_rate", type=int, default=ASR_RATE, help="(%(default)s)")
    piped.add_argument("--channels", dest="tui_channels", type=int, default=1, help="(1)")
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
        raw = (args.tui_pcm, args.tui_rate, args.tui_channels)
        if args.command is None:
            from tui_speech.audio.pipe import detach_piped_stdin

            piped = detach_piped_stdin(*raw)  # before Textual starts reading keys from fd 0
            if piped is None and raw != ("s16le", ASR_RATE, 1):
                raise UsageError("--pcm, --rate and --channels describe audio piped in; none is")
            from tui_speech.tui.app import run_app

            return run_app(piped)
        if raw != ("s16le", ASR_RATE, 1):
            raise UsageError(
                f"--pcm, --rate and --channels before a command describe audio piped into the "
                f"TUI; put them after `{args.command}`"
            )
        return int(args.handler(args) or 0)
    except TuiSpeechError as exc:
        print_error(exc)
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
