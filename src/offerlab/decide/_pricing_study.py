"""The pricing page: the survey's direct price questions (Van Westendorp, Gabor–Granger)
beside the conjoint's demand, revenue and profit of the same offer, with costs, and
sentences saying where they agree."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd

from offerlab.decide._conjoint_price import ConjointPrice, best_price, conjoint_demand
from offerlab.decide._findings import Finding
from offerlab.decide._gabor_granger import GaborGrangerResult, gabor_granger, gabor_granger_frame
from offerlab.decide._money import price_edge
from offerlab.decide._van_westendorp import (
    VanWestendorpResult,
    van_westendorp,
    van_westendorp_frame,
)

__all__ = ["PricingStudy", "money_text", "pricing_english", "pricing_study"]


@dataclass(frozen=True)
class PricingStudy:
    """Van Westendorp, Gabor–Granger and the conjoint demand of the same offer, with costs.

    Attributes
    ----------
    offer : str or None
        The offer the survey's price questions describe.
    van_westendorp, gabor_granger : result or None
    demand : DataFrame or None
        :func:`~offerlab.decide.demand_curve` of the offer (share, revenue and profit of
        the offer itself), plus ``ours_revenue`` and ``ours_profit`` (with bounds): all
        our offers together while this one's price moves (it takes from its siblings).
    cost : float or None
        The offer's cost per sale from the market file.
    revenue_best, profit_best : ConjointPrice or None
        The prices that maximise our offers' revenue and profit per person in the market.
    comparison : list of str
        Sentences: where the methods agree, and when they cannot tell.
    table : DataFrame
        ``measure``, ``value``: the price points in words and money.
    findings : list of Finding
        ``comparison`` as data (keys ``pricing_*``), for surfaces that word it themselves.
    measures : list of Finding
        ``table``'s rows as data (keys ``measure_*``).
    """

    offer: str | None
    van_westendorp: VanWestendorpResult | None
    gabor_granger: GaborGrangerResult | None
    demand: pd.DataFrame | None
    cost: float | None
    revenue_best: ConjointPrice | None
    profit_best: ConjointPrice | None
    comparison: list[str]
    table: pd.DataFrame
    findings: list[Finding] = field(default_factory=list)
    measures: list[Finding] = field(default_factory=list)


@dataclass(frozen=True)
class _Findings:
    """What the pricing page's table and sentences are written from."""

    vw: VanWestendorpResult | None
    gg: GaborGrangerResult | None
    offer: str | None
    cost: float | None
    revenue_best: ConjointPrice | None
    profit_best: ConjointPrice | None
    currency: str

    def unpacked(self) -> tuple:
        """The fields in order (shallow: the results stay objects, unlike ``astuple``)."""
        return tuple(getattr(self, f.name) for f in fields(self))


def money_text(value: float | None, currency: str) -> str:
    """``CHF 1,290``; ``n/a`` for a missing number."""
    if value is None or not np.isfinite(value):
        return "n/a"
    return f"{currency} {value:,.0f}".strip()


def pricing_study(
    study: Any,
    answers: pd.DataFrame | None,
    *,
    sim: Any = None,
    market: Any = None,
    offer: str | None = None,
    costs: Any = None,
    prices: Sequence[float] | None = None,
) -> PricingStudy | None:
    """The pricing page: the survey's price questions and the conjoint, with costs.

    Parameters
    ----------
    study : Study
    answers : DataFrame, optional
        Tidy answers (respondent, question, item, answer) of the survey's other questions.
    sim, market : MarketSimulator, Market, optional
        For the conjoint demand, revenue and profit of ``offer`` in the market.
    offer : str, optional
        The offer the price questions describe (the market file's ``pricing_offer``).
    costs : Costs, optional
        The market file's costs: the profit-maximising price needs them.
    prices : list of float, optional
        The conjoint's price grid (default: 41 prices over the studied range).

    Returns None when there is nothing to show.
    """
    from offerlab.study import GaborGrangerPage, VanWestendorpPage

    pages = study.questionnaire.pages if study.questionnaire is not None else []
    vw_page = next((p for p in pages if isinstance(p, VanWestendorpPage)), None)
    gg_page = next((p for p in pages if isinstance(p, GaborGrangerPage)), None)
    vw = gg = None
    if answers is not None and vw_page is not None and (answers["question"] == vw_page.id).any():
        vw = van_westendorp(van_westendorp_frame(answers, vw_page.id))
    if answers is not None and gg_page is not None and (answers["question"] == gg_page.id).any():
        gg = gabor_granger(
            gabor_granger_frame(answers, gg_page.id), accept_from=gg_page.accept_from
        )
    price_attr = study.price_attribute
    currency = price_attr.currency if price_attr is not None else ""
    demand = cost = revenue_best = profit_best = None
    if sim is not None and market is not None and offer is not None and price_attr is not None:
        studied = [float(v) for v in price_attr.values]
        grid = np.asarray(
            sorted(prices) if prices is not None else np.linspace(min(studied), max(studied), 41),
            dtype=float,
        )
        if costs is not None:
            cost = costs.of(market.offers[market.index(offer)])
        demand, values = conjoint_demand(sim, market, offer, grid, costs, cost)
        revenue_best = best_price(grid, *values["revenue"], studied, sim.interval)
        if costs is not None:
            profit_best = best_price(grid, *values["profit"], studied, sim.interval)
    if vw is None and gg is None and demand is None:
        return None
    found = _Findings(vw, gg, offer, cost, revenue_best, profit_best, currency)
    measures = _measures(found)
    table = _pricing_table(measures, currency)
    findings = _compare(found)
    if gg is not None and demand is not None:
        findings += _stated_and_chosen(gg, sim, market, offer)
    comparison = [pricing_english(f, currency) for f in findings]
    return PricingStudy(
        offer,
        vw,
        gg,
        demand,
        cost,
        revenue_best,
        profit_best,
        comparison,
        table,
        findings,
        measures,
    )


def _measures(found: _Findings) -> list[Finding]:
    """The price points as findings: key ``measure_*`` names the measure; values hold
    ``kind`` (money, range, count, interval) and its numbers, and ``offer`` where named."""
    vw, gg, offer, cost, revenue_best, profit_best, _ = found.unpacked()
    rows: list[Finding] = []
    if vw is not None:
        rows += [
            Finding("measure_vw_range", {"kind": "range", "lower": vw.pmc, "upper": vw.pme}),
            Finding("measure_vw_opp", {"kind": "money", "value": vw.opp}),
            Finding("measure_vw_ipp", {"kind": "money", "value": vw.ipp}),
        ]
        if vw.revenue_price is not None:
            rows.append(
                Finding("measure_nms_revenue", {"kind": "money", "value": vw.revenue_price})
            )
            rows.append(Finding("measure_nms_trial", {"kind": "money", "value": vw.trial_price}))
        rows.append(
            Finding(
                "measure_vw_respondents",
                {"kind": "count", "value": vw.n_respondents, "left_out": vw.n_inconsistent},
            )
        )
    if gg is not None:
        rows.append(Finding("measure_gg_revenue", {"kind": "money", "value": gg.revenue_price}))
        rows.append(Finding("measure_gg_respondents", {"kind": "count", "value": gg.n_respondents}))
    if cost is not None:
        rows.append(Finding("measure_cost", {"kind": "money", "value": cost, "offer": offer}))
    for key, best in (
        ("measure_conjoint_profit", profit_best),
        ("measure_conjoint_revenue", revenue_best),
    ):
        if best is not None:
            rows.append(
                Finding(
                    key,
                    {
                        "kind": "interval",
                        "value": best.price,
                        "interval": _interval(best),
                        "offer": offer,
                    },
                )
            )
    return rows


#: The measures' names in English (the CLI's and ``PricingStudy.table``'s words).
_MEASURE_NAMES = {
    "measure_vw_range": "Van Westendorp: acceptable range (PMC to PME)",
    "measure_vw_opp": "Van Westendorp: optimal price point (OPP)",
    "measure_vw_ipp": "Van Westendorp: indifference price point (IPP)",
    "measure_nms_revenue": "Newton–Miller–Smith: revenue-maximising price",
    "measure_nms_trial": "Newton–Miller–Smith: trial-maximising price",
    "measure_vw_respondents": "Van Westendorp respondents (inconsistent answers left out)",
    "measure_gg_revenue": "Gabor–Granger: revenue-maximising tested price",
    "measure_gg_respondents": "Gabor–Granger respondents",
    "measure_cost": "Cost per sale of '{offer}' (market file)",
    "measure_conjoint_profit": (
        "Conjoint: profit-maximising price of '{offer}' (all our offers' profit)"
    ),
    "measure_conjoint_revenue": (
        "Conjoint: revenue-maximising price of '{offer}' (all our offers' revenue)"
    ),
}


def _pricing_table(measures: list[Finding], currency: str) -> pd.DataFrame:
    m = lambda v: money_text(v, currency)  # noqa: E731
    rows: list[tuple[str, str]] = []
    for f in measures:
        v = f.values
        name = _MEASURE_NAMES[f.key].format(offer=v.get("offer"))
        if v["kind"] == "range":
            value = f"{m(v['lower'])} to {m(v['upper'])}"
        elif v["kind"] == "count":
            value = f"{v['value']}" + (f" ({v['left_out']})" if "left_out" in v else "")
        elif v["kind"] == "interval":
            value = m(v["value"])
            if v["interval"] is not None:
                value += f" (95%: {m(v['interval'][0])} to {m(v['interval'][1])})"
        else:
            value = m(v["value"])
        rows.append((name, value))
    return pd.DataFrame(rows, columns=["measure", "value"])


def _interval(best: ConjointPrice) -> tuple[float, float] | None:
    return None if best.interval is None else (float(best.interval[0]), float(best.interval[1]))


def _compare(found: _Findings) -> list[Finding]:
    """Findings saying where the direct price questions and the conjoint agree or not.

    Agreement is claimed only when the optima compared lie inside the ranges tested: two
    methods that both stop at the lowest price asked agree on where the test ended, not
    on the best price.
    """
    vw, gg, offer, cost, revenue_best, profit_best, _ = found.unpacked()
    out: list[Finding] = []
    if revenue_best is None:
        if vw is not None or gg is not None:
            out.append(Finding("pricing_no_market"))
        return out
    if profit_best is not None:
        below = cost is not None and revenue_best.price < cost
        at_cost = cost is not None and revenue_best.price == cost
        out.append(
            Finding(
                "pricing_profit",
                {
                    "cost": cost,
                    "offer": offer,
                    "price": profit_best.price,
                    "interval": _interval(profit_best),
                    "revenue_price": revenue_best.price,
                    "revenue_vs_cost": "below" if below else "equal" if at_cost else None,
                },
            )
        )
        if profit_best.edge is not None:
            out.append(_edge(profit_best, "profit", offer))
    else:
        out.append(Finding("pricing_no_costs"))
    best = revenue_best.price
    lo, hi = revenue_best.interval if revenue_best.interval is not None else (best, best)
    if vw is not None and np.isfinite(vw.pmc) and np.isfinite(vw.pme):
        where = "below" if best < vw.pmc else "above" if best > vw.pme else "inside"
        out.append(
            Finding(
                "pricing_vw_range",
                {
                    "offer": offer,
                    "price": best,
                    "interval": _interval(revenue_best),
                    "where": where,
                    "pmc": vw.pmc,
                    "pme": vw.pme,
                },
            )
        )
    if revenue_best.edge is not None:
        out.append(_edge(revenue_best, "revenue", offer))
    direct = [
        ("Newton–Miller–Smith", vw.revenue_price if vw is not None else None, None),
        (
            "Gabor–Granger",
            gg.revenue_price if gg is not None else None,
            gg.curve["price"].to_numpy(float) if gg is not None else None,
        ),
    ]
    for name, price, tested in direct:
        if price is None or not np.isfinite(price):
            continue
        edge = price_edge(price, tested) if tested is not None else None
        common = {"method": name, "price": float(price), "best": best}
        if edge is not None or revenue_best.edge is not None:
            out.append(
                Finding(
                    "pricing_cannot_compare",
                    {**common, "direct_edge": edge, "conjoint_edge": revenue_best.edge},
                )
            )
        elif lo <= price <= hi:
            out.append(Finding("pricing_agree", common))
        else:
            side = "lower" if price < lo else "higher"
            out.append(Finding("pricing_disagree", {**common, "side": side, "lo": lo, "hi": hi}))
    return out


def _edge(best: ConjointPrice, what: str, offer: str | None) -> Finding:
    return Finding(f"pricing_edge_{best.edge}", {"what": what, "offer": offer, "price": best.price})


def pricing_english(finding: Finding, currency: str) -> str:
    """A pricing finding in English, as the CLI prints it."""
    v = finding.values
    m = lambda x: money_text(x, currency)  # noqa: E731

    def with_interval(price: float, interval: tuple[float, float] | None) -> str:
        text = m(price)
        if interval is not None:
            text += f" (95%: {m(interval[0])} to {m(interval[1])})"
        return text

    key = finding.key
    if key == "pricing_no_market":
        return (
            "No market file was given, so the conjoint demand curve of the offer the "
            "price questions describe is not shown beside them."
        )
    if key == "pricing_no_costs":
        return (
            "The market file gives no costs, so the page shows revenue, not profit: the "
            "revenue-maximising price can lie below cost."
        )
    if key == "pricing_profit":
        text = (
            f"With a cost of {m(v['cost'])} per sale, the conjoint puts the profit-maximising "
            f"price of '{v['offer']}' at {with_interval(v['price'], v['interval'])}"
        )
        if v["revenue_vs_cost"] == "below":
            text += (
                f"; the revenue-maximising price ({m(v['revenue_price'])}) lies below cost "
                "and would lose money on every sale"
            )
        elif v["revenue_vs_cost"] == "equal":
            text += (
                f"; the revenue-maximising price ({m(v['revenue_price'])}) equals the cost "
                "and would earn nothing on a sale"
            )
        return text + "."
    if key.startswith("pricing_edge_"):
        edge = key.removeprefix("pricing_edge_")
        beyond = "above" if edge == "highest" else "below"
        return (
            f"Caution: the conjoint's {v['what']}-maximising price of '{v['offer']}' "
            f"({m(v['price'])}) is the {edge} price studied, so the best "
            f"price may lie {beyond} it, where the survey did not ask."
        )
    if key == "pricing_vw_range":
        interval = v["interval"]
        return (
            f"The conjoint puts the revenue-maximising price of '{v['offer']}' at {m(v['price'])}"
            + (f" (95% interval {m(interval[0])} to {m(interval[1])})" if interval else "")
            + f", {v['where']} Van Westendorp's acceptable range ({m(v['pmc'])} to {m(v['pme'])})."
        )
    name, price, best = v.get("method"), m(v.get("price")), m(v.get("best"))
    if key == "pricing_cannot_compare":
        where = [f"{name}'s at the {v['direct_edge']} price it asked" if v["direct_edge"] else None]
        if v["conjoint_edge"] is not None:
            where.append(f"the conjoint's at the {v['conjoint_edge']} price studied")
        return (
            f"{name}'s revenue-maximising price ({price}) and the conjoint's ({best}) "
            "cannot be compared: " + " and ".join(w for w in where if w) + ". Both "
            "may lie beyond the range tested; test prices beyond it before calling "
            "them in agreement."
        )
    if key == "pricing_agree":
        return (
            f"{name}'s revenue-maximising price ({price}) lies within the conjoint's "
            "interval, both inside the prices tested: they agree."
        )
    if key == "pricing_disagree":
        return (
            f"{name}'s revenue-maximising price ({price}) is {v['side']} than the conjoint's "
            f"({best}; interval {m(v['lo'])} to {m(v['hi'])}): they disagree. The direct question "
            "asks about the offer alone; the conjoint prices it against the competing "
            "offers and the status quo, where people can walk away."
        )
    if key == "pricing_stated":
        text = (
            f"From {m(v['p1'])} to {m(v['p2'])}, stated demand (Gabor–Granger) falls by "
            f"{100 * v['stated']:.0f}%; the offer's conjoint share falls by "
            f"{100 * v['chosen']:.0f}%"
        )
        if v["interval"] is None:
            return text + "."
        a, b = v["interval"]
        text += f" (95%: {100 * a:.0f}% to {100 * b:.0f}%)"
        return (
            text
            + {
                "same": ": the same price sensitivity.",
                "less": ": people say they are less price sensitive than their choices show "
                "(a common bias of direct price questions).",
                "more": ": people say they are more price sensitive than their choices show.",
            }[v["verdict"]]
        )
    raise KeyError(key)


def _stated_and_chosen(
    gg: GaborGrangerResult, sim: Any, market: Any, offer: str | None
) -> list[Finding]:
    """How far demand falls over the Gabor–Granger ladder: stated, and in the conjoint."""
    p1, p2 = float(gg.curve["price"].min()), float(gg.curve["price"].max())
    curve = gg.curve.set_index("price")["demand"]
    if curve.loc[p1] <= 0 or p1 == p2:
        return []
    point, draws = sim.share_of([market.with_price(offer, p1), market.with_price(offer, p2)], offer)
    values: dict[str, Any] = {
        "p1": p1, "p2": p2, "stated": float(1 - curve.loc[p2] / curve.loc[p1]),
        "chosen": float(1 - point[1] / point[0]), "interval": None, "verdict": None,
    }  # fmt: skip
    if draws is not None:
        tail = (1 - sim.interval) / 2
        a, b = (float(q) for q in np.quantile(1 - draws[:, 1] / draws[:, 0], [tail, 1 - tail]))
        stated = values["stated"]
        values["interval"] = (a, b)
        values["verdict"] = "same" if a <= stated <= b else "less" if stated < a else "more"
    return [Finding("pricing_stated", values)]
