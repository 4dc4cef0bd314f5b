"""Fixtures for the model manager's tests: tiny models served by a local fake Hub.

tests/conftest.py registers this module as a plugin (``pytest_plugins``): tests ask for the
fixtures by name and import the ids they need.
Nothing here reaches the internet.
"""

from __future__ import annotations

import io
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hubserver import TOKEN, HubServer

__all__ = [
    "ASR_ID",
    "KOKORO_ID",
    "PRIVATE_ID",
    "TOKEN",
    "closed_port_url",
    "hub",
    "hub_env",
    "tiny_repos",
]

ASR_ID = "tiny/wav2vec2-zh"
KOKORO_ID = "hexgrad/Kokoro-82M"
PRIVATE_ID = "secret/wav2vec2-private"
VOICES = ("af_heart", "zf_xiaoxiao", "am_adam")


def _tiny_wav2vec2(folder: Path) -> dict[str, bytes]:
    """A randomly initialised, very small Wav2Vec2ForCTC with a few Chinese characters."""
    from transformers import Wav2Vec2Config, Wav2Vec2ForCTC

    vocab = {"<pad>": 0, "<s>": 1, "</s>": 2, "<unk>": 3, "|": 4, "你": 5, "好": 6, "中": 7}
    config = Wav2Vec2Config(
        vocab_size=len(vocab),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        conv_dim=(8, 8),
        conv_stride=(5, 2),
        conv_kernel=(10, 3),
        num_conv_pos_embeddings=4,
        num_conv_pos_embedding_groups=2,
        pad_token_id=0,
    )
    Wav2Vec2ForCTC(config).save_pretrained(folder)
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    (folder / "preprocessor_config.json").write_text(
        json.dumps({"feature_size": 1, "sampling_rate": 16000, "do_normalize": True})
    )
    files = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    # Files a real repo has but a CTC model does not need: the pull must skip them.
    files["README.md"] = b"# tiny\n"
    files["flax_model.msgpack"] = b"\0" * 1000
    return files


def _fake_kokoro() -> dict[str, bytes]:
    """Kokoro-82M's file layout with small random tensors (the store never runs them)."""
    import torch

    def saved(obj: object) -> bytes:
        buf = io.BytesIO()
        torch.save(obj, buf)
        return buf.getvalue()

    gen = torch.Generator().manual_seed(0)
    weights = {"bert": {"w": torch.randn(512, 1024, generator=gen)}}  # ~2 MB: room to cut
    files = {
        "config.json": json.dumps({"n_token": 178, "vocab": {"a": 1}}).encode(),
        "kokoro-v1_0.pth": saved(weights),
        "README.md": b"# Kokoro\n",
    }
    for name in VOICES:
        files[f"voices/{name}.pt"] = saved(torch.randn(510, 1, 256, generator=gen))
    return files


@pytest.fixture(scope="session")
def tiny_repos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, bytes]]:
    """Repo id -> files, built once per session."""
    asr = _tiny_wav2vec2(tmp_path_factory.mktemp("w2v"))
    return {ASR_ID: asr, KOKORO_ID: _fake_kokoro(), PRIVATE_ID: asr}


@pytest.fixture
def hub(
    tiny_repos: dict[str, dict[str, bytes]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[HubServer]:
    """A running fake Hub with the tiny repos, and huggingface_hub pointed at it in-process."""
    from huggingface_hub import constants

    server = HubServer().start()
    asr_config = {"architectures": ["Wav2Vec2ForCTC"], "model_type": "wav2vec2"}
    server.add_repo(ASR_ID, tiny_repos[ASR_ID], config=asr_config)
    server.add_repo(KOKORO_ID, tiny_repos[KOKORO_ID])
    server.add_repo(PRIVATE_ID, tiny_repos[PRIVATE_ID], private=True, config=asr_config)
    # HF_ENDPOINT is read when huggingface_hub is imported, so patch the derived constants.
    monkeypatch.setattr(constants, "ENDPOINT", server.url)
    template = server.url + "/{repo_id}/resolve/{revision}/{filename}"
    monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE", template)
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "no-token"))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setattr("tui_speech.hub.download.RETRY_WAIT_S", 0.01)
    real_getaddrinfo = socket.getaddrinfo

    def local_only(host, *args, **kwargs):
        # A safety net: a test that lost its endpoint patch fails here, offline, at once.
        if host not in ("127.0.0.1", "localhost"):
            raise OSError(f"test tried to reach {host!r}; only 127.0.0.1 is allowed")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", local_only)
    yield server
    server.stop()


@pytest.fixture
def hub_env(cli_env: dict[str, str], hub: HubServer, tmp_path: Path) -> dict[str, str]:
    """``cli_env`` for subprocesses, pointed at the fake Hub with no token of the user's."""
    cli_env.update(HF_ENDPOINT=hub.url, HF_HOME=str(tmp_path / "hf-home"))
    # TRANSFORMERS_OFFLINE also switches huggingface_hub offline (the ASR fixtures set it).
    for name in (
        "HF_TOKEN", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HUGGING_FACE_HUB_TOKEN",
        "HF_TOKEN_PATH",
    ):  # fmt: skip
        cli_env.pop(name, None)
    return cli_env


@pytest.fixture
def closed_port_url() -> str:
    """An endpoint on 127.0.0.1 where nothing listens: the network is down."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
