"""Pulling models from a (fake, local) Hub: progress, resume, repair, faults."""

from __future__ import annotations

import errno
import shutil
import threading
import time

import pytest

from tests.hub_fixtures import ASR_ID, KOKORO_ID, PRIVATE_ID, TOKEN
from tui_speech.commands._common import error_line
from tui_speech.errors import UsageError
from tui_speech.hub import store
from tui_speech.hub.download import DownloadCancelled, HubError
from tui_speech.hub.manage import verify
from tui_speech.hub.pull import PullProgress, pull
from tui_speech.tui.errors import describe_error

ASR_FILES = ["config.json", "model.safetensors", "preprocessor_config.json", "vocab.json"]


def test_pull_registers_only_needed_files_with_progress(hub) -> None:
    events: list[PullProgress] = []
    result = pull(ASR_ID, on_progress=events.append)
    folder = store.path_of(ASR_ID)
    assert sorted(p.name for p in folder.iterdir()) == [".tui-speech.json", *ASR_FILES]
    assert result.path == folder
    manifest = store.read_manifest(ASR_ID)
    assert manifest is not None and manifest.commit == hub.repos[ASR_ID].commit
    assert sorted(f.path for f in manifest.files) == ASR_FILES
    downloads = [e for e in events if e.stage == "downloading"]
    assert downloads[-1].done == downloads[-1].total == result.size == result.fetched
    assert {e.file for e in downloads} == set(ASR_FILES)
    # Totals only grow, and each file's last event is that file complete.
    assert [e.done for e in downloads] == sorted(e.done for e in downloads)
    last = {e.file: e for e in downloads}
    assert all(e.file_done == e.file_total for e in last.values())
    assert events[0].stage == "resolving" and events[-1].stage == "done"
    # Staging is cleaned up once the model is installed.
    assert not store.staging_dir(ASR_ID).exists()


def test_second_pull_downloads_nothing(hub) -> None:
    pull(ASR_ID)
    before = hub.total_served(ASR_ID)
    result = pull(ASR_ID)
    assert result.fetched == 0
    assert hub.total_served(ASR_ID) == before


def test_dropped_connection_is_resumed_without_refetching(hub, tiny_repos) -> None:
    weights = tiny_repos[KOKORO_ID]["kokoro-v1_0.pth"]
    hub.interrupt(KOKORO_ID, "kokoro-v1_0.pth", after=len(weights) // 3)
    result = pull(KOKORO_ID)
    assert (result.path / "kokoro-v1_0.pth").read_bytes() == weights
    # The retry asked for the rest only: every byte crossed the wire exactly once.
    assert hub.served[f"{KOKORO_ID}/kokoro-v1_0.pth"] == len(weights)
    ranges = [r for m, p, r in hub.requests if p.startswith("/cdn/") and r]
    assert ranges == [f"bytes={len(weights) // 3}-"]


def test_cancel_mid_file_registers_nothing_and_next_pull_resumes(hub, tiny_repos) -> None:
    files = tiny_repos[KOKORO_ID]
    weights = files["kokoro-v1_0.pth"]
    key = f"{KOKORO_ID}/kokoro-v1_0.pth"
    cancel = threading.Event()

    def on_progress(event: PullProgress) -> None:
        if event.file == "kokoro-v1_0.pth" and event.file_done > len(weights) // 2:
            cancel.set()

    hub.throttle_s = 0.0005  # keep the transfer going long enough to cancel inside it
    with pytest.raises(DownloadCancelled, match="run the pull again to resume"):
        pull(KOKORO_ID, on_progress=on_progress, cancel=cancel)
    assert store.read_manifest(KOKORO_ID) is None
    assert not store.path_of(KOKORO_ID).exists()
    (partial,) = store.staging_dir(KOKORO_ID).glob("blobs/*.incomplete")
    kept = partial.stat().st_size
    assert len(weights) // 2 < kept < len(weights)

    hub.throttle_s = 0.0
    result = pull(KOKORO_ID)
    assert (result.path / "kokoro-v1_0.pth").read_bytes() == weights
    # The second transfer started where the partial file ended and sent only the rest.
    assert [(s, n) for k, s, n in hub.transfers if k == key][-1] == (kept, len(weights) - kept)
    assert result.fetched == result.size - len(files["config.json"]) - kept


def test_voices_are_pulled_one_by_one_and_kept(hub) -> None:
    pull(KOKORO_ID, voices=["af_heart"])
    folder = store.path_of(KOKORO_ID)
    assert sorted(p.name for p in (folder / "voices").iterdir()) == ["af_heart.pt"]
    pull(KOKORO_ID, voices=["zf_xiaoxiao"])
    assert sorted(p.name for p in (folder / "voices").iterdir()) == [
        "af_heart.pt",
        "zf_xiaoxiao.pt",
    ]
    with pytest.raises(UsageError, match="no voice nope"):
        pull(KOKORO_ID, voices=["nope"])


def test_corrupt_file_found_by_verify_and_repaired_by_pull(hub, tiny_repos) -> None:
    pull(ASR_ID)
    weights = store.path_of(ASR_ID) / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[100] ^= 0xFF
    weights.write_bytes(bytes(data))
    report = verify(ASR_ID)
    assert report.bad == ("model.safetensors",) and not report.ok
    assert store.read_manifest(ASR_ID).verified is False
    before = hub.served.copy()
    result = pull(ASR_ID)
    assert weights.read_bytes() == tiny_repos[ASR_ID]["model.safetensors"]
    assert verify(ASR_ID).ok
    # Only the damaged file came again.
    fetched = {k for k in hub.served if hub.served[k] != before.get(k, 0)}
    assert fetched == {f"{ASR_ID}/model.safetensors"}
    assert result.fetched == len(data)


def test_bytes_that_do_not_match_the_hub_hash_are_refused(hub) -> None:
    hub.corrupt_in_transit(KOKORO_ID, "kokoro-v1_0.pth")
    with pytest.raises(HubError, match="does not match the Hub's checksum"):
        pull(KOKORO_ID)
    assert store.read_manifest(KOKORO_ID) is None


def test_unknown_repo_private_repo_and_bad_revision(hub, monkeypatch) -> None:
    with pytest.raises(HubError, match="no such model on the Hub: nobody/nothing"):
        pull("nobody/nothing")
    with pytest.raises(HubError, match="set HF_TOKEN"):
        pull(PRIVATE_ID)
    with pytest.raises(HubError, match="has no revision 'v9'"):
        pull(ASR_ID, revision="v9")
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    assert (pull(PRIVATE_ID).path / "model.safetensors").is_file()


def test_network_down_leaves_nothing(hub) -> None:
    hub.stop()
    with pytest.raises(HubError, match="cannot reach") as err:
        pull(ASR_ID)
    # The fix is a bundle: the CLI names its commands, the TUI the Models pane's key.
    assert "`tui-speech models import` here" in error_line(err.value)
    assert "ctrl+o imports a bundle" in describe_error(err.value)
    assert store.read_manifest(ASR_ID) is None


def test_hostile_file_listing_is_refused(hub) -> None:
    hub.add_repo("evil/model", {"config.json": b"{}", "../../escape.txt": b"x"})
    with pytest.raises(UsageError, match="unsafe file name"):
        pull("evil/model")
    assert not (store.store_root().parent / "escape.txt").exists()


def test_remote_code_and_other_architectures_are_refused(hub) -> None:
    files = {"config.json": b"{}", "model.safetensors": b"0" * 10}
    hub.add_repo("x/custom", files, config={"architectures": ["X"], "auto_map": {"a": "b"}})
    hub.add_repo("x/bert", files, config={"architectures": ["BertModel"]})
    with pytest.raises(UsageError, match="never runs remote code"):
        pull("x/custom")
    with pytest.raises(UsageError, match="not a Wav2Vec2ForCTC model"):
        pull("x/bert")
    # Without the Hub's summary, config.json itself is read before the weights are fetched.
    bert = {"config.json": b'{"architectures": ["BertModel"]}', "model.safetensors": b"0" * 10}
    hub.add_repo("x/bert-no-summary", bert)
    with pytest.raises(UsageError, match="not a Wav2Vec2ForCTC model"):
        pull("x/bert-no-summary")
    assert hub.served["x/bert-no-summary/config.json"] > 0
    assert hub.served["x/bert-no-summary/model.safetensors"] == 0
    assert store.read_manifest("x/bert-no-summary") is None


def test_disk_full_is_a_clean_error(hub, monkeypatch) -> None:
    usage = shutil.disk_usage("/")
    monkeypatch.setattr(shutil, "disk_usage", lambda _p: usage._replace(free=1000))
    with pytest.raises(HubError, match="not enough disk space"):
        pull(ASR_ID)
    assert store.read_manifest(ASR_ID) is None


def test_disk_full_while_writing_keeps_nothing_registered(hub, monkeypatch) -> None:
    real_write = store.write_manifest

    def full(folder, manifest):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store, "write_manifest", full)
    with pytest.raises(HubError, match="disk full"):
        pull(ASR_ID)
    assert store.read_manifest(ASR_ID) is None
    monkeypatch.setattr(store, "write_manifest", real_write)
    assert pull(ASR_ID).fetched == 0  # the downloaded blobs were kept and reused


def test_invalid_ids_and_revisions_never_reach_the_disk(hub) -> None:
    for bad in ("../x", "a/b/c", "/etc/passwd", "a/..", ".hidden/x", "a--b/c"):
        with pytest.raises(UsageError, match="invalid model id"):
            pull(bad)
    with pytest.raises(UsageError, match="invalid revision"):
        pull(ASR_ID, revision="../../main")


def test_a_link_that_keeps_dropping_still_finishes_a_file(hub, tiny_repos) -> None:
    weights = tiny_repos[KOKORO_ID]["kokoro-v1_0.pth"]
    hub.interrupt(KOKORO_ID, "kokoro-v1_0.pth", after=150_000, times=8)
    result = pull(KOKORO_ID)
    assert (result.path / "kokoro-v1_0.pth").read_bytes() == weights
    key = f"{KOKORO_ID}/kokoro-v1_0.pth"
    # Nine transfers, each resuming where the last one was cut; no byte sent twice.
    assert [start for k, start, _n in hub.transfers if k == key] == [i * 150_000 for i in range(9)]
    assert hub.served[key] == len(weights)


def test_a_link_that_brings_nothing_gives_up_and_keeps_the_partial(hub) -> None:
    # One transfer brings 100 kB, then every attempt is cut before its first byte.
    hub.interrupt(KOKORO_ID, "kokoro-v1_0.pth", after=[100_000] + [0] * 10)
    with pytest.raises(HubError, match="downloading kokoro-v1_0.pth from .* failed 4 times"):
        pull(KOKORO_ID)
    (partial,) = store.staging_dir(KOKORO_ID).glob("blobs/*.incomplete")
    assert partial.stat().st_size == 100_000  # what the good attempt brought is kept
    assert store.read_manifest(KOKORO_ID) is None


def test_voices_all_and_a_plain_pull_keep_or_complete_the_set(hub) -> None:
    pull(KOKORO_ID, voices=["am_adam"])
    voices = store.path_of(KOKORO_ID) / "voices"
    pull(KOKORO_ID)  # a registered model keeps the packs it has: a repair, not a bulk download
    assert sorted(p.stem for p in voices.iterdir()) == ["am_adam"]
    pull(KOKORO_ID, voices=["all"])
    assert sorted(p.stem for p in voices.iterdir()) == ["af_heart", "am_adam", "zf_xiaoxiao"]
    with pytest.raises(UsageError, match="has no voice packs"):
        pull(ASR_ID, voices=["af_heart"])


def test_update_to_a_new_commit_fetches_only_what_changed(hub, tiny_repos) -> None:
    first = hub.repos[ASR_ID].commit
    pull(ASR_ID, revision=first)
    assert store.read_manifest(ASR_ID).revision == first
    files = dict(tiny_repos[ASR_ID], **{"vocab.json": b'{"<pad>": 0, "a": 1}'})
    second = hub.add_repo(ASR_ID, files, config={"architectures": ["Wav2Vec2ForCTC"]})
    before = hub.served.copy()
    result = pull(ASR_ID)
    assert result.commit == second != first
    assert result.fetched == len(files["vocab.json"])
    assert {k for k in hub.served if hub.served[k] != before.get(k, 0)} == {f"{ASR_ID}/vocab.json"}
    assert (result.path / "vocab.json").read_bytes() == files["vocab.json"]
    assert store.read_manifest(ASR_ID).commit == second


def test_a_pull_with_nothing_to_do_leaves_the_folder_alone(hub) -> None:
    first = pull(ASR_ID)
    weights = first.path / "model.safetensors"
    inode = weights.stat().st_ino
    verify_before = store.read_manifest(ASR_ID).verified_at
    again = pull(ASR_ID)
    assert again.fetched == 0 and weights.stat().st_ino == inode
    assert store.read_manifest(ASR_ID).verified_at >= verify_before
    assert not store.staging_dir(ASR_ID).exists()


def test_a_stalled_transfer_times_out_and_resumes(hub, tiny_repos, monkeypatch) -> None:
    monkeypatch.setattr("tui_speech.hub.download.TIMEOUT_S", 0.3)
    weights = tiny_repos[KOKORO_ID]["kokoro-v1_0.pth"]
    hub.interrupt(KOKORO_ID, "kokoro-v1_0.pth", after=300_000, stall_s=2.0)
    started = time.monotonic()
    result = pull(KOKORO_ID)
    assert time.monotonic() - started < 2.0  # it did not sit out the stall
    assert (result.path / "kokoro-v1_0.pth").read_bytes() == weights
    key = f"{KOKORO_ID}/kokoro-v1_0.pth"
    assert [start for k, start, _n in hub.transfers if k == key] == [0, 300_000]


def test_a_busy_hub_is_retried_and_a_broken_one_reported(hub, tiny_repos) -> None:
    hub.fail(KOKORO_ID, "config.json", 503)
    assert (pull(KOKORO_ID).path / "config.json").is_file()
    hub.fail(ASR_ID, "vocab.json", 500, times=10)
    with pytest.raises(
        HubError, match=r"downloading vocab.json from .* failed 4 times \(HTTP 500\)"
    ):
        pull(ASR_ID)
    hub.fail(ASR_ID, "vocab.json", 403, times=1)  # not worth retrying
    with pytest.raises(HubError, match="lacks permission"):
        pull(ASR_ID)


def test_a_server_sending_too_much_cannot_fill_the_disk(hub, monkeypatch) -> None:
    import tui_speech.hub.download as download

    real = download.resolve

    def shrunk(*args, **kwargs):  # the listing promises less than the server sends
        repo = real(*args, **kwargs)
        files = tuple(
            type(f)(f.path, 1000, f.sha256, f.blob_id) if f.path == "kokoro-v1_0.pth" else f
            for f in repo.files
        )
        return type(repo)(repo.id, repo.revision, repo.commit, files, repo.config)

    monkeypatch.setattr("tui_speech.hub.pull.resolve", shrunk)
    events: list[PullProgress] = []
    with pytest.raises(HubError, match="does not match the Hub's checksum"):
        pull(KOKORO_ID, on_progress=events.append)
    written = [e.file_done for e in events if e.file == "kokoro-v1_0.pth"]
    assert max(written) == 1000  # the rest of the 2 MB body was never written
    assert not list(store.staging_dir(KOKORO_ID).glob("blobs/*.incomplete"))
    assert store.read_manifest(KOKORO_ID) is None


def test_disk_full_mid_download_is_a_clean_error_and_resumes(hub, monkeypatch) -> None:
    import builtins

    import tui_speech.hub.download as download

    class FullDisk:
        """A partial file that takes 50 kB more, then reports ENOSPC."""

        def __init__(self, path, mode):
            self.file = builtins.open(path, mode)
            self.room = 50_000

        def write(self, data: bytes) -> int:
            if len(data) > self.room:
                raise OSError(errno.ENOSPC, "No space left on device")
            self.room -= len(data)
            return self.file.write(data)

        def __enter__(self):
            return self

        def __exit__(self, *exc) -> None:
            self.file.close()

    def fake_open(path, mode="r", *args, **kwargs):
        return (
            FullDisk(path, mode) if "b" in mode and mode[0] in "aw" else builtins.open(path, mode)
        )

    # A context of its own: undoing it must not undo the fixture's endpoint patch.
    with monkeypatch.context() as patch:
        patch.setattr(download, "open", fake_open, raising=False)
        with pytest.raises(HubError, match="disk full while downloading .* resumes"):
            pull(KOKORO_ID)
    assert store.read_manifest(KOKORO_ID) is None
    result = pull(KOKORO_ID)
    assert result.fetched < result.size  # what fitted before the disk filled was kept
