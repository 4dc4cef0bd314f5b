"""onnxruntime's optimized Kokoro graph, cached per model file, CPU and onnxruntime build.

A session on the embedded Kokoro spends most of its creation in graph optimization (constant
folding, fusions, NCHWc layouts): ~0.45 s of CPU of a cold ``speak``, the same result every
time on one machine. So the second session on a model file saves the graph it optimized
(``SessionOptions.optimized_model_filepath``; the first only notes the use, as a copy is as
large as the model), and later ones load that graph with optimization off, in ~40 % of the
CPU. It is the graph the saving session ran, so the audio is the same to the bit
(tests/unit/test_session_cache.py).

The optimized graph holds kernels chosen for this CPU (onnxruntime warns that it only fits the
machine it was made on), so its stamp keys it by the CPU and onnxruntime build
(``tuning.cpu_key``) and by the source file's size and modification time; one copy is kept per
source file, rebuilt in place when stale. An unreadable or broken copy is rebuilt, never an
error: the cache only ever costs or saves start-up time.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

#: Bump when what is cached changes meaning (stale copies are rebuilt).
CACHE_VERSION = 1
#: Set to 0 to create every session from the source model (as before the cache).
ENV_SWITCH = "TUI_SPEECH_ORT_CACHE"


def cache_dir() -> Path:
    from tui_speech.config import get_paths

    return get_paths().cache / "ort-optimized"


def cached_path(source: Path) -> Path:
    """Where the optimized copy of ``source`` lives (one per source file)."""
    where = hashlib.sha256(str(source.resolve()).encode()).hexdigest()[:10]
    return cache_dir() / f"{source.stem}-{where}.onnx"


def _stamp_path(copy: Path) -> Path:
    return copy.with_suffix(".json")


def _expected(source: Path) -> dict[str, Any]:
    """What a copy made now from ``source`` on this machine would be stamped with."""
    import onnxruntime

    from tui_speech.tts.tuning import cpu_key

    src = source.stat()
    return {
        "version": CACHE_VERSION,
        # The CPU model, its flags and the onnxruntime build; the graph does not depend on the
        # cores in use, so a fixed count keeps one copy whatever the affinity.
        "machine": cpu_key(n_cores=1),
        "onnxruntime": onnxruntime.__version__,
        "source": str(source.resolve()),
        "source_size": src.st_size,
        "source_mtime_ns": src.st_mtime_ns,
    }


def _stamp_matches(source: Path, expected: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """The stamp of ``source``'s copy if it was written for ``source`` as it is now, on this
    machine (the copy itself may not be there: a first use stamps without one); ``expected``:
    :func:`_expected` of ``source``, when the caller has it."""
    try:
        stamp = json.loads(_stamp_path(cached_path(source)).read_text())
        expected = expected or _expected(source)
    except (OSError, ValueError):
        return None
    if isinstance(stamp, dict) and all(stamp.get(k) == v for k, v in expected.items()):
        return stamp
    return None


def is_current(source: Path, expected: dict[str, Any] | None = None) -> bool:
    """Whether the cached copy of ``source`` was made from it as it is now, on this machine."""
    stamp = _stamp_matches(source, expected)
    try:
        stat = cached_path(source).stat()
    except OSError:
        return False
    return (
        stamp is not None
        and stamp.get("size") == stat.st_size
        and stamp.get("mtime_ns") == stat.st_mtime_ns
    )


def enabled(providers: list[str]) -> bool:
    """Only CPU sessions are cached (a GPU provider's graph is not this CPU's), and not when
    ``TUI_SPEECH_ORT_CACHE=0``."""
    return providers == ["CPUExecutionProvider"] and os.environ.get(ENV_SWITCH, "1") != "0"


def create_session(
    source: Path, make_options: Callable[[], Any], providers: list[str], *, cache: bool = True
) -> tuple[Any, bool]:
    """An ``InferenceSession`` on ``source`` with the options ``make_options()`` builds
    (graph optimization as they set it), and whether it was loaded from the cache.

    Cached: the optimized copy, optimization off. Otherwise the session is made from
    ``source``; with ``cache``, where the cache applies, its first use on this machine is
    only noted (a copy is as large as the model: none for a model used once, such as each
    test's own store) and the second saves the optimized graph for the uses after it.
    """
    import onnxruntime as ort

    if not (cache and enabled(providers)):
        return ort.InferenceSession(str(source), make_options(), providers=providers), False
    copy = cached_path(source)
    try:  # read once (the CPU's flags, the source's stat): each check below compares with it
        expected = _expected(source)
    except OSError:  # the source is gone: onnxruntime says so in its own words
        return ort.InferenceSession(str(source), make_options(), providers=providers), False
    if is_current(source, expected):
        options = make_options()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        try:
            return ort.InferenceSession(str(copy), options, providers=providers), True
        except Exception as error:  # a damaged copy: made again below
            log.warning("rebuilding the optimized graph of %s (%s)", source.name, error)
    elif _stamp_matches(source, expected) is None:
        _note_first_use(copy, expected)
        return ort.InferenceSession(str(source), make_options(), providers=providers), False
    return _build(source, copy, expected, make_options, providers), False


def _note_first_use(copy: Path, expected: dict[str, Any]) -> None:
    from tui_speech.fileio import atomic_write_text

    try:
        atomic_write_text(_stamp_path(copy), json.dumps(expected, indent=2))
        copy.unlink(missing_ok=True)  # a copy of what the source was before, if any
    except OSError as error:  # a read-only cache costs start-up time, nothing else
        log.debug("no optimized-graph cache: %s", error)


def _build(
    source: Path,
    copy: Path,
    expected: dict[str, Any],
    make_options: Callable[[], Any],
    providers: list[str],
) -> Any:
    """A session on ``source`` that also writes its optimized graph to ``copy`` (renamed into
    place when complete, then stamped with ``expected``, taken before the session: a source
    changed meanwhile is stale)."""
    import onnxruntime as ort

    options = make_options()
    tmp = copy.with_name(f".{copy.name}.{os.getpid()}.part")
    try:
        copy.parent.mkdir(parents=True, exist_ok=True)
        options.optimized_model_filepath = str(tmp)
        # onnxruntime warns on saving a graph with CPU-specific kernels; the stamp is our answer.
        options.log_severity_level = 3
    except OSError as error:  # a read-only cache costs start-up time, nothing else
        log.debug("no optimized-graph cache: %s", error)
        return ort.InferenceSession(str(source), make_options(), providers=providers)
    try:
        session = ort.InferenceSession(str(source), options, providers=providers)
    except Exception as error:  # e.g. no room for the copy: a plain session, or the real error
        tmp.unlink(missing_ok=True)
        log.debug("could not save the optimized graph: %s", error)
        return ort.InferenceSession(str(source), make_options(), providers=providers)
    try:
        os.replace(tmp, copy)
        stat = copy.stat()
        record = {**expected, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
        from tui_speech.fileio import atomic_write_text

        atomic_write_text(_stamp_path(copy), json.dumps(record, indent=2))
    except OSError as error:
        log.debug("could not cache the optimized graph: %s", error)
        tmp.unlink(missing_ok=True)
    return session
