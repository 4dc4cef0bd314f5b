"""``tui-speech voices``: list voices; ``voices save NAME BLEND`` stores a blend as a voice."""

from __future__ import annotations

import argparse
import json

from tui_speech.commands._common import info


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "voices",
        help="list voices, or save a blend as a named voice",
        description="List the voices (embedded, in the model store, saved blends). "
        "`voices save NAME BLEND` saves a weighted blend like jf_alpha:0.7,jm_kumo:0.3.",
    )
    p.add_argument("--json", action="store_true", help="machine-readable list")
    actions = p.add_subparsers(dest="voices_action", metavar="ACTION")
    save = actions.add_parser("save", help="save a blend under a name")
    save.add_argument("name")
    save.add_argument("blend", help="e.g. jf_alpha:0.7,jm_kumo:0.3")
    return p


def run(args: argparse.Namespace) -> int:
    from tui_speech.tts.voices import list_voices, save_blend

    if args.voices_action == "save":
        path = save_blend(args.name, args.blend)
        info(f"saved voice {args.name!r} ({path})")
        return 0
    voices = list_voices()
    if args.json:
        print(json.dumps([v.__dict__ for v in voices], indent=2))
        return 0
    for v in voices:
        extra = f"  {v.detail}" if v.source == "blend" and v.detail else ""
        print(f"{v.name:<16} {v.source:<9} {v.language:<6} {v.gender:<7}{extra}")
    return 0
