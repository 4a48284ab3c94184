"""Choosing the variant and the price: search the study's feasible offers for the best
share, revenue or profit — one offer, or a line-up of two or three tiers at once.

The search space is every combination of levels the study allows (prohibitions
respected), with the price on the studied levels or on a finer grid. The objective is
evaluated on the simulator's uncertainty draws (parameter draws of an MNL, posterior
draws of HB…), so every candidate has a distribution of profit, not one number: the
answer is ranked by expected profit and reports a pessimistic quantile and how sure we
are that the winner beats the runner-up.

Search
------
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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from offerlab.decide._kernels import _gumbel
from offerlab.decide._market import Market, MarketSimulator
from offerlab.exceptions import OfferlabError
from offerlab.study import CategoricalAttribute

__all__ = ["OfferSpace", "OptimisationResult", "optimise_offers"]

Objective = Literal["share", "revenue", "profit"]


@dataclass(frozen=True)
class OfferSpace:
    """The feasible single offers of a study, as level indices, coded.

    Attributes
    ----------
    attributes : tuple of str
    values : tuple of tuple
        The values each attribute can take (level names; numbers for numeric
        attributes; the price grid for the price).
    index : ndarray of int, shape (C, A)
        Feasible candidates, one value index per attribute.
    X : ndarray, shape (C, K)
        Their coded columns.
    price : ndarray, shape (C,)
    cost : ndarray, shape (C,)
    """

    attributes: tuple[str, ...]
    values: tuple[tuple[object, ...], ...]
    index: np.ndarray
    X: np.ndarray
    price: np.ndarray
    cost: np.ndarray

    def offer(self, c: int) -> dict[str, object]:
        """Candidate ``c`` as ``{attribute: level}``."""
        return {a: self.values[i][int(self.index[c, i])] for i, a in enumerate(self.attributes)}

    def describe(self, c: int) -> str:
        return ", ".join(f"{a}={v}" for a, v in self.offer(c).items())


def _offer_space(
    market: Market,
    prices: Sequence[float] | None,
    costs: Mapping[str, Mapping[object, float]] | None,
    base_cost: float,
    fixed: Mapping[str, object],
) -> OfferSpace:
    coding = market.coding
    if coding is None:
        raise OfferlabError("the optimiser needs a market coded from a study (Market.from_offers)")
    study = coding.study
    price_attr = study.price_attribute
    attributes = tuple(study.attribute_names)
    unknown = [a for a in fixed if a not in attributes]
    if unknown:
        raise OfferlabError(
            f"fixed names unknown attribute(s) {unknown}; the study has {list(attributes)}"
        )
    values: list[tuple[object, ...]] = []
    # For each value: the study level indices it touches (two when a price lies between
    # levels: the value is allowed only when both neighbours are, a conservative reading
    # of a prohibition such as "no premium car below CHF 590").
    touches: list[list[tuple[int, ...]]] = []
    for attr in study.attributes:
        if isinstance(attr, CategoricalAttribute):
            vals: list[object] = list(attr.level_names)
            tch = [(i,) for i in range(len(vals))]
        else:
            grid = [float(v) for v in attr.values]
            vals = list(grid)
            if price_attr is not None and attr.name == price_attr.name and prices is not None:
                vals = sorted({float(p) for p in prices})
                lo, hi = min(grid), max(grid)
                if not vals or min(vals) < lo - 1e-9 or max(vals) > hi + 1e-9:
                    raise OfferlabError(
                        f"prices must lie in the studied range [{lo:g}, {hi:g}]; got {vals}"
                    )
            order = np.argsort(grid)
            sorted_grid = np.asarray(grid)[order]
            tch = []
            for v in vals:
                exact = np.flatnonzero(np.abs(sorted_grid - float(v)) <= 1e-9)  # type: ignore[arg-type]
                if exact.size:
                    tch.append((int(order[exact[0]]),))
                else:
                    k = int(np.searchsorted(sorted_grid, float(v)))  # type: ignore[arg-type]
                    tch.append((int(order[k - 1]), int(order[k])))
        if attr.name in fixed:
            want = fixed[attr.name]
            keep = [
                i
                for i, v in enumerate(vals)
                if (
                    str(v) == str(want)
                    if isinstance(v, str)
                    else abs(float(v) - float(want)) <= 1e-9
                )  # type: ignore[arg-type]
            ]
            if not keep:
                raise OfferlabError(f"fixed: {attr.name} has no value {want!r}; values are {vals}")
            vals = [vals[i] for i in keep]
            tch = [tch[i] for i in keep]
        values.append(tuple(vals))
        touches.append(tch)
    grid_index = np.array(list(itertools.product(*[range(len(v)) for v in values])), dtype=np.int64)
    ok = np.ones(len(grid_index), dtype=bool)
    # Allowed when every combination of touched study levels is allowed.
    per_attr_choices = [
        np.array([t[0] for t in touches[a]]) for a in range(len(attributes))
    ]  # first neighbour
    concept = np.stack([per_attr_choices[a][grid_index[:, a]] for a in range(len(attributes))], 1)
    ok &= study.allowed(concept)
    for a in range(len(attributes)):
        second = np.array([t[-1] for t in touches[a]])
        if (second != per_attr_choices[a]).any():
            alt = concept.copy()
            alt[:, a] = second[grid_index[:, a]]
            ok &= study.allowed(alt)
    index = grid_index[ok]
    if len(index) == 0:
        raise OfferlabError("no offer satisfies the study's prohibitions and the fixed levels")
    # Coded columns: the sum over attributes of each value's block (code_offer, batched).
    K = coding.n_params
    X = np.zeros((len(index), K))
    base = {a: values[i][0] for i, a in enumerate(attributes)}
    for i, a in enumerate(attributes):
        table = np.array([coding.code_offer({**base, a: v}) for v in values[i]])
        block = next(b for b in coding.blocks if b.attribute == a)
        X[:, block.start : block.stop] = table[index[:, i], block.start : block.stop]
    price = np.full(len(index), np.nan)
    if price_attr is not None:
        pa = attributes.index(price_attr.name)
        price = np.asarray(values[pa], dtype=float)[index[:, pa]]
    cost = np.full(len(index), float(base_cost))
    for a, table in (costs or {}).items():
        if a not in attributes:
            raise OfferlabError(f"costs name unknown attribute {a!r}")
        ia = attributes.index(a)
        per_value = np.zeros(len(values[ia]))
        lookup = {str(k): float(v) for k, v in table.items()}
        for j, v in enumerate(values[ia]):
            key = v if isinstance(v, str) else _num(v)
            if str(key) not in lookup:
                raise OfferlabError(f"costs: no cost given for {a} = {key}")
            per_value[j] = lookup[str(key)]
        cost += per_value[index[:, ia]]
    return OfferSpace(attributes, tuple(values), index, X, price, cost)


def _num(v: object) -> str:
    f = float(v)  # type: ignore[arg-type]
    return str(int(f)) if f == int(f) else f"{f:g}"


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


class _Evaluator:
    """Objective of line-ups of candidates on every (draw, row) of the population.

    The rest of the market is summarised per row by the log-sum-exp of its utilities
    (logit) or its best utility (first choice), so a line-up costs O(rows × tiers).
    """

    def __init__(
        self,
        sim: MarketSimulator,
        market: Market,
        slots: Sequence[str],
        space: OfferSpace,
        objective: Objective,
        use_draws: bool,
    ) -> None:
        pop = sim.population
        D = sim.uncertainty_draws() if use_draws else None
        if D is None:
            B = pop.B[None]
            w = pop.w[None]
        else:
            B = D
            w = np.broadcast_to(pop.draw_weights(D.shape[1]), D.shape[:2])
        S, R, K = B.shape
        rest = [j for j, n in enumerate(market.names) if n not in slots]
        X_rest, o_rest = market.X[rest], market.offset[rest]
        Bf = B.reshape(S * R, K)
        wf = np.asarray(w, dtype=float).reshape(S * R)
        lam = sim.scale
        # Effective rows and rule (see grouped_shares): RFC's attribute error perturbs
        # the coefficients once (common random numbers for every candidate), its product
        # error is a logit with scale 1/σ_p.
        if sim.rule == "logit":
            Beff, off, self.first_choice, inner = lam * Bf, lam * o_rest, False, 1.0
        elif sim.rule == "first_choice":
            Beff, off, self.first_choice, inner = Bf, o_rest, True, 1.0
        else:
            rng = np.random.default_rng(np.random.SeedSequence([sim.seed, 3]))
            reps = []
            for _ in range(sim.rfc_draws):
                Bd = lam * Bf
                if sim.attribute_error > 0:
                    Bd = Bd + sim.attribute_error * _gumbel(rng, Bf.shape)
                reps.append(Bd)
            Beff = np.concatenate(reps)
            wf = np.tile(wf, sim.rfc_draws) / sim.rfc_draws
            S_rows = np.tile(np.arange(S).repeat(R), sim.rfc_draws)
            off = lam * o_rest
            self.first_choice = sim.product_error == 0
            inner = 1.0 / sim.product_error if sim.product_error > 0 else 1.0
        if sim.rule != "rfc":
            S_rows = np.arange(S).repeat(R)
        self.inner = inner
        self.B = Beff * inner
        V_rest = (self.B @ X_rest.T) + off * inner
        if self.first_choice:
            self.rest = V_rest.max(axis=1) if len(rest) else np.full(len(Beff), -np.inf)
        else:
            m = V_rest.max(axis=1)
            self.rest = (
                m + np.log(np.exp(V_rest - m[:, None]).sum(axis=1))
                if len(rest)
                else np.full(len(Beff), -np.inf)
            )
        self.S = S
        # Weighted sum per draw: M (S, rows) @ values (rows, n).
        self.M = np.zeros((S, len(Beff)))
        self.M[S_rows, np.arange(len(Beff))] = wf
        self.M /= self.M.sum(axis=1, keepdims=True)
        self.space = space
        if objective == "share":
            self.margin = np.ones(len(space.index))
        elif objective == "revenue":
            self.margin = space.price
        else:
            self.margin = space.price - space.cost
        if not np.isfinite(self.margin).all():
            raise OfferlabError(f"objective '{objective}' needs a price attribute")
        self.n_evaluated = 0

    def evaluate(self, lineups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Objective (S, n) and our combined share (S, n) of line-ups (n, m)."""
        n, m = lineups.shape
        self.n_evaluated += n
        uniq, inv = np.unique(lineups, return_inverse=True)
        inv = inv.reshape(n, m)
        U = self.B @ self.space.X[uniq].T  # (rows, unique candidates): K is small
        # One (rows, n) array per tier: elementwise work only (reductions over a
        # length-2 or 3 last axis are slow in numpy).
        V = [U[:, inv[:, t]] for t in range(m)]
        margin = [self.margin[lineups[:, t]] for t in range(m)]
        if self.first_choice:
            best = np.maximum.reduce(V) if m > 1 else V[0]
            win = best > self.rest[:, None]
            share_each = []
            taken = np.zeros_like(win)
            for t in range(m):  # the first tier reaching the best utility takes the row
                mine = win & (V[t] == best) & ~taken
                taken |= mine
                share_each.append(mine.astype(float))
        else:
            top = np.maximum.reduce([*V, np.broadcast_to(self.rest[:, None], V[0].shape)])
            E = [np.exp(v - top) for v in V]
            denom = np.exp(self.rest[:, None] - top)
            for e in E:
                denom += e
            share_each = [e / denom for e in E]
        value = share_each[0] * margin[0]
        share = share_each[0].copy()
        for t in range(1, m):
            value += share_each[t] * margin[t]
            share += share_each[t]
        return self.M @ value, self.M @ share


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
    restarts: int = 20,
    keep: int = 10,
    pessimism: float = 0.10,
    use_draws: bool = True,
    rng: np.random.Generator | int | None = 0,
) -> OptimisationResult:
    """The best offer (or line-up of tiers) for share, revenue or profit.

    Parameters
    ----------
    sim : MarketSimulator
        Population, rule and uncertainty draws.
    market : Market
        The competitive scenario; the alternatives named in ``slots`` are placeholders
        for our offers (their levels are ignored).
    slots : list of str, optional
        Default: the market's offers marked ``ours``. Two or three slots optimise a
        line-up: our tiers' shares are summed, so they cannibalise each other.
    objective : {"share", "revenue", "profit"}
        Per person in the market: Σ over our tiers of share × 1, × price, or
        × (price − cost).
    costs : mapping, optional
        Cost per level, ``{attribute: {level: cost}}`` (levels by name, numbers for
        numeric attributes), summed over attributes and added to ``base_cost``;
        e.g. ``{"car_class": {"compact": 300, "suv": 450}, "km_per_month": {1000: 20,
        1500: 35, 2500: 60}}``.
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
    rng : Generator or int, optional
        Random starts.

    Returns
    -------
    OptimisationResult
    """
    if objective not in ("share", "revenue", "profit"):
        raise OfferlabError(f"objective must be 'share', 'revenue' or 'profit'; got {objective!r}")
    if method not in ("auto", "exhaustive", "search"):
        raise OfferlabError(f"method must be 'auto', 'exhaustive' or 'search'; got {method!r}")
    if not 0 < pessimism < 1:
        raise OfferlabError(f"pessimism must lie in (0, 1); got {pessimism!r}")
    if slots is None:
        slots = [n for n, o in zip(market.names, market.ours, strict=True) if o]
    slots = list(slots)
    if not slots:
        raise OfferlabError("no slot to fill: mark our offers with ours: true or pass slots")
    for s in slots:
        if market.kinds[market.index(s)] != "offer":
            raise OfferlabError(f"slot '{s}' is not an offer")
    m = len(slots)
    space = _offer_space(market, prices, costs, base_cost, fixed or {})
    C = len(space.index)
    n_candidates = math.comb(C, m)
    if m > C:
        raise OfferlabError(f"{m} tiers but only {C} feasible offers")
    ev = _Evaluator(sim, market, slots, space, objective, use_draws)
    rng = np.random.default_rng(rng)
    exhaustive = method == "exhaustive" or (method == "auto" and n_candidates <= max_exhaustive)
    scores: dict[tuple[int, ...], float] = {}
    if exhaustive:
        batch = max(1, (1 << 22) // max(1, ev.B.shape[0] * m))
        combos = itertools.combinations(range(C), m)
        while True:
            chunk = np.array(list(itertools.islice(combos, batch)), dtype=np.int64)
            if chunk.size == 0:
                break
            value, _ = ev.evaluate(chunk)
            mean = value.mean(axis=0)
            for row, v in zip(chunk, mean, strict=True):
                scores[tuple(int(c) for c in row)] = float(v)
        name = "exhaustive"
    else:
        _coordinate_ascent(ev, space, m, restarts, rng, scores)
        name = "coordinate ascent"
    # Re-evaluate the best `keep` on every draw, and compare them.
    ranked = sorted(scores, key=scores.get, reverse=True)[: max(keep, 2)]  # type: ignore[arg-type]
    top = np.array(ranked, dtype=np.int64)
    value, share = ev.evaluate(top)
    expected = value.mean(axis=0)
    order = np.argsort(-expected, kind="stable")
    top, value, share, expected = top[order], value[:, order], share[:, order], expected[order]
    tail = (1 - sim.interval) / 2
    best_per_draw = value.argmax(axis=1)
    table = pd.DataFrame(
        {
            "rank": np.arange(1, len(top) + 1),
            "lineup": [" | ".join(space.describe(int(c)) for c in row) for row in top],
            "expected": expected,
            "pessimistic": np.quantile(value, pessimism, axis=0),
            "lower": np.quantile(value, tail, axis=0),
            "upper": np.quantile(value, 1 - tail, axis=0),
            "share": share.mean(axis=0),
            "p_best": np.bincount(best_per_draw, minlength=len(top)) / value.shape[0],
        }
    )
    p_beats = float((value[:, 0] > value[:, 1]).mean()) if len(top) > 1 else 1.0
    return OptimisationResult(
        table=table,
        best=[space.offer(int(c)) for c in top[0]],
        expected=float(expected[0]),
        pessimistic=float(table["pessimistic"].iloc[0]),
        p_beats_runner_up=p_beats,
        objective=objective,
        method=name,
        n_candidates=n_candidates,
        n_evaluated=ev.n_evaluated,
    )


def _coordinate_ascent(
    ev: _Evaluator,
    space: OfferSpace,
    m: int,
    restarts: int,
    rng: np.random.Generator,
    scores: dict[tuple[int, ...], float],
    tier_limit: int = 20_000,
) -> None:
    """Coordinate ascent over (tier, attribute) with random restarts; fills ``scores``."""
    index = space.index
    C, A = index.shape
    # Candidate lookup: value-index vector → candidate number (feasible ones only).
    lookup = {tuple(int(v) for v in row): c for c, row in enumerate(index)}
    n_values = [len(v) for v in space.values]

    def score(lineups: list[tuple[int, ...]]) -> np.ndarray:
        new = [lu for lu in lineups if lu not in scores]
        if new:
            value, _ = ev.evaluate(np.array(new, dtype=np.int64))
            for lu, v in zip(new, value.mean(axis=0), strict=True):
                scores[lu] = float(v)
        return np.array([scores[lu] for lu in lineups])

    def improve(moves: list[tuple[int, ...]], best: float) -> tuple[tuple[int, ...], float] | None:
        if not moves:
            return None
        vals = score(moves)
        k = int(vals.argmax())
        return (moves[k], float(vals[k])) if vals[k] > best + 1e-12 else None

    for _ in range(max(1, restarts)):
        current = sorted(int(c) for c in rng.choice(C, size=m, replace=False))
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
                        lu = sorted([*current[:tier], c, *current[tier + 1 :]])
                        if len(set(lu)) == m:
                            moves.append(tuple(lu))
                    found = improve(moves, best)
                    if found:
                        current, best, improved = list(found[0]), found[1], True
                # (2) line-ups: the tier's best response, every feasible offer given the
                # other tiers (one batch of C), which the attribute moves alone can miss
                # when tiers must move together to stop cannibalising each other.
                if m > 1 and tier_limit >= C:
                    others = [*current[:tier], *current[tier + 1 :]]
                    moves = [tuple(sorted([*others, c])) for c in range(C) if c not in others]
                    found = improve(moves, best)
                    if found:
                        current, best, improved = list(found[0]), found[1], True
