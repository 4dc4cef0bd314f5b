"""``tui-speech speak``: synthesize text with Kokoro, to a file, a WAV stream or the speakers."""

from __future__ import annotations

import argparse
import itertools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from tui_speech.commands._common import info, read_text_arg, warn
from tui_speech.errors import UsageError

if TYPE_CHECKING:
    import numpy as np

    from tui_speech.audio.playback import Player
    from tui_speech.tts.captions import Timeline
    from tui_speech.tts.pipeline import SpeechChunk


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "speak",
        help="synthesize speech from text",
        description="Synthesize TEXT with Kokoro. With no -o, plays it on the default device.",
    )
    p.add_argument(
        "text", metavar="TEXT", nargs="?",
        help="the text to speak, or - to read standard input; [pause:1.5s] tags make silences",
    )  # fmt: skip
    p.add_argument(
        "--file", metavar="DRAFT",
        help="speak a draft file (.txt or .md) sentence by sentence; # headings are chapters",
    )  # fmt: skip
    p.add_argument(
        "-o", "--output", metavar="OUT",
        help="write OUT (.wav .flac .ogg .opus .mp3 at 24 kHz), or - for a WAV stream on stdout",
    )  # fmt: skip
    p.add_argument(
        "--chapters", action="store_true",
        help="with --file and -o: one file per # heading (OUT-01.opus, OUT-02.opus, ...)",
    )  # fmt: skip
    p.add_argument("--lang", default="en-us", help="language (en-us, en-gb, zh, es, fr, ...)")
    p.add_argument("--voice", help="a voice name or a weighted blend like jf_alpha:0.7,jm_kumo:0.3")
    p.add_argument("--speed", type=float, default=1.0, help="0.5 to 2.0 (default 1.0)")
    p.add_argument("--phonemes", action="store_true", help="TEXT is phonemes: skip G2P")
    p.add_argument("--backend", choices=("onnx", "torch"), default="onnx")
    p.add_argument("--model", help="a Kokoro model path (ONNX file, or a torch model folder)")
    p.add_argument(
        "--captions", metavar="FILE",
        help="also write word-timed captions: FILE.srt, .vtt or .json (words and cues)",
    )  # fmt: skip
    p.add_argument(
        "--caption-unit", choices=("word", "phrase"), default="phrase",
        help="one caption cue per word or per phrase (default phrase)",
    )  # fmt: skip
    p.add_argument(
        "--check", action="store_true",
        help="proof-listen (Mandarin): transcribe the take and list the characters heard "
        "differently or unsurely",
    )  # fmt: skip
    p.add_argument("--check-model", metavar="MODEL", help="the ASR model --check listens with")
    return p


def run(args: argparse.Namespace) -> int:
    from tui_speech.tts.pipeline import Pipeline

    if (args.text is None) == (args.file is None):
        raise UsageError("say what to speak: TEXT, - for standard input, or --file DRAFT")
    if args.chapters and (args.file is None or args.output in (None, "-")):
        raise UsageError("--chapters writes one file per heading: it needs --file and -o FILE")
    if args.file is not None and (args.captions or args.check):
        # Not silently dropped: a draft's sentence takes carry their timings, but the draft
        # renderer does not write captions or proof-listen yet.
        raise UsageError(
            "--captions and --check work with TEXT, not yet with --file",
            "pipe its text in instead: tui-speech speak - < DRAFT.txt",
        )
    if args.file is not None:
        return _speak_file(args)
    text = read_text_arg(args.text)
    if not text.strip():
        raise UsageError("nothing to say: the text is empty")
    pipeline = Pipeline(args.lang, args.voice, args.speed, args.backend, args.model)
    output = args.output
    if output not in (None, "-"):
        from tui_speech.audio.writer import check_writable

        check_writable(Path(output))
    timeline = _timeline_for(args)
    take: list[SpeechChunk] | None = [] if args.check else None
    # Open the device before synthesis, so "no device" is said at once, with a hint.
    sink: _Sink | None = _open_player() if output is None else None
    try:
        chunks = pipeline(text, is_phonemes=args.phonemes)
        # Synthesize the first chunk before opening any file: an error (nothing to say, bad
        # model) then leaves no half-written file and no WAV header without audio.
        first = next(chunks)
        sink = sink or _open_sink(output, first.sample_rate)
        warn_once = _warner()
        total = 0.0
        for chunk in itertools.chain([first], chunks):
            for message in chunk.warnings:
                warn_once(message)
            sink.write(chunk.audio, chunk.sample_rate)
            total += chunk.duration
            if timeline is not None:
                timeline.add(chunk)
            if take is not None:
                take.append(chunk)
        sink.finish()
    except BaseException:
        # Ctrl-C or an error mid-way: no temp file left behind, the device released.
        if sink is not None:
            sink.abort()
        raise
    if output not in (None, "-"):
        info(f"wrote {output} ({total:.1f} s)")
    if timeline is not None:
        from tui_speech.tts.captions import write_captions

        count = write_captions(Path(args.captions), timeline, args.caption_unit)
        info(f"wrote {args.captions} ({count} {args.caption_unit} cues)")
    if take is not None:
        return _proof_listen(args, take)
    return 0


def _timeline_for(args: argparse.Namespace) -> Timeline | None:
    """A timeline to collect word timings in when --captions asks for them (the file name
    is checked first, so a wrong suffix fails before any synthesis)."""
    if not args.captions:
        return None
    from tui_speech.tts.captions import Timeline, check_caption_path

    check_caption_path(Path(args.captions))
    return Timeline()


def _proof_listen(args: argparse.Namespace, take: list[SpeechChunk]) -> int:
    """Transcribe the take and say which characters were heard otherwise (exit 0 either
    way: the take was made; the marks are advice)."""
    import numpy as np

    from tui_speech.asr.proof import load_checker, proof_listen

    checker = load_checker(args.check_model)
    text = "".join(c.graphemes for c in take)
    audio = np.concatenate([c.audio for c in take])
    result = proof_listen(text, audio, take[0].sample_rate, checker)
    info(f"heard: {result.heard}")
    if not result.chars:
        warn("proof-listen checks Mandarin characters; the text has none")
    for mark in result.marked:
        heard = f"heard {mark.heard!r}" if mark.heard else "not heard"
        info(f"  {mark.char} (character {mark.index + 1}): {mark.verdict}, {heard}")
    info(f"{len(result.marked)} of {len(result.chars)} characters marked")
    return 0


class _Sink(Protocol):
    def write(self, audio: np.ndarray, sample_rate: int) -> None: ...
    def finish(self) -> None: ...
    def abort(self) -> None: ...


class _StreamSink:
    """WAV on stdout, flushed per chunk so a pipe into a player starts at once."""

    def __init__(self, sample_rate: int) -> None:
        from tui_speech.audio.writer import WavStreamWriter

        self._writer = WavStreamWriter(sys.stdout.buffer, sample_rate)

    def write(self, audio: np.ndarray, sample_rate: int) -> None:
        self._writer.write(audio)

    def finish(self) -> None:
        pass

    def abort(self) -> None:
        pass  # what was sent is valid WAV; the reader sees the stream end


class _FileSink:
    def __init__(self, path: Path, sample_rate: int) -> None:
        from tui_speech.audio.writer import AudioFileWriter

        self._writer = AudioFileWriter(path, sample_rate)

    def write(self, audio: np.ndarray, sample_rate: int) -> None:
        self._writer.write(audio)

    def finish(self) -> None:
        self._writer.close()

    def abort(self) -> None:
        self._writer.abort()


class _PlayerSink:
    def __init__(self, player: Player) -> None:
        self._player = player

    def write(self, audio: np.ndarray, sample_rate: int) -> None:
        self._player.play_chunk(audio, sample_rate)

    def finish(self) -> None:
        try:
            self._player.wait()
            if self._player.error:
                raise self._player.error
        finally:
            self._player.close()

    def abort(self) -> None:
        self._player.close()


def _open_player() -> _PlayerSink:
    from tui_speech.audio.playback import Player

    return _PlayerSink(Player())


def _open_sink(output: str | None, sample_rate: int) -> _Sink:
    if output == "-":
        return _StreamSink(sample_rate)
    return _FileSink(Path(str(output)), sample_rate)


def _speak_file(args: argparse.Namespace) -> int:
    """``--file``: the draft's sentences through the same renderer as the Speak pane's drafts."""
    from tui_speech.tts.draft_render import export, render
    from tui_speech.tts.drafts import Draft, read_text_file
    from tui_speech.tts.g2p import normalise_language
    from tui_speech.tts.pipeline import Pipeline

    path = Path(args.file)
    text = read_text_file(path)
    Pipeline(args.lang, args.voice, args.speed)  # voice, language and speed checked first
    draft = Draft(path.stem, text, normalise_language(args.lang), args.voice or "", args.speed)
    options = {"backend": args.backend, "model": args.model}
    output = args.output
    bar = _ProgressBar() if output not in (None, "-") else None
    warn_once = _warner(bar)
    if bar is not None:
        try:
            files = export(
                draft, Path(output), chapters=args.chapters, progress=bar, warn=warn_once,
                **options,
            )  # fmt: skip
        finally:
            bar.done()
        for written in files:
            info(f"wrote {written}")
        return 0
    sink: _Sink | None = _open_player() if output is None else None
    try:
        for rendered in render(draft, **options):
            for message in rendered.warnings:
                warn_once(message)
            sink = sink or _open_sink(output, rendered.sample_rate)
            sink.write(rendered.audio, rendered.sample_rate)
        if sink is not None:
            sink.finish()
    except BaseException:
        if sink is not None:
            sink.abort()
        raise
    return 0


def _warner(bar: _ProgressBar | None = None) -> Callable[[str], None]:
    """``warn`` saying each message once (G2P repeats one for every sentence it applies to),
    the progress bar's line wiped first."""
    seen: set[str] = set()

    def warn_once(message: str) -> None:
        if message not in seen:
            seen.add(message)
            if bar is not None:
                bar.clear()
            warn(message)

    return warn_once


class _ProgressBar:
    """``[#####.....] 12/240 sentences`` on stderr, redrawn in place; only on a terminal."""

    WIDTH = 30

    def __init__(self) -> None:
        self._shown = sys.stderr.isatty()

    def __call__(self, done: int, total: int) -> None:
        if self._shown:
            filled = self.WIDTH * done // max(1, total)
            bar = "#" * filled + "." * (self.WIDTH - filled)
            print(f"\r[{bar}] {done}/{total} sentences", end="", file=sys.stderr, flush=True)

    def clear(self) -> None:
        """Wipe the bar's line, so a message printed now starts at its left (the next count
        draws the bar again below it)."""
        if self._shown:
            print("\r\x1b[K", end="", file=sys.stderr, flush=True)

    def done(self) -> None:
        if self._shown:
            print(file=sys.stderr)
