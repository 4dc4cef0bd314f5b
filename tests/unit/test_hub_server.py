"""The fake Hub answers huggingface_hub's own download code as the real Hub would.

If these fail, the other hub tests prove nothing about the real protocol.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.hub_fixtures import ASR_ID, KOKORO_ID, PRIVATE_ID


def test_hf_hub_download_and_metadata_work_against_the_fake_hub(hub, tmp_path: Path) -> None:
    from huggingface_hub import get_hf_file_metadata, hf_hub_download, hf_hub_url

    weights = hub.repos[KOKORO_ID].files["kokoro-v1_0.pth"]
    meta = get_hf_file_metadata(hf_hub_url(KOKORO_ID, "kokoro-v1_0.pth"))
    # LFS file: HEAD answers with a redirect whose linked ETag is the SHA-256.
    assert meta.etag == hashlib.sha256(weights).hexdigest()
    assert meta.size == len(weights)
    assert meta.commit_hash == hub.repos[KOKORO_ID].commit
    assert "/cdn/" in meta.location
    assert any(m == "HEAD" and "/resolve/main/kokoro-v1_0.pth" in p for m, p, _r in hub.requests)

    path = hf_hub_download(KOKORO_ID, "kokoro-v1_0.pth", cache_dir=tmp_path)
    assert Path(path).read_bytes() == weights
    small = hf_hub_download(ASR_ID, "vocab.json", revision=hub.repos[ASR_ID].commit,
                            cache_dir=tmp_path)  # fmt: skip
    assert Path(small).read_bytes() == hub.repos[ASR_ID].files["vocab.json"]


def test_fake_hub_errors_map_to_huggingface_hub_exceptions(hub, tmp_path: Path) -> None:
    from huggingface_hub import HfApi, hf_hub_download
    from huggingface_hub.errors import (
        EntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    with pytest.raises(RepositoryNotFoundError):
        HfApi().model_info("nobody/nothing")
    with pytest.raises(RepositoryNotFoundError) as private:
        HfApi().model_info(PRIVATE_ID)
    assert private.value.response.status_code == 401
    with pytest.raises(RevisionNotFoundError):
        HfApi().model_info(ASR_ID, revision="nope")
    with pytest.raises(EntryNotFoundError):
        hf_hub_download(ASR_ID, "missing.bin", cache_dir=tmp_path)
    info = HfApi().model_info(ASR_ID, files_metadata=True)
    lfs = {s.rfilename: s.lfs for s in info.siblings}
    assert lfs["model.safetensors"] is not None and lfs["config.json"] is None


def test_the_fixture_keeps_tests_offline(hub) -> None:
    from huggingface_hub import constants

    from tui_speech.hub.download import HubError, resolve

    constants.ENDPOINT = "https://huggingface.co"  # as if a test lost the patch
    with pytest.raises(HubError, match="cannot reach https://huggingface.co") as refused:
        resolve(ASR_ID, None)
    assert "only 127.0.0.1 is allowed" in str(refused.value.__cause__)  # the guard, not DNS
    assert not any("huggingface" in p for _m, p, _r in hub.requests)
