"""Audio: read/write/resample, live sources, playback, VAD."""
