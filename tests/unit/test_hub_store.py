"""The store's bookkeeping: ids, catalog file choice, list, rm, prune, crash recovery."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.hub_fixtures import ASR_ID, KOKORO_ID
from tui_speech.errors import ModelMissingError, UsageError
from tui_speech.hub import store
from tui_speech.hub.catalog import CATALOG, WAV2VEC2_ZH, entry_for, select_files
from tui_speech.hub.download import HubError
from tui_speech.hub.ids import safe_relpath, validate_model_id, validate_revision
from tui_speech.hub.manage import describe, list_models, remove, verify
from tui_speech.hub.pull import PullProgress, pull


@pytest.mark.parametrize(
    "good", ["hexgrad/Kokoro-82M", "jonatasgrosman/wav2vec2-large-xlsr-53-chinese-zh-cn", "a/b.c"]
)
def test_valid_ids(good: str) -> None:
    assert validate_model_id(good) == good


@pytest.mark.parametrize(
    "bad", ["", "x", "a/b/c", "../a", "a/..", "/a/b", "a/.b", ".a/b", "a b/c", "a\\b/c", "a/b\n"]
)
def test_invalid_ids(bad: str) -> None:
    with pytest.raises(UsageError):
        validate_model_id(bad)


def test_revisions_and_file_names() -> None:
    for good in ("main", "v1.0", "refs/pr/1", "0" * 40):
        assert validate_revision(good) == good
    for bad in ("", "../main", "a//b", "/main", "main/.git", "-rf"):
        with pytest.raises(UsageError):
            validate_revision(bad)
    assert str(safe_relpath("voices/af_heart.pt")) == "voices/af_heart.pt"
    for bad in ("../x", "/etc/passwd", "a/../../b", ".tui-speech.json", "a\\b", "", "a//b"):
        with pytest.raises(UsageError):
            safe_relpath(bad)


def test_catalog_prefers_safetensors_and_skips_other_frameworks() -> None:
    asr = CATALOG[WAV2VEC2_ZH]
    repo = ["config.json", "vocab.json", "pytorch_model.bin", "model.safetensors",
            "flax_model.msgpack", "tf_model.h5", "README.md",
            "preprocessor_config.json"]  # fmt: skip
    assert select_files(asr, repo) == [
        "config.json", "preprocessor_config.json", "vocab.json", "model.safetensors",
    ]  # fmt: skip
    legacy = [f for f in repo if f != "model.safetensors"]
    assert select_files(asr, legacy)[-1] == "pytorch_model.bin"
    with pytest.raises(UsageError, match="none of the weight files"):
        select_files(asr, ["config.json"])
    kokoro = CATALOG[KOKORO_ID]
    files = ["config.json", "kokoro-v1_0.pth", "voices/a.pt", "voices/b.pt", "samples/x.wav"]
    assert select_files(kokoro, files) == ["config.json", "kokoro-v1_0.pth", "voices/a.pt",
                                           "voices/b.pt"]  # fmt: skip
    assert select_files(kokoro, files, ["b"])[-1] == "voices/b.pt"
    assert entry_for("someone/other-ctc").kind == "asr"


def test_list_shows_catalog_and_pulled_models(hub) -> None:
    ids = [e.id for e in list_models()]
    assert ids[: len(CATALOG)] == list(CATALOG)
    pull(ASR_ID)
    entries = {e.id: e for e in list_models()}
    assert entries[ASR_ID].present and entries[ASR_ID].variants == ("torch",)
    store.mark_used(ASR_ID)
    assert describe(ASR_ID).last_used is not None


def test_rm_removes_whole_model_and_refuses_unknown(hub) -> None:
    pull(ASR_ID)
    assert remove(ASR_ID) == [ASR_ID]
    assert not store.path_of(ASR_ID).exists() and not store.path_of(ASR_ID).parent.exists()
    with pytest.raises(ModelMissingError):
        remove(ASR_ID)
    with pytest.raises(UsageError, match="unknown variant"):
        remove(KOKORO_ID, "gguf")


def test_rm_torch_variant_and_pull_brings_it_back(hub) -> None:
    pull(ASR_ID)
    assert remove(ASR_ID, "torch") == ["model.safetensors"]
    assert describe(ASR_ID).variants == ()
    assert verify(ASR_ID).ok  # the manifest no longer lists the weights
    assert pull(ASR_ID).fetched == len(hub.repos[ASR_ID].files["model.safetensors"])


def test_prune_removes_partials_and_reports_unregistered_folders(hub) -> None:
    hub.interrupt(KOKORO_ID, "kokoro-v1_0.pth", after=[1000] + [0] * 10)
    with pytest.raises(HubError):
        pull(KOKORO_ID)
    by_hand = store.store_root() / "someone" / "copied-by-hand"
    by_hand.mkdir(parents=True)
    (by_hand / "model.bin").write_bytes(b"x" * 10)
    pull(ASR_ID)

    planned = store.prune(dry_run=True)
    assert [(i.path.name, i.why) for i in planned] == [("hexgrad--Kokoro-82M", "partial download")]
    assert planned[0].size > 1000
    assert store.staging_dir(KOKORO_ID).exists()  # a dry run changes nothing
    assert store.prune() == planned
    assert not store.staging_dir(KOKORO_ID).exists()
    # A folder tui-speech did not register may be someone's model: reported, never deleted.
    assert [i.path for i in store.unregistered()] == [by_hand]
    assert (by_hand / "model.bin").exists()
    assert verify(ASR_ID).ok  # registered models are untouched
    assert store.prune() == []


def test_prune_spares_the_staging_of_a_running_pull(hub) -> None:
    hub.interrupt(KOKORO_ID, "kokoro-v1_0.pth", after=[1000] + [0] * 10)
    with pytest.raises(HubError):
        pull(KOKORO_ID)
    with store.model_lock(KOKORO_ID):  # as a pull in another process would hold it
        assert store.prune() == []
    assert store.staging_dir(KOKORO_ID).exists()


def test_a_crash_between_the_two_renames_is_finished_next_time(hub) -> None:
    pull(ASR_ID)
    folder = store.path_of(ASR_ID)
    # Simulate the crash: the new snapshot is complete in staging, the target is gone.
    new = store.staging_dir(ASR_ID) / "new"
    new.parent.mkdir(parents=True)
    folder.replace(new)
    assert store.read_manifest(ASR_ID) is None
    assert verify(ASR_ID).ok  # taking the lock finishes the swap first
    assert (folder / "model.safetensors").is_file()


def test_401_in_the_middle_of_a_pull_leaves_nothing(hub) -> None:
    def lock_out(event: PullProgress) -> None:
        if event.stage == "checking":
            hub.repos[KOKORO_ID].private = True

    with pytest.raises(HubError, match="set HF_TOKEN"):
        pull(KOKORO_ID, on_progress=lock_out)
    assert store.read_manifest(KOKORO_ID) is None and not store.path_of(KOKORO_ID).exists()


def test_embedded_model_is_listed_verified_and_repaired() -> None:
    from tui_speech.hub import embedded

    entry = describe(embedded.EMBEDDED_ID)
    assert entry.present and entry.variants == ("onnx-int8",) and entry.kind == "tts"
    assert verify(embedded.EMBEDDED_ID).ok
    model = embedded.model_dir() / embedded.MODEL_FILENAME
    # The test home hard-links the shared copy: break the link before damaging it.
    data = bytearray(model.read_bytes())
    model.unlink()
    data[1000] ^= 0xFF
    model.write_bytes(bytes(data))
    assert verify(embedded.EMBEDDED_ID).bad == (embedded.MODEL_FILENAME,)
    pull(embedded.EMBEDDED_ID)
    assert verify(embedded.EMBEDDED_ID).ok


def test_models_command_and_core_import_no_heavy_libraries() -> None:
    code = (
        "import sys, tui_speech.cli as c; c.build_parser();"
        "import tui_speech.hub.store, tui_speech.hub.manage, tui_speech.hub.bundle;"
        "import tui_speech.hub.pull;"
        "bad = [m for m in ('huggingface_hub', 'torch', 'textual', 'httpx2') if m in sys.modules];"
        "print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True)
    assert json.loads(out.stdout.decode().replace("'", '"')) == []
