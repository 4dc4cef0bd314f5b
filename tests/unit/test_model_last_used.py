"""Loading a model from the store records when it was last used (shown by `models list`)."""

from __future__ import annotations

from tests.hub_fixtures import ASR_ID
from tui_speech.asr.model import find_model
from tui_speech.hub.manage import describe
from tui_speech.hub.pull import pull


def test_loading_a_store_model_marks_it_used(hub) -> None:
    pull(ASR_ID)
    assert describe(ASR_ID).last_used is None
    find_model(ASR_ID)
    assert describe(ASR_ID).last_used is not None
