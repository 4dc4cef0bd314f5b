"""``tui-speech lexicon``: the pronunciation lexicon that drafts, speak and phonemize use."""

from __future__ import annotations

import argparse
import json

from tui_speech.commands._common import info


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "lexicon",
        help="add, remove or list pronunciations of words",
        description="The pronunciation lexicon (lexicon.txt in the config folder, editable by "
        "hand): English entries are Kokoro phonemes, Mandarin ones may be pinyin with tone "
        "numbers (银行 'yin2 hang2').",
    )
    actions = p.add_subparsers(dest="lexicon_action", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="add or replace a word's pronunciation")
    add.add_argument("word")
    add.add_argument("pronunciation", help="phonemes, or pinyin with tone numbers for --lang zh")
    add.add_argument("--lang", default="en-us", help="language of the entry (default en-us)")
    rm = actions.add_parser("rm", help="remove a word")
    rm.add_argument("word")
    rm.add_argument("--lang", default="en-us", help="language of the entry (default en-us)")
    ls = actions.add_parser("list", help="show the entries")
    ls.add_argument("--json", action="store_true", help="machine-readable list")
    ls.add_argument("--lang", help="only this language")
    return p


def run(args: argparse.Namespace) -> int:
    from tui_speech.tts import lexicon

    if args.lexicon_action == "add":
        entry = lexicon.add(args.word, args.pronunciation, args.lang)
        info(f"{entry.lang} {entry.word} = /{entry.phonemes}/ ({lexicon.lexicon_path()})")
        return 0
    if args.lexicon_action == "rm":
        lexicon.remove(args.word, args.lang)
        info(f"removed {args.word!r} from the {args.lang} lexicon")
        return 0
    from tui_speech.tts.g2p import normalise_language

    only = normalise_language(args.lang) if args.lang else None
    entries = [
        e for words in lexicon.load().values() for e in words.values() if only in (None, e.lang)
    ]
    if args.json:
        rows = [{"lang": e.lang, "word": e.word, "pronunciation": e.written,
                 "phonemes": e.phonemes} for e in entries]  # fmt: skip
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    for e in entries:
        shown = e.written if e.written == e.phonemes else f"{e.written}  /{e.phonemes}/"
        print(f"{e.lang:<6} {e.word:<16} {shown}")
    return 0
