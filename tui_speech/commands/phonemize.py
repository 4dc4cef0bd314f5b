"""``tui-speech phonemize``: show the phonemes Kokoro will read for a text."""

from __future__ import annotations

import argparse
import json

from tui_speech.commands._common import read_text_arg, warn


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "phonemize",
        help="print the phonemes for a text",
        description="Print the phonemes Kokoro will read for TEXT.",
    )
    p.add_argument("text", metavar="TEXT", help="the text, or - to read standard input")
    p.add_argument("--lang", default="en-us", help="language (en-us, en-gb, zh, es, fr, ...)")
    p.add_argument(
        "--json", action="store_true", help="tokens, phonemes and the out-of-vocabulary report"
    )
    return p


def run(args: argparse.Namespace) -> int:
    from tui_speech.errors import UsageError
    from tui_speech.tts.g2p import phonemize

    text = read_text_arg(args.text)
    if not text.strip():
        raise UsageError("nothing to phonemize: the text is empty")
    result = phonemize(text, args.lang)
    if args.json:
        print(json.dumps({
            "text": result.text,
            "lang": result.lang,
            "phonemes": result.phonemes,
            "tokens": [
                {"grapheme": t.grapheme, "phonemes": t.phonemes, "whitespace": t.whitespace,
                 "known": t.known, "override": t.override, "lexicon": t.lexicon}
                for t in result.tokens
            ],
            "out_of_vocab": list(result.out_of_vocab),
            "unknown_words": list(result.unknown_words),
            "warnings": list(result.warnings),
        }, ensure_ascii=False, indent=2))  # fmt: skip
        return 0
    for message in result.warnings:
        warn(message)
    print(result.phonemes)
    return 0
