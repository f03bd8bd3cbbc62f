"""Fonts for rider names in any script: a fallback list of the installed fonts, and one clear
warning (instead of one per missing glyph) when a label still cannot be drawn.

Matplotlib (>= 3.6) draws each character from the first font of ``font.family`` that has it,
so a list such as ``["DejaVu Sans", "Noto Sans CJK JP"]`` draws Latin and Japanese names in one
label.  :func:`font_families` keeps only the fonts actually installed (naming a missing one
makes matplotlib log a warning on every text).  :class:`~keirin_sim.plots.style.KeirinFigure`
applies the list to its texts and calls :func:`warn_missing_glyphs` when it draws.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Iterable

#: Fonts tried in order; the first is matplotlib's own and always present.  Colour emoji fonts
#: (Noto Color Emoji, Apple Color Emoji) are bitmap fonts FreeType cannot scale for
#: matplotlib, so only outline emoji and symbol fonts are listed.
FALLBACK_FONTS = (
    "DejaVu Sans",
    "Noto Sans CJK JP",
    "Noto Sans CJK SC",
    "Noto Sans CJK TC",
    "Noto Sans CJK KR",
    "Noto Sans JP",
    "Noto Sans SC",
    "Noto Sans KR",
    "Source Han Sans",
    "IPAexGothic",
    "IPAGothic",
    "TakaoGothic",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Droid Sans Fallback",
    "Hiragino Sans",
    "Yu Gothic",
    "Meiryo",
    "Microsoft YaHei",
    "Malgun Gothic",
    "Arial Unicode MS",
    "Noto Sans",
    "Noto Sans Symbols",
    "Noto Sans Symbols 2",
    "Noto Emoji",
    "Segoe UI Emoji",
    "Segoe UI Symbol",
    "Symbola",
)

#: Regex of matplotlib's per-glyph warning, silenced while a chart draws.
GLYPH_WARNING = r"Glyph \d+ .*missing from (current )?font"


@functools.cache
def font_families() -> tuple[str, ...]:
    """The :data:`FALLBACK_FONTS` installed here, in order (at least ``"DejaVu Sans"``)."""
    from matplotlib import font_manager

    have = {f.name for f in font_manager.fontManager.ttflist}
    found = tuple(f for f in FALLBACK_FONTS if f in have)
    return found or ("DejaVu Sans",)


@functools.cache
def _charset() -> frozenset[int]:
    """Code points that at least one of :func:`font_families` can draw."""
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    codes: set[int] = set()
    for family in font_families():
        try:
            path = font_manager.findfont(
                font_manager.FontProperties(family=family), fallback_to_default=False
            )
            codes.update(FT2Font(path).get_charmap())
        except Exception:  # noqa: BLE001 - an unreadable font just adds nothing
            continue
    return frozenset(codes)


def missing_glyphs(text: str) -> str:
    """The characters of ``text`` none of the fonts can draw (spaces and controls ignored)."""
    have = _charset()
    return "".join(c for c in dict.fromkeys(text) if c.isprintable() and not c.isspace()
                   and ord(c) not in have)  # fmt: skip


def warn_missing_glyphs(labels: Iterable[str], stacklevel: int = 3) -> list[str]:
    """Emit one warning naming the labels (deduplicated) that have characters no installed font
    can draw; returns those labels."""
    bad = [t for t in dict.fromkeys(labels) if t and missing_glyphs(t)]
    if bad:
        shown = ", ".join(repr(t) for t in bad[:3]) + (", ..." if len(bad) > 3 else "")
        chars = "".join(dict.fromkeys("".join(missing_glyphs(t) for t in bad)))
        warnings.warn(
            f"keirin-sim: the chart's fonts ({', '.join(font_families())}) have no glyph for "
            f"{chars!r} in {shown}: those characters draw as boxes; install a font such as "
            "Noto Sans CJK (fonts-noto-cjk) or Noto Emoji",
            UserWarning,
            stacklevel=stacklevel,
        )
    return bad
