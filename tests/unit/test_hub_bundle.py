"""Offline bundles: round trip, and archives crafted to escape or overflow the store."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest

from tests.hub_fixtures import ASR_ID
from tui_speech.hub import store
from tui_speech.hub.bundle import BUNDLE_JSON, BundleError, create, import_bundle
from tui_speech.hub.manage import describe, remove, verify
from tui_speech.hub.pull import pull

CONFIG = b'{"architectures": ["Wav2Vec2ForCTC"]}'


def test_round_trip_keeps_files_and_exports(hub, tmp_path: Path) -> None:
    pull(ASR_ID)
    folder = store.path_of(ASR_ID)
    (folder / "onnx").mkdir()
    (folder / "onnx" / "model.int8.onnx").write_bytes(b"onnx bytes")
    before = {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}

    info = create(ASR_ID, tmp_path / "asr.tar")
    assert info.files == 5 and info.path.is_file()
    remove(ASR_ID)
    assert not folder.exists() and store.read_manifest(ASR_ID) is None

    hub.stop()  # an offline machine: the import must not need the Hub
    imported = import_bundle(tmp_path / "asr.tar")
    assert imported.path == folder
    after = {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    manifest_name = Path(".tui-speech.json")
    assert {k: v for k, v in after.items() if k != manifest_name} == {
        k: v for k, v in before.items() if k != manifest_name
    }
    assert verify(ASR_ID).ok
    entry = describe(ASR_ID)
    assert entry.source == "bundle" and entry.variants == ("torch", "onnx-int8")
    # The export is not a Hub file: a later pull must keep it, not treat it as part of the repo.
    assert "onnx/model.int8.onnx" not in {f.path for f in store.read_manifest(ASR_ID).files}
    assert not store.staging_dir(ASR_ID).exists()


def test_unpacked_bundle_folder_imports(hub, tmp_path: Path) -> None:
    pull(ASR_ID)
    create(ASR_ID, tmp_path / "asr.tar")
    remove(ASR_ID)
    with tarfile.open(tmp_path / "asr.tar") as tar:
        tar.extractall(tmp_path / "unpacked", filter="data")
    import_bundle(tmp_path / "unpacked")
    assert verify(ASR_ID).ok


def test_bundling_a_damaged_model_is_refused(hub, tmp_path: Path) -> None:
    pull(ASR_ID)
    (store.path_of(ASR_ID) / "vocab.json").write_text("{}")
    with pytest.raises(BundleError, match="damaged or missing; repair it"):
        create(ASR_ID, tmp_path / "asr.tar")
    assert not list(tmp_path.glob("*asr.tar*"))


def _header(files: dict[str, bytes], model_id: str = "x/y") -> bytes:
    records = [
        {"path": n, "size": len(d), "sha256": hashlib.sha256(d).hexdigest()}
        for n, d in files.items()
    ]
    manifest = {"format": 1, "id": model_id, "kind": "asr", "revision": "main",
                "commit": "0" * 40, "files": records}  # fmt: skip
    return json.dumps({"format": 1, "id": model_id, "manifest": manifest}).encode()


def _craft(path: Path, header: bytes, members: list[tuple[tarfile.TarInfo, bytes | None]]) -> Path:
    with tarfile.open(path, "w") as tar:
        info = tarfile.TarInfo(BUNDLE_JSON)
        info.size = len(header)
        tar.addfile(info, io.BytesIO(header))
        for member, data in members:
            if data is not None:
                member.size = len(data)
            tar.addfile(member, io.BytesIO(data) if data is not None else None)
    return path


def _file(name: str) -> tarfile.TarInfo:
    return tarfile.TarInfo(name)


def _link(name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ([(_file("model/../../escaped.json"), CONFIG)], "outside the model folder"),
        ([(_file("/tmp/absolute-escape.json"), CONFIG)], "outside the model folder"),
        ([(_file("../escaped.json"), CONFIG)], "outside the model folder"),
        ([(_link("model/config.json", "/etc/passwd"), None)], "is a link"),
        ([(_link("model/config.json", "../../../../outside"), None)], "is a link"),
        ([(_link("model/config.json", "/etc/passwd", tarfile.LNKTYPE), None)], "is a link"),
        ([(_file("model/config.json"), CONFIG), (_file("model/extra.bin"), b"x")], "not in"),
        ([(_file("model/config.json"), CONFIG + b" ")], "the manifest says"),
        ([], "incomplete: missing config.json"),
        ([(_file("model/config.json"), CONFIG), (_file("model/config.json"), CONFIG)], "twice"),
        ([(_file("model"), CONFIG)], "unsafe name"),
    ],
    ids=[
        "traversal",
        "absolute",
        "parent",
        "symlink-abs",
        "symlink-up",
        "hardlink",
        "unlisted",
        "size-lie",
        "missing",
        "duplicate",
        "prefix-as-file",
    ],  # fmt: skip
)
def test_crafted_tar_is_refused(tmp_path: Path, members, message: str) -> None:
    bundle = _craft(tmp_path / "evil.tar", _header({"config.json": CONFIG}), members)
    with pytest.raises(BundleError, match=message):
        import_bundle(bundle)
    assert store.read_manifest("x/y") is None
    assert not (tmp_path / "escaped.json").exists()
    assert not Path("/tmp/absolute-escape.json").exists()
    assert not store.staging_dir("x/y").exists()


def test_oversize_member_is_refused_before_extraction(tmp_path: Path) -> None:
    big = b"\0" * 5000
    bundle = _craft(
        tmp_path / "big.tar",
        _header({"config.json": CONFIG, "model.bin": big}),
        [(_file("model/config.json"), CONFIG), (_file("model/model.bin"), big)],
    )
    with pytest.raises(BundleError, match="oversize"):
        import_bundle(bundle, max_member=4096)
    assert import_bundle(bundle).files == 2  # the default cap is far larger


def test_tampered_content_and_bad_headers_are_refused(tmp_path: Path) -> None:
    tampered = _craft(
        tmp_path / "t.tar",
        _header({"config.json": CONFIG}),
        [(_file("model/config.json"), CONFIG.replace(b"W", b"X"))],
    )
    with pytest.raises(BundleError, match="does not match its SHA-256"):
        import_bundle(tampered)
    assert store.read_manifest("x/y") is None

    evil_id = _craft(tmp_path / "i.tar", _header({"config.json": CONFIG}, model_id="../x"), [])
    with pytest.raises(BundleError, match="not a valid tui-speech bundle"):
        import_bundle(evil_id)
    (tmp_path / "junk.tar").write_bytes(b"not a tar at all" * 100)
    with pytest.raises(BundleError, match="not a readable tar"):
        import_bundle(tmp_path / "junk.tar")


def test_import_over_a_model_keeps_local_exports(hub, tmp_path: Path) -> None:
    pull(ASR_ID)
    create(ASR_ID, tmp_path / "asr.tar")
    local = store.path_of(ASR_ID) / "onnx" / "model.onnx"
    local.parent.mkdir()
    local.write_bytes(b"made here")
    (store.path_of(ASR_ID) / "vocab.json").write_text("{}")  # damaged since the bundle
    import_bundle(tmp_path / "asr.tar")
    assert local.read_bytes() == b"made here"
    assert verify(ASR_ID).ok
