"""Audio piped into the TUI: ``arecord -f S16_LE -r 16000 -c 1 -t raw | tui-speech``.

A terminal app reads its keys from stdin, and Textual reads them from file descriptor 0. When
audio is piped in, :func:`detach_piped_stdin` (called before the app starts) moves the pipe to
a new descriptor for the audio source and puts the terminal (``/dev/tty``) on descriptor 0 for
the keys. With no terminal at all (a test, a service) descriptor 0 becomes ``/dev/null``, so no
audio is ever read as keys. This module imports only the standard library (start-up stays fast).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import IO

from tui_speech.audio.rates import ASR_RATE
from tui_speech.errors import Action, UsageError

PCM_NAMES = ("s16le", "f32le", "s32le")


def check_raw_format(pcm: str, rate: int, channels: int) -> None:
    """The raw format's checks (sample type, rate, channels), one line each (UsageError)."""
    if pcm not in PCM_NAMES:
        raise UsageError(
            f"raw sample type {pcm!r} is unknown",
            f"use one of {', '.join(PCM_NAMES)}",
            action=Action("describe-raw", value="pcm"),
        )
    if not 1000 <= rate <= 384_000:
        raise UsageError(
            f"{rate} Hz is not an audio sample rate",
            "try 16000 or 48000",
            action=Action("describe-raw", value="rate"),
        )
    if not 1 <= channels <= 32:
        raise UsageError(
            f"{channels} is not a channel count",
            "give 1 to 32",
            action=Action("describe-raw", value="channels"),
        )


@dataclass
class PipedAudio:
    """The piped audio's descriptor and its raw format (a WAV stream says its own format).

    One pipe is read by several listening sessions in turn (stop, then listen again), so the
    format a WAV header announced is kept here for the sessions after the first, and
    :attr:`ended` is set once the pipe has been read to its end.
    """

    fd: int
    pcm: str = "s16le"
    rate: int = ASR_RATE
    channels: int = 1
    ended: bool = False
    #: The format was read from a WAV header already: later sessions read raw PCM in it.
    from_header: bool = False
    _stream: IO[bytes] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        check_raw_format(self.pcm, self.rate, self.channels)

    @property
    def stream(self) -> IO[bytes]:
        """The pipe as an unbuffered-enough binary stream (``read1`` returns what is there)."""
        if self._stream is None:
            self._stream = os.fdopen(self.fd, "rb", closefd=False)
        return self._stream

    def describe(self) -> str:
        if self.from_header:
            return f"a WAV stream ({self.pcm}, {self.rate} Hz, {self.channels} ch)"
        return f"raw {self.pcm} {self.rate} Hz {self.channels} ch, or a WAV stream"


def detach_piped_stdin(
    pcm: str = "s16le", rate: int = ASR_RATE, channels: int = 1, stdin: IO[str] | None = None
) -> PipedAudio | None:
    """When stdin is not a terminal, hand it to the audio source and give descriptor 0 the
    terminal (or ``/dev/null`` when there is none); None when stdin is a terminal or closed.

    Call it before the app starts: Textual reads keys from descriptor 0 when it starts.
    """
    stdin = stdin if stdin is not None else sys.stdin
    try:
        fd = stdin.fileno()
    except (AttributeError, OSError, ValueError):
        return None  # no stdin at all (closed, or replaced by something without a descriptor)
    if os.isatty(fd):
        return None
    check_raw_format(pcm, rate, channels)  # before anything changes
    audio_fd = os.dup(fd)
    os.set_inheritable(audio_fd, False)
    try:
        keys = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:  # no controlling terminal
        keys = os.open(os.devnull, os.O_RDONLY)
    try:
        os.dup2(keys, fd)
    finally:
        os.close(keys)
    return PipedAudio(audio_fd, pcm, rate, channels)
