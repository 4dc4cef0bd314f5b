"""The architecture of Kokoro-82M as ``kokoro.KModel`` reads it from ``config.json``.

Used to build randomly initialised models for tests and to write a ``config.json`` next to
weights that arrive without one. The vocab is the one shipped with the embedded model.
"""

from __future__ import annotations

from typing import Any


def kokoro_config(vocab: dict[str, int] | None = None) -> dict[str, Any]:
    """A fresh ``config.json`` dict for Kokoro-82M (``vocab`` defaults to the embedded one)."""
    if vocab is None:
        from tui_speech.tts.vocab import vocab as embedded_vocab

        vocab = embedded_vocab()
    # These are Kokoro-82M v1.0's published architecture hyperparameters (hexgrad/Kokoro-82M,
    # config.json): an ALBERT duration/prosody encoder, a 3-layer text encoder and an
    # iSTFTNet decoder (upsampling 10 x 6 then a 5-sample hop: 300 samples per frame at 24 kHz,
    # and the predictor's 2x upsampling makes it 600 per duration frame).
    return {
        "istftnet": {
            "upsample_kernel_sizes": [20, 12],
            "upsample_rates": [10, 6],
            "gen_istft_hop_size": 5,
            "gen_istft_n_fft": 20,
            "resblock_dilation_sizes": [[1, 3, 5], [1, 3, 5], [1, 3, 5]],
            "resblock_kernel_sizes": [3, 7, 11],
            "upsample_initial_channel": 512,
        },
        "dim_in": 64,
        "dropout": 0.2,
        "hidden_dim": 512,
        "max_conv_dim": 512,
        "max_dur": 50,
        "multispeaker": True,
        "n_layer": 3,
        "n_mels": 80,
        "n_token": 178,
        "style_dim": 128,
        "text_encoder_kernel_size": 5,
        "plbert": {
            "hidden_size": 768,
            "num_attention_heads": 12,
            "intermediate_size": 2048,
            "max_position_embeddings": 512,
            "num_hidden_layers": 12,
            "dropout": 0.1,
        },
        "vocab": dict(vocab),
    }
