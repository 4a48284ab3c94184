"""The report's tables as text (:class:`~offerlab.report._tables.Table`), from decide's
numbers: labels of the report's language, intervals as one "a to b" column, money to two
decimals. Nothing is computed here but the layout."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from offerlab.report._findings import measure_row
from offerlab.report._labels import candidate_lines
from offerlab.report._tables import Cells, Table
from offerlab.report._texts import report_catalogue

if TYPE_CHECKING:
    from offerlab.report._content import ReportContent

__all__ = ["display_tables"]


def display_tables(content: ReportContent, decisions: Any) -> tuple[dict[str, Table], list[Table]]:
    """Every table of the report as shown (key -> table), and the needs tables."""
    t = content.t
    c = Cells(t)
    tables = {
        "sample": Table("", content.sample, (t("col_value"),)),
        "fit": _fit(content, c),
        "importance": _importance(content, c),
        "partworths": _partworths(content, c),
    }
    pricing = content.pricing
    # key -> (what the table shows, its layout); there is no table where that is None
    optional: dict[str, tuple[Any, Callable[[Any, ReportContent, Cells], Table]]] = {
        "quality": (content.quality, _quality),
        "holdouts": (content.holdouts, _holdouts),
        "wtp": (content.wtp, _wtp),
        "shares": (content.money, _shares),
        "candidates": (content.optimisation, _candidates),
        "pricing": (None if pricing is None or pricing.table.empty else pricing, _pricing),
        "obstacles": (content.obstacles, _obstacles),
        "segments": (content.segments, _segments),
        "segment_importance": (content.segment_importance, _segment_importance),
        "segment_shares": (content.segment_shares, _segment_shares),
    }
    for key, (shown, layout) in optional.items():
        if shown is not None:
            tables[key] = layout(shown, content, c)
    needs = [_need(title, frame, c) for title, frame in content.needs]
    return tables, needs


def _pct_label(content: ReportContent) -> int:
    drivers = content.drivers
    return round(100 * drivers.interval) if drivers is not None else 95


def _fit(content: ReportContent, c: Cells) -> Table:
    t = c.t
    frame = pd.DataFrame(
        {t("col_statistic"): [_statistic(str(s), t) for s in content.fit["statistic"]],
         t("col_value"): [str(v) if s == "seed" else c.auto(v)
                          for s, v in zip(content.fit["statistic"], content.fit["value"],
                                          strict=True)]}
    )  # fmt: skip
    return Table("", frame, (t("col_value"),))


def _statistic(name: str, t: Any) -> str:
    """A model's fit statistic by its name in the report's language (when it has one)."""
    key = "stat_" + re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    return t(key) if key in report_catalogue() else name


def _importance(content: ReportContent, c: Cells) -> Table:
    t = c.t
    imp = content.importance.sort_values("importance", ascending=False, kind="stable")
    fmt = lambda v: c.fixed(v, 1)  # noqa: E731
    frame = pd.DataFrame(
        {t("col_attribute"): imp["attribute"],
         t("col_importance"): c.column(imp["importance"], fmt),
         t("col_interval", pct=_pct_label(content)): c.intervals(imp["lower"], imp["upper"], fmt)}
    )  # fmt: skip
    return Table("", frame, tuple(frame.columns[1:]))


def _partworths(content: ReportContent, c: Cells) -> Table:
    t, pw = c.t, content.partworths
    fmt = lambda v: c.fixed(v, 2)  # noqa: E731
    frame = pd.DataFrame(
        {t("col_attribute"): pw["attribute"], t("col_level"): pw["level"],
         t("col_utility"): c.column(pw["utility"], fmt),
         t("col_interval", pct=_pct_label(content)): c.intervals(pw["lower"], pw["upper"], fmt)}
    )  # fmt: skip
    return Table("", frame, tuple(frame.columns[2:]))


def _wtp(w: pd.DataFrame, content: ReportContent, c: Cells) -> Table:
    t = c.t
    per_unit = w["per_unit"].astype(bool) if "per_unit" in w.columns else [False] * len(w)
    # whole francs; a rate per unit (per km) in cents
    fmts = [(lambda v: c.fixed(v, 2)) if unit else c.whole for unit in per_unit]
    frame = pd.DataFrame(
        {t("col_attribute"): w["attribute"], t("col_level"): w["level"],
         t("col_wtp", currency=content.currency): [
             f(v) for f, v in zip(fmts, w["wtp"], strict=True)],
         t("col_interval", pct=_pct_label(content)): [
             c.interval(lo, hi, f) for f, lo, hi in zip(fmts, w["lower"], w["upper"],
                                                        strict=True)]}
    )  # fmt: skip
    return Table("", frame, tuple(frame.columns[2:]))


def _quality(q: pd.DataFrame, content: ReportContent, c: Cells) -> Table:
    frame = q.copy()
    frame[q.columns[1]] = c.column(q[q.columns[1]], c.whole)
    frame[q.columns[2]] = c.column(q[q.columns[2]] / 100, c.percent)
    return Table("", frame, tuple(q.columns[1:]))


def _holdouts(h: pd.DataFrame, content: ReportContent, c: Cells) -> Table:
    t = c.t
    frame = pd.DataFrame(
        {t("col_holdout_task"): c.column(h["holdout task"], c.whole),
         t("col_concept"): c.column(h["concept"], c.whole),
         t("col_observed"): c.column(h["observed"], c.percent),
         t("col_predicted"): c.column(h["predicted"], c.percent)}
    )  # fmt: skip
    return Table("", frame, tuple(frame.columns))


def _offer_name(content: ReportContent, name: str, kind: str | None = None) -> str:
    study = content.study
    if (kind == "none" or name == "none") and study.tasks.none is not None:
        return study.text(study.tasks.none.label, content.language)
    return str(name)


def _shares(money: Any, content: ReportContent, c: Cells) -> Table:
    t, m = c.t, money.table
    cur = content.currency
    pct = _pct_label(content)
    nan = np.full(len(m), np.nan)

    def col(name: str) -> Any:
        return m[name] if name in m.columns else nan

    kinds = m["kind"] if "kind" in m.columns else [None] * len(m)
    total = money.total
    frame = pd.DataFrame(
        {t("col_offer"): [_offer_name(content, n, k) for n, k in zip(m["alternative"], kinds,
                                                                     strict=True)],
         t("col_price", currency=cur): c.column(col("price"), c.whole),
         t("col_share"): c.column(m["share"], c.percent),
         t("col_interval", pct=pct) + " ": c.intervals(col("lower"), col("upper"), c.percent),
         t("col_revenue", currency=cur): c.column(col("revenue"), c.money),
         t("col_interval", pct=pct) + "  ": c.intervals(col("revenue_lower"),
                                                        col("revenue_upper"), c.money),
         t("col_margin", currency=cur): c.column(col("margin"), c.money),
         t("col_profit", currency=cur): c.column(col("profit"), c.money),
         t("col_interval", pct=pct) + "   ": c.intervals(col("profit_lower"),
                                                         col("profit_upper"), c.money)}
    )  # fmt: skip
    frame.loc[len(frame)] = [
        t("ours_together"), "", c.percent(total["share"]),
        c.interval(total["share_lower"], total["share_upper"], c.percent),
        c.money(total["revenue"]),
        c.interval(total["revenue_lower"], total["revenue_upper"], c.money), "",
        c.money(total["profit"]) if np.isfinite(total["profit"]) else "",
        c.interval(total["profit_lower"], total["profit_upper"], c.money),
    ]  # fmt: skip
    if not np.isfinite(np.asarray(col("profit"), dtype=float)).any():
        frame = frame.iloc[:, :6]
    # the interval columns differ only by trailing spaces (unique names); show them alike
    frame.columns = [str(x) for x in frame.columns]
    return Table("", frame, tuple(frame.columns[1:]))


def _candidates(result: Any, content: ReportContent, c: Cells) -> Table:
    t = c.t
    best = result.table.head(5)
    share_objective = content.objective == "share"
    fmt = c.percent if share_objective else c.money
    objective = t(f"objective_{content.objective}") if content.objective else ""
    frame = pd.DataFrame(
        {t("col_rank"): c.column(best["rank"], c.whole),
         t("col_lineup"): candidate_lines(list(best["lineup"]), content.study, t),
         t("col_expected", objective=objective): c.column(best["expected"], fmt),
         t("col_pessimistic"): c.column(best["pessimistic"], fmt),
         t("col_interval", pct=_pct_label(content)): c.intervals(best["lower"], best["upper"],
                                                                 fmt),
         t("col_our_share"): c.column(best["share"], c.percent),
         t("col_p_best"): c.column(best["p_best"], c.percent)}
    )  # fmt: skip
    return Table(t("h_candidates"), frame, tuple(frame.columns[2:]))


def _pricing(pricing: Any, content: ReportContent, c: Cells) -> Table:
    t = c.t
    rows = [measure_row(m, t, content.currency) for m in pricing.measures]
    frame = pd.DataFrame(rows, columns=[t("col_measure"), t("col_value")])
    return Table(t("h_price_points"), frame, ())


def _obstacles(o: pd.DataFrame, content: ReportContent, c: Cells) -> Table:
    t = c.t
    data = {}
    if "segment" in o.columns and o["segment"].nunique() > 1:
        data[t("col_segment")] = o["segment"].astype(str)
    data[t("col_option")] = o["option"].astype(str)
    if "n" in o.columns:
        data[t("col_n")] = c.column(o["n"], c.whole)
    if "base" in o.columns:
        data[t("col_base")] = c.column(o["base"], c.whole)
    data[t("col_share")] = c.column(o["share"], c.percent)
    if {"lower", "upper"} <= set(o.columns):
        data[t("col_interval", pct=95)] = c.intervals(o["lower"], o["upper"], c.percent)
    frame = pd.DataFrame(data)
    first = 2 if t("col_segment") in data else 1
    return Table(t("h_obstacles"), frame, tuple(frame.columns[first:]))


def _need(title: str, frame: pd.DataFrame, c: Cells) -> Table:
    t = c.t
    if "mean" in frame.columns:
        points = int(frame["points"].iloc[0]) if "points" in frame.columns else 5
        fmt = lambda v: c.fixed(v, 2)  # noqa: E731
        shown = pd.DataFrame(
            {t("col_item"): frame["item"].astype(str), t("col_n"): c.column(frame["n"], c.whole),
             t("col_mean", points=points): c.column(frame["mean"], fmt),
             t("col_interval", pct=95): c.intervals(frame["lower"], frame["upper"], fmt)}
        )  # fmt: skip
    else:
        shown = pd.DataFrame(
            {t("col_option"): frame["option"].astype(str),
             t("col_n"): c.column(frame["n"], c.whole),
             t("col_share"): c.column(frame["share"], c.percent),
             t("col_interval", pct=95): c.intervals(frame["lower"], frame["upper"], c.percent)}
        )  # fmt: skip
    return Table(title, shown, tuple(shown.columns[1:]))


def _segments(s: pd.DataFrame, content: ReportContent, c: Cells) -> Table:
    frame = s.reset_index() if not isinstance(s.index, pd.RangeIndex) else s.copy()
    frame = frame.astype(object).map(c.auto)
    return Table("", frame.rename(columns=str), tuple(str(x) for x in frame.columns[1:]))


def _segment_importance(s: pd.DataFrame, content: ReportContent, c: Cells) -> Table:
    frame = s.copy()
    for col in frame.columns[1:]:
        frame[col] = c.column(frame[col], lambda v: c.fixed(v, 1))
    frame.columns = [str(x) for x in frame.columns]
    return Table(c.t("h_segment_importance"), frame, tuple(frame.columns[1:]))


def _segment_shares(s: pd.DataFrame, content: ReportContent, c: Cells) -> Table:
    wide = s.pivot_table(index="alternative", columns="segment", values="share", sort=False)
    frame = wide.reset_index().rename(columns={"alternative": c.t("col_offer")})
    for col in frame.columns[1:]:
        frame[col] = c.column(frame[col], c.percent)
    frame.columns = [str(x) for x in frame.columns]
    return Table(c.t("h_segment_shares"), frame, tuple(frame.columns[1:]))
