"""Money of concrete offers: cost, revenue, margin and profit per person in the market.

One code path for every surface: the CLI's market table, the report's market table and
Excel sheet, and the simulator page (report and console) draw these numbers, or — on the
page, where offers change under the user's hands — the same formulas on the same draws
(:meth:`Costs.to_json` carries the costs there).

Per person in the market, for our offer j at price p_j with cost c_j per sale:
revenue_j = p_j × s_j, margin_j = p_j − c_j (per sale), profit_j = margin_j × s_j; the
totals over our offers add these per uncertainty draw before the interval is taken, so
the interval of the total is the total's, not a sum of intervals.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from offerlab.decide._market import Market, MarketSimulator
from offerlab.exceptions import OfferlabError

__all__ = [
    "Costs",
    "MarketMoney",
    "edge_of_range",
    "format_number",
    "level_key",
    "market_money",
    "price_edge",
]


def format_number(value: object) -> str:
    """A level number as written in a file: 1500, not 1500.0; 0.5 stays 0.5."""
    f = float(value)  # type: ignore[arg-type]
    return str(int(f)) if f == int(f) else f"{f:g}"


def level_key(value: object) -> str:
    """A level as the cost tables key it: names as they are, numbers written plainly."""
    return value if isinstance(value, str) else format_number(value)


@dataclass(frozen=True)
class Costs:
    """What an offer costs us per sale: a base plus one amount per level.

    ``per_level`` maps attribute → {level: cost}, levels by name (numbers for numeric
    attributes). A number between two costed levels costs the linear interpolation of
    their costs, as its utility is interpolated.
    """

    base: float = 0.0
    per_level: Mapping[str, Mapping[object, float]] = field(default_factory=dict)

    @classmethod
    def from_spec(cls, spec: Any) -> Costs | None:
        """The costs of a :class:`~offerlab.decide.MarketSpec` (None when it has none)."""
        if not spec.has_costs:
            return None
        return cls(float(spec.file.base_cost), spec.costs)

    def of(self, offer: Mapping[str, object]) -> float:
        """Cost per sale of ``offer`` ({attribute: level})."""
        total = float(self.base)
        for attribute, table in self.per_level.items():
            if attribute not in offer:
                raise OfferlabError(f"costs: the offer has no level of {attribute!r}")
            total += _level_cost(attribute, table, offer[attribute])
        return total

    def to_json(self) -> dict[str, Any]:
        """The costs as the simulator page reads them (keys as the tables key levels)."""
        return {
            "base": float(self.base),
            "levels": {
                a: {level_key(k): float(v) for k, v in t.items()} for a, t in self.per_level.items()
            },
        }


def _level_cost(attribute: str, table: Mapping[object, float], value: object) -> float:
    lookup = {level_key(k): float(v) for k, v in table.items()}
    if level_key(value) in lookup:
        return lookup[level_key(value)]
    if isinstance(value, str):
        raise OfferlabError(f"costs: no cost given for {attribute} = {value}")
    numeric = sorted((float(k), v) for k, v in lookup.items())
    x = float(value)  # type: ignore[arg-type]
    if not numeric or not numeric[0][0] <= x <= numeric[-1][0]:
        raise OfferlabError(f"costs: no cost given for {attribute} = {level_key(value)}")
    xs, ys = zip(*numeric, strict=True)
    return float(np.interp(x, xs, ys))


@dataclass(frozen=True)
class MarketMoney:
    """Shares and money of every alternative of a market, and the total of our offers.

    Attributes
    ----------
    table : DataFrame
        :meth:`MarketSimulator.shares` (``alternative``, ``kind``, ``ours``, ``price``,
        ``share``, ``lower``, ``upper``, ``revenue``, ``revenue_lower``,
        ``revenue_upper``) plus, for our offers with costs, ``cost`` and ``margin`` per
        sale and ``profit``, ``profit_lower``, ``profit_upper`` per person in the market.
    total : dict
        Our offers together: ``share``, ``revenue``, ``profit`` and their ``*_lower`` /
        ``*_upper`` bounds (per draw sums), NaN where there is nothing to add.
    interval : float
        Coverage of the intervals.
    n_draws : int
        Uncertainty draws the intervals come from (0: none).
    """

    table: pd.DataFrame
    total: dict[str, float]
    interval: float
    n_draws: int


def market_money(sim: MarketSimulator, market: Market, costs: Costs | None = None) -> MarketMoney:
    """Shares with revenue, margin and profit per person in the market, and their intervals.

    Parameters
    ----------
    sim : MarketSimulator
    market : Market
    costs : Costs, optional
        Without costs there is no margin nor profit (NaN).
    """
    ours = [j for j, o in enumerate(market.ours) if o]
    cost_of = {
        market.names[j]: costs.of(market.offers[j])  # type: ignore[arg-type]
        for j in ours
        if costs is not None and market.offers[j] is not None
    }
    # One computation of profit per offer and its interval: the simulator's own.
    table = sim.shares(market, costs=cost_of)
    tail = (1 - sim.interval) / 2
    point, draws = sim.whole_market(market)
    margin = table["margin"].to_numpy()
    total: dict[str, float] = {}
    for what, factor in (
        ("share", np.ones(len(ours))),
        ("revenue", market.prices[ours]),
        ("profit", margin[ours]),
    ):
        total[what] = float(point[ours] @ factor) if ours else float("nan")
        if draws is not None and ours:
            values = draws[:, ours] @ factor
            total[f"{what}_lower"] = float(np.quantile(values, tail))
            total[f"{what}_upper"] = float(np.quantile(values, 1 - tail))
        else:
            total[f"{what}_lower"] = total[f"{what}_upper"] = float("nan")
    return MarketMoney(table, total, sim.interval, 0 if draws is None else len(draws))


def edge_of_range(study: Any, offer: Mapping[str, object]) -> str | None:
    """``"highest"`` or ``"lowest"`` when the offer's price is the edge of the studied
    prices (the optimum may lie beyond what respondents saw), else None."""
    price = study.price_attribute
    if price is None or price.name not in offer:
        return None
    return price_edge(float(offer[price.name]), [float(v) for v in price.values])  # type: ignore[arg-type]


def price_edge(value: float, prices: Sequence[float]) -> str | None:
    """``"highest"``/``"lowest"`` when ``value`` is the top/bottom of ``prices``."""
    if abs(value - max(prices)) < 1e-9:
        return "highest"
    if abs(value - min(prices)) < 1e-9:
        return "lowest"
    return None
