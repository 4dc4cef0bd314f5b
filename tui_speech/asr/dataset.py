"""Speech datasets on disk: two layouts, one reader, and validation before training.

Layouts (the folder given with ``--data``):

- **transcripts**: ``transcripts.tsv`` with ``path<TAB>text`` per line (the train split), and
  optionally ``dev.tsv`` / ``test.tsv`` in the same form. Paths are relative to the folder. A
  first line ``path<TAB>text`` is a header; blank lines and lines starting with ``#`` are skipped.
- **Common Voice**: ``clips/`` and ``train.tsv`` / ``dev.tsv`` / ``test.tsv`` with a header that
  names at least the ``path`` and ``sentence`` columns; paths are relative to ``clips/``.

A ``rejects.tsv`` in the folder (written by ``dataset validate --fix``) lists rows to leave out:
``split<TAB>line<TAB>path<TAB>reason``. Rows are matched on split and path, so editing the split
files afterwards does not shift what is rejected.

Line numbers are 1-based lines of the split file, as an editor shows them.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from tui_speech.errors import UsageError

SPLITS = ("train", "dev", "test")
TRANSCRIPTS = "transcripts.tsv"
REJECTS = "rejects.tsv"
_TSV_SPLIT_FILES = {"train": TRANSCRIPTS, "dev": "dev.tsv", "test": "test.tsv"}


@dataclass(frozen=True)
class Row:
    """One labelled clip as the dataset lists it (not yet checked)."""

    split: str
    source: Path  # the .tsv file
    line: int
    path: Path  # the audio file
    text: str

    @property
    def where(self) -> str:
        return f"{self.source.name}:{self.line}"


@dataclass(frozen=True)
class Dataset:
    """A dataset folder: its layout and the split files it has."""

    root: Path
    layout: str  # "transcripts" or "common-voice"
    split_files: dict[str, Path]

    def splits(self) -> tuple[str, ...]:
        return tuple(s for s in SPLITS if s in self.split_files)

    def rows(self, split: str, skip_rejected: bool = True) -> list[Row]:
        """The rows of ``split`` (``UsageError`` if the dataset has no such split)."""
        if split not in self.split_files:
            have = ", ".join(self.splits()) or "none"
            raise UsageError(f"{self.root} has no {split} split (it has: {have})")
        rows = list(self._read(split))
        if skip_rejected:
            rejected = read_rejects(self.root)
            rows = [r for r in rows if (r.split, str(r.path)) not in rejected]
        return rows

    def _read(self, split: str) -> Iterator[Row]:
        source = self.split_files[split]
        try:
            text = source.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            raise UsageError(f"{source} is not UTF-8 text (byte {exc.start})") from None
        except OSError as exc:
            raise UsageError(f"{source}: cannot read ({exc.strerror})") from None
        lines = text.splitlines()
        if self.layout == "common-voice":
            yield from self._read_cv(split, source, lines)
            return
        for number, line in enumerate(lines, start=1):
            if not line.strip() or line.startswith("#"):
                continue
            path, sep, label = line.partition("\t")
            if number == 1 and path.strip().lower() == "path" and label.strip().lower() == "text":
                continue
            if not sep:
                raise UsageError(
                    f"{source.name}:{number}: expected path<TAB>text, found no tab in {line[:40]!r}"
                )
            yield Row(split, source, number, self.root / path.strip(), label.strip())

    def _read_cv(self, split: str, source: Path, lines: list[str]) -> Iterator[Row]:
        if not lines:
            return
        header = lines[0].split("\t")
        if "path" not in header or "sentence" not in header:
            raise UsageError(
                f"{source.name}:1: a Common Voice header names the columns path and sentence"
            )
        reader = csv.reader(lines[1:], delimiter="\t", quoting=csv.QUOTE_NONE)
        col_path, col_text = header.index("path"), header.index("sentence")
        for number, fields in enumerate(reader, start=2):
            if not fields:
                continue
            if len(fields) <= max(col_path, col_text):
                raise UsageError(f"{source.name}:{number}: fewer columns than the header")
            path = self.root / "clips" / fields[col_path].strip()
            yield Row(split, source, number, path, fields[col_text].strip())


def open_dataset(folder: str | Path) -> Dataset:
    """Recognise the layout of ``folder``; ``UsageError`` saying what is expected if neither."""
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise UsageError(f"dataset folder {root}: no such directory")
    if (root / TRANSCRIPTS).is_file():
        files = {s: root / f for s, f in _TSV_SPLIT_FILES.items() if (root / f).is_file()}
        return Dataset(root.resolve(), "transcripts", files)
    if (root / "clips").is_dir():
        files = {s: root / f"{s}.tsv" for s in SPLITS if (root / f"{s}.tsv").is_file()}
        if files:
            return Dataset(root.resolve(), "common-voice", files)
    raise UsageError(
        f"{root} is not a dataset: it needs a {TRANSCRIPTS} (path<TAB>text per line) or the "
        "Common Voice layout (clips/ and train.tsv, dev.tsv, test.tsv)"
    )


def read_rejects(root: Path) -> set[tuple[str, str]]:
    """(split, absolute audio path) of every row ``rejects.tsv`` lists."""
    path = root / REJECTS
    if not path.is_file():
        return set()
    out = set()
    for line in path.read_text(encoding="utf-8").splitlines()[1:]:
        fields = line.split("\t")
        if len(fields) >= 3:
            out.add((fields[0], str(root / fields[2])))
    return out


def write_rejects(root: Path, rejected: Sequence[tuple[Row, str]]) -> Path:
    """Add rows to ``rejects.tsv`` (kept: rows rejected before), written atomically."""
    from tui_speech.fileio import atomic_write_text

    path = root / REJECTS
    lines = path.read_text(encoding="utf-8").splitlines()[1:] if path.is_file() else []
    seen = {tuple(line.split("\t")[:3:2]) for line in lines}
    for row, reason in rejected:
        rel = _relative(row.path, root)
        if (row.split, rel) not in seen:
            seen.add((row.split, rel))
            lines.append(f"{row.split}\t{row.line}\t{rel}\t{reason}")
    atomic_write_text(path, "\n".join(["split\tline\tpath\treason", *lines]) + "\n")
    return path


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)
