"""The conjoint's price curves of one offer: its demand over a price grid, our offers'
revenue and profit as its price moves, and the best price with its interval."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from offerlab.decide._money import price_edge

__all__ = ["ConjointPrice", "best_price", "conjoint_demand"]


@dataclass(frozen=True)
class ConjointPrice:
    """The conjoint's best price of one offer over a price grid, and how sure it is.

    ``price`` maximises the expected value over the grid; ``interval`` is the
    ``interval`` quantiles of the best grid price per uncertainty draw (None without
    draws); ``edge`` is ``"lowest"``/``"highest"`` when ``price`` is the end of the
    studied range (the optimum may lie beyond it), else None.
    """

    price: float
    value: float
    interval: tuple[float, float] | None
    edge: str | None


def conjoint_demand(
    sim: Any, market: Any, offer: str, grid: np.ndarray, costs: Any, cost: float | None
) -> tuple[pd.DataFrame, dict[str, tuple[np.ndarray, np.ndarray | None]]]:
    """The offer's demand curve, and our offers' revenue and profit (point, draws) on it."""
    from offerlab.decide._sensitivity import demand_curve

    demand = demand_curve(sim, market, offer, prices=grid, cost=0.0 if cost is None else cost)
    if cost is None:
        demand = demand.drop(columns=[c for c in demand.columns if c.startswith("profit")])
    markets = [market.with_price(offer, p) for p in grid]
    ours = [n for n, o in zip(market.names, market.ours, strict=True) if o]
    rev_point = np.zeros(len(grid))
    profit_point = np.zeros(len(grid))
    rev_draws = profit_draws = None
    for name in ours:
        j = market.index(name)
        point, draws = sim.share_of(markets, name)
        price = grid if name == offer else np.full(len(grid), float(market.prices[j]))
        margin = price - (
            costs.of(market.offers[j]) if costs is not None and market.offers[j] else np.nan
        )
        rev_point += price * point
        profit_point += margin * point
        if draws is not None:
            rev_draws = (0 if rev_draws is None else rev_draws) + draws * price
            profit_draws = (0 if profit_draws is None else profit_draws) + draws * margin
    tail = (1 - sim.interval) / 2
    for what, point, draws in (
        ("revenue", rev_point, rev_draws),
        ("profit", profit_point, profit_draws),
    ):
        if what == "profit" and costs is None:
            continue
        demand[f"ours_{what}"] = point
        if draws is not None:
            demand[f"ours_{what}_lower"] = np.quantile(draws, tail, axis=0)
            demand[f"ours_{what}_upper"] = np.quantile(draws, 1 - tail, axis=0)
    return demand, {"revenue": (rev_point, rev_draws), "profit": (profit_point, profit_draws)}


def best_price(
    grid: np.ndarray,
    point: np.ndarray,
    draws: np.ndarray | None,
    studied: Sequence[float],
    interval: float,
) -> ConjointPrice:
    k = int(np.argmax(point))
    bounds = None
    if draws is not None:
        per_draw = grid[np.asarray(draws).argmax(axis=1)]
        tail = (1 - interval) / 2
        bounds = (float(np.quantile(per_draw, tail)), float(np.quantile(per_draw, 1 - tail)))
    return ConjointPrice(float(grid[k]), float(point[k]), bounds, price_edge(grid[k], studied))
