"""Speak: G2P, voices, Kokoro engines and the streaming synthesis pipeline."""
