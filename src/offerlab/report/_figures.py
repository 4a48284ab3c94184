"""The report's figures (PNG bytes) and their captions, in the report's language: the
plot functions draw decide's tables with the study's labels and the report's words."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from offerlab.report._decide_plots import (
    plot_demand,
    plot_gabor_granger,
    plot_tornado,
    plot_van_westendorp,
)
from offerlab.report._labels import attribute_label, level_label
from offerlab.report._plots import plot_importance, plot_partworths, plot_shares, plot_wtp

if TYPE_CHECKING:
    from offerlab.report._content import ReportContent

__all__ = ["report_figures"]


def report_figures(
    content: ReportContent, decisions: Any
) -> tuple[dict[str, bytes], dict[str, str]]:
    """Every figure of the report (name -> PNG) and its caption."""
    t, cur = content.t, content.currency
    pct = round(100 * content.drivers.interval) if content.drivers is not None else 95
    figs: dict[str, bytes] = {}
    caps: dict[str, str] = {}
    figs["importance"] = figure_png(
        lambda p: plot_importance(content.importance, p, title=None, xlabel=t("ax_importance"))
    )
    caps["importance"] = t("cap_importance", pct=pct)
    figs["partworths"] = figure_png(
        lambda p: plot_partworths(content.partworths, p, title=None, xlabel=t("ax_partworth"))
    )
    caps["partworths"] = t("cap_partworths", pct=pct)
    if content.wtp is not None:
        wtp = content.wtp
        figs["wtp"] = figure_png(
            lambda p: plot_wtp(wtp, p, currency=cur, title=None, xlabel=t("ax_wtp", currency=cur))
        )
        caps["wtp"] = t("cap_wtp", currency=cur)
    if content.money is not None:
        shares = _named_shares(content)
        figs["shares"] = figure_png(
            lambda p: plot_shares(shares, p, title=None, xlabel=t("ax_share"))
        )
        caps["shares"] = t("cap_shares", pct=pct)
    if decisions.tornado is not None and len(decisions.tornado):
        table = _labelled_tornado(content, decisions.tornado)
        offer = decisions.tornado_offer
        figs["tornado"] = figure_png(
            lambda p: plot_tornado(table, p, title=None, xlabel=t("ax_offer_share", offer=offer))
        )
        caps["tornado"] = t("cap_tornado", offer=offer)
    figs.update(_pricing_figures(content, caps))
    return figs, caps


def _named_shares(content: ReportContent) -> pd.DataFrame:
    table = content.money.table  # type: ignore[union-attr]
    study = content.study
    names = []
    kinds = table["kind"] if "kind" in table.columns else [None] * len(table)
    for name, kind in zip(table["alternative"], kinds, strict=True):
        if (kind == "none" or name == "none") and study.tasks.none is not None:
            names.append(study.text(study.tasks.none.label, content.language))
        else:
            names.append(str(name))
    return table.assign(offer=names)


def _labelled_tornado(content: ReportContent, table: pd.DataFrame) -> pd.DataFrame:
    """The tornado's attributes and its lowest and highest levels as labels."""
    study, t = content.study, content.t

    def level(a: str, v: object) -> str:
        return level_label(study, a, v, t.language)

    return table.assign(
        attribute=[attribute_label(study, a, t) for a in table["attribute"]],
        low_level=[level(a, v) for a, v in zip(table["attribute"], table["low_level"],
                                               strict=True)],
        high_level=[level(a, v) for a, v in zip(table["attribute"], table["high_level"],
                                                strict=True)],
    )  # fmt: skip


def _pricing_figures(content: ReportContent, caps: dict[str, str]) -> dict[str, bytes]:
    pricing, t, cur = content.pricing, content.t, content.currency
    figs: dict[str, bytes] = {}
    if pricing is None:
        return figs
    price_axis = t("ax_price", currency=cur) if cur else t("ax_price", currency="").strip()
    if pricing.demand is not None:
        demand = pricing.demand
        words = {"price": price_axis, "share": t("ax_share"),
                 "money": t("ax_money_person", currency=cur), "revenue": t("lg_revenue"),
                 "profit": t("lg_profit")}  # fmt: skip
        figs["demand"] = figure_png(
            lambda p: plot_demand(demand, p, title=t("t_demand", offer=pricing.offer), labels=words)
        )
        key = "cap_demand_profit" if "ours_profit" in demand.columns else "cap_demand"
        caps["demand"] = t(key)
    if pricing.van_westendorp is not None:
        vw = pricing.van_westendorp
        words = {k: t(f"lg_{k}") for k in ("too_cheap", "not_cheap", "cheap", "expensive",
                                           "not_expensive", "too_expensive")}  # fmt: skip
        words |= {"acceptable": t("lg_acceptable"), "price": price_axis,
                  "respondents": t("ax_respondents")}  # fmt: skip
        figs["van_westendorp"] = figure_png(
            lambda p: plot_van_westendorp(
                vw, p, title=t("t_van_westendorp"), labels=words, number=lambda v: t.number(v, 2)
            )
        )
        caps["van_westendorp"] = t("cap_van_westendorp")
    if pricing.gabor_granger is not None:
        gg = pricing.gabor_granger
        best = t.amount(float(gg.revenue_price), cur)
        words = {"price": price_axis, "would_buy": t("ax_would_buy"),
                 "revenue": t("ax_revenue_respondent", currency=cur)}  # fmt: skip
        figs["gabor_granger"] = figure_png(
            lambda p: plot_gabor_granger(
                gg, p, title=t("t_gabor_granger", price=best), labels=words
            )
        )
        caps["gabor_granger"] = t("cap_gabor_granger")
    return figs


def figure_png(draw: Callable[[Path], object]) -> bytes:
    """PNG bytes of a plot function that writes to a path."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "figure.png"
        draw(path)
        return path.read_bytes()
