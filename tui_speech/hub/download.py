"""Talking to the Hub: resolve a revision to a commit, list files with their hashes, fetch bytes.

All HTTP goes through ``huggingface_hub`` (its endpoint, token handling and HTTP client), so
``HF_ENDPOINT``, ``HF_TOKEN`` and ``HF_HUB_OFFLINE`` behave as users expect. The byte transfer
itself is ours rather than ``hf_hub_download``'s, because that one throws away a partial file on
failure; here a partial file stays in the staging area and the next attempt asks only for the
missing range. Hub failures become one-line ``HubError`` messages that say what to do.
"""

from __future__ import annotations

import errno
import hashlib
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tui_speech.errors import Action, TuiSpeechError
from tui_speech.hub.ids import COMMIT_RE, safe_relpath

#: Attempts per file when the connection drops mid-transfer; each resumes where it stopped.
RETRIES = 3
RETRY_WAIT_S = 0.3
#: Seconds to wait for a connection or for the next bytes: a stalled transfer is retried
#: (resuming) rather than left hanging, which is what users of other tools complain about.
TIMEOUT_S = 30.0

#: Where there is no network, a bundle made on another machine brings the model in.
_IMPORT = Action("import-bundle")


class HubError(TuiSpeechError):
    """The Hub could not be reached, refused access, or sent something unusable."""

    exit_code = 5


class DownloadCancelled(TuiSpeechError):
    """The caller set the cancel event; partial files are kept for the next pull."""

    exit_code = 130


@dataclass(frozen=True)
class RemoteFile:
    """A repo file as the Hub describes it at one commit."""

    path: str
    size: int
    #: SHA-256 from the LFS pointer; ``None`` for small files kept in git itself.
    sha256: str | None
    #: The git object id: SHA-1 of ``b"blob <size>\\0" + content``, known for every file.
    blob_id: str | None

    @property
    def key(self) -> str:
        """Content address of the file, used to name its partial download."""
        return self.sha256 or self.blob_id or f"{self.path.replace('/', '_')}-{self.size}"


@dataclass(frozen=True)
class RemoteRepo:
    """A repo resolved at one commit: every file, plus the config summary the Hub reports."""

    id: str
    revision: str
    commit: str
    files: tuple[RemoteFile, ...]
    config: dict | None


def endpoint() -> str:
    from huggingface_hub import constants

    return constants.ENDPOINT


def _unreachable(exc: BaseException) -> HubError:
    return HubError(
        f"cannot reach {endpoint()} ({type(exc).__name__})",
        "check the network, or copy the model over in a bundle",
        action=_IMPORT,
    )


def _transport_errors() -> tuple[type[BaseException], ...]:
    """Network-level failures of whichever HTTP client huggingface_hub uses.

    huggingface_hub 1.x talks through ``httpx``, 2.x through ``httpx2``; only the one already
    imported (by huggingface_hub itself) is looked up, so neither becomes a hard dependency.
    """
    found: list[type[BaseException]] = [ConnectionError, TimeoutError]
    for name in ("httpx2", "httpx"):
        module = sys.modules.get(name)
        if module is not None and hasattr(module, "TransportError"):
            found.append(module.TransportError)
    return tuple(found)


def _transient(exc: BaseException | None) -> bool:
    """A failure worth retrying: the network, or the Hub saying "busy, try again"."""
    if exc is None:
        return False
    if isinstance(exc, _transport_errors()):
        return True
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None) in (429, 500, 502, 503, 504)


@contextmanager
def hub_errors(model_id: str, revision: str | None = None) -> Iterator[None]:
    """Translate ``huggingface_hub``/``httpx`` failures into one-line ``HubError``s."""
    from huggingface_hub import errors as hf_errors

    try:
        yield
    except hf_errors.OfflineModeIsEnabled as exc:
        raise HubError(
            "HF_HUB_OFFLINE is set, so nothing can be downloaded",
            "unset it, or import the model from a bundle",
            action=_IMPORT,
        ) from exc
    except hf_errors.GatedRepoError as exc:
        raise HubError(
            f"{model_id} is gated: accept its terms at {endpoint()}/{model_id} and set HF_TOKEN"
        ) from exc
    except hf_errors.RevisionNotFoundError as exc:
        raise HubError(f"{model_id} has no revision {revision!r} on the Hub") from exc
    except hf_errors.HfHubHTTPError as exc:
        status = exc.response.status_code if exc.response is not None else None
        server_says = exc.response.headers.get("X-Error-Message", "") if status else ""
        if status == 401 and "Invalid credentials" in server_says:
            raise HubError(
                "the Hub rejected HF_TOKEN as invalid (401); fix it, or unset it for public models"
            ) from exc
        if status == 401:
            raise HubError(
                f"the Hub refused access to {model_id} (401): it is private, gated or does not "
                "exist; set HF_TOKEN to a token that can read it"
            ) from exc
        if status == 403:
            raise HubError(
                f"the Hub refused access to {model_id} (403): HF_TOKEN lacks permission to read it"
            ) from exc
        if status == 404:
            raise HubError(f"no such model on the Hub: {model_id} (check the id)") from exc
        raise HubError(f"the Hub answered {status} for {model_id}; try again later") from exc
    except _transport_errors() as exc:
        raise _unreachable(exc) from exc


def resolve(model_id: str, revision: str | None, token: str | None = None) -> RemoteRepo:
    """Ask the Hub which commit ``revision`` is and what files (size, hashes) it holds."""
    from huggingface_hub import HfApi

    with hub_errors(model_id, revision):
        info = HfApi(token=token).model_info(
            model_id, revision=revision, files_metadata=True, timeout=TIMEOUT_S
        )
    commit = info.sha or ""
    if not COMMIT_RE.fullmatch(commit):
        raise HubError(f"the Hub sent no valid commit id for {model_id}; is HF_ENDPOINT a Hub?")
    files = []
    for sibling in info.siblings or []:
        safe_relpath(sibling.rfilename)  # a hostile listing must not name paths outside
        lfs = sibling.lfs
        size = lfs.size if lfs is not None else sibling.size
        if size is None:
            raise HubError(f"the Hub sent no size for {model_id}/{sibling.rfilename}")
        sha = lfs.sha256 if lfs is not None else None
        files.append(RemoteFile(sibling.rfilename, int(size), sha, sibling.blob_id))
    config = info.config if isinstance(info.config, dict) else None
    return RemoteRepo(model_id, revision or "main", commit, tuple(files), config)


def git_blob_sha1(path: Path) -> str:
    """The git object id of a file (how the Hub identifies files that are not in LFS)."""
    digest = hashlib.sha1(f"blob {path.stat().st_size}\0".encode(), usedforsecurity=False)
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def matches(path: Path, remote: RemoteFile, sha256: str) -> bool:
    """Whether the file at ``path`` (whose SHA-256 is ``sha256``) is the Hub's ``remote``."""
    if path.stat().st_size != remote.size:
        return False
    if remote.sha256 is not None:
        return sha256 == remote.sha256
    if remote.blob_id is not None:
        return git_blob_sha1(path) == remote.blob_id
    return True  # the Hub gave no hash: the size is all there is to check


def fetch(
    model_id: str,
    commit: str,
    remote: RemoteFile,
    partial: Path,
    on_bytes: Callable[[int], None],
    cancel: threading.Event | None = None,
    token: str | None = None,
) -> None:
    """Download ``remote`` into ``partial``, appending to what an earlier attempt left there.

    Connection drops, timeouts and busy answers (429/5xx) are retried with a ``Range`` request
    for the missing bytes, until more than ``RETRIES`` attempts in a row bring nothing.
    ``on_bytes`` gets the size of every chunk written (and the already present size once, at
    the start). The caller verifies the finished file.
    """
    from huggingface_hub import hf_hub_url
    from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status

    url = hf_hub_url(model_id, remote.path, revision=commit)
    partial.parent.mkdir(parents=True, exist_ok=True)
    have = partial.stat().st_size if partial.exists() else 0
    if have > remote.size:  # a stale partial of something else: start over
        partial.unlink()
        have = 0
    on_bytes(have)
    attempt = 0
    before_attempt = have
    while have < remote.size:
        headers = build_hf_headers(token=token)
        # Ask for the raw bytes: a gzip-encoded body has no usable Range semantics.
        headers["Accept-Encoding"] = "identity"
        if have:
            headers["Range"] = f"bytes={have}-"
        try:
            with (
                hub_errors(model_id, commit),
                get_session().stream("GET", url, headers=headers, timeout=TIMEOUT_S) as response,
            ):
                if response.status_code == 416:  # we hold more than the server has
                    partial.unlink()
                    on_bytes(-have)
                    have = 0
                    continue
                hf_raise_for_status(response)
                mode = "ab"
                if have and response.status_code != 206:
                    # The server ignored the Range header: start the file again.
                    on_bytes(-have)
                    mode, have = "wb", 0
                with open(partial, mode) as out:
                    # Unchunked iteration: a re-chunking buffer would lose its tail
                    # when the connection drops, and those bytes would be fetched twice.
                    for chunk in response.iter_bytes():
                        if cancel is not None and cancel.is_set():
                            raise DownloadCancelled(
                                f"download of {model_id} cancelled; run the pull again to resume"
                            )
                        # Never more than the listing promised: a broken or hostile server
                        # cannot fill the disk (the hash check then rejects the file).
                        chunk = chunk[: remote.size - have]
                        out.write(chunk)
                        have += len(chunk)
                        on_bytes(len(chunk))
                        if have >= remote.size:
                            break
        except HubError as exc:
            cause = exc.__cause__
            if not _transient(cause):
                raise
            have = partial.stat().st_size if partial.exists() else 0
            # Only attempts that brought nothing count: a link that drops now and then
            # still finishes a large file, one that is down gives up quickly.
            if have > before_attempt:
                attempt = 0
            attempt += 1
            before_attempt = have
            if attempt > RETRIES:
                status = getattr(getattr(cause, "response", None), "status_code", None)
                reason = f"HTTP {status}" if status else type(cause).__name__
                raise HubError(
                    f"downloading {remote.path} from {endpoint()} failed {attempt} times "
                    f"({reason})",
                    "pull again to resume, or import the model from a bundle",
                    action=_IMPORT,
                ) from cause
            time.sleep(RETRY_WAIT_S * attempt)
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                raise HubError(
                    f"disk full while downloading {model_id} into {partial.parent}; free space "
                    "and pull again (the download resumes where it stopped)"
                ) from exc
            raise
        else:
            if have < remote.size:
                raise HubError(
                    f"the Hub sent {have} of {remote.size} bytes of {remote.path}; pull again"
                )
