"""One live session, the same under ``tui-speech listen`` and the Listen pane.

Both faces go through these steps, in this order, so a mistake is reported before anything
slow happens and the two cannot drift apart:

1. :class:`~tui_speech.config.ListenSettings` (the options, checked when made);
2. the source (the face picks a microphone, stdin or a file: a missing device or a bad file
   is reported before the model loads);
3. :func:`load_models`: the recogniser (:func:`~tui_speech.asr.model.default_model` when none
   is named, the backend from :func:`~tui_speech.asr.model.pick_backend`) and its draft for
   partials (the int8 variant where it is measured faster on this CPU,
   :func:`~tui_speech.asr.tuning.draft_is_faster`; a broken variant is a warning, the session
   goes on);
4. :class:`LiveSession`: the VAD (:func:`make_vad`: when it cannot load, a user error saying
   how to listen without it; never a silent fall-back), the session file, and
   :meth:`LiveSession.run`, which feeds the source's batches to
   :class:`~tui_speech.asr.stream.LiveTranscriber` and tells the face through
   :class:`LiveHooks` (events, level, pause, cancel). Each final is on disk before a face sees
   it, so a final the user has seen survives a crash.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tui_speech.asr.model import default_model, pick_backend
from tui_speech.asr.stream import LiveStream, LiveTranscriber, StreamEvent
from tui_speech.config import ListenSettings, get_paths
from tui_speech.errors import Action, ModelMissingError, TuiSpeechError
from tui_speech.hub.embedded import WHISPER_ID

if TYPE_CHECKING:
    from tui_speech.asr.ctc import CharResult
    from tui_speech.asr.hotwords import Hotword
    from tui_speech.asr.recognizer import Recognizer, Transcript
    from tui_speech.asr.sessions import SessionWriter
    from tui_speech.audio.sources import AudioSource
    from tui_speech.audio.vad import SpeechSegmenter


# --- the models of a session -------------------------------------------------------------------


@dataclass(frozen=True)
class LiveModels:
    """The recogniser for finals, the one for partials (may be the same), and why not."""

    recognizer: Recognizer
    draft: Recognizer
    warnings: tuple[str, ...] = ()


def load_recognizer(settings: ListenSettings, model: str | None = None) -> Recognizer:
    """``model`` (else ``settings.model``, else :func:`~tui_speech.asr.model.default_model`)
    loaded with the settings' backend, precision and threads."""
    from tui_speech.asr.recognizer import Recognizer
    from tui_speech.asr.whisper import WhisperRecognizer, is_embedded

    spec = model or settings.model or default_model()
    hotwords = session_hotwords(settings)  # partials and finals are both steered by them
    if is_embedded(spec):  # the embedded Whisper: one backend, one precision
        return WhisperRecognizer.load(settings.threads or None, hotwords)  # type: ignore[return-value]
    backend = pick_backend(settings.backend, spec, settings.precision)
    if hotwords:
        from tui_speech.asr.beam import BeamRecognizer

        return BeamRecognizer.load(
            spec,
            backend,
            settings.threads or None,
            settings.precision,
            hotwords=hotwords,  # type: ignore[arg-type]
        )
    return Recognizer.load(spec, backend, settings.threads or None, settings.precision)


def hotwords_file(settings: ListenSettings) -> Path:
    """The hotwords file a session reads (and the Listen pane edits): ``settings.hotwords``,
    else the list in the config folder."""
    from tui_speech.config import hotwords_path

    return Path(settings.hotwords).expanduser() if settings.hotwords else hotwords_path()


def session_hotwords(settings: ListenSettings) -> tuple[Hotword, ...]:
    """The terms of :func:`hotwords_file`; none when the config folder's list was never saved
    (a file named in the settings must exist)."""
    from tui_speech.asr.hotwords import read_hotwords

    path = hotwords_file(settings)
    if not settings.hotwords and not path.is_file():
        return ()
    return read_hotwords(path)


def load_models(settings: ListenSettings, model: str | None = None) -> LiveModels:
    """The recogniser (as :func:`load_recognizer`) and, when ``draft`` is auto, its draft."""
    recognizer = load_recognizer(settings, model)
    threads = settings.threads or None
    draft, warnings = recognizer, list(getattr(recognizer, "warnings", ()))  # hotwords left out
    if settings.draft == "auto" and recognizer.info.name == WHISPER_ID:
        draft = recognizer.draft(threads)  # the same Whisper, searching greedily
    elif settings.draft == "auto":
        from tui_speech.asr.tuning import draft_is_faster

        try:  # int8 only where it was measured faster than the finals' recogniser on this CPU
            if draft_is_faster(recognizer, threads):
                draft = recognizer.draft(threads)
        except TuiSpeechError as exc:  # a broken variant costs speed, not the session
            warnings.append(f"partials run on the full model: {exc.reason}")
    return LiveModels(recognizer, draft, tuple(warnings))


def make_vad(settings: ListenSettings, hop: int) -> SpeechSegmenter | None:
    """The VAD the settings ask for (None when ``vad`` is off).

    When it cannot load, listening stops with a user error rather than going on without it:
    without a VAD every silence reaches the model and an utterance ends only at
    ``max_utterance``, which is a different program from the one the user asked for.
    """
    if not settings.vad:
        return None
    from tui_speech.audio.vad import SpeechSegmenter, VadSettings

    vad_settings = VadSettings(settings.vad_threshold, settings.min_silence, settings.vad_pad)
    try:
        return SpeechSegmenter(vad_settings, align=hop)
    except TuiSpeechError as exc:
        reason, hint, action = exc.reason, exc.hint, exc.action
    except Exception as exc:  # noqa: BLE001  onnxruntime's errors for a broken model file
        reason = f"the silero-vad model does not load ({exc.__class__.__name__})"
        hint, action = "reinstall silero-vad, or listen without the VAD", Action("no-vad")
    raise ModelMissingError(
        f"voice activity detection is unavailable: {reason}", hint, action=action
    )


# --- the session -------------------------------------------------------------------------------


def _ignore(*_args: object) -> None:
    return None


def _no() -> bool:
    return False


@dataclass(frozen=True)
class LiveHooks:
    """How a face follows a session. Called on the thread that runs it.

    ``on_event``: every partial and final. ``on_level``: after each batch, the session clock
    (seconds) and the batch's RMS (full scale = 1). ``paused``: while true, arriving audio is
    skipped (not transcribed, not recorded: the recording keeps silence in its place so times
    line up). ``cancelled``: checked per batch; true ends the session as the end of input does.
    """

    on_event: Callable[[StreamEvent], object] = _ignore
    on_level: Callable[[float, float], object] = _ignore
    paused: Callable[[], bool] = _no
    cancelled: Callable[[], bool] = _no


@dataclass(frozen=True)
class LiveResult:
    """What a session leaves behind.

    ``samples`` is the heard audio on the session clock (paused or dropped stretches silent,
    so a character's times index it) when the session kept it, else empty. ``error`` is the
    source's failure, if it had one: the finals before it are kept and saved, then the face
    reports it.
    """

    transcript: Transcript
    samples: np.ndarray
    session: str | None
    audio_s: float
    overflows: int
    device_overflows: int
    model_s: float
    warnings: tuple[str, ...] = ()
    error: TuiSpeechError | None = None
    #: The finals as ``(start, end)`` index ranges of ``transcript.chars``: the utterances
    #: the VAD cut, which the written form ends with a mark (not a file's pause rule).
    utterances: tuple[tuple[int, int], ...] = ()


class LiveSession:
    """One live session over loaded models and a source (see the module docstring).

    ``save`` writes the session file (``settings.record`` adds its audio); ``keep_audio``
    keeps the heard audio in memory for replay (the Listen pane does, the CLI does not).
    The VAD loads here, so its failure comes before the session file exists.
    """

    def __init__(
        self,
        models: LiveModels,
        settings: ListenSettings,
        source: AudioSource,
        label: str,
        save: bool = True,
        keep_audio: bool = False,
    ) -> None:
        recognizer = models.recognizer
        self.settings = settings
        self.source = source
        self.label = label
        self.model = recognizer.info.name
        from tui_speech.asr.budget import ComputeBudget

        self.stream = LiveStream(
            recognizer,
            window_s=settings.window,
            stable_updates=settings.stable,
            partial_interval_s=settings.partial_every,
            max_utterance_s=settings.max_utterance,
            draft=models.draft,
            budget=ComputeBudget(settings.compute_budget or None),
        )
        self.transcriber = LiveTranscriber(self.stream, make_vad(settings, recognizer.info.hop))
        self.rate = recognizer.sample_rate
        self.keep_audio = keep_audio
        self.writer: SessionWriter | None = None
        if save:
            from tui_speech.asr.sessions import SessionWriter

            self.writer = SessionWriter(
                get_paths().sessions, self.model, label, record=settings.record
            )
        self._finals: list[CharResult] = []
        self._utterances: list[tuple[int, int]] = []
        self._heard: list[tuple[float, np.ndarray]] = []
        self._recorded = 0  # samples written to the recording

    @property
    def id(self) -> str | None:
        """The session's id (None when it is not saved)."""
        return self.writer.id if self.writer is not None else None

    def run(self, hooks: LiveHooks | None = None) -> LiveResult:
        """Listen until the source ends, ``hooks.cancelled()`` or Ctrl-C; finalise what is
        pending, close the session file and return what was heard."""
        hooks = hooks or LiveHooks()
        error: TuiSpeechError | None = None
        try:
            self.source.start()
            try:
                for batch in self.source.batches():
                    if hooks.cancelled():
                        break
                    if hooks.paused() or not batch:
                        continue
                    for block in batch:
                        self._keep(block.samples, block.start_s)
                    samples = np.concatenate([b.samples for b in batch])
                    rms = float(np.sqrt(np.mean(np.square(samples)))) if len(samples) else 0.0
                    hooks.on_level(self.source.seconds, rms)
                    self._emit(self.transcriber.process(batch), hooks)
            except KeyboardInterrupt:
                pass  # Ctrl-C (or SIGTERM in the CLI): stop listening, keep what was heard
            except TuiSpeechError as exc:
                error = exc  # finalise what came before the failure; the face reports it
            finally:
                self.source.stop()
            self._emit(self.transcriber.flush(), hooks)
        finally:
            if self.writer is not None:
                self.writer.close()
        return self._result(error)

    def _keep(self, samples: np.ndarray, start_s: float) -> None:
        if self.keep_audio:
            self._heard.append((start_s, samples))
        if self.writer is not None and self.writer.audio_path is not None:
            # Skipped (paused) or dropped blocks leave silence, so the recording's times are
            # the session clock's, as the characters' are.
            gap = int(round(start_s * self.rate)) - self._recorded
            if gap > 0:
                self.writer.add_audio(np.zeros(gap, np.float32))
                self._recorded += gap
            self.writer.add_audio(samples)
            self._recorded += len(samples)

    def _emit(self, events: list[StreamEvent], hooks: LiveHooks) -> None:
        for event in events:
            if event.type == "final":
                # On disk before on screen: a final the user has seen survives a kill.
                if self.writer is not None:
                    self.writer.add_final(event.text, event.t0, event.t1, event.chars)
                start = len(self._finals)
                self._finals.extend(event.chars)
                if len(self._finals) > start:
                    self._utterances.append((start, len(self._finals)))
            hooks.on_event(event)

    def _result(self, error: TuiSpeechError | None) -> LiveResult:
        from tui_speech.asr.recognizer import Transcript

        source = self.source
        # The models' own warnings were said when they loaded; these are the session's.
        warnings = list(source.warnings)
        if source.overflows or source.device_overflows:
            warnings.append(
                f"{source.overflows} audio block(s) dropped because transcription fell "
                f"behind, {source.device_overflows} device overflow(s)"
            )
        transcript = Transcript(
            text="".join(c.char for c in self._finals),
            chars=tuple(self._finals),
            duration=float(source.seconds),
            model=self.model,
            source=self.label,
        )
        saved = self.writer is not None and self.writer.kept
        return LiveResult(
            transcript=transcript,
            samples=on_session_clock(self._heard, self.rate),
            session=self.id if saved else None,
            audio_s=source.seconds,
            overflows=source.overflows,
            device_overflows=source.device_overflows,
            model_s=self.stream.budget.spent,
            warnings=tuple(warnings),
            error=error,
            utterances=tuple(self._utterances),
        )


def on_session_clock(blocks: list[tuple[float, np.ndarray]], rate: int) -> np.ndarray:
    """Audio blocks laid out on the session clock: stretches without a block are silent, so a
    character's times index the array directly (for replay)."""
    if not blocks:
        return np.zeros(0, np.float32)
    end = max(int(round(start * rate)) + len(x) for start, x in blocks)
    out = np.zeros(end, np.float32)
    for start, x in blocks:
        i = int(round(start * rate))
        out[i : i + len(x)] = x
    return out


def source_label(source: Any) -> str:
    """How a session names its source (the session file's ``source``), the same in both
    faces: ``stdin``, the file's path, or ``microphone: NAME``."""
    from tui_speech.audio.sources import FileSource, StdinSource

    if isinstance(source, StdinSource):
        return "stdin"
    if isinstance(source, FileSource):
        return str(source.path)
    return f"microphone: {getattr(source, 'device_name', '?')}"


__all__ = [
    "LiveHooks",
    "LiveModels",
    "LiveResult",
    "LiveSession",
    "load_models",
    "load_recognizer",
    "hotwords_file",
    "make_vad",
    "on_session_clock",
    "session_hotwords",
    "source_label",
]
