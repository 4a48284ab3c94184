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

import functools
import itertools
import math
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np
import pandas as pd

from offerlab.decide._kernels import EULER_GAMMA, _gumbel, level_ids, level_matrix
from offerlab.decide._market import Market, MarketSimulator, Provenance
from offerlab.decide._money import Costs
from offerlab.exceptions import OfferlabError
from offerlab.study import CategoricalAttribute

__all__ = ["OfferSpace", "OptimisationResult", "offer_cost", "optimise_offers"]

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
    study_price: str | None = None

    @cached_property
    def price_column(self) -> int | None:
        """Which attribute is the price (None without one)."""
        study = self.study_price
        return self.attributes.index(study) if study in self.attributes else None

    @cached_property
    def product_id(self) -> np.ndarray:
        """(C,) one id per product: candidates alike in every attribute but the price."""
        keep = [a for a in range(len(self.attributes)) if a != self.price_column]
        _, inv = np.unique(self.index[:, keep], axis=0, return_inverse=True)
        return inv.ravel()

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
        # the one rule for costs (Costs.of), level by level
        per_value = np.array([Costs(0.0, {a: table}).of({a: v}) for v in values[ia]])
        cost += per_value[index[:, ia]]
    return OfferSpace(
        attributes, tuple(values), index, X, price, cost,
        price_attr.name if price_attr is not None else None,
    )  # fmt: skip


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


#: Elements of one (rows × line-ups) work array: 2^21 doubles = 16 MiB, a handful alive
#: at a time, whatever the number of respondents, draws and candidates.
WORK_ELEMENTS = 1 << 21
#: Rows (respondent × draw × RFC draw) the search runs on; the best line-ups are then
#: scored on every row.
SEARCH_ROWS = 4_000
#: Rows per chunk (before RFC's error draws).
CHUNK_ROWS = 2048


class _Rows:
    """Coefficient rows (N, K) ordered by uncertainty draw, with weights and draw index,
    and how many RFC error draws each row gets (``reps``)."""

    def __init__(
        self, B: np.ndarray, w: np.ndarray, draw: np.ndarray, S: int, reps: int = 1
    ) -> None:
        self.B, self.w, self.draw, self.S, self.reps = B, w, draw, S, reps

    @classmethod
    def of(cls, sim: MarketSimulator, use_draws: bool) -> _Rows:
        pop = sim.population
        D = sim.uncertainty_draws() if use_draws else None
        if D is None:
            reps = sim.rfc_draws if sim.rule == "rfc" else 1
            return cls(pop.B, pop.w.copy(), np.zeros(pop.n_rows, dtype=np.int64), 1, reps)
        S, R, K = D.shape
        w = np.tile(pop.draw_weights(R), S) / S  # each draw weighs 1/S in the mean
        return cls(D.reshape(S * R, K), w, np.arange(S).repeat(R), S, sim.uncertainty_rfc_draws(R))

    def subsample(self, n: int, rng: np.random.Generator) -> _Rows:
        """At most n rows drawn at random (the weighted mean is kept unbiased)."""
        N = len(self.w)
        if n >= N:
            return self
        pick = np.sort(rng.choice(N, size=n, replace=False))
        w = self.w[pick]
        return _Rows(self.B[pick], w / w.sum(), np.zeros(n, dtype=np.int64), 1, self.reps)

    def for_search(self, n: int, rfc: bool, rng: np.random.Generator) -> _Rows:
        """The search's rows: at most n row-draws in all. Under RFC each row gets as many
        error draws as fill n (one, when there are n rows or more to sample from)."""
        if not rfc:
            return self.subsample(n, rng)
        rows = self.subsample(n, rng)
        return _Rows(rows.B, rows.w, rows.draw, rows.S, max(1, -(-n // len(rows.w))))


class _Evaluator:
    """Objective of line-ups of candidates on every row of a population, streamed.

    Rows are processed in chunks and line-ups in batches, so memory is bounded by
    :data:`WORK_ELEMENTS` whatever the numbers of respondents, draws and candidates.
    Per row, the alternatives that are not ours are summarised by the log-sum-exp of
    their utilities (logit) or their best utility (first choice); our offers outside
    the tiers stay alternatives of their own, because their profit counts too.
    """

    def __init__(
        self,
        sim: MarketSimulator,
        market: Market,
        slots: Sequence[str],
        space: OfferSpace,
        margin: np.ndarray,
        rows: _Rows,
        fixed_ours: Sequence[int],
        fixed_margin: np.ndarray,
        dtype: type = np.float64,
    ) -> None:
        self.rows = rows
        self.dtype = dtype
        self.space = space
        self.margin = margin
        lam = sim.scale
        self.rule = sim.rule
        self.reps = rows.reps if sim.rule == "rfc" else 1
        self.sigma_a = sim.attribute_error if sim.rule == "rfc" else 0.0
        self.first_choice = sim.rule == "first_choice" or (
            sim.rule == "rfc" and sim.product_error == 0
        )
        inner = 1.0 / sim.product_error if sim.rule == "rfc" and sim.product_error > 0 else 1.0
        if sim.rule == "first_choice":
            lam = 1.0
        self.coef = lam * inner  # multiplies x'β
        self.inner = inner  # multiplies the RFC errors
        others = [j for j, n in enumerate(market.names) if n not in slots]
        self.fixed = list(fixed_ours)  # positions in `others` of our non-tier offers
        self.fixed_margin = np.asarray(fixed_margin, dtype=float)
        self.rest = [k for k in range(len(others)) if k not in self.fixed]
        self.X_other = market.X[others]
        self.o_other = lam * inner * market.offset[others]
        # One id space for the levels of candidates and of the market's other offers.
        kinds = np.array([market.kinds[j] == "offer" for j in others])
        X_all = np.vstack([space.X, self.X_other])
        is_offer = np.concatenate([np.ones(len(space.X), dtype=bool), kinds])
        ids = level_ids(X_all, market.blocks, is_offer)
        Z = level_matrix(ids)
        self.Z_cand, self.Z_other = Z[: len(space.X)], Z[len(space.X) :]
        self.seed = sim.seed
        self.n_evaluated = 0
        # The search calls the evaluator thousands of times on the same few rows: their
        # RFC errors are drawn once (the same draws as a fresh stream would give).
        self._errors: dict[int, np.ndarray] = {}
        self._cache_errors = len(rows.w) * self.reps * Z.shape[1] <= WORK_ELEMENTS

    # -- the rows, chunk by chunk ----------------------------------------------------------
    def _chunks(self):
        """(start, stop) of the row chunks: fixed, so that each chunk's RFC errors are the
        same in every call (they are seeded by the chunk)."""
        N = len(self.rows.w)
        for start in range(0, N, CHUNK_ROWS):
            yield start, min(start + CHUNK_ROWS, N)

    def _row_chunk(self, a: int, b: int, uniq: np.ndarray):
        """Utilities of the unique candidates (n·reps, u) and of the other alternatives
        (n·reps, J_o) for rows a:b; RFC errors drawn from a stream fixed per chunk, so
        every call sees the same errors (common random numbers)."""
        dt = self.dtype
        B = self.rows.B[a:b].astype(dt, copy=False)
        U = (B @ self.space.X[uniq].T.astype(dt)) * dt(self.coef)
        Uo = (B @ self.X_other.T.astype(dt)) * dt(self.coef) + self.o_other.astype(dt)
        if self.reps > 1 or self.sigma_a > 0:
            U = np.tile(U, (self.reps, 1))
            Uo = np.tile(Uo, (self.reps, 1))
        if self.sigma_a > 0 and self.Z_cand.shape[1]:
            E = self._level_errors(a, U.shape[0])
            U += E @ self.Z_cand[uniq].T
            Uo += E @ self.Z_other.T
        return U, Uo

    def _level_errors(self, a: int, n: int) -> np.ndarray:
        """RFC's level errors (n, L) of the chunk starting at row a, scaled."""
        E = self._errors.get(a)
        if E is None:
            rng = np.random.default_rng(np.random.SeedSequence([self.seed, 3, a]))
            E = _gumbel(rng, (n, self.Z_cand.shape[1]))
            E -= np.float32(EULER_GAMMA)
            E *= np.float32(self.sigma_a * self.inner)
            if self._cache_errors:
                self._errors[a] = E
        return E

    def _values(self, lineups: np.ndarray, a: int, b: int):
        """Per row (rows·reps, n): the objective and our combined share."""
        n, m = lineups.shape
        uniq, inv = np.unique(lineups, return_inverse=True)
        inv = inv.reshape(n, m)
        U, Uo = self._row_chunk(a, b, uniq)
        V = [U[:, inv[:, t]] for t in range(m)]
        F = [Uo[:, k][:, None] for k in self.fixed]
        if self.rest:
            R = Uo[:, self.rest]
            if self.first_choice:
                rest = R.max(axis=1)
            else:
                top = R.max(axis=1)
                rest = top + np.log(np.exp(R - top[:, None]).sum(axis=1))
        else:
            rest = np.full(U.shape[0], -np.inf)
        rest = rest[:, None]
        margin = [self.margin[lineups[:, t]].astype(self.dtype) for t in range(m)]
        margin += list(self.fixed_margin.astype(self.dtype))
        if not self.first_choice:
            return _logit_values(U, inv, F, rest, margin)
        shares = _choice(V + F, rest, self.first_choice)
        value = np.zeros((U.shape[0], n))
        share = np.zeros((U.shape[0], n))
        for sh, mg in zip(shares, margin, strict=True):
            value += sh * mg
            share += sh
        return value, share

    def _batches(self, lineups: np.ndarray) -> list[np.ndarray]:
        """Line-ups in batches small enough for (chunk rows × batch) work arrays."""
        per = max(1, WORK_ELEMENTS // (CHUNK_ROWS * self.reps))
        return [lineups[i : i + per] for i in range(0, len(lineups), per)]

    def mean(self, lineups: np.ndarray) -> np.ndarray:
        """The weighted mean objective (n,) over all rows."""
        self.n_evaluated += len(lineups)
        out = []
        chunks = list(self._chunks())

        def one(batch: np.ndarray, a: int, b: int) -> np.ndarray:
            value, _ = self._values(batch, a, b)
            w = np.tile(self.rows.w[a:b], self.reps) / self.reps
            return w @ value

        # Chunks on two threads: numpy releases the GIL in the products and exponentials.
        with ThreadPoolExecutor(2) as pool:
            for batch in self._batches(lineups):
                parts = pool.map(lambda ab, batch=batch: one(batch, *ab), chunks)
                out.append(np.sum(list(parts), axis=0))
        return np.concatenate(out)

    def per_draw(self, lineups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Objective and our combined share per uncertainty draw, (S, n) each."""
        self.n_evaluated += len(lineups)
        S = self.rows.S
        value_s = np.zeros((S, len(lineups)))
        share_s = np.zeros((S, len(lineups)))
        mass = np.bincount(self.rows.draw, weights=self.rows.w, minlength=S)
        start = 0
        for batch in self._batches(lineups):
            cols = slice(start, start + len(batch))
            start += len(batch)
            for a, b in self._chunks():
                value, share = self._values(batch, a, b)
                w = np.tile(self.rows.w[a:b], self.reps) / self.reps
                d = np.tile(self.rows.draw[a:b], self.reps)
                for c in range(len(batch)):
                    value_s[:, cols.start + c] += np.bincount(
                        d, weights=w * value[:, c], minlength=S
                    )
                    share_s[:, cols.start + c] += np.bincount(
                        d, weights=w * share[:, c], minlength=S
                    )
        return value_s / mass[:, None], share_s / mass[:, None]


#: Utility differences are clipped to ±this before exponentiating: e^±80 stays inside
#: single precision, and a choice probability changes by less than e^−80 ≈ 2e−35.
EXP_CLIP = 80.0


def _logit_values(
    U: np.ndarray, inv: np.ndarray, F: list[np.ndarray], rest: np.ndarray, margin: list
) -> tuple[np.ndarray, np.ndarray]:
    """Logit objective and share (rows, n): exponentials once per unique candidate (not
    per line-up), relative to the rest of the market's utility in each row, so only sums
    and one division remain per line-up. Relative to the rest (not to the best candidate
    of the batch) and clipped, so a line-up of unattractive offers cannot underflow to
    0/0."""
    top = np.where(np.isfinite(rest), rest, U.max(axis=1, keepdims=True))

    def ex(v: np.ndarray) -> np.ndarray:
        return np.exp(np.clip(v - top, -EXP_CLIP, EXP_CLIP))

    EU = ex(U)
    rest_e = np.where(np.isfinite(rest), ex(np.where(np.isfinite(rest), rest, top)), 0.0)
    fixed_e = [ex(f) for f in F]
    fixed_share = sum(fixed_e, np.zeros_like(top))
    fixed_value = sum(
        (e * mg for e, mg in zip(fixed_e, margin[inv.shape[1] :], strict=True)),
        np.zeros_like(top),
    )
    mine = EU[:, inv[:, 0]]
    value = mine * margin[0]
    share = mine.copy()
    for t in range(1, inv.shape[1]):
        mine = EU[:, inv[:, t]]
        value += mine * margin[t]
        share += mine
    share += fixed_share
    total = share + rest_e
    value += fixed_value
    value /= total
    share /= total
    return value, share


def _choice(V: list[np.ndarray], rest: np.ndarray, first_choice: bool) -> list[np.ndarray]:
    """Shares (rows, n) of each of the alternatives V against the rest's summary."""
    if first_choice:
        best = np.broadcast_to(
            functools.reduce(np.maximum, V), np.broadcast_shapes(*[v.shape for v in V])
        )
        win = best > rest
        out, taken = [], np.zeros(best.shape, dtype=bool)
        for v in V:  # the first alternative reaching the best utility takes the row
            mine = win & (v == best) & ~taken
            taken |= mine
            out.append(mine.astype(float))
        return out
    top = functools.reduce(np.maximum, [*V, rest])
    E = [np.exp(v - top) for v in V]
    denom = np.exp(rest - top)
    for e in E:
        denom = denom + e
    return [e / denom for e in E]


def offer_cost(
    offer: Mapping[str, object] | None,
    costs: Mapping[str, Mapping[object, float]] | None,
    base_cost: float,
    name: str,
) -> float:
    """What one of our offers costs: the base plus the cost of each of its levels
    (:meth:`Costs.of`, the one rule for costs, named after the offer on error)."""
    if offer is None:
        raise OfferlabError(f"offer '{name}' has no levels to cost")
    try:
        return Costs(base_cost, costs or {}).of(offer)
    except OfferlabError as exc:
        raise OfferlabError(f"{exc} (offer '{name}')") from None


def _distinct_products(space: OfferSpace, lineups: np.ndarray) -> np.ndarray:
    """Which line-ups (n, m) have tiers that differ on at least one non-price attribute."""
    price = space.price_column
    keep = [a for a in range(len(space.attributes)) if a != price]
    ok = np.ones(len(lineups), dtype=bool)
    if not keep:
        return ok
    product = space.product_id
    m = lineups.shape[1]
    for s in range(m):
        for t in range(s + 1, m):
            ok &= product[lineups[:, s]] != product[lineups[:, t]]
    return ok


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
    margin = _margin(space.price, space.cost, objective)
    others = [j for j, n in enumerate(market.names) if n not in slots]
    fixed_ours = [k for k, j in enumerate(others) if market.ours[j]]
    fixed_margin = np.array(
        [
            _margin(
                market.prices[others[k]][None],
                np.array(
                    [
                        offer_cost(
                            market.offers[others[k]], costs, base_cost, market.names[others[k]]
                        )
                    ]
                ),
                objective,
            )[0]
            for k in fixed_ours
        ]
    )
    rng = np.random.default_rng(rng)
    rows = _Rows.of(sim, use_draws)
    # The search ranks on a sample of the rows in single precision (twice the speed; its
    # ranking is only a short list: the best are re-scored in double precision on every
    # row). Under RFC the sample counts row-draws: one error draw per sampled row, or as
    # many as fill it when the rows are few (one MNL row per uncertainty draw).
    if search_rows >= sim.population.n_rows or not use_draws:
        search_rows_ = rows.for_search(search_rows, sim.rule == "rfc", rng)
    else:  # a population larger than the sample: search on all of it, one error draw a row
        population = _Rows.of(sim, use_draws=False)
        search_rows_ = _Rows(population.B, population.w, population.draw, 1, 1)
    search_ev = _Evaluator(
        sim, market, slots, space, margin, search_rows_, fixed_ours, fixed_margin, np.float32
    )
    exhaustive = method == "exhaustive" or (method == "auto" and n_candidates <= max_exhaustive)
    scores: dict[tuple[int, ...], float] = {}
    if exhaustive:
        combos = itertools.combinations(range(C), m)
        while True:
            chunk = np.array(list(itertools.islice(combos, 1 << 14)), dtype=np.int64)
            if chunk.size == 0:
                break
            if m > 1 and not price_only_tiers:
                chunk = chunk[_distinct_products(space, chunk)]
                if not len(chunk):
                    continue
            for row, v in zip(chunk, search_ev.mean(chunk), strict=True):
                scores[tuple(int(c) for c in row)] = float(v)
        name = "exhaustive"
    else:
        _coordinate_ascent(search_ev, space, m, restarts, rng, scores, price_only_tiers)
        name = "coordinate ascent"
    if not scores:
        raise OfferlabError(
            f"no line-up of {m} tiers that differ in more than the price is feasible; "
            "allow price-only tiers (optimise: price_only_tiers: true) or free an attribute"
        )
    # The best `keep` (and a margin of the next ones: the search's rows are a sample) are
    # scored on every row and draw, streamed.
    ranked = sorted(scores, key=scores.get, reverse=True)[: max(2 * keep, 2)]  # type: ignore[arg-type]
    full_ev = _Evaluator(sim, market, slots, space, margin, rows, fixed_ours, fixed_margin)
    top = np.array(ranked, dtype=np.int64)
    value, share = full_ev.per_draw(top)
    weights = np.full(rows.S, 1.0 / rows.S)
    expected = weights @ value
    order = np.argsort(-expected, kind="stable")[: max(keep, 2)]
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
    best = [space.offer(int(c)) for c in top[0]]
    filled = _filled_market(market, slots, best)
    costs_of = {
        n: (float(space.cost[top[0][slots.index(n)]]) if n in slots
            else offer_cost(market.offers[j], costs, base_cost, n))
        for j, n in enumerate(market.names) if market.ours[j] or n in slots
    }  # fmt: skip
    shares, sources = _breakdown(sim, filled, slots, costs_of, use_draws)
    return OptimisationResult(
        table=table,
        best=best,
        expected=float(expected[0]),
        pessimistic=float(table["pessimistic"].iloc[0]),
        p_beats_runner_up=p_beats,
        objective=objective,
        method=name,
        n_candidates=n_candidates,
        n_evaluated=search_ev.n_evaluated + full_ev.n_evaluated,
        market=filled,
        shares=shares,
        sources=sources,
        provenance=sim.provenance,
    )


def _margin(price: np.ndarray, cost: np.ndarray, objective: str) -> np.ndarray:
    if objective == "share":
        return np.ones(len(price))
    out = price if objective == "revenue" else price - cost
    if not np.isfinite(out).all():
        raise OfferlabError(f"objective '{objective}' needs a price attribute")
    return np.asarray(out, dtype=float)


def _filled_market(market: Market, slots: Sequence[str], best: list[dict[str, object]]) -> Market:
    """The market with the recommended offers in the slots (for the share tables)."""
    filled = market
    for slot, offer in zip(slots, best, strict=True):
        filled = filled.with_offer(slot, **offer)
    return filled


def _breakdown(
    sim: MarketSimulator,
    market: Market,
    slots: Sequence[str],
    costs: Mapping[str, float],
    use_draws: bool,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Shares and profit of every alternative of the recommended market, and where each
    tier's share comes from (what every other alternative loses when the tier enters)."""
    tail = (1 - sim.interval) / 2
    with_all = sim.share_draws(market, draws=use_draws)
    mass = sim._segment_mass()

    def whole(sd) -> tuple[np.ndarray, np.ndarray | None]:
        point = mass @ sd.point
        if sd.draws is None:
            return point, None
        return point, np.einsum("g,sgj->sj", sim._draw_mass(), sd.draws)

    point, draws = whole(with_all)
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
        p0, d0 = whole(sim.share_draws(without, draws=use_draws))
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


def _coordinate_ascent(
    ev: _Evaluator,
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
