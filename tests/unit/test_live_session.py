"""The live-session runner both faces use: which model with none named, pause, recording."""

from __future__ import annotations

import json

import numpy as np
import soundfile as sf

from tests.asr_fixtures import speech_with_pauses
from tui_speech.asr.live import LiveHooks, LiveSession, load_models
from tui_speech.asr.model import DEFAULT_MODEL, default_model
from tui_speech.config import ListenSettings, get_paths
from tui_speech.hub.embedded import WHISPER_ID


def put_in_store(model_id: str, model_type: str = "wav2vec2") -> None:
    folder = get_paths().models / model_id
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"model_type": model_type}), "utf-8")


def test_with_no_model_named_the_default_wins_when_stored_else_the_first_stored():
    assert default_model() == WHISPER_ID  # nothing stored: the embedded recogniser
    put_in_store("hexgrad/Kokoro-82M", "kokoro")  # not an ASR model
    assert default_model() == WHISPER_ID
    put_in_store("zz/fine-tuned")
    put_in_store("local/mine")
    assert default_model() == "local/mine"
    put_in_store(DEFAULT_MODEL)
    assert default_model() == DEFAULT_MODEL


def test_a_paused_stretch_is_skipped_and_the_recording_keeps_the_session_clock(
    trained_model, phrase_clips, tmp_path
):
    from tui_speech.audio.sources import FileSource

    audio = speech_with_pauses(dict(list(phrase_clips.items())[:2]), 320)
    wav = tmp_path / "two.wav"
    sf.write(wav, audio, 16_000, subtype="PCM_16")
    settings = ListenSettings(record=True, threads=1, draft="off")
    models = load_models(settings, str(trained_model))
    source = FileSource(wav, max_blocks=1)  # one block per batch, mostly
    session = LiveSession(models, settings, source, "test", keep_audio=True)
    batches = 0

    def paused() -> bool:  # the second second of the session is skipped
        nonlocal batches
        batches += 1
        return 10 < batches <= 20

    levels: list[float] = []
    result = session.run(LiveHooks(on_level=lambda t, rms: levels.append(t), paused=paused))
    recorded, rate = sf.read(get_paths().sessions / f"{result.session}.flac", dtype="float32")
    assert rate == 16_000 and len(recorded) == len(audio) == len(result.samples)
    # Heard audio is where it was heard; what came while paused is silence in its place.
    heard = np.abs(result.samples) > 0
    skipped = (np.abs(audio) > 0) & ~heard
    assert skipped.sum() >= 16_000 * 0.5  # about a second of the first phrase was skipped
    np.testing.assert_allclose(recorded[heard], audio[heard], atol=1 / 16_000)
    assert np.all(recorded[skipped] == 0)
    assert len(levels) < batches  # no level while paused


def test_each_final_of_a_session_is_written_as_an_utterance(trained_model, phrase_clips, tmp_path):
    """Two phrases 0.6 s apart: the VAD (0.5 s) cuts two finals, so the session's written form
    ends each with "。" – a file's pause rule (0.7 s) would have run them together."""
    from tests.written_tables import trimmed
    from tui_speech.asr.punctuation import SENTENCE_PAUSE_S
    from tui_speech.asr.written import WrittenOptions, write_heard
    from tui_speech.audio.sources import FileSource

    gap_s = 0.6
    settings = ListenSettings(threads=1, draft="off")
    assert settings.min_silence < gap_s < SENTENCE_PAUSE_S
    clips = [trimmed(phrase_clips[p]) for p in list(phrase_clips)[:2]]
    quiet = np.zeros(int(0.3 * 16_000), np.float32)
    gap = np.zeros(int(gap_s * 16_000), np.float32)
    audio = np.concatenate([quiet, clips[0], gap, clips[1], quiet])
    wav = tmp_path / "two.wav"
    sf.write(wav, audio, 16_000, subtype="PCM_16")
    models = load_models(settings, str(trained_model))
    session = LiveSession(models, settings, FileSource(wav), "test", save=False, keep_audio=True)
    result = session.run()
    assert len(result.utterances) == 2
    chars = result.transcript.chars
    written = write_heard(chars, WrittenOptions(), result.samples, 16_000, result.utterances)
    marks = [s.text for s in written.spans if s.inserted]
    assert marks == ["。", "。"]
    assert written.text.endswith("。") and "，" not in written.text
    # Read as a file, the pause is too short to end an utterance: the two run together.
    as_a_file = write_heard(chars, WrittenOptions(), result.samples, 16_000)
    assert as_a_file.text.count("。") == 1
