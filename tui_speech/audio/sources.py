"""Live audio sources: microphone, stdin (raw PCM or a WAV stream) and files.

Every source yields :class:`~tui_speech.audio.block.Block` batches of 16 kHz mono float32 with
their place on the session clock. Capture runs in one long-lived thread per source that fills a
bounded queue; :meth:`AudioSource.batches` takes whatever has piled up at once, so a slow
consumer sees bigger batches instead of a growing backlog. Live sources (microphone, a file
paced in real time) never wait for the consumer: when the queue is full the block is dropped
and counted in :attr:`AudioSource.overflows`. Stdin and a file read as fast as possible wait
instead (the pipe or the disk simply pauses), so nothing is lost.
"""

from __future__ import annotations

import queue
import struct
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

from tui_speech.audio.block import Block
from tui_speech.audio.pipe import check_raw_format
from tui_speech.audio.rates import ASR_RATE
from tui_speech.errors import Action, AudioDeviceError, TuiSpeechError, UsageError

BLOCK_S = 0.1
PCM_FORMATS = {"s16le": ("<i2", 32768.0), "f32le": ("<f4", 1.0), "s32le": ("<i4", 2147483648.0)}
NO_DEVICE_HINT = "listen to piped audio or a file instead"
NO_DEVICE_ACTION = Action("pick-source")

Emit = Callable[[np.ndarray], None]


class AudioSource:
    """A capture thread feeding a bounded queue (see the module docstring)."""

    name = "audio"

    def __init__(self, live: bool, max_blocks: int = 64) -> None:
        self.live = live
        self.overflows = 0  # blocks dropped because the consumer fell behind
        self.device_overflows = 0  # reported by the audio device itself
        self.warnings: list[str] = []
        self.error: TuiSpeechError | None = None
        self._queue: queue.Queue[Block | None] = queue.Queue(max_blocks)
        self._stop = threading.Event()
        self._samples = 0  # session clock, in samples
        self._thread: threading.Thread | None = None

    def start(self) -> AudioSource:
        self._thread = threading.Thread(target=self._main, name=f"capture-{self.name}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop capturing and join the thread (blocks already queued stay readable)."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    @property
    def seconds(self) -> float:
        return self._samples / ASR_RATE

    def _main(self) -> None:
        try:
            self.capture(self._emit)
        except TuiSpeechError as exc:
            self.error = exc
        except Exception as exc:  # a device vanishing mid-stream ends the stream, with a reason
            self.error = AudioDeviceError(f"{self.name}: capture failed: {exc}")
        finally:
            self._put(None, wait=True)

    def _put(self, item: Block | None, wait: bool) -> bool:
        while True:
            try:
                self._queue.put(item, timeout=0.1 if wait else 0)
                return True
            except queue.Full:
                if not wait:
                    return False
                if self._stop.is_set() and item is not None:
                    return False

    def _emit(self, samples: np.ndarray) -> None:
        samples = np.ascontiguousarray(samples, dtype=np.float32)
        if len(samples) == 0:
            return
        block = Block(samples, self._samples / ASR_RATE, time.monotonic())
        # The session clock runs on even when a block is dropped: later times stay true.
        self._samples += len(samples)
        if not self._put(block, wait=not self.live):
            self.overflows += 1

    def capture(self, emit: Emit) -> None:
        """Produce audio until the input ends or :meth:`stop` is called (capture thread)."""
        raise NotImplementedError

    def batches(self) -> Iterator[list[Block]]:
        """Blocks as they arrive, grouped by what was waiting (lazy; ends with the input).

        Raises the capture thread's error, if it had one, after the last block.
        """
        done = False
        while not done:
            item = self._queue.get()
            batch: list[Block] = []
            while True:
                if item is None:
                    done = True
                    break
                batch.append(item)
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            if batch:
                yield batch
        if self.error is not None:
            raise self.error


class PcmReader:
    """Raw interleaved PCM bytes -> mono float32 at 16 kHz, across arbitrary read boundaries."""

    def __init__(self, fmt: str, rate: int, channels: int) -> None:
        check_raw_format(fmt, rate, channels)
        self.fmt = fmt
        self.dtype, self.scale = PCM_FORMATS[fmt]
        self.channels = channels
        self.frame_bytes = np.dtype(self.dtype).itemsize * channels
        self.rate = rate
        self._rest = b""
        self._resampler = None
        if rate != ASR_RATE:
            import soxr

            self._resampler = soxr.ResampleStream(rate, ASR_RATE, 1, dtype="float32", quality="HQ")

    def convert(self, data: bytes, last: bool = False) -> np.ndarray:
        data = self._rest + data
        usable = len(data) - len(data) % self.frame_bytes
        self._rest = data[usable:]
        x = np.frombuffer(data[:usable], dtype=self.dtype).astype(np.float32) / self.scale
        x = x.reshape(-1, self.channels).mean(axis=1, dtype=np.float32)
        if not np.isfinite(x).all():
            raise UsageError("stdin holds NaN or infinite samples", "check the PCM format")
        if self._resampler is not None:
            x = self._resampler.resample_chunk(x, last=last)
        return x

    @property
    def stray_bytes(self) -> int:
        return len(self._rest)


def parse_wav_header(read: Callable[[int], bytes]) -> tuple[str, int, int]:
    """Read a WAV header, after its ``RIFF`` tag, up to the data chunk; (format, rate, channels).

    The sizes in the header are ignored: a live WAV stream (``arecord -t wav``) cannot know them.
    """
    head = read(8)
    if len(head) < 8 or head[4:8] != b"WAVE":
        raise UsageError("stdin starts like a WAV file but is not one (no WAVE header)")
    fmt: tuple[str, int, int] | None = None
    while True:
        chunk = read(8)
        if len(chunk) < 8:
            raise UsageError("the WAV stream on stdin ended before its audio data")
        cid, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
        if cid == b"data":
            if fmt is None:
                raise UsageError("the WAV stream on stdin has no fmt chunk")
            return fmt
        body = read(size + (size & 1))
        if cid == b"fmt ":
            tag, channels, rate = struct.unpack("<HHI", body[:8])
            bits = struct.unpack("<H", body[14:16])[0]
            if tag == 0xFFFE and len(body) >= 26:  # WAVE_FORMAT_EXTENSIBLE: the real tag
                tag = struct.unpack("<H", body[24:26])[0]
            names = {(1, 16): "s16le", (1, 32): "s32le", (3, 32): "f32le"}
            if (tag, bits) not in names:
                raise UsageError(
                    f"the WAV stream on stdin is {bits}-bit (format {tag}); "
                    "send 16-bit or 32-bit PCM, or 32-bit float"
                )
            fmt = (names[(tag, bits)], rate, channels)


class StdinSource(AudioSource):
    """Raw PCM (``--pcm``, ``--rate``, ``--channels``) or a WAV stream, detected by its header."""

    name = "stdin"

    def __init__(
        self,
        stream: IO[bytes],
        pcm: str = "s16le",
        rate: int = ASR_RATE,
        channels: int = 1,
        max_blocks: int = 64,
        detect_wav: bool = True,
    ) -> None:
        super().__init__(live=False, max_blocks=max_blocks)
        self.stream = stream
        self.reader = PcmReader(pcm, rate, channels)  # checks the flags before anything starts
        #: False when the stream is known to be raw (e.g. the rest of a WAV stream whose
        #: header an earlier session read).
        self.detect_wav = detect_wav
        self.wav = False
        self.eof = False  # the stream was read to its end (not merely stopped)

    def capture(self, emit: Emit) -> None:
        first = self._read_exact(4)
        if not first:
            self.eof = True
            raise UsageError("no audio on stdin (it was empty); pipe raw PCM or a WAV stream in")
        if first == b"RIFF" and self.detect_wav:
            self.reader = PcmReader(*parse_wav_header(self._read_exact))
            self.wav = True
            first = b""
        chunk = max(1, int(BLOCK_S * self.reader.rate)) * self.reader.frame_bytes
        data = first
        while not self._stop.is_set():
            more = self._read_some(chunk)
            emit(self.reader.convert(data + more, last=not more))
            data = b""
            if not more:
                self.eof = True
                break
        if self.reader.stray_bytes:
            self.warnings.append(
                f"stdin ended mid-sample: {self.reader.stray_bytes} stray byte(s) dropped; "
                "check the raw sample type and channel count"
            )

    def _read_some(self, n: int) -> bytes:
        # read1 returns what the pipe holds now: a live stream must not wait for a full buffer.
        read1 = getattr(self.stream, "read1", None)
        return read1(n) if read1 is not None else self.stream.read(n)

    def _read_exact(self, n: int) -> bytes:
        """``n`` bytes, fewer only at EOF (headers must arrive whole)."""
        out = b""
        while len(out) < n and (got := self._read_some(n - len(out))):
            out += got
        return out


class FileSource(AudioSource):
    """An audio file, as fast as possible or paced in real time (then it is a live source)."""

    name = "file"

    def __init__(self, path: Path, realtime: bool = False, max_blocks: int = 64) -> None:
        super().__init__(live=realtime, max_blocks=max_blocks)
        from tui_speech.audio.reader import probe

        probe(path)  # a bad file is reported before anything starts
        self.path = Path(path)
        self.realtime = realtime
        self.started = 0.0  # monotonic time of session second 0 (for latency measurements)

    def capture(self, emit: Emit) -> None:
        from tui_speech.audio.reader import iter_blocks

        n = int(BLOCK_S * ASR_RATE)
        t_start = self.started = time.monotonic()
        sent = 0
        for big in iter_blocks(self.path, block_seconds=1.0 if self.realtime else 10.0):
            for i in range(0, len(big), n):
                if self._stop.is_set():
                    return
                block = big[i : i + n]
                sent += len(block)
                if self.realtime:  # a microphone delivers a block once its last sample is heard
                    delay = t_start + sent / ASR_RATE - time.monotonic()
                    if delay > 0 and self._stop.wait(delay):
                        return
                emit(block)


def find_input_device(sd: Any, device: str | int | None) -> tuple[int | None, dict[str, Any]]:
    """Resolve ``--device`` (index, exact name, or a unique part of a name) to an input."""
    try:
        devices = list(sd.query_devices())
    except Exception as exc:
        raise AudioDeviceError(
            f"cannot list audio devices ({exc})", NO_DEVICE_HINT, action=NO_DEVICE_ACTION
        ) from None
    inputs = [(i, d) for i, d in enumerate(devices) if int(d.get("max_input_channels", 0)) > 0]
    if not inputs:
        raise AudioDeviceError(
            "no audio input device found", NO_DEVICE_HINT, action=NO_DEVICE_ACTION
        )
    if device is None or device == "":
        try:
            info = sd.query_devices(kind="input")
        except Exception:
            raise AudioDeviceError(
                "no default audio input device", NO_DEVICE_HINT, action=NO_DEVICE_ACTION
            ) from None
        return None, dict(info)
    text = str(device)
    if text.isdigit():
        for i, d in inputs:
            if i == int(text):
                return i, dict(d)
        raise AudioDeviceError(f"no input device with index {text}", action=Action("list-devices"))
    exact = [(i, d) for i, d in inputs if d["name"] == text]
    partial = [(i, d) for i, d in inputs if text.lower() in str(d["name"]).lower()]
    found = exact or partial
    if len(found) == 1:
        return found[0][0], dict(found[0][1])
    if not found:
        raise AudioDeviceError(
            f"no input device named {text!r}",
            f"pick one the device list shows, or {NO_DEVICE_HINT}",
            action=NO_DEVICE_ACTION,
        )
    names = ", ".join(repr(d["name"]) for _, d in found[:4])
    raise AudioDeviceError(f"{text!r} matches several input devices ({names}); give an index")


class MicrophoneSource(AudioSource):
    """A PortAudio input device at its native rate, resampled to 16 kHz mono."""

    name = "microphone"

    def __init__(self, device: str | int | None = None, max_blocks: int = 64) -> None:
        super().__init__(live=True, max_blocks=max_blocks)
        from tui_speech.audio.playback import load_sounddevice

        try:
            self._sd = load_sounddevice()
        except AudioDeviceError:
            raise AudioDeviceError(
                "PortAudio is not installed", NO_DEVICE_HINT, action=NO_DEVICE_ACTION
            ) from None
        self.index, self.info = find_input_device(self._sd, device)
        self.device_name = str(self.info.get("name", device))
        self.rate = int(self.info.get("default_samplerate") or ASR_RATE)

    def capture(self, emit: Emit) -> None:
        import soxr

        resampler = None
        if self.rate != ASR_RATE:
            resampler = soxr.ResampleStream(self.rate, ASR_RATE, 1, dtype="float32", quality="HQ")

        def callback(indata: np.ndarray, frames: int, _time: Any, status: Any) -> None:
            # PortAudio's thread: convert and hand over at once, never block here.
            if status and status.input_overflow:
                self.device_overflows += 1
            mono = indata[:, 0] if indata.shape[1] == 1 else indata.mean(axis=1)
            emit(mono if resampler is None else resampler.resample_chunk(mono))

        try:
            stream = self._sd.InputStream(
                samplerate=self.rate,
                channels=1,
                dtype="float32",
                device=self.index,
                blocksize=int(self.rate * BLOCK_S),
                # A larger device buffer: a busy machine (the model on every core) must not
                # make PortAudio lose input; 0.1 s blocks already set the pace.
                latency="high",
                callback=callback,
            )
        except Exception as exc:
            raise AudioDeviceError(
                f"cannot open input device {self.device_name!r} ({exc})",
                NO_DEVICE_HINT,
                action=NO_DEVICE_ACTION,
            ) from None
        with stream:
            while not self._stop.wait(0.05):
                if not stream.active:
                    raise AudioDeviceError(f"input device {self.device_name!r} stopped")
