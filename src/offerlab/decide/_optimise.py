"""Choosing the variant and the price: search the study's feasible offers for the best
share, revenue or profit — one offer, or a line-up of two or three tiers at once.

The search space is every combination of levels the study allows (prohibitions
respected), with the price on the studied levels or on a finer grid
(:mod:`~offerlab.decide._offer_space`). The objective is evaluated on the simulator's
uncertainty draws (parameter draws of an MNL, posterior draws of HB…), so every
candidate has a distribution of profit, not one number
(:mod:`~offerlab.decide._lineup_scoring`): the answer is ranked by expected profit and
reports a pessimistic quantile and how sure we are that the winner beats the runner-up
(:mod:`~offerlab.decide._recommendation`). How the line-ups are searched — exhaustively
or by coordinate ascent with restarts — is told in :mod:`~offerlab.decide._lineup_search`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from offerlab.decide._lineup_scoring import (
    SEARCH_ROWS,
    CoefficientRows,
    LineupEvaluator,
    LineupProblem,
)
from offerlab.decide._lineup_search import SearchOptions, search_lineups
from offerlab.decide._market import Market, MarketSimulator
from offerlab.decide._money import Costs
from offerlab.decide._offer_space import offer_cost, offer_space
from offerlab.decide._recommendation import OptimisationResult, filled_market, share_breakdown
from offerlab.exceptions import OfferlabError

__all__ = ["optimise_offers"]

Objective = Literal["share", "revenue", "profit"]


def optimise_offers(
    sim: MarketSimulator,
    market: Market,
    *,
    slots: Sequence[str] | None = None,
    objective: Objective = "profit",
    costs: Mapping[str, Mapping[object, float]] | None = None,
    base_cost: float = 0.0,
    prices: Sequence[float] | None = None,
    fixed: Mapping[str, object] | None = None,
    method: Literal["auto", "exhaustive", "search"] = "auto",
    max_exhaustive: int = 50_000,
    restarts: int = 12,
    keep: int = 10,
    pessimism: float = 0.10,
    use_draws: bool = True,
    price_only_tiers: bool = False,
    search_rows: int = SEARCH_ROWS,
    rng: np.random.Generator | int | None = 0,
) -> OptimisationResult:
    """The best offer (or line-up of tiers) for share, revenue or profit.

    Parameters
    ----------
    sim : MarketSimulator
        Population, rule and uncertainty draws.
    market : Market
        The competitive scenario; the alternatives named in ``slots`` are placeholders
        for our offers (their levels are ignored). Our other offers (``ours`` but not a
        slot) stay on sale as they are: their share and profit count in the objective.
    slots : list of str, optional
        Default: the market's offers marked ``ours``. Two or three slots optimise a
        line-up: our tiers' shares are summed, so they cannibalise each other.
    objective : {"share", "revenue", "profit"}
        Per person in the market: Σ over all our offers of share × 1, × price, or
        × (price − cost).
    costs : mapping, optional
        Cost per level, ``{attribute: {level: cost}}`` (levels by name, numbers for
        numeric attributes), summed over attributes and added to ``base_cost``;
        e.g. ``{"car_class": {"compact": 300, "suv": 450}, "km_per_month": {1000: 20,
        1500: 35, 2500: 60}}``. Our offers outside the slots are costed the same way.
    prices : list of float, optional
        The price grid to search (within the studied range; between levels the price
        is interpolated). Default: the studied price levels.
    fixed : mapping, optional
        Attributes held at one level for all tiers.
    method : {"auto", "exhaustive", "search"}
        ``auto``: exhaustive when the space has at most ``max_exhaustive`` candidates.
    restarts : int
        Random starts of the coordinate ascent.
    keep : int
        Candidates reported (and compared on all draws).
    pessimism : float
        Quantile of the objective reported as ``pessimistic`` (0.10: in 9 of 10 draws
        the objective is at least this).
    use_draws : bool
        Optimise the expected objective over the simulator's uncertainty draws
        (default); False uses the population alone (no uncertainty reported).
    price_only_tiers : bool
        Allow tiers that are the same product at different prices (default False:
        tiers differ on at least one attribute other than the price).
    search_rows : int
        The search runs on at most this many rows (respondent × draw) drawn at
        random; the best ``keep`` line-ups are then scored on every row, streamed.
    rng : Generator or int, optional
        Random starts and the search's rows.

    Returns
    -------
    OptimisationResult
    """
    if objective not in ("share", "revenue", "profit"):
        raise OfferlabError(f"objective must be 'share', 'revenue' or 'profit'; got {objective!r}")
    options = SearchOptions(
        method, max_exhaustive, restarts, keep, pessimism, use_draws, price_only_tiers, search_rows
    )
    slots = _slots(market, slots)
    m = len(slots)
    space = offer_space(market, prices, costs, base_cost, fixed or {})
    C = len(space.index)
    if m > C:
        raise OfferlabError(f"{m} tiers but only {C} feasible offers")
    the_costs = Costs(base_cost, costs or {})
    problem = LineupProblem.of(market, slots, space, objective, the_costs)
    rng = np.random.default_rng(rng)
    rows = CoefficientRows.of(sim, use_draws)
    search_ev = LineupEvaluator(sim, problem, _search_rows(sim, rows, options, rng), np.float32)
    scores, name = search_lineups(search_ev, space, m, options, rng)
    # The best `keep` (and a margin of the next ones: the search's rows are a sample) are
    # scored on every row and draw, streamed.
    full_ev = LineupEvaluator(sim, problem, rows)
    ranking = _Ranking.of(full_ev, scores, options, sim.interval)
    best = [space.offer(int(c)) for c in ranking.top[0]]
    filled = filled_market(market, slots, best)
    shares, sources = share_breakdown(
        sim, filled, slots, _costs_of_ours(problem, ranking.top[0], the_costs), use_draws
    )
    return OptimisationResult(
        table=ranking.table,
        best=best,
        expected=float(ranking.table["expected"].iloc[0]),
        pessimistic=float(ranking.table["pessimistic"].iloc[0]),
        p_beats_runner_up=ranking.p_beats_runner_up,
        objective=objective,
        method=name,
        n_candidates=math.comb(C, m),
        n_evaluated=search_ev.n_evaluated + full_ev.n_evaluated,
        market=filled,
        shares=shares,
        sources=sources,
        provenance=sim.provenance,
    )


def _slots(market: Market, slots: Sequence[str] | None) -> list[str]:
    """The market's offers our tiers fill: ``slots``, or by default the offers marked
    ours."""
    if slots is None:
        slots = [n for n, o in zip(market.names, market.ours, strict=True) if o]
    slots = list(slots)
    if not slots:
        raise OfferlabError("no slot to fill: mark our offers with ours: true or pass slots")
    for s in slots:
        if market.kinds[market.index(s)] != "offer":
            raise OfferlabError(f"slot '{s}' is not an offer")
    return slots


def _search_rows(
    sim: MarketSimulator, rows: CoefficientRows, options: SearchOptions, rng: np.random.Generator
) -> CoefficientRows:
    """The rows the search ranks on.

    The search ranks on a sample of the rows in single precision (twice the speed; its
    ranking is only a short list: the best are re-scored in double precision on every
    row). Under RFC the sample counts row-draws: one error draw per sampled row, or as
    many as fill it when the rows are few (one MNL row per uncertainty draw)."""
    if options.search_rows >= sim.population.n_rows or not options.use_draws:
        return rows.for_search(options.search_rows, sim.rule == "rfc", rng)
    # a population larger than the sample: search on all of it, one error draw a row
    population = CoefficientRows.of(sim, use_draws=False)
    return CoefficientRows(population.B, population.w, population.draw, 1, 1)


@dataclass(frozen=True)
class _Ranking:
    """The best line-ups scored on every row and draw, best first."""

    top: np.ndarray  # (n, m) candidate numbers
    table: pd.DataFrame
    p_beats_runner_up: float

    @classmethod
    def of(
        cls,
        ev: LineupEvaluator,
        scores: dict[tuple[int, ...], float],
        options: SearchOptions,
        interval: float,
    ) -> _Ranking:
        keep = options.keep
        by_score = sorted(scores, key=scores.get, reverse=True)  # type: ignore[arg-type]
        ranked = by_score[: max(2 * keep, 2)]
        top = np.array(ranked, dtype=np.int64)
        value, share = ev.per_draw(top)
        S = ev.rows.S
        weights = np.full(S, 1.0 / S)
        expected = weights @ value
        order = np.argsort(-expected, kind="stable")[: max(keep, 2)]
        top, value, share, expected = top[order], value[:, order], share[:, order], expected[order]
        tail = (1 - interval) / 2
        best_per_draw = value.argmax(axis=1)
        space = ev.space
        table = pd.DataFrame(
            {
                "rank": np.arange(1, len(top) + 1),
                "lineup": [" | ".join(space.describe(int(c)) for c in row) for row in top],
                "expected": expected,
                "pessimistic": np.quantile(value, options.pessimism, axis=0),
                "lower": np.quantile(value, tail, axis=0),
                "upper": np.quantile(value, 1 - tail, axis=0),
                "share": share.mean(axis=0),
                "p_best": np.bincount(best_per_draw, minlength=len(top)) / value.shape[0],
            }
        )
        p_beats = float((value[:, 0] > value[:, 1]).mean()) if len(top) > 1 else 1.0
        return cls(top, table, p_beats)


def _costs_of_ours(problem: LineupProblem, best: np.ndarray, costs: Costs) -> dict[str, float]:
    """Cost per sale of each of our offers in the recommended market: the winners' from
    the offer space, the others' from their levels."""
    market, slots = problem.market, problem.slots
    return {
        n: (
            float(problem.space.cost[best[slots.index(n)]])
            if n in slots
            else offer_cost(market.offers[j], costs.per_level, costs.base, n)
        )
        for j, n in enumerate(market.names)
        if market.ours[j] or n in slots
    }
