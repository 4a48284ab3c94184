"""Line-ups scored against a known population: the yardstick of simulation studies.

A recommendation is only as good as the profit it makes among the people who really
buy. When the people are known (simulated respondents, their true part-worths), the
line-up's true profit is computed here under a market where a person's random error
belongs to the product, not to its price tag: two offers that differ only in price are
perfect substitutes for that person (the better price tag takes the product's share),
distinct products have independent (logit) errors. The true optimum is searched on the
same offer space the optimiser searches.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from offerlab.decide._market import Market
from offerlab.decide._offer_space import OfferSpace, offer_space
from offerlab.exceptions import OfferlabError

__all__ = ["TrueMarket", "coded_truth"]

#: Line-ups scored per batch (bounded memory: people × batch utilities at a time).
BATCH = 512


class TrueMarket:
    """True profit per person of two-tier line-ups, over a known population.

    Parameters
    ----------
    space : OfferSpace
        The candidates of each tier (coded, priced, costed).
    B : ndarray, shape (N, K)
        Each person's true part-worths in the space's coding.
    X_rest : ndarray, shape (M, K)
        The other alternatives (competitors, status quo, none), coded.
    offset_rest : ndarray, shape (M,), optional
        Their fixed utilities (status quo given as a utility).
    """

    def __init__(
        self,
        space: OfferSpace,
        B: np.ndarray,
        X_rest: np.ndarray,
        offset_rest: np.ndarray | None = None,
    ) -> None:
        self.space = space
        self.V = B @ space.X.T  # (N, C)
        rest = B @ np.atleast_2d(X_rest).T
        if offset_rest is not None:
            rest = rest + np.asarray(offset_rest, dtype=float)[None, :]
        top = rest.max(axis=1)
        self.rest = top + np.log(np.exp(rest - top[:, None]).sum(axis=1))  # log-sum-exp
        self.margin = space.price - space.cost
        self.product = space.product_id

    @classmethod
    def from_market(
        cls,
        market: Market,
        truth: pd.DataFrame,
        *,
        slots: Sequence[str],
        prices: Sequence[float] | None = None,
        costs: Mapping[str, Mapping[object, float]] | None = None,
        base_cost: float = 0.0,
        fixed: Mapping[str, object] | None = None,
    ) -> TrueMarket:
        """The market's people are ``truth`` (``simulate_answers(...).truth``); ``slots``
        are our tiers, every other alternative stays as the market defines it."""
        if len(slots) != 2:
            raise OfferlabError(f"the true market scores two-tier line-ups; got {len(slots)}")
        others = [j for j, n in enumerate(market.names) if n not in slots]
        if any(market.ours[j] for j in others):
            raise OfferlabError("the true market needs each offer of ours to be a tier")
        space = offer_space(market, prices, costs, base_cost, dict(fixed or {}))
        B = coded_truth(space, truth, market.coding.none_index)  # type: ignore[union-attr]
        return cls(space, B, market.X[others], market.offset[others])

    def profit(self, lineups: np.ndarray) -> np.ndarray:
        """True profit per person in the market of each line-up (rows of two candidates)."""
        lineups = np.atleast_2d(np.asarray(lineups, dtype=np.int64))
        out = np.empty(len(lineups))
        for i in range(0, len(lineups), BATCH):
            lu = lineups[i : i + BATCH]
            a, b = lu[:, 0], lu[:, 1]
            same = self.product[a] == self.product[b]
            Va, Vb = self.V[:, a], self.V[:, b]
            top = np.maximum(np.maximum(Va, Vb), self.rest[:, None])
            ea, eb, er = np.exp(Va - top), np.exp(Vb - top), np.exp(self.rest[:, None] - top)
            # Same product: only its better price tag is a choice (per person).
            a_wins = Va >= Vb
            ea = np.where(same & ~a_wins, 0.0, ea)
            eb = np.where(same & a_wins, 0.0, eb)
            value = (ea * self.margin[a] + eb * self.margin[b]) / (ea + eb + er)
            out[i : i + BATCH] = value.mean(axis=0)
        return out

    def index(self, offers: Sequence[Mapping[str, object]]) -> tuple[int, ...]:
        """The candidates of ``offers`` (``{attribute: level}``, e.g. an optimiser's best)."""
        found = []
        for offer in offers:
            hits = [c for c in range(len(self.space.index)) if self.space.offer(c) == dict(offer)]
            if not hits:
                raise OfferlabError(f"offer {dict(offer)} is not in the offer space")
            found.append(hits[0])
        return tuple(found)

    def best(
        self, starts: Sequence[Sequence[int]], *, price_only_tiers: bool = False
    ) -> tuple[tuple[int, int], float]:
        """The best line-up coordinate ascent finds from ``starts``: each tier in turn
        takes the candidate that maximises the true profit given the other, until
        neither moves. Tiers that are one product at two prices only if allowed."""
        C = len(self.space.index)
        everyone = np.arange(C)
        best_lineup, best_value = (0, 0), -np.inf
        for start in starts:
            lineup = [int(start[0]), int(start[1])]
            value = float(self.profit(np.array([lineup]))[0])
            for _ in range(100):
                moved = False
                for tier in (0, 1):
                    other = lineup[1 - tier]
                    pairs = np.column_stack([everyone, np.full(C, other)])
                    values = self.profit(pairs)
                    if not price_only_tiers:
                        values[self.product == self.product[other]] = -np.inf
                    c = int(values.argmax())
                    if values[c] > value + 1e-12:
                        lineup[tier], value, moved = c, float(values[c]), True
                if not moved:
                    break
            if value > best_value:
                best_lineup, best_value = (lineup[0], lineup[1]), value
        return best_lineup, best_value


def coded_truth(space: OfferSpace, truth: pd.DataFrame, none_index: int | None) -> np.ndarray:
    """Each person's true part-worths (``simulate_answers``'s truth: ``attribute=level``
    columns, per-unit columns for numeric attributes, ``none``) in the space's coding.

    The coding has no intercept (effects-coded), so each person's utilities of every
    candidate are fitted exactly by least squares with an intercept, and the intercept
    moves to the none constant: utilities relative to the none option are the truth's.
    """
    U = np.zeros((len(space.index), len(truth)))
    for i, attribute in enumerate(space.attributes):
        values = space.values[i]
        if attribute in truth.columns:  # per unit
            per_value = np.outer(np.asarray(values, dtype=float), truth[attribute].to_numpy())
        else:
            columns = [f"{attribute}={_name(v)}" for v in values]
            missing = [c for c in columns if c not in truth.columns]
            if missing:
                raise OfferlabError(f"the truth has no column(s) {missing}")
            per_value = truth[columns].to_numpy().T
        U += per_value[space.index[:, i]]
    A = np.column_stack([space.X, np.ones(len(space.X))])
    solution, *_ = np.linalg.lstsq(A, U, rcond=None)
    misfit = float(np.abs(A @ solution - U).max())
    if misfit > 1e-6 * max(1.0, float(np.abs(U).max())):
        raise OfferlabError(f"the truth is not linear in the model's coding (misfit {misfit:.3g})")
    B = solution[:-1].T.copy()
    if none_index is not None:
        if "none" not in truth.columns:
            raise OfferlabError("the model has a none constant; the truth has no none column")
        B[:, none_index] = truth["none"].to_numpy() - solution[-1]
    return B


def _name(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
