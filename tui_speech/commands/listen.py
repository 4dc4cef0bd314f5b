"""``tui-speech listen``: live Mandarin transcription from a microphone, stdin or a file.

Sources: ``--device D`` (index or name; default: the default input), ``--stdin`` (raw PCM, or a
WAV stream, detected by its header) and ``--file F`` (as fast as possible, or ``--realtime``).
Output: ``--format text`` (a live view on a terminal; finals, one per line, in a pipe) or
``--format jsonl`` (one event per line: partial, final, error, stats). Every final is appended
to a session file as it happens (``tui-speech sessions``). End of input, Ctrl-C or SIGTERM
finalises what is pending, writes it, and exits 0.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from tui_speech.commands.transcribe import PRECISIONS
from tui_speech.errors import TuiSpeechError, UsageError

DEFAULT_MODEL = "jonatasgrosman/wav2vec2-large-xlsr-53-chinese-zh-cn"


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "listen",
        help="live transcription from a microphone, stdin or a file",
        description="Transcribe live audio (Mandarin). Over SSH: arecord -f S16_LE -r 16000 -c 1 "
        "-t raw | ssh host tui-speech listen --stdin",
    )
    src = p.add_mutually_exclusive_group()
    src.add_argument("--stdin", action="store_true", help="raw PCM or a WAV stream on stdin")
    src.add_argument("--device", "-d", default=None, help="input device: index or name")
    src.add_argument("--file", "-f", type=Path, default=None, help="an audio file, played as live")
    p.add_argument("--realtime", action="store_true", help="pace --file in real time")
    p.add_argument(
        "--pcm", choices=("s16le", "f32le", "s32le"), default="s16le", help="raw stdin format"
    )
    p.add_argument("--rate", type=int, default=16_000, help="raw stdin sample rate (16000)")
    p.add_argument("--channels", type=int, default=1, help="raw stdin channels (1)")
    p.add_argument("--model", default=None, help=f"repo id or directory (default {DEFAULT_MODEL})")
    p.add_argument("--backend", choices=("auto", "torch", "onnx"), default="auto")
    p.add_argument(
        "--precision",
        choices=PRECISIONS,
        default="fp32",
        help="precision of the finals (see transcribe --help)",
    )
    p.add_argument(
        "--draft",
        choices=("auto", "off"),
        default="auto",
        help="auto: partials run on the model's int8 ONNX variant when it has one "
        "(`models export ID --quantize int8`), finals on --precision; off: both on --precision",
    )
    p.add_argument(
        "--compute-budget",
        type=float,
        default=1.5,
        metavar="X",
        help="model time at most X times an offline pass over the heard audio (1.5); "
        "partials thin out to stay within it; 0 lifts the limit",
    )
    p.add_argument("--threads", type=int, default=None, help="CPU threads (default: all)")
    p.add_argument("--format", choices=("text", "jsonl"), default="text", help="output format")
    p.add_argument("--record", action="store_true", help="keep the audio (FLAC) in the session")
    p.add_argument("--no-session", action="store_true", help="do not write a session file")
    p.add_argument("--no-vad", action="store_true", help="send everything, silence too, to ASR")
    p.add_argument("--vad-threshold", type=float, default=0.5, help="speech probability (0.5)")
    p.add_argument("--min-silence", type=float, default=0.5, help="pause ending an utterance (s)")
    p.add_argument("--vad-pad", type=float, default=0.2, help="audio kept around speech (s)")
    p.add_argument("--window", type=float, default=8.0, help="partial window, seconds (8)")
    p.add_argument("--stable", type=int, default=2, help="updates before a character commits")
    p.add_argument(
        "--partial-every",
        type=float,
        default=0.25,
        metavar="S",
        help="seconds of new speech between partials (0.25); larger costs less compute",
    )
    p.add_argument("--max-utterance", type=float, default=30.0, help="cut utterances (s, 30)")
    p.add_argument("--queue", type=int, default=64, help="capture queue, 0.1 s blocks (64)")
    return p


def make_source(args: argparse.Namespace) -> Any:
    from tui_speech.audio import sources

    if args.queue < 1:
        raise UsageError("--queue must be at least 1")
    raw_flags = args.pcm != "s16le" or args.rate != 16_000 or args.channels != 1
    if not args.stdin and raw_flags:
        raise UsageError("--pcm, --rate and --channels describe raw audio on stdin; add --stdin")
    if args.realtime and args.file is None:
        raise UsageError("--realtime paces a file; add --file FILE")
    if args.stdin:
        if sys.stdin.isatty():
            raise UsageError("--stdin reads audio from a pipe, but stdin is a terminal")
        return sources.StdinSource(sys.stdin.buffer, args.pcm, args.rate, args.channels, args.queue)
    if args.file is not None:
        return sources.FileSource(args.file, args.realtime, args.queue)
    return sources.MicrophoneSource(args.device, args.queue)


def source_label(args: argparse.Namespace, source: Any) -> str:
    if args.stdin:
        return "stdin"
    if args.file is not None:
        return str(args.file)
    return f"device:{source.device_name}"


def char_json(c: Any, full: bool) -> dict[str, Any]:
    from tui_speech.asr.formats import char_dict

    d = char_dict(c)
    if not full:
        d = {k: d[k] for k in ("char", "t0", "t1", "confidence")}
    return d


def event_json(e: Any) -> dict[str, Any]:
    return {
        "type": e.type,
        "text": e.text,
        "committed": e.committed,
        "chars": [char_json(c, e.type == "final") for c in e.chars],
        "t0": round(e.t0, 4),
        "t1": round(e.t1, 4),
        "latency_s": round(e.latency_s, 4),
        "utterance": e.utterance,
    }


class JsonlOutput:
    def event(self, e: Any) -> None:
        self.line(event_json(e))

    def line(self, item: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(item, ensure_ascii=False) + "\n")
        sys.stdout.flush()

    def close(self) -> None:
        pass


def styled(chars: Any, dim_from: int | None = None) -> Any:
    """Rich text: each character coloured by its confidence; from ``dim_from`` on, dimmed."""
    from rich.text import Text

    text = Text()
    for i, c in enumerate(chars):
        if dim_from is not None and i >= dim_from:
            text.append(c.char, style="dim")
            continue
        p = c.confidence
        style = (
            "green" if p >= 0.9 else "yellow" if p >= 0.7 else "dark_orange" if p >= 0.5 else "red"
        )
        text.append(c.char, style=style)
    return text


class TextOutput:
    """Finals as lines; on a terminal, the current partial below them, live."""

    def __init__(self) -> None:
        from rich.console import Console

        self.console = Console(highlight=False)
        self.live: Any = None
        if self.console.is_terminal:
            from rich.live import Live

            self.live = Live("", console=self.console, auto_refresh=False, transient=True)
            self.live.start()

    def event(self, e: Any) -> None:
        if e.type == "final":
            if self.live is not None:
                self.live.update("", refresh=True)
                self.console.print(styled(e.chars))
            else:
                sys.stdout.write(e.text + "\n")
                sys.stdout.flush()
        elif self.live is not None:
            self.live.update(styled(e.chars, len(e.committed)), refresh=True)

    def line(self, item: dict[str, Any]) -> None:
        pass

    def close(self) -> None:
        if self.live is not None:
            self.live.stop()


def run(args: argparse.Namespace) -> int:
    source = make_source(args)  # device and flag errors come before the model loads
    from tui_speech.asr.budget import ComputeBudget
    from tui_speech.asr.model import pick_backend
    from tui_speech.asr.recognizer import Recognizer
    from tui_speech.asr.stream import LiveStream, LiveTranscriber

    if args.compute_budget and args.compute_budget < 1:
        raise UsageError("--compute-budget must be at least 1 (the finals alone cost 1x), or 0")
    backend = pick_backend(args.backend, args.model, args.precision)
    recognizer = Recognizer.load(args.model, backend, args.threads, args.precision)
    draft = recognizer
    if args.draft == "auto":
        try:
            draft = recognizer.draft(args.threads)
        except TuiSpeechError as exc:  # a broken variant costs speed, not the session
            print(f"tui-speech: warning: partials run on the full model: {exc}", file=sys.stderr)
    vad = None
    if not args.no_vad:
        from tui_speech.audio.vad import SpeechSegmenter, VadSettings

        settings = VadSettings(args.vad_threshold, args.min_silence, args.vad_pad)
        vad = SpeechSegmenter(settings, align=recognizer.info.hop)
    if args.stable < 1 or args.window < 1 or args.max_utterance < 2 or args.partial_every <= 0:
        raise UsageError(
            "--stable must be >= 1, --window >= 1 s, --max-utterance >= 2 s, --partial-every > 0 s"
        )
    stream = LiveStream(
        recognizer,
        window_s=args.window,
        stable_updates=args.stable,
        partial_interval_s=args.partial_every,
        max_utterance_s=args.max_utterance,
        draft=draft,
        budget=ComputeBudget(args.compute_budget or None),
    )
    live = LiveTranscriber(stream, vad)
    writer = None
    if not args.no_session:
        from tui_speech.asr.sessions import SessionWriter
        from tui_speech.config import get_paths

        label = source_label(args, source)
        writer = SessionWriter(get_paths().sessions, recognizer.info.name, label, args.record)
    out = JsonlOutput() if args.format == "jsonl" else TextOutput()
    error: TuiSpeechError | None = None

    def emit(events: list[Any]) -> None:
        for e in events:
            # On disk before on screen: a final the user has seen survives a kill.
            if e.type == "final" and writer is not None:
                writer.add_final(e.text, e.t0, e.t1, e.chars)
            out.event(e)

    import signal

    def stop_on_term(_signum: int, _frame: Any) -> None:
        # `kill` (a service manager stopping us) ends listening the way Ctrl-C does.
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop_on_term)
    try:
        source.start()
        session = f" (session {writer.id})" if writer is not None else ""
        print(
            f"tui-speech: listening to {source_label(args, source)}{session}; Ctrl-C stops",
            file=sys.stderr,
            flush=True,
        )
        try:
            for batch in source.batches():
                if writer is not None:
                    for block in batch:
                        writer.add_audio(block.samples)
                emit(live.process(batch))
        except KeyboardInterrupt:
            pass  # Ctrl-C: stop listening, but keep what was heard (below)
        except TuiSpeechError as exc:
            error = exc  # finalise what came before the failure, then report it
        finally:
            source.stop()
        emit(live.flush())
    finally:
        out.close()
        if writer is not None:
            writer.close()
    for warning in source.warnings:
        print(f"tui-speech: warning: {warning}", file=sys.stderr)
    if source.overflows or source.device_overflows:
        print(
            f"tui-speech: warning: {source.overflows} audio block(s) dropped because "
            f"transcription fell behind, {source.device_overflows} device overflow(s)",
            file=sys.stderr,
        )
    out.line(
        {
            "type": "stats",
            "audio_s": round(source.seconds, 3),
            "overflows": source.overflows,
            "device_overflows": source.device_overflows,
            "model_s": round(stream.budget.spent, 3),
            "session": writer.id if writer is not None else None,
        }
    )
    if error is not None:
        out.line({"type": "error", "message": error.message})
        raise error
    return 0
