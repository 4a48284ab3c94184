"""Plots of the needs-and-obstacles and concept pages: MaxDiff scores with the anchor (or
average) line, the TURF bundle's incremental reach, Kano category shares, and top-2-box
shares of concepts. Every function takes labels already in the report's language and
writes a PNG (144 dpi, like the report's other figures)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from offerlab.report._png import save_figure

__all__ = ["plot_concept_top_box", "plot_kano_shares", "plot_maxdiff_scores", "plot_turf_ladder"]

_BAR = "#2b6cb0"
_LIGHT = "#90cdf4"
_ERR = "#1a202c"
_LINE = "#c05621"
#: One colour per Kano category, in the order A O M I R Q (colour-blind safe, Okabe–Ito).
KANO_COLOURS = ("#009E73", "#0072B2", "#D55E00", "#BBBBBB", "#CC79A7", "#F0E442")
_CONCEPT_COLOURS = ("#2b6cb0", "#dd6b20", "#38a169", "#805ad5", "#d53f8c", "#718096")


def _wrapped(labels: list[str], width: int = 22) -> list[str]:
    return ["\n".join(textwrap.wrap(str(x), width)) or str(x) for x in labels]


def plot_maxdiff_scores(
    scores: pd.DataFrame, path: Path | str, *, xlabel: str, line: float, line_label: str
) -> Path:
    """Horizontal bars of MaxDiff scores, highest on top, intervals, one dashed line.

    ``scores``: ``label``, ``score``, ``low``, ``high``. ``line``: the anchor's score, or
    the average item's.
    """
    frame = scores.iloc[::-1]
    labels = _wrapped(list(frame["label"]))
    height = 0.42 * sum(1 + lab.count("\n") * 0.6 for lab in labels) + 1.6
    fig, ax = plt.subplots(figsize=(5.6, height))
    err = np.clip(
        np.vstack([frame["score"] - frame["low"], frame["high"] - frame["score"]]), 0, None
    )
    above = frame["score"].to_numpy() >= line
    ax.barh(labels, frame["score"], color=np.where(above, _BAR, _LIGHT), xerr=err,
            error_kw={"ecolor": _ERR, "capsize": 3})  # fmt: skip
    ax.axvline(line, color=_LINE, linestyle="--", linewidth=1.5, label=line_label)
    for y, value in enumerate(frame["score"]):
        ax.text(0.4, y, f"{value:.0f}", va="center", ha="left", color="white", fontsize=9,
                fontweight="bold")  # fmt: skip
    ax.set_xlabel("\n".join(textwrap.wrap(xlabel, 50)))
    ax.set_xlim(0, max(float(frame["high"].max()), line) * 1.08)
    ax.legend(loc="lower right", fontsize=9, frameon=True)
    ax.grid(axis="x", alpha=0.3)
    return save_figure(fig, path)


def plot_turf_ladder(ladder: pd.DataFrame, path: Path | str, *, xlabel: str) -> Path:
    """The bundle's items one after the other: each bar starts where the reach so far ends
    and adds the item's extra reach (``label``, ``reach``, ``added_reach``, shares 0–1)."""
    labels = _wrapped(list(ladder["label"]))[::-1]
    reach = 100 * ladder["reach"].to_numpy()[::-1]
    added = 100 * ladder["added_reach"].to_numpy()[::-1]
    fig, ax = plt.subplots(figsize=(5.6, 0.55 * len(labels) + 1.6))
    ax.barh(labels, reach - added, color="#e2e8f0")
    ax.barh(labels, added, left=reach - added, color=_BAR)
    for y, (total, plus) in enumerate(zip(reach, added, strict=True)):
        ax.text(total + 1, y, f"+{plus:.0f} → {total:.0f}%", va="center", fontsize=9)
    ax.set_xlim(0, 118)
    ax.set_xticks(range(0, 101, 20))
    ax.set_xlabel(xlabel)
    ax.grid(axis="x", alpha=0.3)
    return save_figure(fig, path)


def plot_kano_shares(
    shares: pd.DataFrame, path: Path | str, *, xlabel: str, names: list[str]
) -> Path:
    """Stacked horizontal bars: per feature (rows, labels as index) the share of each
    category (columns A O M I R Q, shares 0–1); ``names`` the categories' words."""
    frame = shares.iloc[::-1]
    labels = _wrapped(list(frame.index), 30)
    fig, ax = plt.subplots(figsize=(5.6, 0.75 * len(labels) + 2.0))
    left = np.zeros(len(frame))
    for column, name, colour in zip(frame.columns, names, KANO_COLOURS, strict=False):
        values = 100 * frame[column].to_numpy(dtype=float)
        ax.barh(labels, values, left=left, color=colour, label=name, edgecolor="white")
        for y, (x0, v) in enumerate(zip(left, values, strict=True)):
            if v >= 8:
                ax.text(x0 + v / 2, y, f"{v:.0f}", ha="center", va="center", fontsize=9)
        left += values
    ax.set_xlim(0, 100)
    ax.set_xlabel(xlabel)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=3, fontsize=9,
              frameon=False)  # fmt: skip
    return save_figure(fig, path)


def plot_concept_top_box(frame: pd.DataFrame, path: Path | str, *, xlabel: str) -> Path:
    """Top-2-box per question (rows) and concept (one colour each), with intervals.

    ``frame``: ``question``, ``concept`` (labels), ``share``, ``low``, ``high`` (0–1).
    """
    questions = list(dict.fromkeys(frame["question"]))
    concepts = list(dict.fromkeys(frame["concept"]))
    k = len(concepts)
    width = 0.8 / k
    fig, ax = plt.subplots(figsize=(5.6, (0.32 * k + 0.35) * len(questions) + 1.8))
    for j, concept in enumerate(concepts):
        part = frame[frame["concept"] == concept].set_index("question").reindex(questions)
        y = np.arange(len(questions))[::-1] + (k - 1) / 2 * width - j * width
        share = 100 * part["share"].to_numpy(dtype=float)
        err = np.clip(np.vstack([share - 100 * part["low"], 100 * part["high"] - share]), 0, None)
        ax.barh(y, share, height=width * 0.9, xerr=err, label=concept,
                color=_CONCEPT_COLOURS[j % len(_CONCEPT_COLOURS)],
                error_kw={"ecolor": _ERR, "capsize": 2})  # fmt: skip
    ax.set_yticks(np.arange(len(questions))[::-1], _wrapped(questions, 22))
    ax.set_xlim(0, min(100, max(10.0, 100 * float(frame["high"].max()) * 1.15)))
    ax.set_xlabel(xlabel)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=min(k, 3), fontsize=9,
              frameon=False)  # fmt: skip
    return save_figure(fig, path)
