"""Scoring line-ups of candidate offers: the objective (share, revenue or profit per
person in the market) of many line-ups on the coefficient rows of a population and its
uncertainty draws, streamed so memory stays bounded whatever the numbers of respondents,
draws and candidates.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from offerlab.decide._kernels import EULER_GAMMA, _gumbel, level_ids, level_matrix
from offerlab.decide._market import Market, MarketSimulator
from offerlab.decide._money import Costs
from offerlab.decide._offer_space import OfferSpace, offer_cost
from offerlab.exceptions import OfferlabError

__all__ = [
    "CHUNK_ROWS",
    "SEARCH_ROWS",
    "WORK_ELEMENTS",
    "CoefficientRows",
    "LineupEvaluator",
    "LineupProblem",
    "objective_margin",
]


def objective_margin(price: np.ndarray, cost: np.ndarray, objective: str) -> np.ndarray:
    """What one sale adds to the objective: 1 (share), the price (revenue) or the price
    less the cost (profit)."""
    if objective == "share":
        return np.ones(len(price))
    out = price if objective == "revenue" else price - cost
    if not np.isfinite(out).all():
        raise OfferlabError(f"objective '{objective}' needs a price attribute")
    return np.asarray(out, dtype=float)


@dataclass(frozen=True)
class LineupProblem:
    """What the line-ups are scored in: the market whose ``slots`` our tiers fill, the
    candidates for them with their margins, and our offers outside the slots (they stay
    on sale; their margins count too).

    Attributes
    ----------
    market : Market
    slots : tuple of str
    space : OfferSpace
    margin : ndarray, shape (C,)
        Each candidate's margin for the objective.
    fixed_ours : tuple of int
        Positions in :attr:`others` of our offers outside the slots.
    fixed_margin : ndarray
        Their margins.
    """

    market: Market
    slots: tuple[str, ...]
    space: OfferSpace
    margin: np.ndarray
    fixed_ours: tuple[int, ...]
    fixed_margin: np.ndarray

    @property
    def others(self) -> list[int]:
        """The market's alternatives that are not slots (indices into the market)."""
        return [j for j, n in enumerate(self.market.names) if n not in self.slots]

    @classmethod
    def of(
        cls,
        market: Market,
        slots: Sequence[str],
        space: OfferSpace,
        objective: str,
        costs: Costs,
    ) -> LineupProblem:
        """The problem of filling ``slots`` of ``market`` from ``space`` for ``objective``."""
        margin = objective_margin(space.price, space.cost, objective)
        others = [j for j, n in enumerate(market.names) if n not in slots]
        fixed_ours = tuple(k for k, j in enumerate(others) if market.ours[j])
        fixed_margin = np.array(
            [
                objective_margin(
                    market.prices[others[k]][None],
                    np.array(
                        [
                            offer_cost(
                                market.offers[others[k]],
                                costs.per_level,
                                costs.base,
                                market.names[others[k]],
                            )
                        ]
                    ),
                    objective,
                )[0]
                for k in fixed_ours
            ]
        )
        return cls(market, tuple(slots), space, margin, fixed_ours, fixed_margin)


#: Elements of one (rows × line-ups) work array: 2^21 doubles = 16 MiB, a handful alive
#: at a time, whatever the number of respondents, draws and candidates.
WORK_ELEMENTS = 1 << 21
#: Rows (respondent × draw × RFC draw) the search runs on; the best line-ups are then
#: scored on every row.
SEARCH_ROWS = 4_000
#: Rows per chunk (before RFC's error draws).
CHUNK_ROWS = 2048


class CoefficientRows:
    """Coefficient rows (N, K) ordered by uncertainty draw, with weights and draw index,
    and how many RFC error draws each row gets (``reps``)."""

    def __init__(
        self, B: np.ndarray, w: np.ndarray, draw: np.ndarray, S: int, reps: int = 1
    ) -> None:
        self.B, self.w, self.draw, self.S, self.reps = B, w, draw, S, reps

    @classmethod
    def of(cls, sim: MarketSimulator, use_draws: bool) -> CoefficientRows:
        pop = sim.population
        D = sim.uncertainty_draws() if use_draws else None
        if D is None:
            reps = sim.rfc_draws if sim.rule == "rfc" else 1
            return cls(pop.B, pop.w.copy(), np.zeros(pop.n_rows, dtype=np.int64), 1, reps)
        S, R, K = D.shape
        w = np.tile(pop.draw_weights(R), S) / S  # each draw weighs 1/S in the mean
        return cls(D.reshape(S * R, K), w, np.arange(S).repeat(R), S, sim.uncertainty_rfc_draws(R))

    def subsample(self, n: int, rng: np.random.Generator) -> CoefficientRows:
        """At most n rows drawn at random (the weighted mean is kept unbiased)."""
        N = len(self.w)
        if n >= N:
            return self
        pick = np.sort(rng.choice(N, size=n, replace=False))
        w = self.w[pick]
        return CoefficientRows(self.B[pick], w / w.sum(), np.zeros(n, dtype=np.int64), 1, self.reps)

    def for_search(self, n: int, rfc: bool, rng: np.random.Generator) -> CoefficientRows:
        """The search's rows: at most n row-draws in all. Under RFC each row gets as many
        error draws as fill n (one, when there are n rows or more to sample from)."""
        if not rfc:
            return self.subsample(n, rng)
        rows = self.subsample(n, rng)
        return CoefficientRows(rows.B, rows.w, rows.draw, rows.S, max(1, -(-n // len(rows.w))))


class LineupEvaluator:
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
        problem: LineupProblem,
        rows: CoefficientRows,
        dtype: type = np.float64,
    ) -> None:
        market, space = problem.market, problem.space
        self.rows = rows
        self.dtype = dtype
        self.space = space
        self.margin = problem.margin
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
        others = problem.others
        self.fixed = list(problem.fixed_ours)  # positions in `others` of our non-tier offers
        self.fixed_margin = np.asarray(problem.fixed_margin, dtype=float)
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
