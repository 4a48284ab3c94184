"""Plots people would rather look at than read: importance, part-worths, WTP, shares.

Each function takes a tidy DataFrame as the models return it and writes a PNG.
Matplotlib runs on the non-interactive Agg backend, so no screen is needed.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from offerlab.report._png import finish_plot

__all__ = ["plot_importance", "plot_partworths", "plot_shares", "plot_wtp"]

_BAR = "#2b6cb0"
_ERR = "#1a202c"


def _label(text: str, width: int = 60) -> str:
    """A long axis label on two lines rather than cut at the figure's edge."""
    return "\n".join(textwrap.wrap(text, width)) or text


def _interval(frame: pd.DataFrame, centre: str) -> np.ndarray | None:
    """Asymmetric error bars (2, n) from ``lower``/``upper`` columns, if present.

    A percentile interval of resampled draws can leave the full-sample point just
    outside it (a skewed or biased resample); the bar then reaches the point, as error
    bars cannot point inwards. The tables print the interval as computed.
    """
    if {"lower", "upper"} <= set(frame.columns):
        below = (frame[centre] - frame["lower"]).to_numpy(dtype=float)
        above = (frame["upper"] - frame[centre]).to_numpy(dtype=float)
        return np.clip(np.vstack([below, above]), 0.0, None)
    return None


def plot_importance(
    importance: pd.DataFrame, path: Path | str, *, title: str | None = "", xlabel: str = ""
) -> Path:
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
    ax.set_xlabel(xlabel or "importance (%)")
    return finish_plot(
        fig, ax, path, title, "What drives the choice: attribute importance", grid="x"
    )


def plot_partworths(
    partworths: pd.DataFrame, path: Path | str, *, title: str | None = "", xlabel: str = ""
) -> Path:
    """Every level's utility on one common scale, grouped by attribute, with intervals.

    ``partworths`` has columns ``attribute``, ``level``, ``utility`` and either
    ``lower``/``upper`` (an interval) or ``se`` (±1.96 SE is drawn). One axis for all
    attributes, so the spread of each -- what makes it important -- compares at a glance.
    """
    attributes = list(dict.fromkeys(partworths["attribute"]))
    labels: list[str] = []
    ys: list[float] = []
    heads: list[tuple[float, str]] = []
    y = 0.0
    for attribute in attributes:
        part = partworths[partworths["attribute"] == attribute]
        heads.append((y, str(attribute)))
        y += 1
        for level in part["level"]:
            labels.append(str(level))
            ys.append(y)
            y += 1
        y += 0.4
    frame = partworths.reset_index(drop=True)
    if {"lower", "upper"} <= set(frame.columns) and frame["lower"].notna().any():
        err = _interval(frame, "utility")
    elif "se" in frame.columns:
        err = 1.96 * frame["se"].to_numpy()
    else:
        err = None
    fig, ax = plt.subplots(figsize=(7, 0.26 * y + 1.2))
    ax.errorbar(frame["utility"], ys, xerr=err, fmt="o", color=_BAR, ecolor=_ERR, capsize=2,
                markersize=4)  # fmt: skip
    ax.axvline(0, color="grey", lw=0.8)
    ax.set_yticks(ys, labels, fontsize=8)
    for y_head, text in heads:
        ax.text(0.0, y_head, text, transform=ax.get_yaxis_transform(), ha="right", va="center",
                fontsize=9, fontweight="bold")  # fmt: skip
    ax.set_ylim(y - 0.2, -1)
    ax.set_xlabel(_label(xlabel or "part-worth utility"))
    ax.grid(axis="x", alpha=0.3)
    return finish_plot(fig, ax, path, title, "Part-worth utilities (95% intervals)", grid=None)


def plot_wtp(
    wtp: pd.DataFrame,
    path: Path | str,
    *,
    currency: str = "",
    title: str | None = "",
    xlabel: str = "",
) -> Path:
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
        _label(
            xlabel
            or f"willingness to pay{' (' + currency + ')' if currency else ''}, "
            "compared with the attribute's first level"
        )
    )
    return finish_plot(fig, ax, path, title, "Willingness to pay (95% CI)", grid="x")


def plot_shares(
    shares: pd.DataFrame, path: Path | str, *, title: str | None = "", xlabel: str = ""
) -> Path:
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
    ax.set_xlabel(xlabel or "share of preference (%)")
    return finish_plot(fig, ax, path, title, "Preference shares (95% intervals)", grid="x")
