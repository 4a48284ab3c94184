"""Plots of the decide step: tornado, demand and revenue, Van Westendorp, Gabor–Granger.

Each function takes the tidy table the decide functions return and writes a PNG
(Agg backend, no screen needed), like :mod:`offerlab.report._plots`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd

from offerlab.decide import GaborGrangerResult, VanWestendorpResult
from offerlab.exceptions import OfferlabError
from offerlab.report._png import finish_plot, printable_texts

__all__ = ["plot_demand", "plot_gabor_granger", "plot_tornado", "plot_van_westendorp"]

_BAR = "#2b6cb0"
_ALT = "#c05621"


def _need(frame: pd.DataFrame, columns: tuple[str, ...], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise OfferlabError(f"{what} needs the columns {list(columns)}; missing {missing}")


def _check_result(result: object, kind: type, plot: str, maker: str) -> None:
    if not isinstance(result, kind):
        raise OfferlabError(f"{plot} needs the result of {maker}()")


def plot_tornado(
    table: pd.DataFrame,
    path: Path | str,
    *,
    title: str | None = "",
    percent: bool = True,
    xlabel: str = "",
) -> Path:
    """Tornado chart from :func:`~offerlab.decide.tornado`: one bar per attribute from
    its lowest to its highest value, the offer's own value as a line, widest on top."""
    _need(table, ("attribute", "low", "high", "base"), "plot_tornado")
    frame = table.sort_values("swing" if "swing" in table else "high")
    k = 100.0 if percent else 1.0
    fig, ax = plt.subplots(figsize=(7, 0.5 * len(frame) + 1.5))
    ax.barh(frame["attribute"], k * (frame["high"] - frame["low"]), left=k * frame["low"],
            color=_BAR)  # fmt: skip
    base = frame["base"].dropna()
    if len(base):
        ax.axvline(k * base.iloc[0], color="black", linewidth=1)
    ends = []
    for y, (_, row) in enumerate(frame.iterrows()):
        ends.append(ax.text(k * row["low"], y, f"{row.get('low_level', '')} ", ha="right",
                            va="center", fontsize=8))  # fmt: skip
        ends.append(ax.text(k * row["high"], y, f" {row.get('high_level', '')}", ha="left",
                            va="center", fontsize=8))  # fmt: skip
    ax.margins(x=0.05)
    _make_room(fig, ax, ends)
    ax.set_xlabel(xlabel or ("share (%)" if percent else "value"))
    return finish_plot(
        fig,
        ax,
        path,
        title,
        "What moves the offer's share: each attribute over its levels",
        grid="x",
    )


def _words(labels: Mapping[str, str] | None, defaults: dict[str, str]) -> dict[str, str]:
    """The plot's words: ``labels`` (a report's language) over the English defaults."""
    return {**defaults, **{k: v for k, v in (labels or {}).items() if v}}


def _make_room(fig: plt.Figure, ax: plt.Axes, texts: list) -> None:
    """Widen the x-axis until every text drawn at a bar's end lies inside the axes (the
    level names beside a tornado's bars would otherwise run over the attribute names)."""
    printable_texts(fig)  # before the first draw: names as written (a $ is no mathtext)
    for _ in range(6):
        fig.tight_layout()  # as the saved figure will be laid out
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
        boxes = [t.get_window_extent(renderer) for t in texts]
        left = max([ax.bbox.x0 - b.x0 for b in boxes] + [0.0])
        right = max([b.x1 - ax.bbox.x1 for b in boxes] + [0.0])
        if left <= 1 and right <= 1:
            return
        x0, x1 = ax.get_xlim()
        per_pixel = (x1 - x0) / ax.bbox.width
        ax.set_xlim(x0 - 1.2 * left * per_pixel, x1 + 1.2 * right * per_pixel)


def plot_demand(
    curve: pd.DataFrame,
    path: Path | str,
    *,
    title: str | None = "",
    labels: Mapping[str, str] | None = None,
) -> Path:
    """Demand (share) and revenue over price from :func:`~offerlab.decide.demand_curve`,
    with their intervals when present.

    ``labels`` may replace the words: ``price``, ``share``, ``money`` (the right axis),
    ``revenue`` and ``profit`` (the legend)."""
    w = _words(labels, {
        "price": "price", "share": "share (%)",
        "money": "revenue, profit per person in the market",
        "revenue": "revenue per person (this offer)",
        "profit": "profit per person (all our offers)",
    })  # fmt: skip
    _need(curve, ("price", "share", "revenue"), "plot_demand")
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.plot(curve["price"], 100 * curve["share"], color=_BAR, label="share")
    if {"share_lower", "share_upper"} <= set(curve.columns):
        ax.fill_between(curve["price"], 100 * curve["share_lower"], 100 * curve["share_upper"],
                        color=_BAR, alpha=0.2)  # fmt: skip
    ax.set_xlabel(w["price"])
    ax.set_ylabel(w["share"], color=_BAR)
    ax2 = ax.twinx()
    ax2.plot(curve["price"], curve["revenue"], color=_ALT, label=w["revenue"])
    if {"revenue_lower", "revenue_upper"} <= set(curve.columns):
        ax2.fill_between(curve["price"], curve["revenue_lower"], curve["revenue_upper"],
                         color=_ALT, alpha=0.15)  # fmt: skip
    if "ours_profit" in curve.columns:  # our offers' profit as this offer's price moves
        ax2.plot(curve["price"], curve["ours_profit"], color="#2f855a", linestyle="--",
                 label=w["profit"])  # fmt: skip
        if {"ours_profit_lower", "ours_profit_upper"} <= set(curve.columns):
            ax2.fill_between(curve["price"], curve["ours_profit_lower"],
                             curve["ours_profit_upper"], color="#2f855a", alpha=0.12)  # fmt: skip
        best = curve["price"].iloc[int(curve["ours_profit"].to_numpy().argmax())]
        ax2.axvline(best, color="#2f855a", linestyle=":", linewidth=1)
        ax2.legend(loc="upper right", fontsize=8)
    ax2.set_ylabel(w["money"], color=_ALT)
    return finish_plot(fig, ax, path, title, "Demand and revenue over price")


def plot_van_westendorp(
    result: VanWestendorpResult,
    path: Path | str,
    *,
    title: str | None = "",
    labels: Mapping[str, str] | None = None,
    number: Callable[[float], str] | None = None,
) -> Path:
    """The four Van Westendorp curves (with "not cheap" and "not expensive"), the price
    points and the acceptable range, from a :class:`VanWestendorpResult`.

    ``labels`` may replace the words: each curve's name (``too_cheap``…), ``acceptable``,
    ``price`` and ``respondents``; ``number`` writes the price points (default: two
    decimals with a point)."""
    _check_result(result, VanWestendorpResult, "plot_van_westendorp", "van_westendorp")
    curves = result.curves
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    w = _words(labels, {
        "too_cheap": "too cheap", "not_cheap": "not cheap", "expensive": "expensive",
        "not_expensive": "not expensive", "cheap": "cheap", "too_expensive": "too expensive",
        "acceptable": "acceptable range", "price": "price", "respondents": "respondents (%)",
    })  # fmt: skip
    styles = {
        "too_cheap": (w["too_cheap"], "#2f855a", "-"),
        "not_cheap": (w["not_cheap"], "#2f855a", "--"),
        "expensive": (w["expensive"], "#c05621", "-"),
        "not_expensive": (w["not_expensive"], "#c05621", "--"),
        "cheap": (w["cheap"], "#2b6cb0", "-"),
        "too_expensive": (w["too_expensive"], "#9b2c2c", "-"),
    }
    for col, (label, color, ls) in styles.items():
        ax.plot(curves["price"], 100 * curves[col], color=color, linestyle=ls, label=label)
    lo, hi = result.acceptable_range
    if pd.notna(lo) and pd.notna(hi):
        ax.axvspan(lo, hi, color="#718096", alpha=0.12, label=w["acceptable"])
    shown = number or (lambda v: f"{v:.2f}")
    # the lower point written to the left of its line, the higher to the right: apart
    points = sorted(
        ((float(getattr(result, n)), n) for n in ("opp", "ipp") if pd.notna(getattr(result, n))),
    )
    for (value, name), align in zip(points, ("right", "left")[: len(points)], strict=True):
        ax.axvline(value, color="black", linewidth=0.8, linestyle=":")
        ax.text(value, 102, f" {name.upper()} {shown(value)} ", ha=align, fontsize=8)
    ax.set_xlabel(w["price"])
    ax.set_ylabel(w["respondents"])
    ax.set_ylim(0, 108)
    # a few answers far above the rest would squeeze the curves into a corner: stop a
    # little after nearly everyone calls the price too expensive
    settled = curves["price"][curves["too_expensive"] >= 0.99 * curves["too_expensive"].max()]
    if len(settled):
        top = min(float(curves["price"].max()), 1.15 * float(settled.iloc[0]))
        ax.set_xlim(float(curves["price"].min()), max(top, *(v for v in (hi,) if pd.notna(v))))
    ax.legend(fontsize=8, loc="center right")
    return finish_plot(fig, ax, path, title, "Van Westendorp price sensitivity")


def plot_gabor_granger(
    result: GaborGrangerResult,
    path: Path | str,
    *,
    title: str | None = "",
    labels: Mapping[str, str] | None = None,
) -> Path:
    """Gabor–Granger demand (with its interval) and revenue per tested price.

    ``labels`` may replace the words: ``price``, ``would_buy``, ``revenue``."""
    w = _words(labels, {"price": "price", "would_buy": "would buy (%)",
                        "revenue": "revenue per respondent"})  # fmt: skip
    _check_result(result, GaborGrangerResult, "plot_gabor_granger", "gabor_granger")
    curve = result.curve
    fig, ax = plt.subplots(figsize=(7, 4.5))
    err = [100 * (curve["demand"] - curve["lower"]), 100 * (curve["upper"] - curve["demand"])]
    ax.errorbar(curve["price"], 100 * curve["demand"], yerr=err, color=_BAR, marker="o",
                capsize=3, label=w["would_buy"])  # fmt: skip
    ax.set_xlabel(w["price"])
    ax.set_ylabel(w["would_buy"], color=_BAR)
    ax2 = ax.twinx()
    ax2.plot(curve["price"], curve["revenue"], color=_ALT, marker="s", label=w["revenue"])
    ax2.set_ylabel(w["revenue"], color=_ALT)
    best = result.revenue_price
    ax2.axvline(best, color=_ALT, linestyle=":", linewidth=1)
    return finish_plot(fig, ax, path, title, f"Gabor–Granger: revenue peaks at {best:g}")
