"""What drives the choice, from the model the decisions use: importance, part-worths, WTP.

The simulator averages over a :class:`~offerlab.decide.Population` (HB: respondents and
their posterior draws; latent class: the classes; MNL: the point estimate), and its
intervals come from the population's uncertainty draws (S, R_u, K). The summaries here
come from the same rows, so the report's "what drives the choice" and its
recommendation rest on one model:

* **Importance** of attribute a for one coefficient row r: its part-worth range
  R_ra = max_l u_ral − min_l u_ral as a percent of Σ_b R_rb, computed per row and then
  averaged with the population weights (HB: per person and per draw, then over people
  and draws -- Sawtooth's way; an aggregate logit's importance is the range of the
  *average* part-worths, which shrinks when people disagree). The interval: the same
  average in every uncertainty draw, its quantiles.
* **Part-worths**: each row's level utilities, centred per attribute (mean over the
  levels 0), averaged over rows; intervals the same way.
* **Willingness to pay** against the attribute's first level, −Δu / β_price.
  ``individual``: when the population is one of individuals (HB, mixed logit) and every
  price coefficient in it and in its uncertainty draws is negative, each row's own ratio,
  summarised by the weighted median over rows (a mean is ruled by people whose price
  coefficient is near 0); ``ratio of means``: otherwise, −(Σ_r w_r Δu_r) / (Σ_r w_r
  β_price,r), the WTP of the average part-worths (for an MNL this is its WTP).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from offerlab.decide._market import MarketSimulator
from offerlab.decide._population import Population
from offerlab.exceptions import OfferlabError
from offerlab.models import ConjointCoding
from offerlab.study import CategoricalAttribute

__all__ = ["Drivers", "choice_drivers"]

NONE_ROW = "none"
#: Rows of one uncertainty draw handled at once (bounded memory on large HB fits).
_BATCH_ROWS = 200_000


@dataclass(frozen=True)
class Drivers:
    """Importance, part-worths and WTP of one model's population, with intervals.

    Attributes
    ----------
    importance : DataFrame
        ``attribute``, ``importance`` (percent, summing to 100), ``lower``, ``upper``.
    partworths : DataFrame
        ``attribute``, ``level``, ``utility`` (centred per attribute), ``lower``,
        ``upper``; a last row ``none`` for the none constant when the model has one.
    wtp : DataFrame or None
        ``attribute``, ``level``, ``per_unit`` (a rate per unit of a linear attribute),
        ``wtp`` (price units, against the first level), ``lower``, ``upper``. None
        without a linear price coefficient.
    model : str
        The model in words (the population's, e.g. "hierarchical Bayes").
    level : str
        ``individual``, ``classes``, ``distribution`` or ``aggregate``.
    rows : int
        Coefficient rows averaged (HB: respondents × their draws).
    n_draws : int
        Uncertainty draws behind the intervals (0: no intervals).
    interval : float
        Coverage of the intervals.
    wtp_method : str
        ``individual`` or ``ratio of means`` (see the module docstring); "" without WTP.
    positive_price_rows : float
        Weighted share of rows whose price coefficient is not negative (why WTP is not
        per person); 0 when all are negative.
    """

    importance: pd.DataFrame
    partworths: pd.DataFrame
    wtp: pd.DataFrame | None
    model: str
    level: str
    rows: int
    n_draws: int
    interval: float
    wtp_method: str = ""
    positive_price_rows: float = 0.0


def choice_drivers(
    sim: MarketSimulator, coding: ConjointCoding, *, interval: float | None = None
) -> Drivers:
    """Importance, part-worths and WTP of ``sim``'s population (its uncertainty draws
    give the intervals): the model the market, the optimiser and the pricing page use.

    Parameters
    ----------
    sim : MarketSimulator
        Its population and uncertainty draws; the scale factor is not applied (it
        changes no importance or WTP, and part-worths are the estimates' own).
    coding : ConjointCoding
        The fit's coding (columns of the population's coefficient rows).
    interval : float, optional
        Coverage (default: the simulator's).
    """
    return drivers_of(
        sim.population, coding, sim.uncertainty_draws(),
        interval=sim.interval if interval is None else interval,
    )  # fmt: skip


def drivers_of(
    population: Population,
    coding: ConjointCoding,
    draws: np.ndarray | None = None,
    *,
    interval: float = 0.95,
) -> Drivers:
    """:func:`choice_drivers` for a population and its draws (S, R_u, K) given directly."""
    if population.B.shape[1] != coding.n_params:
        raise OfferlabError(
            f"the population has {population.B.shape[1]} coefficients; the coding {coding.n_params}"
        )
    if not 0 < interval < 1:
        raise OfferlabError(f"interval must lie in (0, 1); got {interval!r}")
    blocks = _blocks(coding)
    weights_u = population.draw_weights(draws.shape[1]) if draws is not None else None
    tail = (1 - interval) / 2

    def band(point: np.ndarray, per_draw: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        if not per_draw:
            nan = np.full(point.shape, np.nan)
            return nan, nan
        stacked = np.stack(per_draw)
        return np.quantile(stacked, tail, axis=0), np.quantile(stacked, 1 - tail, axis=0)

    def each_draw() -> Iterator[np.ndarray]:
        yield from (() if draws is None else draws)

    imp = _importance(population.B, population.w, blocks)
    imp_lo, imp_hi = band(imp, [_importance(D, weights_u, blocks) for D in each_draw()])
    importance = pd.DataFrame(
        {"attribute": [b.attribute for b in blocks], "importance": imp,
         "lower": imp_lo, "upper": imp_hi}
    )  # fmt: skip

    pw = _partworths(population.B, population.w, blocks, coding)
    pw_lo, pw_hi = band(pw, [_partworths(D, weights_u, blocks, coding) for D in each_draw()])
    names = [(b.attribute, lv) for b in blocks for lv in b.level_names]
    if coding.none_index is not None:
        names.append((NONE_ROW, NONE_ROW))
    partworths = pd.DataFrame(
        {"attribute": [a for a, _ in names], "level": [lv for _, lv in names],
         "utility": pw, "lower": pw_lo, "upper": pw_hi}
    )  # fmt: skip

    wtp, method, positive = None, "", 0.0
    price = next((b for b in blocks if b.is_price), None)
    if price is not None and price.linear:
        p = price.start
        every_row = [population.B[:, p]] + ([] if draws is None else [draws[:, :, p].ravel()])
        positive = float(population.w @ (population.B[:, p] >= 0))
        individual = population.level in ("individual", "distribution") and all(
            (b < 0).all() for b in every_row
        )
        method = "individual" if individual else "ratio of means"
        rows = _wtp_rows(blocks, price)
        point = _wtp(population.B, population.w, rows, p, individual)
        lo, hi = band(point, [_wtp(D, weights_u, rows, p, individual) for D in each_draw()])
        wtp = pd.DataFrame(
            {"attribute": [r.attribute for r in rows], "level": [r.level for r in rows],
             "per_unit": [r.per_unit for r in rows], "wtp": point, "lower": lo, "upper": hi}
        )  # fmt: skip
    return Drivers(
        importance=importance,
        partworths=partworths,
        wtp=wtp,
        model=population.model,
        level=population.level,
        rows=population.n_rows,
        n_draws=0 if draws is None else int(draws.shape[0]),
        interval=interval,
        wtp_method=method,
        positive_price_rows=positive,
    )


# -- the coding's level utilities ----------------------------------------------------------


@dataclass(frozen=True)
class _Block:
    """One attribute: its columns and the code of each level, (L, width)."""

    attribute: str
    start: int
    stop: int
    codes: np.ndarray
    level_names: tuple[object, ...]
    values: tuple[float, ...]
    linear: bool
    is_price: bool


def _blocks(coding: ConjointCoding) -> list[_Block]:
    out = []
    for block in coding.blocks:
        attr = coding.study.attribute(block.attribute)
        if isinstance(attr, CategoricalAttribute):
            names: tuple[object, ...] = tuple(attr.level_names)
            values: tuple[float, ...] = ()
        else:
            values = tuple(float(v) for v in attr.values)
            names = tuple(int(v) if v.is_integer() else v for v in values)
        linear = block.kind == "linear"
        if linear:
            codes = np.asarray(values, dtype=float)[:, None]
        else:
            if block.coding is None:
                raise OfferlabError(f"attribute '{block.attribute}' has no level coding")
            codes = np.asarray(block.coding, dtype=float)
        out.append(
            _Block(block.attribute, block.start, block.stop, codes, names, values, linear,
                   coding.is_price(block))
        )  # fmt: skip
    return out


def _level_utilities(B: np.ndarray, block: _Block) -> np.ndarray:
    """(R, L): every row's utility of every level of the block (up to a constant)."""
    return B[:, block.start : block.stop] @ block.codes.T


def _row_batches(B: np.ndarray) -> Iterator[slice]:
    for start in range(0, B.shape[0], _BATCH_ROWS):
        yield slice(start, start + _BATCH_ROWS)


def _importance(B: np.ndarray, w: np.ndarray, blocks: list[_Block]) -> np.ndarray:
    """Weighted mean over rows of each row's importances (percent)."""
    total, weight = np.zeros(len(blocks)), 0.0
    for rows in _row_batches(B):
        ranges = np.column_stack([np.ptp(_level_utilities(B[rows], b), axis=1) for b in blocks])
        sums = ranges.sum(axis=1, keepdims=True)
        share = np.divide(ranges, sums, out=np.zeros_like(ranges), where=sums > 0)
        total += w[rows] @ share
        weight += float(w[rows][sums[:, 0] > 0].sum())  # a row with no preference at all
    if weight <= 0:
        raise OfferlabError("importance is undefined: every part-worth is zero")
    return 100 * total / weight


def _partworths(
    B: np.ndarray, w: np.ndarray, blocks: list[_Block], coding: ConjointCoding
) -> np.ndarray:
    """Weighted mean over rows of the centred level utilities (and the none constant)."""
    mean_b = w @ B / w.sum()  # utilities are linear in B: the mean row's are the mean
    parts = []
    for b in blocks:
        u = _level_utilities(mean_b[None, :], b)[0]
        parts.append(u - u.mean())
    if coding.none_index is not None:
        parts.append(np.array([mean_b[coding.none_index]]))
    return np.concatenate(parts)


@dataclass(frozen=True)
class _WtpRow:
    attribute: str
    level: object
    per_unit: bool
    start: int
    stop: int
    diff: np.ndarray  # code difference against the first level, (width,)


def _wtp_rows(blocks: list[_Block], price: _Block) -> list[_WtpRow]:
    rows = []
    for b in blocks:
        if b is price:
            continue
        if b.linear:
            rows.append(_WtpRow(b.attribute, "per unit", True, b.start, b.stop, np.ones(1)))
        for i in range(1, len(b.level_names)):
            diff = b.codes[i] - b.codes[0]
            rows.append(_WtpRow(b.attribute, b.level_names[i], False, b.start, b.stop, diff))
    return rows


def _wtp(B: np.ndarray, w: np.ndarray, rows: list[_WtpRow], p: int, individual: bool) -> np.ndarray:
    """WTP of every row of ``rows`` (see the module docstring for the two methods)."""
    w = w / w.sum()
    du = np.column_stack([B[:, r.start : r.stop] @ r.diff for r in rows])  # (R, n)
    if not individual:
        return -(w @ du) / (w @ B[:, p])
    each = -du / B[:, p][:, None]
    return np.array([_weighted_median(each[:, j], w) for j in range(each.shape[1])])


def _weighted_median(x: np.ndarray, w: np.ndarray) -> float:
    order = np.argsort(x, kind="stable")
    cum = np.cumsum(w[order])
    return float(x[order][np.searchsorted(cum, 0.5 * cum[-1])])
