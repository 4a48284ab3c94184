"""What the optimiser answers: the ranked line-ups, the winner, and the recommended
market's shares and profit with where each tier's share comes from."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from offerlab.decide._market import Market, MarketSimulator, Provenance

__all__ = ["OptimisationResult", "filled_market", "share_breakdown"]


@dataclass(frozen=True)
class OptimisationResult:
    """What the optimiser found.

    Attributes
    ----------
    table : DataFrame
        The best candidates (line-ups), best first: ``rank``, ``lineup`` (text),
        ``expected`` (mean objective over the draws), ``pessimistic`` (its
        ``pessimism`` quantile), ``lower``/``upper`` (the simulator's interval),
        ``share`` (our offers' combined expected share), ``p_best`` (how often over the
        draws the candidate has the highest objective among those listed).
    best : list of dict
        The winner's offers, one ``{attribute: level}`` per tier.
    expected, pessimistic : float
        The winner's.
    p_beats_runner_up : float
        Share of draws in which the winner's objective exceeds the runner-up's.
    objective : str
    method : {"exhaustive", "coordinate ascent"}
    n_candidates : int
        Size of the search space (offers, or line-ups).
    n_evaluated : int
        Candidates whose objective was computed.
    market : Market or None
        The market with the recommended offers in the tiers.
    shares : DataFrame or None
        That market's alternatives: ``alternative``, ``kind``, ``ours``, ``price``,
        ``cost``, ``share`` with ``lower``/``upper``, and for our offers ``profit``
        per person in the market (share × (price − cost)) with its interval.
    sources : DataFrame or None
        Where each tier's share comes from: ``tier``, ``source`` (an alternative),
        ``source_kind`` (``our tier``, ``ours``, ``competitor``, ``status_quo``,
        ``none``) and ``taken`` (the share the source loses when the tier is added to
        the market without it) with ``lower``/``upper``. Taken from our own tiers it is
        cannibalisation; from competitors, the status quo and none, source of volume.
    provenance : Provenance or None
        Model, rule and draws the numbers come from.
    """

    table: pd.DataFrame
    best: list[dict[str, object]]
    expected: float
    pessimistic: float
    p_beats_runner_up: float
    objective: str
    method: str
    n_candidates: int
    n_evaluated: int
    market: Market | None = None
    shares: pd.DataFrame | None = None
    sources: pd.DataFrame | None = None
    provenance: Provenance | None = None

    @property
    def cannibalisation(self) -> pd.DataFrame:
        """The rows of :attr:`sources` taken from our own tiers."""
        if self.sources is None:
            return pd.DataFrame()
        return self.sources[self.sources["source_kind"] == "our tier"].reset_index(drop=True)


def filled_market(market: Market, slots: Sequence[str], best: list[dict[str, object]]) -> Market:
    """The market with the recommended offers in the slots (for the share tables)."""
    filled = market
    for slot, offer in zip(slots, best, strict=True):
        filled = filled.with_offer(slot, **offer)
    return filled


def share_breakdown(
    sim: MarketSimulator,
    market: Market,
    slots: Sequence[str],
    costs: Mapping[str, float],
    use_draws: bool,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Shares and profit of every alternative of the recommended market, and where each
    tier's share comes from (what every other alternative loses when the tier enters)."""
    tail = (1 - sim.interval) / 2
    point, draws = sim.whole_market(market, draws=use_draws)
    cost = np.array([costs.get(n, np.nan) for n in market.names])
    frame = pd.DataFrame(
        {
            "alternative": list(market.names),
            "kind": list(market.kinds),
            "ours": list(market.ours),
            "tier": [n in slots for n in market.names],
            "price": market.prices,
            "cost": cost,
            "share": point,
        }
    )
    margin = np.where(frame["ours"] | frame["tier"], market.prices - cost, np.nan)
    frame["profit"] = point * margin
    if draws is not None:
        frame["lower"] = np.quantile(draws, tail, axis=0)
        frame["upper"] = np.quantile(draws, 1 - tail, axis=0)
        frame["profit_lower"] = np.quantile(draws * margin, tail, axis=0)
        frame["profit_upper"] = np.quantile(draws * margin, 1 - tail, axis=0)
    rows = []
    for tier in slots:
        without = market.without(tier)
        p0, d0 = sim.whole_market(without, draws=use_draws)
        for k, name in enumerate(without.names):
            j = market.index(name)
            kind = without.kinds[k]
            if name in slots:
                label = "our tier"
            elif market.ours[j]:
                label = "ours"
            elif kind == "offer":
                label = "competitor"
            else:
                label = kind
            row = {"tier": tier, "source": name, "source_kind": label,
                   "taken": float(p0[k] - point[j])}  # fmt: skip
            if draws is not None and d0 is not None:
                taken = d0[:, k] - draws[:, j]
                row["lower"] = float(np.quantile(taken, tail))
                row["upper"] = float(np.quantile(taken, 1 - tail))
            rows.append(row)
    return frame, pd.DataFrame(rows)
