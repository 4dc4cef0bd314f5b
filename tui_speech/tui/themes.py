"""Themes: TOML files loaded into ``textual.theme.Theme`` objects.

Built-in themes ship in ``tui_speech/themes/*.toml``; users drop their own files into
``get_paths().themes``. Each file holds the fields of ``Theme`` (``name``, ``primary``,
``background``...) and an optional ``[variables]`` table.

The speech-specific colours are theme variables derived from the theme's own colours, so a user
theme gets them for free: the confidence scale (``$confidence-0`` .. ``$confidence-4``, from
``error`` through ``warning`` to ``success``) and the phoneme highlights (``$phoneme-oov``,
``$phoneme-unknown``, ``$phoneme-override``). Each derived colour is nudged until it reaches a
WCAG contrast of 4.5 against the background, which keeps it readable in every theme.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from importlib import resources
from pathlib import Path

from textual.color import Color
from textual.theme import Theme

from tui_speech.asr.confidence import STEPS
from tui_speech.config import get_paths
from tui_speech.errors import UsageError

DEFAULT_THEME = "tui-speech-dark"
BUILTIN_FILES = ("dark.toml", "light.toml", "high-contrast.toml")
CONFIDENCE_STEPS = STEPS  # the core's scale (asr/confidence.py)
MIN_CONTRAST = 4.5

_THEME_FIELDS = {f.name for f in fields(Theme)}


@dataclass(frozen=True)
class LoadedThemes:
    """Every theme that loaded, and one line per user file that did not (shown as a notice)."""

    themes: tuple[Theme, ...]
    problems: tuple[str, ...] = ()


def relative_luminance(color: Color) -> float:
    """WCAG 2 relative luminance of an sRGB colour."""

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(color.r) + 0.7152 * channel(color.g) + 0.0722 * channel(color.b)


def contrast_ratio(a: Color, b: Color) -> float:
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def readable(color: Color, background: Color, minimum: float = MIN_CONTRAST) -> Color:
    """``color`` moved towards white (dark bg) or black (light bg) until it is readable."""
    target = Color(0, 0, 0) if relative_luminance(background) > 0.4 else Color(255, 255, 255)
    result = color
    for step in range(1, 21):
        if contrast_ratio(result, background) >= minimum:
            break
        result = color.blend(target, step / 20)
    return result


def derived_variables(theme: Theme) -> dict[str, str]:
    """The speech colours for ``theme`` (a theme's own ``[variables]`` win over these)."""
    background = Color.parse(theme.background or ("#000000" if theme.dark else "#ffffff"))
    error = Color.parse(theme.error or "#ff0000")
    warning = Color.parse(theme.warning or "#ffaa00")
    success = Color.parse(theme.success or "#00aa00")
    scale = []
    for i in range(CONFIDENCE_STEPS):
        # Two halves: error -> warning, then warning -> success.
        t = i / (CONFIDENCE_STEPS - 1)
        color = error.blend(warning, t * 2) if t <= 0.5 else warning.blend(success, (t - 0.5) * 2)
        scale.append(readable(color, background))
    derived = {f"confidence-{i}": c.hex for i, c in enumerate(scale)}
    derived["phoneme-oov"] = readable(error, background).hex
    derived["phoneme-unknown"] = readable(warning, background).hex
    derived["phoneme-override"] = readable(success, background).hex
    return derived


def with_speech_colours(theme: Theme) -> Theme:
    variables = {**derived_variables(theme), **theme.variables}
    values = {f.name: getattr(theme, f.name) for f in fields(Theme)}
    values["variables"] = variables
    return Theme(**values)


def theme_from_toml(text: str, source: str) -> Theme:
    """Parse one theme file; ``source`` names it in error messages."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"theme {source}: not valid TOML ({exc})") from None
    unknown = sorted(set(data) - _THEME_FIELDS)
    if unknown:
        raise UsageError(f"theme {source}: unknown keys {', '.join(unknown)}")
    if not isinstance(data.get("name"), str) or not isinstance(data.get("primary"), str):
        raise UsageError(f"theme {source}: needs at least 'name' and 'primary'")
    variables = data.get("variables", {})
    if not isinstance(variables, dict) or not all(isinstance(v, str) for v in variables.values()):
        raise UsageError(f"theme {source}: [variables] must map names to colour strings")
    for key in ("primary", "secondary", "warning", "error", "success", "accent", "foreground",
                "background", "surface", "panel", "boost"):  # fmt: skip
        if key in data:
            try:
                Color.parse(data[key])
            except Exception:
                raise UsageError(f"theme {source}: {key} = {data[key]!r} is not a colour") from None
    return with_speech_colours(Theme(**data))


def builtin_themes() -> list[Theme]:
    folder = resources.files("tui_speech") / "themes"
    return [theme_from_toml((folder / name).read_text("utf-8"), name) for name in BUILTIN_FILES]


def user_theme_files() -> list[Path]:
    folder = get_paths().themes
    return sorted(folder.glob("*.toml")) if folder.is_dir() else []


def load_themes() -> LoadedThemes:
    """Built-in themes, then user themes; a broken user file is reported, never fatal."""
    themes = builtin_themes()
    problems: list[str] = []
    for path in user_theme_files():
        try:
            themes.append(theme_from_toml(path.read_text("utf-8"), str(path)))
        except (UsageError, OSError, TypeError) as exc:
            problems.append(str(exc) if isinstance(exc, UsageError) else f"theme {path}: {exc}")
    return LoadedThemes(tuple(themes), tuple(problems))
