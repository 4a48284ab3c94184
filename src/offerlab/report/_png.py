"""How every plot of the report ends: its title, a light grid, a PNG written."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.category import StrCategoryFormatter
from matplotlib.text import Text
from matplotlib.ticker import FuncFormatter

__all__ = ["finish_plot", "printable_texts", "save_figure", "visible"]

#: C0 and C1 control characters but the line break, and the Unicode line and paragraph
#: separators: no font draws them (matplotlib drew a missing-glyph box and warned for a
#: tab or a carriage return in an offer name).
_NO_CONTROLS = {c: " " for c in (*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029) if c != 0x0A}
#: A dollar sign not yet escaped: two of them make matplotlib read the text between as
#: mathtext ("Save $5 or $6" in italics; "$\\x$" raised ParseFatalException).
_DOLLAR = re.compile(r"(?<!\\)\$")


def visible(text: str) -> str:
    """``text`` with the characters no font draws (controls, line separators) as spaces:
    what a plot shows of it, and what to measure."""
    return text.translate(_NO_CONTROLS)


def _printable(text: str) -> str:
    """``text`` drawn as written: control characters as spaces, every $ a dollar sign."""
    return _DOLLAR.sub(r"\\$", visible(text))


def printable_texts(fig: plt.Figure) -> None:
    """Every text of ``fig`` drawn as written (see :func:`_printable`); idempotent.

    Offer, item and level names come from the user's files and may hold a tab, a
    carriage return or dollar signs. Category ticks are formatted when the figure is
    drawn, so their formatter is wrapped; every other text (titles, labels, legends,
    notes) is set now. None of our own texts is mathtext.
    """
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            names = axis.get_major_formatter()
            if isinstance(names, StrCategoryFormatter):
                axis.set_major_formatter(
                    FuncFormatter(lambda x, pos, names=names: _printable(names(x, pos)))
                )
    for text in fig.findobj(Text):
        text.set_text(_printable(text.get_text()))


def save_figure(fig: plt.Figure, path: Path | str, *, dpi: int = 144) -> Path:
    """Write ``fig`` as a PNG at ``path`` (folders made as needed) and close it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    printable_texts(fig)
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path


def finish_plot(
    fig: plt.Figure,
    ax: plt.Axes,
    path: Path | str,
    title: str | None,
    default_title: str,
    *,
    grid: Literal["both", "x"] | None = "both",
) -> Path:
    """Title the plot (``None``: no title; ``""``: ``default_title``), grid it, save it."""
    if title is not None:
        ax.set_title(title or default_title)
    if grid is not None:
        ax.grid(axis=grid, alpha=0.3)
    return save_figure(fig, path)
