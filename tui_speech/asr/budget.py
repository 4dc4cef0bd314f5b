"""The compute budget of live transcription: how much re-decoding partials may cost.

wav2vec2 has no cache to carry between chunks, so every partial re-runs the model on recent
audio. :class:`ComputeBudget` keeps the whole session's model time (partials and finals)
within a multiple of what one offline pass over the same audio would cost; :class:`CostModel`
is how it predicts the cost of a call before making it. Times are CPU seconds of the process
(see :meth:`tui_speech.asr.stream.LiveStream.decode`).
"""

from __future__ import annotations


class CostModel:
    """Model time of one recogniser as ``fixed + per_second x audio seconds``, fitted by least
    squares over its calls so far (the fixed part matters for small models, where a call's
    overhead outweighs its arithmetic)."""

    def __init__(self) -> None:
        self.n = 0
        self._s = self._t = self._ss = self._st = 0.0

    def add(self, seconds: float, audio_s: float) -> None:
        self.n += 1
        self._s += audio_s
        self._t += seconds
        self._ss += audio_s * audio_s
        self._st += audio_s * seconds

    def fit(self) -> tuple[float, float]:
        """(fixed seconds per call, model seconds per audio second)."""
        spread = self.n * self._ss - self._s * self._s
        if self.n >= 3 and spread > 1e-9 * max(1.0, self._ss):
            slope = (self.n * self._st - self._s * self._t) / spread
            fixed = (self._t - slope * self._s) / self.n
            if slope > 0 and fixed >= 0:
                return fixed, slope
        return 0.0, self._t / self._s if self._s > 0 else 0.0

    def cost(self, audio_s: float, calls: float = 1.0) -> float:
        fixed, per_second = self.fit()
        return fixed * calls + per_second * audio_s


class ComputeBudget:
    """Keeps live model time within ``ratio`` x the cost of decoding the heard audio offline.

    Offline transcription decodes each second of audio once, in windows of ``window_s``. Live
    transcription decodes every utterance once for its final and re-decodes recent audio for
    partials. This ledger fits each recogniser's cost as it runs and allows a partial only while
    the time spent so far, the partial and the final still owed for the current utterance fit
    in ``ratio`` x the estimated offline cost of the audio heard so far (silences included, as
    an offline pass over the same audio processes them). ``ratio=None`` lifts the limit, and
    so does a model so fast that live transcription has used under ``IDLE_SHARE`` of the time
    heard: there, thinning partials would cost latency and save nothing anyone would notice.
    """

    IDLE_SHARE = 0.05

    def __init__(self, ratio: float | None = 1.5, window_s: float = 10.0) -> None:
        if ratio is not None and ratio < 1.0:
            raise ValueError("a compute budget below 1x cannot pay for the finals")
        self.ratio = ratio
        self.window_s = window_s
        self.spent = 0.0  # model CPU seconds, partials and finals
        self.heard_s = 0.0  # session audio so far
        self.models = {"main": CostModel(), "draft": CostModel()}

    def record(self, kind: str, seconds: float, audio_s: float) -> None:
        """One model call of ``kind`` ("main" or "draft") took ``seconds`` for ``audio_s``."""
        self.spent += seconds
        self.models[kind].add(seconds, audio_s)

    def _model(self, kind: str) -> CostModel | None:
        """``kind``'s cost model, or the other's while ``kind`` has not run yet."""
        other = "draft" if kind == "main" else "main"
        for key in (kind, other):
            if self.models[key].n:
                return self.models[key]
        return None

    def offline_cost(self) -> float:
        """Estimated model time of one offline pass over the audio heard so far."""
        main = self._model("main")
        if main is None:
            return 0.0
        return main.cost(self.heard_s, calls=max(1.0, self.heard_s / self.window_s))

    def allows_partial(self, window_s: float, pending_s: float) -> bool:
        """Whether a partial over ``window_s`` fits, with ``pending_s`` of final still owed."""
        main, draft = self._model("main"), self._model("draft")
        if self.ratio is None or main is None or draft is None:
            return True  # nothing measured yet: the first decode measures
        if self.spent < self.IDLE_SHARE * self.heard_s:
            return True
        owed = self.spent + draft.cost(window_s) + main.cost(pending_s)
        return owed <= self.ratio * self.offline_cost()
