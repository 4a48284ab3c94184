"""How every plot of the report ends: its title, a light grid, a PNG written."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt

__all__ = ["finish_plot", "save_figure"]


def save_figure(fig: plt.Figure, path: Path | str, *, dpi: int = 144) -> Path:
    """Write ``fig`` as a PNG at ``path`` (folders made as needed) and close it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
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
