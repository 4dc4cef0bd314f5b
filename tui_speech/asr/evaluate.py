"""Character error rate, confusions and confidence calibration of a recogniser on a dataset.

:func:`evaluate` transcribes every example and aligns hypothesis to reference by edit distance
(Levenshtein over characters). From the alignment:

- **CER** = (substitutions + deletions + insertions) / reference characters;
- **confusions**: the most frequent (reference -> hypothesis) pairs; a deletion has an empty
  hypothesis, an insertion an empty reference;
- **calibration**: every recognised character, binned by its confidence, with the fraction of
  them that were correct (aligned to the same reference character). A calibrated model's mean
  confidence in a bin equals that bin's accuracy; ECE is the count-weighted mean gap.

The word delimiter is not scored: Mandarin references rarely agree on where words end.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from tui_speech.audio.rates import ASR_RATE

if TYPE_CHECKING:
    from tui_speech.asr.dataset_check import Example
    from tui_speech.asr.model import ModelInfo

#: Calibration bin edges (confidence): fine near 1, where a CTC model puts most characters.
BIN_EDGES = (0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 1.0)


@dataclass(frozen=True)
class CalibrationBin:
    low: float
    high: float
    count: int
    mean_confidence: float
    accuracy: float


@dataclass(frozen=True)
class Evaluation:
    clips: int
    seconds: float
    ref_chars: int
    errors: int
    substitutions: int
    deletions: int
    insertions: int
    confusions: tuple[tuple[str, str, int], ...]  # (reference, hypothesis, count)
    calibration: tuple[CalibrationBin, ...]

    @property
    def cer(self) -> float:
        return self.errors / self.ref_chars if self.ref_chars else 0.0

    @property
    def ece(self) -> float:
        """Expected calibration error: count-weighted |confidence - accuracy| over the bins."""
        total = sum(b.count for b in self.calibration)
        if not total:
            return 0.0
        return sum(b.count * abs(b.mean_confidence - b.accuracy) for b in self.calibration) / total

    def to_dict(self) -> dict:
        out = asdict(self)
        out["cer"] = round(self.cer, 6)
        out["ece"] = round(self.ece, 6)
        out["confusions"] = [
            {"reference": r, "hypothesis": h, "count": n} for r, h, n in self.confusions
        ]
        return out


def align(ref: Sequence[str], hyp: Sequence[str]) -> list[tuple[int | None, int | None]]:
    """Edit-distance alignment: (ref index or None, hyp index or None) pairs in order."""
    n, m = len(ref), len(hyp)
    cost = np.zeros((n + 1, m + 1), np.int32)
    cost[:, 0] = np.arange(n + 1)
    cost[0, :] = np.arange(m + 1)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            cost[i, j] = min(
                cost[i - 1, j - 1] + (ref[i - 1] != hyp[j - 1]),
                cost[i - 1, j] + 1,
                cost[i, j - 1] + 1,
            )
    pairs: list[tuple[int | None, int | None]] = []
    i, j = n, m
    while i or j:
        if i and j and cost[i, j] == cost[i - 1, j - 1] + (ref[i - 1] != hyp[j - 1]):
            pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif i and cost[i, j] == cost[i - 1, j] + 1:
            pairs.append((i - 1, None))
            i -= 1
        else:
            pairs.append((None, j - 1))
            j -= 1
    return pairs[::-1]


#: One transcription: recognised tokens (characters, or ``<unk>``) and their confidences.
Hypothesis = tuple[Sequence[str], Sequence[float]]


def evaluate(
    examples: Iterable[tuple[np.ndarray, str]],
    transcribe: Callable[[np.ndarray], Hypothesis],
    delimiter: str = "|",
    top: int = 10,
) -> Evaluation:
    """Score ``transcribe`` on (16 kHz audio, normalised reference) pairs."""
    subs = dels = ins = ref_total = clips = 0
    seconds = 0.0
    confusions: Counter[tuple[str, str]] = Counter()
    confidences: list[float] = []
    correct: list[bool] = []
    for audio, reference in examples:
        chars, conf = transcribe(audio)
        keep = [i for i, c in enumerate(chars) if c not in (delimiter, " ")]
        # Tokens, not a joined string: one ``<unk>`` is one recognised unit with one confidence.
        hyp = [chars[i] for i in keep]
        hyp_conf = [float(conf[i]) for i in keep]
        ref = list(reference.replace(delimiter, "").replace(" ", ""))
        clips += 1
        seconds += len(audio) / ASR_RATE
        ref_total += len(ref)
        for r, h in align(ref, hyp):
            if r is not None and h is not None:
                ok = ref[r] == hyp[h]
                confidences.append(hyp_conf[h])
                correct.append(ok)
                if not ok:
                    subs += 1
                    confusions[(ref[r], hyp[h])] += 1
            elif r is not None:
                dels += 1
                confusions[(ref[r], "")] += 1
            elif h is not None:
                ins += 1
                confidences.append(hyp_conf[h])
                correct.append(False)
                confusions[("", hyp[h])] += 1
    return Evaluation(
        clips=clips,
        seconds=seconds,
        ref_chars=ref_total,
        errors=subs + dels + ins,
        substitutions=subs,
        deletions=dels,
        insertions=ins,
        confusions=tuple((r, h, n) for (r, h), n in confusions.most_common(top)),
        calibration=calibration(confidences, correct),
    )


def calibration(
    confidences: Sequence[float], correct: Sequence[bool]
) -> tuple[CalibrationBin, ...]:
    conf = np.asarray(confidences, np.float64)
    ok = np.asarray(correct, bool)
    bins = []
    for low, high in zip(BIN_EDGES, BIN_EDGES[1:], strict=False):
        inside = (conf >= low) & ((conf < high) | (high == 1.0))
        count = int(inside.sum())
        bins.append(
            CalibrationBin(
                low,
                high,
                count,
                float(conf[inside].mean()) if count else 0.0,
                float(ok[inside].mean()) if count else 0.0,
            )
        )
    return tuple(bins)


def recognizer_transcriber(recognizer) -> Callable[[np.ndarray], Hypothesis]:  # noqa: ANN001
    """Adapt a :class:`~tui_speech.asr.recognizer.Recognizer` to :func:`evaluate`."""

    def transcribe(audio: np.ndarray) -> Hypothesis:
        result = recognizer.decode(audio)
        return [c.char for c in result.chars], [c.confidence for c in result.chars]

    return transcribe


def format_report(result: Evaluation) -> str:
    """The human-readable report ``tui-speech evaluate`` prints."""
    lines = [
        f"CER {result.cer:.2%} over {result.ref_chars} characters in {result.clips} clips "
        f"({result.seconds / 60:.1f} min): {result.substitutions} substituted, "
        f"{result.deletions} deleted, {result.insertions} inserted",
    ]
    if result.confusions:
        lines.append("most confused (reference -> recognised, count):")
        for r, h, n in result.confusions:
            lines.append(f"  {r or '(inserted)'} -> {h or '(dropped)'}  {n}")
    lines.append("calibration (confidence bin: characters, mean confidence, accuracy):")
    for b in result.calibration:
        if b.count:
            lines.append(
                f"  {b.low:.2f}-{b.high:.2f}: {b.count:5d}  {b.mean_confidence:.3f}  "
                f"{b.accuracy:.3f}"
            )
    lines.append(f"expected calibration error {result.ece:.3f}")
    return "\n".join(lines)


class _LiveBackend:
    """The model being trained, behind the backend protocol (for dev evaluation)."""

    name = "torch"

    def __init__(self, info: ModelInfo, model: Any, device: str) -> None:
        self.info, self.model, self.device = info, model, device

    def logits(self, samples: np.ndarray) -> np.ndarray:
        import torch

        x = torch.from_numpy(np.ascontiguousarray(samples, np.float32))[None].to(self.device)
        with torch.inference_mode():
            return self.model(x).logits[0].float().cpu().numpy()


def evaluate_model(
    info: ModelInfo, model: Any, device: str, examples: Sequence[Example]
) -> Evaluation:
    """Score a ``Wav2Vec2ForCTC`` in memory (fine-tuning's dev check) on validated examples."""
    from tui_speech.asr.recognizer import Recognizer
    from tui_speech.audio.reader import read_audio

    model.eval()
    try:
        recognizer = Recognizer(_LiveBackend(info, model, device))
        delimiter = info.vocab[info.delimiter_id] if info.delimiter_id is not None else "|"
        pairs = ((read_audio(e.row.path), e.text) for e in examples)
        return evaluate(pairs, recognizer_transcriber(recognizer), delimiter)
    finally:
        model.train()
