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

from tui_speech.audio.rates import ASR_RATE
from tui_speech.commands._common import (
    MODEL_HELP,
    add_hotwords_option,
    add_written_options,
    written_options,
)
from tui_speech.config import LISTEN_CHOICES, ListenSettings
from tui_speech.errors import UsageError


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    d = ListenSettings()  # the defaults, shared with the Listen pane
    p = subparsers.add_parser(
        "listen",
        help="live transcription from a microphone, stdin or a file",
        description="Transcribe live audio (Mandarin). Over SSH: arecord -f S16_LE -r 16000 -c 1 "
        "-t raw | ssh host tui-speech listen --stdin. The Listen pane reads the same options "
        "from listen.toml in the config folder.",
    )
    src = p.add_mutually_exclusive_group()
    src.add_argument("--stdin", action="store_true", help="raw PCM or a WAV stream on stdin")
    src.add_argument("--device", "-d", default=None, help="input device: index or name")
    src.add_argument("--file", "-f", type=Path, default=None, help="an audio file, played as live")
    p.add_argument("--realtime", action="store_true", help="pace --file in real time")
    p.add_argument(
        "--pcm", choices=("s16le", "f32le", "s32le"), default="s16le", help="raw stdin format"
    )
    p.add_argument("--rate", type=int, default=ASR_RATE, help=f"raw stdin sample rate ({ASR_RATE})")
    p.add_argument("--channels", type=int, default=1, help="raw stdin channels (1)")
    p.add_argument(
        "--model",
        default=None,
        help=MODEL_HELP,
    )
    p.add_argument("--backend", choices=LISTEN_CHOICES["backend"], default=d.backend)
    p.add_argument(
        "--precision",
        choices=LISTEN_CHOICES["precision"],
        default=d.precision,
        help="precision of the finals (see transcribe --help)",
    )
    p.add_argument(
        "--draft",
        choices=LISTEN_CHOICES["draft"],
        default=d.draft,
        help="auto: partials run on the model's int8 ONNX variant (`models export ID "
        "--quantize int8`) where it is measured faster on this CPU, finals on --precision; "
        "off: both on --precision",
    )
    p.add_argument(
        "--compute-budget",
        type=float,
        default=d.compute_budget,
        metavar="X",
        help=f"model time at most X times an offline pass over the heard audio "
        f"({d.compute_budget}); partials thin out to stay within it; 0 lifts the limit",
    )
    p.add_argument("--threads", type=int, default=d.threads, help="CPU threads (default: all)")
    p.add_argument("--format", choices=("text", "jsonl"), default="text", help="output format")
    p.add_argument("--record", action="store_true", help="keep the audio (FLAC) in the session")
    p.add_argument("--no-session", action="store_true", help="do not write a session file")
    p.add_argument("--no-vad", action="store_true", help="send everything, silence too, to ASR")
    p.add_argument(
        "--vad-threshold",
        type=float,
        default=d.vad_threshold,
        help=f"speech probability ({d.vad_threshold})",
    )
    p.add_argument(
        "--min-silence",
        type=float,
        default=d.min_silence,
        help=f"pause ending an utterance (s, {d.min_silence})",
    )
    p.add_argument(
        "--vad-pad",
        type=float,
        default=d.vad_pad,
        help=f"audio kept around speech (s, {d.vad_pad})",
    )
    p.add_argument(
        "--window", type=float, default=d.window, help=f"partial window, seconds ({d.window:g})"
    )
    p.add_argument(
        "--stable",
        type=int,
        default=d.stable,
        help=f"updates before a character commits ({d.stable})",
    )
    p.add_argument(
        "--partial-every",
        type=float,
        default=d.partial_every,
        metavar="S",
        help=f"seconds of new speech between partials ({d.partial_every}); "
        "larger costs less compute",
    )
    p.add_argument(
        "--max-utterance",
        type=float,
        default=d.max_utterance,
        help=f"cut utterances (s, {d.max_utterance:g})",
    )
    p.add_argument(
        "--queue", type=int, default=d.queue, help=f"capture queue, 0.1 s blocks ({d.queue})"
    )
    add_hotwords_option(p, d.hotwords)  # "": the Listen pane's list, if saved
    add_written_options(p, d)
    return p


def settings_from(args: argparse.Namespace) -> ListenSettings:
    """The flags as the settings a live session takes (checked here, before anything loads)."""
    return ListenSettings(
        model=args.model or "",
        backend=args.backend,
        precision=args.precision,
        draft=args.draft,
        compute_budget=args.compute_budget,
        threads=args.threads or 0,
        record=args.record,
        vad=not args.no_vad,
        vad_threshold=args.vad_threshold,
        min_silence=args.min_silence,
        vad_pad=args.vad_pad,
        window=args.window,
        stable=args.stable,
        partial_every=args.partial_every,
        max_utterance=args.max_utterance,
        queue=args.queue,
        hotwords=args.hotwords or "",
        punct=args.punct,
        itn=args.itn,
        script=args.script,
    )


def make_source(args: argparse.Namespace, settings: ListenSettings) -> Any:
    from tui_speech.audio import sources

    raw_flags = args.pcm != "s16le" or args.rate != ASR_RATE or args.channels != 1
    if not args.stdin and raw_flags:
        raise UsageError("--pcm, --rate and --channels describe raw audio on stdin; add --stdin")
    if args.realtime and args.file is None:
        raise UsageError("--realtime paces a file; add --file FILE")
    queue = settings.queue
    if args.stdin:
        if sys.stdin.isatty():
            raise UsageError("--stdin reads audio from a pipe, but stdin is a terminal")
        return sources.StdinSource(sys.stdin.buffer, args.pcm, args.rate, args.channels, queue)
    if args.file is not None:
        return sources.FileSource(args.file, args.realtime, queue)
    return sources.MicrophoneSource(args.device, queue)


def char_json(c: Any, full: bool) -> dict[str, Any]:
    from tui_speech.asr.formats import char_dict

    d = char_dict(c)
    if not full:
        d = {k: d[k] for k in ("char", "t0", "t1", "confidence")}
    return d


def written_final(e: Any, options: Any, tracker: Any = None) -> Any:
    """A final as written (``asr.written``): one utterance, so it ends with its mark; its
    pauses measured in the audio when a ``punctuation.SilenceTracker`` watched the source."""
    from tui_speech.asr.written import write

    silences = tracker.silences() if tracker is not None else None
    return write(e.chars, options, [(0, len(e.chars))], silences)


def event_json(e: Any, options: Any = None, tracker: Any = None) -> dict[str, Any]:
    """A live event as JSON; a final written with ``options`` also carries ``written`` and its
    ``spans`` (each with the heard characters it came from)."""
    item = {
        "type": e.type,
        "text": e.text,
        "committed": e.committed,
        "chars": [char_json(c, e.type == "final") for c in e.chars],
        "t0": round(e.t0, 4),
        "t1": round(e.t1, 4),
        "latency_s": round(e.latency_s, 4),
        "utterance": e.utterance,
    }
    if e.type == "final" and options is not None:
        from tui_speech.asr.written import span_dict

        written = written_final(e, options, tracker)
        item["written"] = written.text
        item["spans"] = [span_dict(s, e.chars) for s in written.spans]
    return item


class JsonlOutput:
    def __init__(self, options: Any, tracker: Any = None) -> None:
        self.options = options
        self.tracker = tracker

    def event(self, e: Any) -> None:
        self.line(event_json(e, self.options, self.tracker))

    def line(self, item: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(item, ensure_ascii=False) + "\n")
        sys.stdout.flush()

    def close(self) -> None:
        pass


def event_text(e: Any) -> Any:
    """Rich text of a live event: its characters on the one confidence scale (the TUI's steps);
    a partial's uncommitted tail dimmed."""
    from tui_speech.commands._common import confidence_text

    return confidence_text(e.chars, None if e.type == "final" else len(e.committed))


class TextOutput:
    """Finals as lines; on a terminal, the current partial below them, live."""

    def __init__(self, options: Any, tracker: Any = None) -> None:
        from rich.console import Console

        self.options = options
        self.tracker = tracker
        self.console = Console(highlight=False)
        self.live: Any = None
        if self.console.is_terminal:
            from rich.live import Live

            self.live = Live("", console=self.console, auto_refresh=False, transient=True)
            self.live.start()

    def event(self, e: Any) -> None:
        if e.type == "final":
            written = written_final(e, self.options, self.tracker)
            if self.live is not None:
                from tui_speech.commands._common import written_text

                self.live.update("", refresh=True)
                self.console.print(written_text(written.spans))
            else:
                sys.stdout.write(written.text + "\n")
                sys.stdout.flush()
        elif self.live is not None:
            self.live.update(event_text(e), refresh=True)

    def line(self, item: dict[str, Any]) -> None:
        pass

    def close(self) -> None:
        if self.live is not None:
            self.live.stop()


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    source = make_source(args, settings)  # device and flag errors come before the model loads
    from tui_speech.asr.live import LiveHooks, LiveSession, load_models, source_label

    models = load_models(settings)
    for warning in models.warnings:
        print(f"tui-speech: warning: {warning}", file=sys.stderr)
    label = source_label(source)
    options = written_options(args)
    tracker = None
    if options.punct == "auto":  # pauses measured in the audio itself, as it passes
        from tui_speech.asr.punctuation import SilenceTracker

        tracker = SilenceTracker(ASR_RATE)
        source = tracker.watch(source)
    session = LiveSession(models, settings, source, label, save=not args.no_session)
    out = JsonlOutput(options, tracker) if args.format == "jsonl" else TextOutput(options, tracker)

    import signal

    def stop_on_term(_signum: int, _frame: Any) -> None:
        # `kill` (a service manager stopping us) ends listening the way Ctrl-C does.
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop_on_term)
    saved = f" (session {session.id})" if session.id is not None else ""
    print(f"tui-speech: listening to {label}{saved}; Ctrl-C stops", file=sys.stderr, flush=True)
    try:
        result = session.run(LiveHooks(on_event=out.event))
    finally:
        out.close()
    for warning in result.warnings:
        print(f"tui-speech: warning: {warning}", file=sys.stderr)
    out.line(
        {
            "type": "stats",
            "audio_s": round(result.audio_s, 3),
            "overflows": result.overflows,
            "device_overflows": result.device_overflows,
            "model_s": round(result.model_s, 3),
            "session": session.id,
        }
    )
    if result.error is not None:
        out.line({"type": "error", "message": result.error.message})
        raise result.error
    return 0
