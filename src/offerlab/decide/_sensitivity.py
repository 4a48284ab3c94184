"""Sensitivity and demand: how one offer's share and revenue move with its attributes.

* :func:`sensitivity` — the offer's share and revenue with each attribute set to each of
  its levels, the rest of the market held fixed (the data of a tornado chart; see
  :func:`tornado`);
* :func:`demand_curve` — share and revenue over a grid of prices, with intervals and the
  point price elasticity along the curve; :func:`price_elasticity` and
  :func:`arc_elasticity` for one price or a pair;
* :func:`wtp_by_simulation` — willingness to pay for a level as the price change that
  brings the offer's share back to what it was (Sawtooth's sampling-of-scenarios
  approach), beside :func:`wtp_ratio`, the ratio of coefficients.

Every interval is a percentile interval over the simulator's uncertainty draws; the same
draws serve every variation, so differences between variations are not blurred by
independent noise.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from offerlab.decide._kernels import row_shares
from offerlab.decide._market import Market, MarketSimulator
from offerlab.exceptions import OfferlabError
from offerlab.models import ConjointCoding
from offerlab.study import CategoricalAttribute, Study

__all__ = [
    "arc_elasticity",
    "demand_curve",
    "price_elasticity",
    "sample_scenarios",
    "sensitivity",
    "tornado",
    "wtp_by_simulation",
    "wtp_ratio",
]


def _levels(study: Study, attribute: str) -> list[object]:
    attr = study.attribute(attribute)
    if isinstance(attr, CategoricalAttribute):
        return list(attr.level_names)
    return [float(v) for v in attr.values]


def _tails(sim: MarketSimulator) -> tuple[float, float]:
    tail = (1 - sim.interval) / 2
    return tail, 1 - tail


def _coding(market: Market) -> ConjointCoding:
    if market.coding is None:
        raise OfferlabError("this needs a market coded from a study (Market.from_offers)")
    return market.coding


def _prohibited(study: Study, offer: dict[str, object]) -> bool:
    """Whether the offer (levels or values on the studied grid) hits a prohibition."""
    for rule in study.prohibitions:
        hit = True
        for a, lv in rule.items():
            value = offer.get(a)
            attr = study.attribute(a)
            if isinstance(attr, CategoricalAttribute):
                hit &= str(value) == str(lv)
            else:
                hit &= value is not None and abs(float(value) - float(lv)) <= 1e-9  # type: ignore[arg-type]
        if hit:
            return True
    return False


def sensitivity(
    sim: MarketSimulator,
    market: Market,
    offer: str,
    *,
    attributes: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Share and revenue of ``offer`` as each attribute moves over its levels.

    Parameters
    ----------
    sim : MarketSimulator
    market : Market
        Coded from a study; ``offer`` is one of its offers.
    offer : str
    attributes : list of str, optional
        Default: every attribute of the study.

    Returns
    -------
    DataFrame
        One row per (attribute, level): ``attribute``, ``level``, ``current`` (the
        offer's own level), ``prohibited`` (the study never showed this combination),
        ``share``, ``lower``, ``upper``, ``revenue`` (price × share per person in the
        market), ``revenue_lower``, ``revenue_upper``.
    """
    coding = _coding(market)
    study = coding.study
    j = market.index(offer)
    base = market.offers[j]
    if base is None:
        raise OfferlabError(f"'{offer}' is not an offer with attribute levels")
    names = list(attributes) if attributes is not None else study.attribute_names
    lo_q, hi_q = _tails(sim)
    rows = []
    for attribute in names:
        if attribute not in study.attribute_names:
            raise OfferlabError(
                f"unknown attribute {attribute!r}; the study has {study.attribute_names}"
            )
        levels = _levels(study, attribute)
        markets = [market.with_offer(offer, **{attribute: lv}) for lv in levels]
        point, draws = sim.share_of(markets, offer)
        prices = np.array([m.prices[j] for m in markets])
        for i, lv in enumerate(levels):
            current = base[attribute]
            is_current = (
                str(current) == str(lv)
                if isinstance(lv, str)
                else abs(float(current) - float(lv)) <= 1e-9  # type: ignore[arg-type]
            )
            row = {
                "attribute": attribute,
                "level": lv,
                "current": is_current,
                "prohibited": _prohibited(study, {**base, attribute: lv}),
                "share": point[i],
                "revenue": prices[i] * point[i],
            }
            if draws is not None:
                row["lower"], row["upper"] = np.quantile(draws[:, i], [lo_q, hi_q])
                rev = prices[i] * draws[:, i]
                row["revenue_lower"], row["revenue_upper"] = np.quantile(rev, [lo_q, hi_q])
            rows.append(row)
    return pd.DataFrame(rows)


def tornado(
    table: pd.DataFrame, *, value: str = "share", include_prohibited: bool = False
) -> pd.DataFrame:
    """Swing of each attribute from a :func:`sensitivity` table, largest first.

    Levels the study prohibits in combination with the offer's other levels are left
    out unless ``include_prohibited`` (respondents never saw those offers).

    Returns one row per attribute: ``attribute``, ``base`` (the value at the offer's
    own levels), ``low``, ``high`` (the smallest and largest value over its levels),
    ``low_level``, ``high_level``, ``swing`` = high − low.
    """
    if value not in table.columns:
        raise OfferlabError(f"the sensitivity table has no column {value!r}")
    if not include_prohibited and "prohibited" in table.columns:
        table = table[~table["prohibited"].astype(bool)]
    rows = []
    for attribute, part in table.groupby("attribute", sort=False):
        current = part[part["current"]]
        base = float(current[value].iloc[0]) if len(current) else np.nan
        lo = part.loc[part[value].idxmin()]
        hi = part.loc[part[value].idxmax()]
        rows.append(
            {
                "attribute": attribute,
                "base": base,
                "low": float(lo[value]),
                "high": float(hi[value]),
                "low_level": lo["level"],
                "high_level": hi["level"],
                "swing": float(hi[value] - lo[value]),
            }
        )
    return pd.DataFrame(rows).sort_values("swing", ascending=False, ignore_index=True)


def _price_grid(market: Market, prices: Sequence[float] | None, n_prices: int) -> np.ndarray:
    attr = market.price_attribute()
    if prices is None:
        lo, hi = min(attr.values), max(attr.values)
        return np.linspace(lo, hi, n_prices)
    grid = np.asarray(prices, dtype=float)
    if grid.ndim != 1 or grid.size < 2 or not np.isfinite(grid).all():
        raise OfferlabError("prices must be two or more finite numbers")
    return np.sort(grid)


def demand_curve(
    sim: MarketSimulator,
    market: Market,
    offer: str,
    *,
    prices: Sequence[float] | None = None,
    n_prices: int = 21,
    cost: float = 0.0,
) -> pd.DataFrame:
    """Share, revenue (and profit) of ``offer`` over a grid of its prices.

    Parameters
    ----------
    prices : list of float, optional
        Default: ``n_prices`` equally spaced over the studied price range.
    cost : float
        Cost per sale; ``profit`` = (price − cost) × share.

    Returns
    -------
    DataFrame
        ``price``, ``share``, ``revenue``, ``profit`` per person in the market, their
        ``*_lower``/``*_upper`` interval bounds, and ``elasticity`` (point price
        elasticity d ln share / d ln price from the neighbouring grid prices: central
        difference inside, one-sided at the ends) with its interval.
    """
    grid = _price_grid(market, prices, n_prices)
    markets = [market.with_price(offer, p) for p in grid]
    point, draws = sim.share_of(markets, offer)
    lo_q, hi_q = _tails(sim)
    frame = pd.DataFrame({"price": grid, "share": point})
    frame["revenue"] = grid * point
    frame["profit"] = (grid - cost) * point
    frame["elasticity"] = _grid_elasticity(grid, point[None, :])[0]
    if draws is not None:
        for name, values in (
            ("share", draws),
            ("revenue", draws * grid),
            ("profit", draws * (grid - cost)),
            ("elasticity", _grid_elasticity(grid, draws)),
        ):
            frame[f"{name}_lower"] = np.quantile(values, lo_q, axis=0)
            frame[f"{name}_upper"] = np.quantile(values, hi_q, axis=0)
    return frame


def _grid_elasticity(grid: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """d ln s / d ln p along a grid, (S, n) → (S, n)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.gradient(np.log(shares), np.log(grid), axis=1)


def price_elasticity(
    sim: MarketSimulator,
    market: Market,
    offer: str,
    *,
    price: float | None = None,
    step: float = 1e-3,
) -> dict[str, float]:
    """Point price elasticity of the offer's share at ``price`` (default: its price).

    ε = (p / s) ds/dp by a central difference with relative step ``step``. Returns
    ``{"price", "share", "elasticity", "lower", "upper"}`` (bounds when the simulator
    has uncertainty draws).
    """
    j = market.index(offer)
    p = float(market.prices[j]) if price is None else float(price)
    if not np.isfinite(p) or p <= 0:
        raise OfferlabError(f"the point elasticity needs a positive price; got {p}")
    h = step * p
    markets = [market.with_price(offer, q) for q in (p - h, p, p + h)]
    point, draws = sim.share_of(markets, offer)
    out = {"price": p, "share": float(point[1])}
    out["elasticity"] = float((point[2] - point[0]) / (2 * h) * p / point[1])
    if draws is not None:
        e = (draws[:, 2] - draws[:, 0]) / (2 * h) * p / draws[:, 1]
        out["lower"], out["upper"] = (float(v) for v in np.quantile(e, _tails(sim)))
    return out


def arc_elasticity(
    sim: MarketSimulator, market: Market, offer: str, price_from: float, price_to: float
) -> dict[str, float]:
    """Arc (midpoint) price elasticity between two prices.

    ε = [(s₂ − s₁) / ((s₁ + s₂)/2)] / [(p₂ − p₁) / ((p₁ + p₂)/2)]. Returns
    ``{"elasticity", "share_from", "share_to", "lower", "upper"}``.
    """
    p1, p2 = float(price_from), float(price_to)
    if p1 == p2:
        raise OfferlabError("the arc elasticity needs two different prices")
    point, draws = sim.share_of([market.with_price(offer, p1), market.with_price(offer, p2)], offer)

    def arc(s1: np.ndarray, s2: np.ndarray) -> np.ndarray:
        return ((s2 - s1) / ((s1 + s2) / 2)) / ((p2 - p1) / ((p1 + p2) / 2))

    out = {
        "elasticity": float(arc(point[0], point[1])),
        "share_from": float(point[0]),
        "share_to": float(point[1]),
    }
    if draws is not None:
        e = arc(draws[:, 0], draws[:, 1])
        out["lower"], out["upper"] = (float(v) for v in np.quantile(e, _tails(sim)))
    return out


def sample_scenarios(
    market: Market,
    offer: str,
    n: int,
    rng: np.random.Generator | int | None = None,
) -> list[Market]:
    """``n`` markets in which every competitor offer is a random allowed concept.

    ``offer``, the status-quo options and none stay as they are; each other offer
    gets levels drawn uniformly from the study's allowed concepts (prohibitions
    respected), its name kept.
    """
    coding = _coding(market)
    study = coding.study
    rng = np.random.default_rng(rng)
    allowed = study.allowed_concepts
    others = [
        name
        for name, kind in zip(market.names, market.kinds, strict=True)
        if kind == "offer" and name != offer
    ]
    out = []
    for _ in range(n):
        m = market
        for name in others:
            concept = allowed[rng.integers(len(allowed))]
            levels = {
                a: study.level_value(a, int(i))
                for a, i in zip(study.attribute_names, concept, strict=True)
            }
            m = m.with_offer(name, **levels)
        out.append(m)
    return out


def wtp_by_simulation(
    sim: MarketSimulator,
    market: Market,
    offer: str,
    attribute: str,
    level: object,
    *,
    base_level: object | None = None,
    scenarios: Sequence[Market] | int | None = None,
    rng: np.random.Generator | int | None = 0,
    price_range: tuple[float, float] | None = None,
    tol: float = 1e-6,
) -> dict[str, object]:
    """Willingness to pay for ``level`` of ``attribute``: the price rise that brings the
    offer's share back to what it was at ``base_level`` (Sawtooth's simulation WTP).

    For each competitive scenario: s₀ = share of the offer at ``base_level`` and its
    current price p₀; with ``level`` instead, the price p* where the share falls back
    to s₀ is found by bisection (the share falls with the price); WTP = p* − p₀.
    The scenarios are the market itself (``scenarios=None``), a list of markets, or
    an int n for n random competitive scenarios (:func:`sample_scenarios`), Sawtooth's
    "sampling of scenarios" that keeps the answer from hinging on one competitor set.
    With uncertainty draws, the bisection runs on every draw at once.

    Parameters
    ----------
    base_level : optional
        Default: the offer's own level of ``attribute``.
    price_range : (float, float), optional
        Where p* may lie. Default: the studied price range (a part-worth coded price
        cannot extrapolate; a linear one should not be trusted beyond it).
    tol : float
        Bisection stops when the bracket is narrower than ``tol`` (currency units).

    Returns
    -------
    dict
        ``wtp`` (mean over scenarios of the point WTP), ``median``, ``per_scenario``
        (array), ``lower``/``upper`` (interval of the scenario-mean WTP over the
        uncertainty draws), ``beyond_range`` (scenarios where the level is worth more,
        or less, than the price range can offset: their WTP is NaN).
    """
    coding = _coding(market)
    attr_price = market.price_attribute()
    j = market.index(offer)
    current = market.offers[j]
    if current is None:
        raise OfferlabError(f"'{offer}' is not an offer with attribute levels")
    if attribute == attr_price.name:
        raise OfferlabError("WTP for a level of the price itself is its price difference")
    if base_level is None:
        base_level = current[attribute]
    p0 = float(market.prices[j])
    lo, hi = (
        price_range if price_range is not None else (min(attr_price.values), max(attr_price.values))
    )
    if not lo < hi:
        raise OfferlabError(f"price_range must be (low, high) with low < high; got {price_range}")
    if isinstance(scenarios, int):
        markets = sample_scenarios(market, offer, scenarios, rng)
    elif scenarios is None:
        markets = [market]
    else:
        markets = list(scenarios)
    D = sim.uncertainty_draws()
    per_point, per_draw = [], []
    for m in markets:
        base = m.with_offer(offer, **{attribute: base_level, attr_price.name: p0})
        s0, d0 = sim.share_of([base], offer)
        better = m.with_offer(offer, **{attribute: level, attr_price.name: p0})

        def point_excess(q: float, better: Market = better, s0: float = float(s0[0])) -> float:
            return float(sim.share_of([better.with_price(offer, q)], offer, draws=False)[0][0]) - s0

        per_point.append(_bisect(point_excess, lo, hi, tol) - p0)
        if D is not None and d0 is not None:
            target = d0[:, 0]

            def draw_excess(
                q: np.ndarray, better: Market = better, target: np.ndarray = target
            ) -> np.ndarray:
                return _draw_shares_at_prices(sim, coding, better, j, q, D) - target

            per_draw.append(_bisect_many(draw_excess, lo, hi, tol, target.size) - p0)
    wtp = np.asarray(per_point)
    out: dict[str, object] = {
        "attribute": attribute,
        "level": level,
        "base_level": base_level,
        "wtp": float(np.nanmean(wtp)) if np.isfinite(wtp).any() else np.nan,
        "median": float(np.nanmedian(wtp)) if np.isfinite(wtp).any() else np.nan,
        "per_scenario": wtp,
        "beyond_range": int(np.isnan(wtp).sum()),
    }
    D = np.stack(per_draw, axis=1) if per_draw and per_draw[0].size else None
    if D is not None:
        finite = np.isfinite(D)
        counts = finite.sum(axis=1)
        mean_draw = np.where(finite, D, 0.0).sum(axis=1) / np.maximum(counts, 1)
        mean_draw = mean_draw[counts > 0]
        if mean_draw.size:
            out["lower"], out["upper"] = (float(v) for v in np.quantile(mean_draw, _tails(sim)))
    return out


def _bisect(f: Callable[[float], float], lo: float, hi: float, tol: float) -> float:
    """Root of a decreasing f on [lo, hi] by bisection; NaN when [lo, hi] holds none."""
    flo, fhi = f(lo), f(hi)
    if not (flo >= 0 >= fhi):
        return np.nan
    a, b = lo, hi
    while b - a > tol:
        mid = (a + b) / 2
        if f(mid) > 0:
            a = mid
        else:
            b = mid
    return (a + b) / 2


def _bisect_many(
    f: Callable[[np.ndarray], np.ndarray], lo: float, hi: float, tol: float, n: int
) -> np.ndarray:
    """Roots of n decreasing functions at once (f maps prices (n,) → values (n,))."""
    a, b = np.full(n, float(lo)), np.full(n, float(hi))
    ok = (f(a) >= 0) & (f(b) <= 0)
    while (b - a).max() > tol:
        mid = (a + b) / 2
        right = f(mid) > 0
        a = np.where(right, mid, a)
        b = np.where(right, b, mid)
    return np.where(ok, (a + b) / 2, np.nan)


def _price_columns(coding: ConjointCoding, prices: np.ndarray) -> tuple[slice, np.ndarray]:
    """The price block's columns for many prices at once, (n, width), as code_offer."""
    attr = coding.study.price_attribute
    assert attr is not None
    block = next(b for b in coding.blocks if b.attribute == attr.name)
    cols = slice(block.start, block.stop)
    if block.kind == "linear":
        return cols, prices[:, None].astype(float)
    grid = np.asarray(block.values, dtype=float)
    order = np.argsort(grid)
    pw = block.coding[order]
    out = np.column_stack([np.interp(prices, grid[order], pw[:, k]) for k in range(pw.shape[1])])
    return cols, out


def _draw_shares_at_prices(
    sim: MarketSimulator,
    coding: ConjointCoding,
    market: Market,
    j: int,
    prices: np.ndarray,
    D: np.ndarray,
) -> np.ndarray:
    """Whole-market share of alternative j in uncertainty draw s at price prices[s], (S,)."""
    S, R_u, _ = D.shape
    cols, pc = _price_columns(coding, prices)
    X = np.broadcast_to(market.X, (S, *market.X.shape)).copy()
    X[:, j, cols] = pc
    w = sim.population.draw_weights(R_u)
    if sim.rule == "rfc":
        return np.array(
            [sim._kernel(D[s], w, None, 1, replace(market, X=X[s]))[0, j] for s in range(S)]
        )
    V = np.einsum("srk,sjk->srj", D, X)
    V += market.offset
    P = row_shares(V.reshape(S * R_u, -1), sim.rule, scale=sim.scale).reshape(S, R_u, -1)
    return P[:, :, j] @ w


def wtp_ratio(
    sim: MarketSimulator, coding: ConjointCoding, attribute: str, level: object, base_level: object
) -> dict[str, float]:
    """WTP as the ratio of coefficients: −(u(level) − u(base)) / β_price, per population row.

    Needs a linear price. Returns the weighted ``mean`` and ``median`` over the
    population's rows (the mean is fragile when some rows' price coefficient is near
    zero, as in HB; prefer the median then) and, with draws, ``lower``/``upper`` of the
    population mean.
    """
    price = coding.study.price_attribute
    if price is None:
        raise OfferlabError("WTP needs a price attribute")
    block = next(b for b in coding.blocks if b.attribute == price.name)
    if block.kind != "linear":
        raise OfferlabError("the coefficient-ratio WTP needs a linear price; use wtp_by_simulation")
    offer = {b.attribute: _levels(coding.study, b.attribute)[0] for b in coding.blocks}
    dx = coding.code_offer({**offer, attribute: level}) - coding.code_offer(
        {**offer, attribute: base_level}
    )

    def per_row(B: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return -(B @ dx) / B[..., block.start]

    pop = sim.population
    values = per_row(pop.B)
    order = np.argsort(values)
    cum = np.cumsum(pop.w[order])
    out = {
        "mean": float(pop.w @ values),
        "median": float(values[order][np.searchsorted(cum, 0.5)]),
    }
    D = sim.uncertainty_draws()
    if D is not None:
        w = pop.draw_weights(D.shape[1])
        means = per_row(D) @ w
        out["lower"], out["upper"] = (float(v) for v in np.quantile(means, _tails(sim)))
    return out
