"""Transcribe many files into one folder: plan the inputs, skip what is done, resume after a stop.

The steps, each usable alone:

1. :func:`plan_inputs` turns files and folders into :class:`BatchItem` s: one per audio file,
   each with the output path it gets under the output folder (the inputs' folder layout is
   mirrored there, so ``a/x.wav`` and ``b/x.wav`` never overwrite each other).
2. :class:`RecognizerSpec` says which model runs and how; it is small and picklable, so a Ray
   worker (:mod:`tui_speech.asr.cluster`) can load the same recogniser elsewhere. Its
   :meth:`~RecognizerSpec.text_options` are what the manifest records.
3. :func:`run_batch` skips inputs whose outputs the manifest (``.tui-speech-batch.json`` in the
   output folder) records as complete for the same model, revision and options, runs the rest
   through an engine (:class:`LocalEngine` here: one model, files in turn), writes each output
   atomically, and rewrites the manifest atomically after every file. A bad file is reported
   and the run goes on; an interrupt (Ctrl-C) leaves every finished output and the manifest
   intact, so the next run resumes where this one stopped.

Memory stays bounded whatever the audio length: files are read block by block
(:meth:`Recognizer.transcribe_file`); only the transcript of the current file is held.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from tui_speech.errors import TuiSpeechError, UsageError
from tui_speech.fileio import atomic_write_text

if TYPE_CHECKING:
    from tui_speech.asr.hotwords import Hotword
    from tui_speech.asr.recognizer import Recognizer, Transcript
    from tui_speech.audio.reader import AudioInfo

MANIFEST_NAME = ".tui-speech-batch.json"
MANIFEST_FORMAT = 1
#: Suffixes a folder walk picks when no glob is given: what libsndfile reads.
AUDIO_SUFFIXES = frozenset(
    ".wav .wave .flac .ogg .oga .opus .mp3 .aif .aiff .aifc .au .snd .caf .w64 .rf64".split()
)


@dataclass(frozen=True)
class BatchItem:
    """One input file and where its outputs go."""

    source: Path  # absolute
    key: str  # the source relative to the inputs' common folder (POSIX): the manifest key
    stem: str  # the output path under the output folder, without the format suffix

    def output(self, outdir: Path, fmt: str) -> Path:
        return outdir / f"{self.stem}.{fmt}"


def _walk(folder: Path, glob: str | None) -> list[Path]:
    if glob:
        found = folder.glob(glob)
        return sorted(p for p in found if p.is_file())
    return sorted(
        p
        for p in folder.rglob("*")
        if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file() and not p.name.startswith(".")
    )


def plan_inputs(paths: Sequence[Path], glob: str | None = None) -> list[BatchItem]:
    """One item per file named and per audio file found in the folders named (walked
    recursively; ``glob`` such as ``**/*.wav`` replaces the default audio suffixes).

    Output paths mirror the inputs' layout below their common folder; files in one folder
    that share a stem (``x.wav``, ``x.flac``) keep their suffix in the output name. A file
    named twice is planned once. A name that does not exist stays in the plan, so the run
    reports it with the other failures.
    """
    sources: list[Path] = []
    roots: list[Path] = []
    for given in paths:
        path = Path(given).expanduser().absolute()
        if path.is_dir():
            found = _walk(path, glob)
            if not found:
                what = f"files matching {glob}" if glob else "audio files"
                raise UsageError(f"{given}: no {what} in this folder", "give another --glob")
            sources.extend(found)
            roots.append(path)
        else:
            sources.append(path)
            roots.append(path.parent)
    sources = list(dict.fromkeys(sources))
    root = Path(os.path.commonpath(roots)) if roots else Path.cwd()
    keys = [s.relative_to(root).as_posix() for s in sources]
    stems = [k.rsplit(".", 1)[0] if "." in Path(k).name else k for k in keys]
    clash = {s for s in stems if stems.count(s) > 1}
    return [
        BatchItem(src, key, key if stem in clash else stem)
        for src, key, stem in zip(sources, keys, stems, strict=True)
    ]


@dataclass(frozen=True)
class RecognizerSpec:
    """How to load the recogniser of a batch; picklable, so a worker elsewhere loads the same.

    ``model`` is a repo id (found in each machine's store) or a folder (which must then be at
    the same path on each machine).
    """

    model: str
    backend: str = "torch"
    precision: str = "fp32"
    threads: int | None = None
    alternatives: int = 3
    chunk_s: float | None = None
    stride_s: float | None = None
    beam: int = 0
    hotwords: tuple[Hotword, ...] = ()

    def load(self) -> Recognizer:
        from tui_speech.asr.recognizer import Recognizer
        from tui_speech.asr.whisper import WhisperRecognizer, is_embedded

        if is_embedded(self.model):
            return WhisperRecognizer.load(self.threads, self.hotwords)  # type: ignore[return-value]

        options = {
            "alternatives": self.alternatives,
            "chunk_s": self.chunk_s,
            "stride_s": self.stride_s,
        }
        if self.beam or self.hotwords:
            from tui_speech.asr.beam import BeamRecognizer

            return BeamRecognizer.load(
                self.model,
                self.backend,
                self.threads,
                self.precision,
                beam_width=self.beam,  # 0 with hotwords: searched where a term can start
                hotwords=self.hotwords,  # type: ignore[arg-type]
                **options,
            )
        return Recognizer.load(self.model, self.backend, self.threads, self.precision, **options)

    def text_options(self) -> dict[str, Any]:
        """The settings that change what is written (threads only change the speed)."""
        settings = asdict(self)
        del settings["model"], settings["threads"]
        return settings


def model_revision(model_folder: Path) -> str:
    """Which version of the model's weights a folder holds: the Hub commit for a pulled model,
    else a fingerprint of its files' sizes and times (a re-saved model is a new revision)."""
    from tui_speech.config import get_paths
    from tui_speech.hub.store import read_manifest

    store = get_paths().models.resolve()
    folder = model_folder.resolve()
    if folder.is_relative_to(store):
        model_id = "/".join(folder.relative_to(store).parts[:2])
        pulled = read_manifest(model_id)
        if pulled is not None and pulled.commit:
            return pulled.commit
    digest = hashlib.sha256()
    for path in sorted([*folder.glob("*.*"), *folder.glob("onnx/*.onnx")]):
        if path.is_file() and not path.name.startswith("."):
            stat = path.stat()
            digest.update(
                f"{path.relative_to(folder)}:{stat.st_size}:{stat.st_mtime_ns}\n".encode()
            )
    return "local-" + digest.hexdigest()[:16]


@dataclass(frozen=True)
class BatchSettings:
    """What the outputs of a batch depend on: a file done under other settings is redone."""

    model: str
    revision: str
    options: Mapping[str, Any]

    @property
    def key(self) -> str:
        canonical = json.dumps(
            {"model": self.model, "revision": self.revision, "options": dict(self.options)},
            sort_keys=True,
            ensure_ascii=False,
        )
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


class Manifest:
    """The output folder's record of finished inputs (``MANIFEST_NAME``, JSON).

    ``files`` maps an item's key to ``{settings, size, mtime_ns, duration, outputs}``: the
    settings key it was made under, the source's size and time then (a changed source is
    redone), its duration, and its output path per format (relative to the folder).
    """

    def __init__(self, outdir: Path, settings: BatchSettings) -> None:
        self.path = outdir / MANIFEST_NAME
        self.outdir = outdir
        self.settings = settings
        self.files: dict[str, dict[str, Any]] = {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if data.get("format") == MANIFEST_FORMAT and isinstance(data.get("files"), dict):
                self.files = data["files"]
        except (OSError, ValueError):
            pass  # none yet, or unreadable: every input counts as not done

    def complete(self, item: BatchItem, formats: Iterable[str]) -> bool:
        """Whether ``item`` was done under these settings, from the same source, and every
        output of ``formats`` is still there (an output a user edited is kept, not redone)."""
        entry = self.files.get(item.key)
        if not entry or entry.get("settings") != self.settings.key:
            return False
        try:
            stat = item.source.stat()
        except OSError:
            return False
        if (entry.get("size"), entry.get("mtime_ns")) != (stat.st_size, stat.st_mtime_ns):
            return False
        outputs = entry.get("outputs", {})
        return all(fmt in outputs and (self.outdir / outputs[fmt]).is_file() for fmt in formats)

    def duration(self, item: BatchItem) -> float:
        return float(self.files.get(item.key, {}).get("duration", 0.0))

    def record(self, item: BatchItem, duration: float, formats: Iterable[str]) -> None:
        """Note ``item`` as done and write the manifest (atomically: a stop never leaves half
        a manifest)."""
        stat = item.source.stat()
        entry = self.files.get(item.key, {})
        same = entry.get("settings") == self.settings.key
        outputs = dict(entry.get("outputs", {})) if same else {}
        outputs.update({fmt: f"{item.stem}.{fmt}" for fmt in formats})
        self.files[item.key] = {
            "settings": self.settings.key,
            "size": stat.st_size,
            "mtime_ns": stat.st_mtime_ns,
            "duration": round(duration, 3),
            "outputs": outputs,
        }
        self.save()

    def save(self) -> None:
        data = {
            "format": MANIFEST_FORMAT,
            "model": self.settings.model,
            "revision": self.settings.revision,
            "options": dict(self.settings.options),
            "settings": self.settings.key,
            "files": self.files,
        }
        atomic_write_text(self.path, json.dumps(data, ensure_ascii=False, indent=1) + "\n")


@dataclass(frozen=True)
class Job:
    """An item to transcribe, with what probing its file found."""

    item: BatchItem
    audio: AudioInfo


@dataclass(frozen=True)
class Outcome:
    """What an engine made of one job: a transcript, or the error that stopped it."""

    job: Job
    transcript: Transcript | None = None
    error: TuiSpeechError | None = None


#: An engine's report of progress inside a job: (job, seconds of its audio done).
Advance = Callable[[Job, float], None]


class Engine(Protocol):
    """Runs jobs and yields their outcomes, in any order, lazily (see :class:`LocalEngine`)."""

    def results(self, jobs: Sequence[Job], advance: Advance) -> Iterator[Outcome]: ...


def file_error(path: Path, exc: BaseException) -> TuiSpeechError:
    """A per-file failure as a project error that names the file (one line)."""
    if isinstance(exc, TuiSpeechError):
        return exc
    text = str(exc).strip().splitlines()
    detail = text[-1] if text else ""
    return TuiSpeechError(f"{path}: {type(exc).__name__}" + (f": {detail}" if detail else ""))


class LocalEngine:
    """One recogniser in this process, loaded at the first job (an all-done run loads none),
    files in turn."""

    def __init__(self, spec: RecognizerSpec) -> None:
        self.spec = spec
        self._recognizer: Recognizer | None = None

    def results(self, jobs: Sequence[Job], advance: Advance) -> Iterator[Outcome]:
        for job in jobs:
            if self._recognizer is None:
                self._recognizer = self.spec.load()  # a model error stops the run: not per file
            try:
                transcript = self._recognizer.transcribe_file(
                    job.item.source, progress=partial(advance, job)
                )
            except Exception as exc:  # one bad file never stops the batch
                yield Outcome(job, error=file_error(job.item.source, exc))
                continue
            yield Outcome(job, transcript=transcript)


@dataclass(frozen=True)
class BatchProgress:
    """Where a batch stands; ``rtf`` is wall seconds per second of audio so far."""

    files_done: int
    files_total: int
    seconds_done: float
    seconds_total: float
    elapsed: float

    @property
    def rtf(self) -> float | None:
        return self.elapsed / self.seconds_done if self.seconds_done > 0 else None

    @property
    def eta(self) -> float | None:
        rtf = self.rtf
        return None if rtf is None else (self.seconds_total - self.seconds_done) * rtf


@dataclass(frozen=True)
class Failure:
    item: BatchItem
    error: TuiSpeechError


@dataclass(frozen=True)
class BatchReport:
    """The end of a run: what was written, skipped as already done, and what failed."""

    done: tuple[BatchItem, ...]
    skipped: tuple[BatchItem, ...]
    failed: tuple[Failure, ...]
    seconds: float  # audio transcribed in this run
    elapsed: float
    cancelled: bool = False

    @property
    def exit_code(self) -> int:
        return max((f.error.exit_code for f in self.failed), default=0)


@dataclass
class BatchHooks:
    """What a face hears of a run. ``progress`` comes often (make it cheap); ``cancelled`` is
    asked between files (an interrupt stops a file midway; its outputs are not written)."""

    progress: Callable[[BatchProgress], None] = lambda p: None
    cancelled: Callable[[], bool] = lambda: False
    failed: Callable[[Failure], None] = lambda f: None
    done: Callable[[BatchItem], None] = lambda i: None


Render = Callable[["Transcript", str], str]


@dataclass
class _Tally:
    total_files: int
    total_seconds: float
    start: float = field(default_factory=time.perf_counter)
    files: int = 0
    seconds: float = 0.0  # of finished files
    partial: float = 0.0  # of the file under way

    def snapshot(self) -> BatchProgress:
        return BatchProgress(
            self.files,
            self.total_files,
            min(self.total_seconds, self.seconds + self.partial),
            self.total_seconds,
            time.perf_counter() - self.start,
        )


def run_batch(
    items: Sequence[BatchItem],
    outdir: Path,
    formats: Sequence[str],
    settings: BatchSettings,
    engine: Engine,
    hooks: BatchHooks | None = None,
    render: Render | None = None,
) -> BatchReport:
    """Transcribe ``items`` into ``outdir`` as each of ``formats``, skipping those the manifest
    has as done under ``settings`` (see the module docstring). ``render`` turns a transcript
    into a format's text (default :func:`tui_speech.asr.formats.render`)."""
    from tui_speech.audio.reader import probe

    if render is None:
        from tui_speech.asr.formats import render as render_format

        render = render_format
    hooks = hooks or BatchHooks()
    manifest = Manifest(outdir, settings)
    skipped = tuple(i for i in items if manifest.complete(i, formats))
    skip = set(skipped)
    failed: list[Failure] = []
    jobs: list[Job] = []
    for item in items:
        if item in skip:
            continue
        try:
            jobs.append(Job(item, probe(item.source)))  # headers only: totals and bad files first
        except TuiSpeechError as exc:
            failed.append(Failure(item, exc))
            hooks.failed(failed[-1])
    tally = _Tally(len(jobs), sum(j.audio.duration for j in jobs))
    done: list[BatchItem] = []
    hooks.progress(tally.snapshot())

    def advance(job: Job, seconds: float) -> None:
        tally.partial = min(seconds, job.audio.duration)
        hooks.progress(tally.snapshot())

    cancelled = False
    outcomes = engine.results(jobs, advance) if jobs else iter(())
    try:
        for outcome in outcomes:
            item = outcome.job.item
            tally.partial = 0.0
            error = outcome.error
            if error is None and outcome.transcript is not None:
                try:
                    for fmt in formats:
                        atomic_write_text(item.output(outdir, fmt), render(outcome.transcript, fmt))
                    manifest.record(item, outcome.transcript.duration, formats)
                except OSError as exc:
                    error = TuiSpeechError(f"cannot write the output of {item.source}: {exc}")
            if error is not None:
                failed.append(Failure(item, error))
                hooks.failed(failed[-1])
            else:
                done.append(item)
                hooks.done(item)
            tally.files += 1
            tally.seconds += outcome.job.audio.duration
            hooks.progress(tally.snapshot())
            if hooks.cancelled():
                cancelled = True
                break
    finally:
        close = getattr(outcomes, "close", None)
        if close is not None:
            close()  # an engine's workers stop with the run, also on an interrupt
    finished = set(done)
    order = {item: n for n, item in enumerate(items)}  # workers finish in any order; say it in ours
    return BatchReport(
        tuple(done),
        skipped,
        tuple(sorted(failed, key=lambda f: order[f.item])),
        sum(j.audio.duration for j in jobs if j.item in finished),
        time.perf_counter() - tally.start,
        cancelled,
    )
