"""Plots people would rather look at than read: importance, part-worths, WTP, shares.

Each function takes a tidy DataFrame as the models return it and writes a PNG.
Matplotlib runs on the non-interactive Agg backend, so no screen is needed.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

__all__ = ["plot_importance", "plot_partworths", "plot_shares", "plot_wtp"]

_BAR = "#2b6cb0"
_ERR = "#1a202c"


def _save(fig: plt.Figure, path: Path | str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=144)
    plt.close(fig)
    return path


def _interval(frame: pd.DataFrame, centre: str) -> np.ndarray | None:
    """Asymmetric error bars (2, n) from ``lower``/``upper`` columns, if present."""
    if {"lower", "upper"} <= set(frame.columns):
        return np.vstack([frame[centre] - frame["lower"], frame["upper"] - frame[centre]])
    return None


def plot_importance(importance: pd.DataFrame, path: Path | str, *, title: str = "") -> Path:
    """Horizontal bars of attribute importance (percent), largest on top.

    ``importance`` has columns ``attribute``, ``importance`` and optionally
    ``lower``/``upper`` (an interval, same units).
    """
    frame = importance.sort_values("importance")
    fig, ax = plt.subplots(figsize=(7, 0.5 * len(frame) + 1.5))
    ax.barh(
        frame["attribute"],
        frame["importance"],
        color=_BAR,
        xerr=_interval(frame, "importance"),
        error_kw={"ecolor": _ERR, "capsize": 3},
    )
    ax.set_xlabel("importance (%)")
    ax.set_title(title or "What drives the choice: attribute importance")
    ax.grid(axis="x", alpha=0.3)
    return _save(fig, path)


def plot_partworths(partworths: pd.DataFrame, path: Path | str, *, title: str = "") -> Path:
    """One panel per attribute with the utility of each level (±1.96 SE if ``se`` is given).

    ``partworths`` has columns ``attribute``, ``level``, ``utility`` and optionally ``se``.
    """
    attributes = list(dict.fromkeys(partworths["attribute"]))
    cols = min(3, len(attributes))
    rows = int(np.ceil(len(attributes) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.0 * rows), squeeze=False)
    for ax, attribute in zip(axes.flat, attributes, strict=False):
        part = partworths[partworths["attribute"] == attribute]
        err = 1.96 * part["se"] if "se" in part.columns else None
        ax.errorbar(
            part["level"].astype(str),
            part["utility"],
            yerr=err,
            marker="o",
            color=_BAR,
            ecolor=_ERR,
            capsize=3,
        )
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_title(str(attribute))
        ax.tick_params(axis="x", labelrotation=30)
        ax.grid(axis="y", alpha=0.3)
    for ax in list(axes.flat)[len(attributes) :]:
        ax.set_visible(False)
    fig.suptitle(title or "Part-worth utilities (95% intervals)")
    return _save(fig, path)


def plot_wtp(wtp: pd.DataFrame, path: Path | str, *, currency: str = "", title: str = "") -> Path:
    """Willingness to pay per level with its interval.

    ``wtp`` has columns ``attribute``, ``level``, ``wtp`` and optionally ``lower``/``upper``
    and ``per_unit``. Per-unit rates (``per_unit`` True) are left out: they are amounts per
    km or month, not per level, and would share an axis they do not belong on.
    """
    frame = wtp[~wtp["per_unit"].astype(bool)] if "per_unit" in wtp.columns else wtp
    frame = frame.iloc[::-1]
    labels = frame["attribute"].astype(str) + ": " + frame["level"].astype(str)
    fig, ax = plt.subplots(figsize=(8, 0.38 * len(frame) + 1.5))
    ax.errorbar(
        frame["wtp"],
        labels,
        xerr=_interval(frame, "wtp"),
        fmt="o",
        color=_BAR,
        ecolor=_ERR,
        capsize=3,
    )
    ax.axvline(0, color="grey", lw=0.8)
    ax.set_xlabel(
        f"willingness to pay{' (' + currency + ')' if currency else ''}, "
        "compared with the attribute's first level"
    )
    ax.set_title(title or "Willingness to pay (95% CI)")
    ax.grid(axis="x", alpha=0.3)
    return _save(fig, path)


def plot_shares(shares: pd.DataFrame, path: Path | str, *, title: str = "") -> Path:
    """Bars of preference shares (percent) per offer, with intervals.

    ``shares`` has columns ``offer``, ``share`` (0–1) and optionally ``lower``/``upper``.
    """
    frame = shares.copy()
    for col in ("share", "lower", "upper"):
        if col in frame.columns:
            frame[col] = 100 * frame[col]
    fig, ax = plt.subplots(figsize=(7, 0.6 * len(frame) + 1.5))
    ax.barh(
        frame["offer"].astype(str)[::-1],
        frame["share"][::-1],
        color=_BAR,
        xerr=None if _interval(frame, "share") is None else _interval(frame, "share")[:, ::-1],
        error_kw={"ecolor": _ERR, "capsize": 3},
    )
    ax.set_xlabel("share of preference (%)")
    ax.set_title(title or "Preference shares (95% intervals)")
    ax.grid(axis="x", alpha=0.3)
    return _save(fig, path)
