"""``tui-speech speak``: synthesize text with Kokoro, to a file, a WAV stream or the speakers."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tui_speech.commands._common import info, read_text_arg, warn


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "speak",
        help="synthesize speech from text",
        description="Synthesize TEXT with Kokoro. With no -o, plays it on the default device.",
    )
    p.add_argument("text", metavar="TEXT", help="the text to speak, or - to read standard input")
    p.add_argument(
        "-o", "--output", metavar="OUT",
        help="write OUT (.wav, .flac or .ogg at 24 kHz), or - for a WAV stream on stdout",
    )  # fmt: skip
    p.add_argument("--lang", default="en-us", help="language (en-us, en-gb, zh, es, fr, ...)")
    p.add_argument(
        "--voice", help="a voice name or a weighted blend like jf_alpha:0.7,jm_kumo:0.3"
    )
    p.add_argument("--speed", type=float, default=1.0, help="0.5 to 2.0 (default 1.0)")
    p.add_argument("--phonemes", action="store_true", help="TEXT is phonemes: skip G2P")
    p.add_argument("--backend", choices=("onnx", "torch"), default="onnx")
    p.add_argument("--model", help="a Kokoro model path (ONNX file, or a torch model folder)")
    return p


def run(args: argparse.Namespace) -> int:
    from tui_speech.tts.pipeline import Pipeline

    text = read_text_arg(args.text)
    pipeline = Pipeline(args.lang, args.voice, args.speed, args.backend, args.model)
    output = args.output
    if output not in (None, "-"):
        from tui_speech.audio.io import check_writable

        check_writable(Path(output))
    player = None
    if output is None:
        from tui_speech.audio.playback import Player

        player = Player()  # fails now, with a hint, when there is no device

    chunks = pipeline(text, is_phonemes=args.phonemes)
    # Synthesize the first chunk before opening any output: an error (nothing to say, bad
    # model) then leaves no half-written file and no WAV header without audio.
    first = next(chunks)
    seen_warnings: set[str] = set()

    def each_chunk():
        for chunk in (first, *()):
            yield chunk
        yield from chunks

    total = 0.0
    if output == "-":
        from tui_speech.audio.io import WavStreamWriter

        writer = WavStreamWriter(sys.stdout.buffer, first.sample_rate)
        for chunk in each_chunk():
            _warn_once(chunk.warnings, seen_warnings)
            writer.write(chunk.audio)
            total += chunk.duration
        return 0
    if output is not None:
        from tui_speech.audio.io import AudioFileWriter

        with AudioFileWriter(Path(output), first.sample_rate) as file_writer:
            for chunk in each_chunk():
                _warn_once(chunk.warnings, seen_warnings)
                file_writer.write(chunk.audio)
                total += chunk.duration
        info(f"wrote {output} ({total:.1f} s)")
        return 0
    assert player is not None
    try:
        for chunk in each_chunk():
            _warn_once(chunk.warnings, seen_warnings)
            player.play_chunk(chunk.audio, chunk.sample_rate)
        player.wait()
        if player.error:
            raise player.error
    finally:
        player.close()
    return 0


def _warn_once(warnings: tuple[str, ...], seen: set[str]) -> None:
    for message in warnings:
        if message not in seen:
            seen.add(message)
            warn(message)
