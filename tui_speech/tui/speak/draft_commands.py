"""The Speak pane's draft commands: which draft opens, new ones, .txt/.md in and out, export.

Drafts live in ``tts.drafts.DraftStore`` (named, autosaved with their settings and sentence
takes); export goes through ``tts.draft_render.export``, the core function behind ``speak --file``.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from textual.widgets import ProgressBar

from tui_speech.errors import UsageError
from tui_speech.tts.drafts import Draft, DraftStore
from tui_speech.tui.messages import ErrorRaised
from tui_speech.tui.speak.dialogs import NameScreen, SavePathScreen
from tui_speech.tui.state import Settings, load_draft

if TYPE_CHECKING:
    from tui_speech.tui.speak.pane import SpeakPane


def open_drafts(store: DraftStore, settings: Settings) -> Draft:
    """The draft the pane opens on: the last one used, else the first, else a new one (holding
    the single draft file of earlier versions, so nobody's text is lost in the move)."""
    name = store.current or next(iter(store.names()), None)
    if name is None:
        lang, voice, speed = settings.lang, settings.voice, settings.speed
        draft = store.create("draft", load_draft(), lang=lang, voice=voice, speed=speed)
        name = draft.name
    store.current = name
    return store.prune(name)  # takes of sentences no longer in the text go


def free_name(store: DraftStore, stem: str) -> str:
    """A draft name from a file's stem that no draft has yet ("notes", "notes 2", ...)."""
    from tui_speech.tts.drafts import check_name

    base = check_name(stem)
    name, n = base, 1
    while store.exists(name):
        n += 1
        name = f"{base} {n}"
    return name


class DraftCommands:
    """New draft, open a text file, save the text, export, lock a sentence's take."""

    def __init__(self, pane: SpeakPane) -> None:
        self.pane = pane

    def _create(self, name: str, text: str = "") -> None:
        """A new draft in the pane's language, voice and speed (a bad name is a UsageError)."""
        settings = self.pane.settings
        self.pane.store.create(
            name, text, lang=settings.lang, voice=settings.voice, speed=settings.speed
        )

    def new(self) -> None:
        pane = self.pane

        def create(name: str | None) -> None:
            if name is None:
                return
            try:
                self._create(name)
            except UsageError as exc:
                pane.post_message(ErrorRaised(exc, "draft"))
                return
            pane.switch_draft(name.strip())

        pane.app.push_screen(NameScreen("Name of the new draft"), create)

    def open_file(self) -> None:
        from tui_speech.tts.drafts import read_text_file

        pane = self.pane

        def open_file(path: Path | None) -> None:
            if path is None:
                return
            try:
                text = read_text_file(path)
                name = free_name(pane.store, path.stem)
                self._create(name, text)
            except UsageError as exc:
                pane.post_message(ErrorRaised(exc, "open"))
                return
            pane.switch_draft(name)

        hint = "enter opens it as a new draft · .txt or .md · escape cancels"
        pane.app.push_screen(SavePathScreen("Open a text file", Path.cwd(), hint), open_file)

    def save_text(self) -> None:
        from tui_speech.tts.drafts import write_text_file

        pane = self.pane
        pane.save_draft_now()

        def save(path: Path | None) -> None:
            if path is None:
                return
            try:
                write_text_file(path, pane.draft.text)
            except (UsageError, OSError) as exc:
                error = exc if isinstance(exc, UsageError) else UsageError(str(exc))
                pane.post_message(ErrorRaised(error, "save"))
                return
            pane.say(f"saved the text of {pane.draft.name!r} to {path}")

        default = Path.cwd() / f"{pane.draft.name}.md"
        hint = "enter saves the text · .txt or .md · escape cancels"
        pane.app.push_screen(SavePathScreen("Save the draft's text as", default, hint), save)

    def export(self, chapters: bool) -> None:
        """Ask where, then render the draft to one audio file (or one per chapter)."""
        pane = self.pane
        pane.save_draft_now()
        default = Path.cwd() / f"{pane.draft.name}.opus"
        title = "Export one file per chapter as" if chapters else "Export the draft as"

        def export_to(path: Path | None) -> None:
            if path is not None:
                pane.query_one(ProgressBar).update(total=100, progress=0)
                # In the synthesis group: F7 stops it, a switch of drafts too.
                pane.run_worker(
                    partial(self._export, pane.draft, path, chapters),
                    name="_export", group="synth", thread=True, exclusive=True,
                    exit_on_error=False,
                )  # fmt: skip

        pane.app.push_screen(SavePathScreen(title, default), export_to)

    def _export(self, draft: Draft, path: Path, chapters: bool) -> None:
        from tui_speech.tts.draft_render import export

        pane, store = self.pane, self.pane.store

        def progress(done: int, total: int) -> None:
            pane.post_message(pane.Progress(done, total, done))

        files = export(draft, path, store, chapters=chapters, progress=progress)
        pane.post_message(pane.DraftChanged(store.load(draft.name)))
        names = ", ".join(str(f) for f in files)
        pane.post_message(pane.Notice(f"exported {draft.name!r} to {names}"))

    def lock(self, index: int) -> None:
        """Lock unit ``index``'s take (it plays whatever the settings), or unlock it."""
        from tui_speech.tts.drafts import take_for

        pane = self.pane
        unit = next((u for u in pane.units if u.index == index), None)
        take = take_for(pane.draft, unit) if unit is not None else None
        if unit is None or take is None:
            pane.post_message(
                ErrorRaised(UsageError("no take yet: render it with r or F6"), "lock")
            )
            return
        pane.draft = pane.store.set_locked(pane.draft.name, take.file, not take.locked)
        pane.show_sentences()
        pane.say(("unlocked" if take.locked else "locked") + f" the take of {unit.text[:30]!r}")
