"""The batch engine for a Ray cluster: one model per worker, files as tasks.

:class:`RayEngine` is a batch :class:`~tui_speech.asr.batch.Engine`: ``run_batch`` drives it
exactly as it drives the local engine, so the manifest, the outputs and the report are the
same; the workers only transcribe and send the transcript back, and the driver (this process)
writes every output. Each worker is a Ray actor that loads the model once
(:class:`~tui_speech.asr.batch.RecognizerSpec`) and takes files (paths, which every node must
see: a shared folder) two at a time, so it never waits for the next one. A worker that dies
(killed, out of memory, its node lost) is replaced and its files are run again, once; a file
whose second run fails too is reported with the batch's other failures. A bad file (not audio)
is reported at once: running it again cannot help.

Ray is an optional extra (``pip install 'tui-speech[cluster]'``), imported only here, only
when a batch runs on it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from tui_speech.asr.batch import Advance, Job, Outcome, RecognizerSpec, model_revision
from tui_speech.errors import TuiSpeechError, UsageError

if TYPE_CHECKING:
    from tui_speech.asr.recognizer import Transcript

#: Files in flight per worker: one running, one waiting, so a worker never idles on the driver.
DEPTH = 2
#: Runs of one file at most (the first, and one retry when a worker died under it).
ATTEMPTS = 2


def import_ray() -> Any:
    """The ``ray`` module, or a one-line error that names the extra to install."""
    try:
        import ray
    except ImportError:
        raise UsageError(
            "Ray is not installed; a batch on a cluster needs it",
            "pip install 'tui-speech[cluster]'",
        ) from None
    return ray


def connect(ray: Any, address: str) -> None:
    """Join the cluster at ``address`` (host:port of its head, or ``ray://`` for Ray Client);
    ``auto``: the cluster this machine is part of (``RAY_ADDRESS``, or a ``ray start`` here),
    else a Ray started on this machine alone."""
    quiet = {"log_to_driver": False, "logging_level": "error"}
    try:
        if address == "auto":
            try:
                ray.init(address="auto", **quiet)
            except ConnectionError:
                ray.init(include_dashboard=False, **quiet)
        else:
            ray.init(address=address, **quiet)
    except Exception as exc:  # Ray says ConnectionError, ValueError or RuntimeError
        detail = str(exc).strip().splitlines()
        raise UsageError(
            f"cannot reach a Ray cluster at {address}"
            + (f" ({detail[0][:160]})" if detail else ""),
            "start one with `ray start --head` or give its head's host:port",
        ) from None


class _Worker:
    """One model on one Ray worker (a Ray actor once wrapped by ``ray.remote``)."""

    def __init__(self, spec: RecognizerSpec) -> None:
        self.error: TuiSpeechError | None = None
        try:
            self.recognizer = spec.load()
            self.revision = model_revision(self.recognizer.info.path)
        except TuiSpeechError as exc:  # said by ready(): the driver stops the run with it
            self.error = exc

    def ready(self) -> tuple[str, str, TuiSpeechError | None]:
        import ray

        node = ray.get_runtime_context().get_node_id()
        return node, getattr(self, "revision", ""), self.error

    def transcribe(self, path: str) -> tuple[Transcript | None, TuiSpeechError | None]:
        if self.error is not None:
            return None, self.error
        try:
            return self.recognizer.transcribe_file(path), None
        except TuiSpeechError as exc:  # the file's fault: no retry
            return None, exc


class RayEngine:
    """Runs a batch's jobs on Ray workers (see the module docstring)."""

    def __init__(
        self,
        spec: RecognizerSpec,
        address: str = "auto",
        workers: int | None = None,
        revision: str = "",
    ) -> None:
        self.spec = spec
        self.address = address
        self.workers = workers
        self.revision = (
            revision  # the driver's; a worker with another copy of the model stops the run
        )
        self.ray = import_ray()  # before any work: a missing extra is one line
        self.retried = 0  # files run again because their worker died or failed

    def results(self, jobs: Sequence[Job], advance: Advance) -> Iterator[Outcome]:
        """Outcomes as workers finish them (lazy); closing the iterator stops the workers."""
        ray = self.ray
        connect(ray, self.address)
        self._actors: dict[int, Any] = {}
        try:
            yield from self._schedule(jobs)
        finally:
            for actor in self._actors.values():
                ray.kill(actor)
            ray.shutdown()

    def _start(self, count: int) -> list[int]:
        cpus = self.spec.threads or 1
        remote = self.ray.remote(num_cpus=cpus, max_restarts=0)(_Worker)
        started = {len(self._actors) + n: remote.remote(self.spec) for n in range(count)}
        self._actors.update(started)
        for index, (node, revision, error) in zip(
            started, self.ray.get([a.ready.remote() for a in started.values()]), strict=True
        ):
            if error is not None:
                raise error
            if self.revision and revision != self.revision:
                raise UsageError(
                    f"Ray node {node[:12]} has another copy of model {self.spec.model} "
                    f"(revision {revision[:16]}, here {self.revision[:16]}): worker {index}",
                    "store the same model revision on every node, or a shared folder",
                )
        return list(started)

    def _count(self, jobs: int) -> int:
        if self.workers:
            return min(self.workers, jobs)
        cpus = float(self.ray.cluster_resources().get("CPU", 1))
        return max(1, min(jobs, int(cpus // (self.spec.threads or 1))))

    def _schedule(self, jobs: Sequence[Job]) -> Iterator[Outcome]:
        ray = self.ray
        count = self._count(len(jobs))
        load = dict.fromkeys(self._start(count), 0)
        replacements = count  # workers started again over a run, at most
        pending = deque((job, 1) for job in jobs)
        running: dict[Any, tuple[int, Job, int]] = {}
        while pending or running:
            for index in list(load):
                while load[index] < DEPTH and pending:
                    job, attempt = pending.popleft()
                    ref = self._actors[index].transcribe.remote(str(job.item.source))
                    running[ref] = (index, job, attempt)
                    load[index] += 1
            if not running:  # every worker gone and none may be started
                for job, _ in pending:
                    yield Outcome(job, error=_gave_up(job, "no Ray worker is left"))
                return
            (ref,), _ = ray.wait(list(running), num_returns=1)
            index, job, attempt = running.pop(ref)
            if index in load:
                load[index] -= 1
            try:
                transcript, error = ray.get(ref)
            except ray.exceptions.RayActorError as exc:  # the worker died under this file
                if index in load:
                    del load[index]
                    ray.kill(self._actors.pop(index))
                    if replacements > 0:
                        replacements -= 1
                        load.update(dict.fromkeys(self._start(1), 0))
                yield from self._again(pending, job, attempt, "its Ray worker died", exc)
                continue
            except ray.exceptions.RayError as exc:  # an unexpected error in the worker
                yield from self._again(pending, job, attempt, "it failed on a Ray worker", exc)
                continue
            yield Outcome(job, transcript=transcript, error=error)

    def _again(
        self, pending: deque[tuple[Job, int]], job: Job, attempt: int, why: str, exc: BaseException
    ) -> Iterator[Outcome]:
        if attempt < ATTEMPTS:
            self.retried += 1
            pending.appendleft((job, attempt + 1))
            return
        lines = [line for line in str(exc).strip().splitlines() if line.strip()]
        detail = f": {lines[-1].strip()[:200]}" if lines else ""
        yield Outcome(job, error=_gave_up(job, f"{why} twice{detail}"))


def _gave_up(job: Job, why: str) -> TuiSpeechError:
    return TuiSpeechError(f"{job.item.source}: not transcribed, {why}")
