"""The two sample rates the project works at (no imports: every layer may read them).

Listening runs at the recogniser's rate: wav2vec2 takes 16 kHz mono, so files, microphones and
piped audio are resampled to it on the way in. Kokoro speaks at 24 kHz.
"""

from __future__ import annotations

#: Samples per second of all audio on the listening side (wav2vec2's input, the VAD's, sessions').
ASR_RATE = 16_000
#: Samples per second of Kokoro's speech.
TTS_RATE = 24_000
