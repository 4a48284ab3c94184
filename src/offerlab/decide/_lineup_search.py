"""The line-up search: which line-ups of candidate offers the optimiser scores.

* **exhaustive** when the number of candidates (offers, or unordered line-ups of
  distinct offers) is at most ``max_exhaustive``: every one is evaluated;
* otherwise **coordinate ascent with random restarts**: from a random feasible start,
  set one attribute of one tier at a time to its best level given the rest (all levels
  of that attribute are evaluated in one batch), until a full pass improves nothing;
  restart from new random starts. For line-ups, each pass also gives every tier its
  best response (every feasible offer, the other tiers fixed), because tiers that
  cannibalise each other must sometimes move together. Why this and not simulated annealing: with
  main-effects utilities each one-attribute move is cheap to evaluate exhaustively, the
  objective is near-separable across attributes (share is monotone in the offer's
  utility; only the price × share trade-off, prohibitions and cannibalisation between
  tiers couple them), so ascent converges in a few passes, is deterministic given the
  seed and needs no temperature schedule to tune; restarts guard against the local
  optima those couplings create. The tests check it finds the exhaustive optimum.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from offerlab.decide._lineup_scoring import SEARCH_ROWS, LineupEvaluator
from offerlab.decide._offer_space import OfferSpace
from offerlab.exceptions import OfferlabError

__all__ = ["SearchOptions", "search_lineups"]

Method = Literal["auto", "exhaustive", "search"]


@dataclass(frozen=True)
class SearchOptions:
    """How the optimiser searches and what it reports: the keyword options of the same
    names of :func:`~offerlab.decide.optimise_offers`, where each is explained."""

    method: Method = "auto"
    max_exhaustive: int = 50_000
    restarts: int = 12
    keep: int = 10
    pessimism: float = 0.10
    use_draws: bool = True
    price_only_tiers: bool = False
    search_rows: int = SEARCH_ROWS

    def __post_init__(self) -> None:
        if self.method not in ("auto", "exhaustive", "search"):
            raise OfferlabError(
                f"method must be 'auto', 'exhaustive' or 'search'; got {self.method!r}"
            )
        if not 0 < self.pessimism < 1:
            raise OfferlabError(f"pessimism must lie in (0, 1); got {self.pessimism!r}")

    def exhaustive(self, n_candidates: int) -> bool:
        """Whether a space of ``n_candidates`` is searched exhaustively."""
        return self.method == "exhaustive" or (
            self.method == "auto" and n_candidates <= self.max_exhaustive
        )


def search_lineups(
    ev: LineupEvaluator,
    space: OfferSpace,
    m: int,
    options: SearchOptions,
    rng: np.random.Generator,
) -> tuple[dict[tuple[int, ...], float], str]:
    """The scores of the line-ups of ``m`` tiers the search evaluated, and its name."""
    scores: dict[tuple[int, ...], float] = {}
    if options.exhaustive(math.comb(len(space.index), m)):
        _every_lineup(ev, space, m, options.price_only_tiers, scores)
        name = "exhaustive"
    else:
        _coordinate_ascent(ev, space, m, options.restarts, rng, scores, options.price_only_tiers)
        name = "coordinate ascent"
    if not scores:
        raise OfferlabError(
            f"no line-up of {m} tiers that differ in more than the price is feasible; "
            "allow price-only tiers (optimise: price_only_tiers: true) or free an attribute"
        )
    return scores, name


def _every_lineup(
    ev: LineupEvaluator,
    space: OfferSpace,
    m: int,
    price_only_tiers: bool,
    scores: dict[tuple[int, ...], float],
) -> None:
    """Scores every line-up of ``m`` distinct candidates, in chunks; fills ``scores``."""
    combos = itertools.combinations(range(len(space.index)), m)
    while True:
        chunk = np.array(list(itertools.islice(combos, 1 << 14)), dtype=np.int64)
        if chunk.size == 0:
            break
        if m > 1 and not price_only_tiers:
            chunk = chunk[space.distinct_products(chunk)]
            if not len(chunk):
                continue
        for row, v in zip(chunk, ev.mean(chunk), strict=True):
            scores[tuple(int(c) for c in row)] = float(v)


def _coordinate_ascent(
    ev: LineupEvaluator,
    space: OfferSpace,
    m: int,
    restarts: int,
    rng: np.random.Generator,
    scores: dict[tuple[int, ...], float],
    price_only_tiers: bool = False,
    tier_limit: int = 20_000,
) -> None:
    """Coordinate ascent over (tier, attribute) with random restarts; fills ``scores``.

    Without ``price_only_tiers``, line-ups whose tiers are the same product at two
    prices are never moved to (nor started from)."""
    index = space.index
    C, A = index.shape
    # Candidate lookup: value-index vector → candidate number (feasible ones only).
    lookup = {tuple(int(v) for v in row): c for c, row in enumerate(index)}
    n_values = [len(v) for v in space.values]

    product = space.product_id

    def allowed(lu: tuple[int, ...]) -> bool:
        return len(set(lu)) == m and (price_only_tiers or len({int(product[c]) for c in lu}) == m)

    def score(lineups: list[tuple[int, ...]]) -> np.ndarray:
        new = list(dict.fromkeys(lu for lu in lineups if lu not in scores))
        if new:
            for lu, v in zip(new, ev.mean(np.array(new, dtype=np.int64)), strict=True):
                scores[lu] = float(v)
        return np.array([scores[lu] for lu in lineups])

    def improve(moves: list[tuple[int, ...]], best: float) -> tuple[tuple[int, ...], float] | None:
        if not moves:
            return None
        vals = score(moves)
        k = int(vals.argmax())
        return (moves[k], float(vals[k])) if vals[k] > best + 1e-12 else None

    for _ in range(max(1, restarts)):
        for _attempt in range(1000):
            current = sorted(int(c) for c in rng.choice(C, size=m, replace=False))
            if allowed(tuple(current)):
                break
        else:
            return
        best = float(score([tuple(current)])[0])
        improved = True
        while improved:
            improved = False
            for tier in range(m):
                # (1) one attribute of this tier at a time, all its levels in one batch.
                for a in range(A):
                    base = list(index[current[tier]])
                    moves = []
                    for v in range(n_values[a]):
                        base[a] = v
                        c = lookup.get(tuple(base))
                        if c is None:
                            continue  # prohibited
                        lu = tuple(sorted([*current[:tier], c, *current[tier + 1 :]]))
                        if allowed(lu):
                            moves.append(lu)
                    found = improve(moves, best)
                    if found:
                        current, best, improved = list(found[0]), found[1], True
                # (2) line-ups: the tier's best response, every feasible offer given the
                # other tiers (one batch of C), which the attribute moves alone can miss
                # when tiers must move together to stop cannibalising each other.
                if m > 1 and tier_limit >= C:
                    others = [*current[:tier], *current[tier + 1 :]]
                    moves = [tuple(sorted([*others, c])) for c in range(C)]
                    moves = [lu for lu in moves if allowed(lu)]
                    found = improve(moves, best)
                    if found:
                        current, best, improved = list(found[0]), found[1], True
