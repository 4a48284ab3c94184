"""Pricing studies from the survey's direct price questions.

* :func:`van_westendorp` — the Price Sensitivity Meter (van Westendorp 1976): four
  cumulative curves, their complements, the four intersection prices and the acceptable
  range; with purchase-likelihood answers, the Newton–Miller–Smith (1993) trial and
  revenue curves.
* :func:`gabor_granger` — demand, revenue and the step price elasticity at each tested
  price of a price ladder, and the revenue-maximising price.

Both take one row per respondent; :func:`van_westendorp_frame` and
:func:`gabor_granger_frame` pivot the tidy answers of the fielding export (see
:mod:`offerlab.decide._needs` for that frame).

Conventions (stated because published tools differ on them)
----------------------------------------------------------
At a price p, a respondent counts as finding it "too cheap" when p ≤ their too-cheap
answer, "cheap" when p ≤ their cheap answer, "expensive" when p ≥ their expensive
answer and "too expensive" when p ≥ their too-expensive answer. The curves are these
weighted shares at every price anyone gave, joined by straight lines in between; every
intersection is the exact crossing of two such polylines (the first one, from low
prices up). "Not cheap" = 1 − cheap and "not expensive" = 1 − expensive.

The R package pricesensitivitymeter (Alletsee; ``psm_analysis`` with its defaults
``interpolate = FALSE, intersection_method = "min"``) differs in two ways, both
available here as options of :func:`van_westendorp`:

* ``cheap_curves="strict"``: its cheap-side curves are 1 − the empirical CDF, so a
  respondent stops counting as "too cheap" / "cheap" *at* their own answer (answer > p);
  the expensive side counts answer ≤ p in both conventions.
* ``between_prices="none"``: only the prices given are candidates — each price point is
  the first price given at which the falling curve is no longer above the rising one,
  and the NMS revenue optimum is the best price given.

With both options the four price points, the curves and the NMS trial and revenue
optima of the worked example in ``tests/decide/test_pricing_published.py`` are
reproduced (see that test for the one published figure that differs, and why).

* point of marginal cheapness (PMC): too cheap × not cheap — the low end of the range;
* point of marginal expensiveness (PME): too expensive × not expensive — the high end;
* optimal price point (OPP): too cheap × too expensive;
* indifference price point (IPP): cheap × expensive.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any, Literal

import numpy as np
import pandas as pd

from offerlab.decide._money import price_edge
from offerlab.exceptions import OfferlabError

__all__ = [
    "NMS_CALIBRATION",
    "ConjointPrice",
    "GaborGrangerResult",
    "PricingStudy",
    "VanWestendorpResult",
    "gabor_granger",
    "gabor_granger_frame",
    "money_text",
    "pricing_study",
    "van_westendorp",
    "van_westendorp_frame",
]

VW_COLUMNS = ("too_cheap", "cheap", "expensive", "too_expensive")
NMS_COLUMNS = ("likelihood_cheap", "likelihood_expensive")
#: Purchase probability of the five likelihood answers, "definitely not" first: the
#: calibration commonly used with Newton–Miller–Smith (and the default of the R package
#: pricesensitivitymeter, pi_calibrated = 0.7, 0.5, 0.3, 0.1, 0 for answers 5…1).
NMS_CALIBRATION = (0.0, 0.1, 0.3, 0.5, 0.7)


@dataclass(frozen=True)
class VanWestendorpResult:
    """Van Westendorp's price points, curves and (optionally) the NMS extension.

    Attributes
    ----------
    curves : DataFrame
        ``price`` and the shares ``too_cheap``, ``cheap``, ``not_cheap``,
        ``expensive``, ``not_expensive``, ``too_expensive`` at every price given.
    pmc, pme, opp, ipp : float
        Point of marginal cheapness, of marginal expensiveness, optimal and
        indifference price points (NaN when two curves do not cross).
    n_respondents : int
        Respondents used.
    n_inconsistent : int
        Respondents left out because their answers were not too cheap < cheap <
        expensive < too expensive (or were missing).
    nms : DataFrame or None
        ``price``, ``trial`` (mean calibrated purchase probability) and ``revenue``
        (price × trial) at every price given, with likelihood answers.
    trial_price, revenue_price : float or None
        The price given with the highest trial, and the revenue-maximising price
        (exact on the piecewise-linear trial curve, so it may lie between the prices
        given; with ``between_prices="none"`` the best price given).
    max_trial, max_revenue : float or None
    """

    curves: pd.DataFrame
    pmc: float
    pme: float
    opp: float
    ipp: float
    n_respondents: int
    n_inconsistent: int
    nms: pd.DataFrame | None = None
    trial_price: float | None = None
    revenue_price: float | None = None
    max_trial: float | None = None
    max_revenue: float | None = None

    @property
    def acceptable_range(self) -> tuple[float, float]:
        """(PMC, PME)."""
        return (self.pmc, self.pme)

    def summary(self) -> pd.DataFrame:
        """The price points as a two-column table (point, price)."""
        rows = {
            "point of marginal cheapness": self.pmc,
            "optimal price point": self.opp,
            "indifference price point": self.ipp,
            "point of marginal expensiveness": self.pme,
        }
        if self.trial_price is not None:
            rows["NMS trial-maximising price"] = self.trial_price
            rows["NMS revenue-maximising price"] = self.revenue_price  # type: ignore[assignment]
        return pd.DataFrame({"point": list(rows), "price": list(rows.values())})


def _weights(frame: pd.DataFrame, weights: str | None) -> np.ndarray:
    if weights is None:
        return np.ones(len(frame))
    if weights not in frame.columns:
        raise OfferlabError(f"no weight column {weights!r}")
    w = pd.to_numeric(frame[weights], errors="coerce").to_numpy(float)
    if not np.isfinite(w).all() or (w < 0).any():
        raise OfferlabError("weights must be non-negative numbers")
    return w


def _crossing(price: np.ndarray, falling: np.ndarray, rising: np.ndarray) -> float:
    """First price where the polyline ``falling`` meets ``rising`` (NaN when never)."""
    d = falling - rising
    if d[0] <= 0:
        return float(price[0]) if d[0] == 0 else np.nan
    k = np.flatnonzero(d <= 0)
    if k.size == 0:
        return np.nan
    k = int(k[0])
    if d[k] == 0:
        return float(price[k])
    # Linear on [p_{k−1}, p_k]: both curves are straight there, so is their difference.
    t = d[k - 1] / (d[k - 1] - d[k])
    return float(price[k - 1] + t * (price[k] - price[k - 1]))


def _first_price(price: np.ndarray, falling: np.ndarray, rising: np.ndarray) -> float:
    """First price given at which ``falling`` is no longer above ``rising`` (NaN when
    never) — pricesensitivitymeter's ``intersection_method = "min"``."""
    k = np.flatnonzero(falling <= rising)
    return float(price[k[0]]) if k.size else np.nan


def van_westendorp(
    answers: pd.DataFrame,
    *,
    weights: str | None = None,
    calibration: Sequence[float] = NMS_CALIBRATION,
    cheap_curves: Literal["inclusive", "strict"] = "inclusive",
    between_prices: Literal["interpolate", "none"] = "interpolate",
) -> VanWestendorpResult:
    """Van Westendorp's Price Sensitivity Meter (and Newton–Miller–Smith when possible).

    Parameters
    ----------
    answers : DataFrame
        One row per respondent with the prices ``too_cheap``, ``cheap``,
        ``expensive``, ``too_expensive``; optionally ``likelihood_cheap`` and
        ``likelihood_expensive``, the 1–5 answers to "how likely would you buy at
        your 'cheap' / 'expensive' price" (1 = definitely not), which add the NMS
        curves. See :func:`van_westendorp_frame` for tidy answers.
    weights : str, optional
        A column of respondent weights.
    calibration : sequence of 5 floats
        Purchase probability of each likelihood answer 1…5.
    cheap_curves : {"inclusive", "strict"}
        At a price p, "too cheap" and "cheap" count the respondents whose answer is
        ≥ p ("inclusive", the default: whoever calls 10 too cheap finds 10 too cheap)
        or > p ("strict": 1 − the empirical CDF, as the R package
        pricesensitivitymeter does). "Expensive" and "too expensive" count answers
        ≤ p either way.
    between_prices : {"interpolate", "none"}
        "interpolate" (default): the curves and the NMS trial are straight lines
        between the prices given; price points are exact crossings and the revenue
        optimum the exact maximum, so they may fall between prices given. "none":
        only prices given are candidates — each price point is the first price given
        at which the falling curve is no longer above the rising one (ties count as
        met), the revenue optimum the best price given (pricesensitivitymeter's
        ``interpolate = FALSE, intersection_method = "min"``).

    Returns
    -------
    VanWestendorpResult

    Notes
    -----
    The curves are compared as weighted counts before they are divided by the total
    weight, so with unit (or integer) weights two curves that hold the same number of
    respondents at a price are exactly equal there (a tie), whatever the sample size.

    NMS: each respondent's purchase probability is 0 at and below their too-cheap
    price, the calibrated likelihood at their cheap and expensive prices, 0 at and above
    their too-expensive price, and linear in between. Trial is its weighted mean; it is
    linear between consecutive prices given, so revenue p × trial(p) is a parabola
    there and its maximum is found exactly. (pricesensitivitymeter interpolates each
    respondent linearly in the *rank* of the prices given rather than in price; the two
    agree wherever the prices given between a respondent's answers are evenly spaced.)
    """
    if cheap_curves not in ("inclusive", "strict"):
        raise OfferlabError(f"cheap_curves must be 'inclusive' or 'strict', not {cheap_curves!r}")
    if between_prices not in ("interpolate", "none"):
        raise OfferlabError(
            f"between_prices must be 'interpolate' or 'none', not {between_prices!r}"
        )
    missing = [c for c in VW_COLUMNS if c not in answers.columns]
    if missing:
        raise OfferlabError(
            f"Van Westendorp needs the columns {list(VW_COLUMNS)}; missing {missing}"
        )
    P = answers[list(VW_COLUMNS)].apply(pd.to_numeric, errors="coerce").to_numpy(float)
    w_all = _weights(answers, weights)
    ok = np.isfinite(P).all(axis=1) & (np.diff(P, axis=1) > 0).all(axis=1)
    P, w = P[ok], w_all[ok]
    if len(P) == 0 or w.sum() <= 0:
        raise OfferlabError("no respondent answered too cheap < cheap < expensive < too expensive")
    total = w.sum()
    price = np.unique(P)
    tc, ch, ex, te = P.T
    # Weighted counts, not shares: integer weights keep them exact, so equal counts are
    # a tie (1 − 946/991 > 45/991 in floating point, but 45 = 991 − 946).
    if cheap_curves == "inclusive":
        n_too_cheap = (tc[None, :] >= price[:, None]) @ w
        n_cheap = (ch[None, :] >= price[:, None]) @ w
    else:
        n_too_cheap = (tc[None, :] > price[:, None]) @ w
        n_cheap = (ch[None, :] > price[:, None]) @ w
    n_expensive = (ex[None, :] <= price[:, None]) @ w
    n_too_expensive = (te[None, :] <= price[:, None]) @ w
    too_cheap, cheap = n_too_cheap / total, n_cheap / total
    expensive, too_expensive = n_expensive / total, n_too_expensive / total
    curves = pd.DataFrame(
        {
            "price": price,
            "too_cheap": too_cheap,
            "cheap": cheap,
            "not_cheap": (total - n_cheap) / total,
            "expensive": expensive,
            "not_expensive": (total - n_expensive) / total,
            "too_expensive": too_expensive,
        }
    )
    meet = _crossing if between_prices == "interpolate" else _first_price
    result = {
        "curves": curves,
        "pmc": meet(price, n_too_cheap, total - n_cheap),
        "pme": meet(price, total - n_expensive, n_too_expensive),
        "opp": meet(price, n_too_cheap, n_too_expensive),
        "ipp": meet(price, n_cheap, n_expensive),
        "n_respondents": int(ok.sum()),
        "n_inconsistent": int((~ok).sum()),
    }
    if all(c in answers.columns for c in NMS_COLUMNS):
        result.update(
            _nms(
                answers.loc[ok, list(NMS_COLUMNS)],
                P,
                w / total,
                price,
                calibration,
                exact_maximum=between_prices == "interpolate",
            )
        )
    return VanWestendorpResult(**result)


def _nms(
    likelihood: pd.DataFrame,
    P: np.ndarray,
    w: np.ndarray,
    price: np.ndarray,
    calibration: Sequence[float],
    *,
    exact_maximum: bool,
) -> dict[str, object]:
    cal = np.asarray(calibration, dtype=float)
    if cal.shape != (5,) or not np.isfinite(cal).all() or (cal < 0).any() or (cal > 1).any():
        raise OfferlabError("calibration must be 5 probabilities, for answers 1 to 5")
    L = likelihood.apply(pd.to_numeric, errors="coerce").to_numpy(float)
    if not np.isin(L, [1, 2, 3, 4, 5]).all():
        raise OfferlabError("likelihood answers must be 1 to 5 (1 = definitely not)")
    prob = cal[L.astype(int) - 1]  # (n, 2): at the cheap and at the expensive price
    trial = np.zeros(len(price))
    for i in range(len(P)):
        knots = P[i]
        values = np.array([0.0, prob[i, 0], prob[i, 1], 0.0])
        trial += w[i] * np.interp(price, knots, values, left=0.0, right=0.0)
    revenue = price * trial
    # Exact revenue maximum: on [p_k, p_k+1] trial = a + b p, revenue = a p + b p².
    best_p, best_r = float(price[int(revenue.argmax())]), float(revenue.max())
    for k in range(len(price) - 1 if exact_maximum else 0):
        p0, p1 = price[k], price[k + 1]
        b = (trial[k + 1] - trial[k]) / (p1 - p0)
        a = trial[k] - b * p0
        if b < 0:
            vertex = -a / (2 * b)
            if p0 < vertex < p1 and a * vertex + b * vertex**2 > best_r:
                best_p, best_r = float(vertex), float(a * vertex + b * vertex**2)
    k = int(trial.argmax())
    return {
        "nms": pd.DataFrame({"price": price, "trial": trial, "revenue": revenue}),
        "trial_price": float(price[k]),
        "max_trial": float(trial[k]),
        "revenue_price": best_p,
        "max_revenue": best_r,
    }


@dataclass(frozen=True)
class GaborGrangerResult:
    """Gabor–Granger demand and revenue.

    Attributes
    ----------
    curve : DataFrame
        ``price``, ``demand`` (weighted share who would buy at that price),
        ``lower``/``upper`` (Wilson interval on the respondents count), ``revenue``
        (price × demand, per respondent) and ``elasticity``: the price elasticity of
        demand over the step from the previous tested price, (ΔD / D_previous) /
        (ΔP / P_previous) — negative when demand falls; NaN at the lowest price and where
        nobody would buy at the previous price.
    revenue_price : float
        The tested price with the highest revenue.
    max_revenue : float
    n_respondents : int
    n_non_monotone : int
        Respondents who accepted a price but refused a lower one (their highest
        accepted price is used).
    """

    curve: pd.DataFrame
    revenue_price: float
    max_revenue: float
    n_respondents: int
    n_non_monotone: int


def gabor_granger(
    answers: pd.DataFrame,
    *,
    accept_from: int = 4,
    weights: str | None = None,
    prices: Sequence[float] | None = None,
    interval: float = 0.95,
) -> GaborGrangerResult:
    """Demand and revenue curves of a Gabor–Granger price ladder.

    Parameters
    ----------
    answers : DataFrame
        One row per (respondent, price asked): ``respondent``, ``price``, ``answer``
        (1–5, 1 = definitely not). Prices not asked (the ladder stops once a price is
        accepted) are simply absent. See :func:`gabor_granger_frame`.
    accept_from : int
        Answers from this one on count as "would buy" (the study page's
        ``accept_from``, default 4 = "probably").
    weights : str, optional
        A column of respondent weights (constant within a respondent).
    prices : list of float, optional
        The tested prices (default: every price in the answers).
    interval : float
        Coverage of the Wilson intervals.

    Returns
    -------
    GaborGrangerResult

    Notes
    -----
    A respondent who would buy at a price would buy at any lower one (the ladder asks
    from the highest price down and stops at the first "yes"): their willingness to pay
    is the highest accepted price, and demand at p is the weighted share whose
    willingness to pay is at least p. Revenue = p × demand(p), per respondent, and the
    revenue-maximising price is the best tested price (no interpolation between them).
    Some tools instead take demand at p as the share answering "would buy" among those
    asked p; with a ladder that stops at the first "yes" that share leaves out everyone
    who accepted a higher price and was never asked p, so it is not used here.
    """
    need = {"respondent", "price", "answer"}
    if not need <= set(answers.columns):
        raise OfferlabError(f"Gabor–Granger needs the columns {sorted(need)}")
    frame = answers.copy()
    frame["price"] = pd.to_numeric(frame["price"], errors="coerce")
    frame["answer"] = pd.to_numeric(frame["answer"], errors="coerce")
    if frame[["price", "answer"]].isna().any().any():
        raise OfferlabError("Gabor–Granger prices and answers must be numbers")
    if not frame["answer"].isin([1, 2, 3, 4, 5]).all():
        raise OfferlabError("Gabor–Granger answers must be 1 to 5 (1 = definitely not)")
    frame["accept"] = frame["answer"] >= accept_from
    grid = (
        np.sort(frame["price"].unique()) if prices is None else np.sort(np.asarray(prices, float))
    )
    per = frame.groupby("respondent", sort=False)
    wtp = per.apply(
        lambda g: g.loc[g["accept"], "price"].max() if g["accept"].any() else -np.inf,
        include_groups=False,
    )
    refused_below = per.apply(
        lambda g: bool(
            g["accept"].any()
            and (~g["accept"] & (g["price"] < g.loc[g["accept"], "price"].max())).any()
        ),
        include_groups=False,
    )
    if weights is None:
        w = np.ones(len(wtp))
    else:
        w = per[weights].first().reindex(wtp.index).to_numpy(float)
    W = w.sum()
    buy = (wtp.to_numpy()[None, :] >= grid[:, None]).astype(float) @ w
    demand = buy / W
    n = len(wtp)
    lower, upper = _wilson(demand, n, interval)
    curve = pd.DataFrame(
        {
            "price": grid,
            "demand": demand,
            "lower": lower,
            "upper": upper,
            "revenue": grid * demand,
            "elasticity": _step_elasticity(grid, demand),
        }
    )
    k = int(curve["revenue"].to_numpy().argmax())
    return GaborGrangerResult(
        curve=curve,
        revenue_price=float(grid[k]),
        max_revenue=float(curve["revenue"].iloc[k]),
        n_respondents=n,
        n_non_monotone=int(refused_below.sum()),
    )


def _step_elasticity(price: np.ndarray, demand: np.ndarray) -> np.ndarray:
    """(ΔD / D) / (ΔP / P) from each price to the next, relative to the lower one.

    The percentage changes are taken on the step's starting point, as Gabor–Granger
    reports usually do (not the midpoint arc elasticity of
    :func:`offerlab.decide.arc_elasticity`), so the figures read as published tables do.
    """
    out = np.full(len(price), np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        step = (np.diff(demand) / demand[:-1]) / (np.diff(price) / price[:-1])
    out[1:] = np.where(demand[:-1] > 0, step, np.nan)
    return out


def _wilson(p: np.ndarray, n: int | np.ndarray, interval: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for proportions p out of n."""
    from scipy import stats

    z = stats.norm.ppf(0.5 + interval / 2)
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return centre - half, centre + half


def van_westendorp_frame(answers: pd.DataFrame, question: str) -> pd.DataFrame:
    """One row per respondent from tidy answers of a ``van_westendorp`` page.

    ``answers`` has ``respondent``, ``question``, ``item``, ``answer``; the page's rows
    have ``question`` = the page id and ``item`` one of ``too_cheap``, ``cheap``,
    ``expensive``, ``too_expensive``, ``likelihood_cheap``, ``likelihood_expensive``.
    """
    rows = _rows_of(answers, question)
    wide = rows.pivot_table(index="respondent", columns="item", values="answer", aggfunc="first")
    wide = wide.apply(pd.to_numeric, errors="coerce").reset_index()
    wide.columns.name = None
    return wide


def gabor_granger_frame(answers: pd.DataFrame, question: str) -> pd.DataFrame:
    """``respondent, price, answer`` from tidy answers of a ``gabor_granger`` page
    (``item`` = the price asked, ``answer`` = 1–5)."""
    rows = _rows_of(answers, question)
    return pd.DataFrame(
        {
            "respondent": rows["respondent"].to_numpy(),
            "price": pd.to_numeric(rows["item"], errors="coerce").to_numpy(),
            "answer": pd.to_numeric(rows["answer"], errors="coerce").to_numpy(),
        }
    )


def _rows_of(answers: pd.DataFrame, question: str) -> pd.DataFrame:
    need = {"respondent", "question", "item", "answer"}
    if not need <= set(answers.columns):
        raise OfferlabError(f"tidy answers need the columns {sorted(need)}")
    rows = answers[answers["question"] == question]
    if rows.empty:
        raise OfferlabError(f"no answers to question {question!r}")
    return rows


# -- the pricing page: the direct questions beside the conjoint, with costs -----------------


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


@dataclass(frozen=True)
class PricingStudy:
    """Van Westendorp, Gabor–Granger and the conjoint demand of the same offer, with costs.

    Attributes
    ----------
    offer : str or None
        The offer the survey's price questions describe.
    van_westendorp, gabor_granger : result or None
    demand : DataFrame or None
        :func:`~offerlab.decide.demand_curve` of the offer (share, revenue and profit of
        the offer itself), plus ``ours_revenue`` and ``ours_profit`` (with bounds): all
        our offers together while this one's price moves (it takes from its siblings).
    cost : float or None
        The offer's cost per sale from the market file.
    revenue_best, profit_best : ConjointPrice or None
        The prices that maximise our offers' revenue and profit per person in the market.
    comparison : list of str
        Sentences: where the methods agree, and when they cannot tell.
    table : DataFrame
        ``measure``, ``value``: the price points in words and money.
    """

    offer: str | None
    van_westendorp: VanWestendorpResult | None
    gabor_granger: GaborGrangerResult | None
    demand: pd.DataFrame | None
    cost: float | None
    revenue_best: ConjointPrice | None
    profit_best: ConjointPrice | None
    comparison: list[str]
    table: pd.DataFrame


@dataclass(frozen=True)
class _Findings:
    """What the pricing page's table and sentences are written from."""

    vw: VanWestendorpResult | None
    gg: GaborGrangerResult | None
    offer: str | None
    cost: float | None
    revenue_best: ConjointPrice | None
    profit_best: ConjointPrice | None
    currency: str

    def unpacked(self) -> tuple:
        """The fields in order (shallow: the results stay objects, unlike ``astuple``)."""
        return tuple(getattr(self, f.name) for f in fields(self))


def money_text(value: float | None, currency: str) -> str:
    """``CHF 1,290``; ``n/a`` for a missing number."""
    if value is None or not np.isfinite(value):
        return "n/a"
    return f"{currency} {value:,.0f}".strip()


def pricing_study(
    study: Any,
    answers: pd.DataFrame | None,
    *,
    sim: Any = None,
    market: Any = None,
    offer: str | None = None,
    costs: Any = None,
    prices: Sequence[float] | None = None,
) -> PricingStudy | None:
    """The pricing page: the survey's price questions and the conjoint, with costs.

    Parameters
    ----------
    study : Study
    answers : DataFrame, optional
        Tidy answers (respondent, question, item, answer) of the survey's other questions.
    sim, market : MarketSimulator, Market, optional
        For the conjoint demand, revenue and profit of ``offer`` in the market.
    offer : str, optional
        The offer the price questions describe (the market file's ``pricing_offer``).
    costs : Costs, optional
        The market file's costs: the profit-maximising price needs them.
    prices : list of float, optional
        The conjoint's price grid (default: 41 prices over the studied range).

    Returns None when there is nothing to show.
    """
    from offerlab.study import GaborGrangerPage, VanWestendorpPage

    pages = study.questionnaire.pages if study.questionnaire is not None else []
    vw_page = next((p for p in pages if isinstance(p, VanWestendorpPage)), None)
    gg_page = next((p for p in pages if isinstance(p, GaborGrangerPage)), None)
    vw = gg = None
    if answers is not None and vw_page is not None and (answers["question"] == vw_page.id).any():
        vw = van_westendorp(van_westendorp_frame(answers, vw_page.id))
    if answers is not None and gg_page is not None and (answers["question"] == gg_page.id).any():
        gg = gabor_granger(
            gabor_granger_frame(answers, gg_page.id), accept_from=gg_page.accept_from
        )
    price_attr = study.price_attribute
    currency = price_attr.currency if price_attr is not None else ""
    demand = cost = revenue_best = profit_best = None
    if sim is not None and market is not None and offer is not None and price_attr is not None:
        studied = [float(v) for v in price_attr.values]
        grid = np.asarray(
            sorted(prices) if prices is not None else np.linspace(min(studied), max(studied), 41),
            dtype=float,
        )
        if costs is not None:
            cost = costs.of(market.offers[market.index(offer)])
        demand, values = _conjoint_demand(sim, market, offer, grid, costs, cost)
        revenue_best = _best_price(grid, *values["revenue"], studied, sim.interval)
        if costs is not None:
            profit_best = _best_price(grid, *values["profit"], studied, sim.interval)
    if vw is None and gg is None and demand is None:
        return None
    found = _Findings(vw, gg, offer, cost, revenue_best, profit_best, currency)
    table = _pricing_table(found)
    comparison = _compare(found)
    if gg is not None and demand is not None:
        comparison += _stated_and_chosen(gg, sim, market, offer, currency)
    return PricingStudy(offer, vw, gg, demand, cost, revenue_best, profit_best, comparison, table)


def _conjoint_demand(
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


def _best_price(
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


def _with_interval(best: ConjointPrice, currency: str) -> str:
    text = money_text(best.price, currency)
    if best.interval is not None:
        low, high = (money_text(v, currency) for v in best.interval)
        text += f" (95%: {low} to {high})"
    return text


def _pricing_table(found: _Findings) -> pd.DataFrame:
    vw, gg, offer, cost, revenue_best, profit_best, currency = found.unpacked()
    m = lambda v: money_text(v, currency)  # noqa: E731
    rows: list[tuple[str, str]] = []
    if vw is not None:
        rows += [
            ("Van Westendorp: acceptable range (PMC to PME)", f"{m(vw.pmc)} to {m(vw.pme)}"),
            ("Van Westendorp: optimal price point (OPP)", m(vw.opp)),
            ("Van Westendorp: indifference price point (IPP)", m(vw.ipp)),
        ]
        if vw.revenue_price is not None:
            rows.append(("Newton–Miller–Smith: revenue-maximising price", m(vw.revenue_price)))
            rows.append(("Newton–Miller–Smith: trial-maximising price", m(vw.trial_price)))
        rows.append(
            (
                "Van Westendorp respondents (inconsistent answers left out)",
                f"{vw.n_respondents} ({vw.n_inconsistent})",
            )
        )
    if gg is not None:
        rows.append(("Gabor–Granger: revenue-maximising tested price", m(gg.revenue_price)))
        rows.append(("Gabor–Granger respondents", f"{gg.n_respondents}"))
    if cost is not None:
        rows.append((f"Cost per sale of '{offer}' (market file)", m(cost)))
    if profit_best is not None:
        rows.append(
            (
                f"Conjoint: profit-maximising price of '{offer}' (all our offers' profit)",
                _with_interval(profit_best, currency),
            )
        )
    if revenue_best is not None:
        rows.append(
            (
                f"Conjoint: revenue-maximising price of '{offer}' (all our offers' revenue)",
                _with_interval(revenue_best, currency),
            )
        )
    return pd.DataFrame(rows, columns=["measure", "value"])


def _edge_words(best: ConjointPrice, what: str, offer: str | None, currency: str) -> str:
    beyond = "above" if best.edge == "highest" else "below"
    return (
        f"Caution: the conjoint's {what}-maximising price of '{offer}' "
        f"({money_text(best.price, currency)}) is the {best.edge} price studied, so the best "
        f"price may lie {beyond} it, where the survey did not ask."
    )


def _compare(found: _Findings) -> list[str]:
    """Sentences saying where the direct price questions and the conjoint agree or not.

    Agreement is claimed only when the optima compared lie inside the ranges tested: two
    methods that both stop at the lowest price asked agree on where the test ended, not
    on the best price.
    """
    vw, gg, offer, cost, revenue_best, profit_best, currency = found.unpacked()
    out: list[str] = []
    m = lambda v: money_text(v, currency)  # noqa: E731
    if revenue_best is None:
        if vw is not None or gg is not None:
            out.append(
                "No market file was given, so the conjoint demand curve of the offer the "
                "price questions describe is not shown beside them."
            )
        return out
    if profit_best is not None:
        text = (
            f"With a cost of {m(cost)} per sale, the conjoint puts the profit-maximising price "
            f"of '{offer}' at {_with_interval(profit_best, currency)}"
        )
        if cost is not None and revenue_best.price < cost:
            text += (
                f"; the revenue-maximising price ({m(revenue_best.price)}) lies below cost "
                "and would lose money on every sale"
            )
        elif cost is not None and revenue_best.price == cost:
            text += (
                f"; the revenue-maximising price ({m(revenue_best.price)}) equals the cost "
                "and would earn nothing on a sale"
            )
        out.append(text + ".")
        if profit_best.edge is not None:
            out.append(_edge_words(profit_best, "profit", offer, currency))
    else:
        out.append(
            "The market file gives no costs, so the page shows revenue, not profit: the "
            "revenue-maximising price can lie below cost."
        )
    best = revenue_best.price
    lo, hi = revenue_best.interval if revenue_best.interval is not None else (best, best)
    if vw is not None and np.isfinite(vw.pmc) and np.isfinite(vw.pme):
        if best < vw.pmc:
            where = "below Van Westendorp's acceptable range"
        elif best > vw.pme:
            where = "above Van Westendorp's acceptable range"
        else:
            where = "inside Van Westendorp's acceptable range"
        out.append(
            f"The conjoint puts the revenue-maximising price of '{offer}' at {m(best)}"
            + (f" (95% interval {m(lo)} to {m(hi)})" if revenue_best.interval is not None else "")
            + f", {where} ({m(vw.pmc)} to {m(vw.pme)})."
        )
    if revenue_best.edge is not None:
        out.append(_edge_words(revenue_best, "revenue", offer, currency))
    direct = [
        ("Newton–Miller–Smith", vw.revenue_price if vw is not None else None, None),
        (
            "Gabor–Granger",
            gg.revenue_price if gg is not None else None,
            gg.curve["price"].to_numpy(float) if gg is not None else None,
        ),
    ]
    for name, price, tested in direct:
        if price is None or not np.isfinite(price):
            continue
        edge = price_edge(price, tested) if tested is not None else None
        if edge is not None or revenue_best.edge is not None:
            where = [f"{name}'s at the {edge} price it asked" if edge else None]
            if revenue_best.edge is not None:
                where.append(f"the conjoint's at the {revenue_best.edge} price studied")
            out.append(
                f"{name}'s revenue-maximising price ({m(price)}) and the conjoint's ({m(best)}) "
                "cannot be compared: " + " and ".join(w for w in where if w) + ". Both "
                "may lie beyond the range tested; test prices beyond it before calling "
                "them in agreement."
            )
        elif lo <= price <= hi:
            out.append(
                f"{name}'s revenue-maximising price ({m(price)}) lies within the conjoint's "
                "interval, both inside the prices tested: they agree."
            )
        else:
            side = "lower" if price < lo else "higher"
            out.append(
                f"{name}'s revenue-maximising price ({m(price)}) is {side} than the conjoint's "
                f"({m(best)}; interval {m(lo)} to {m(hi)}): they disagree. The direct question "
                "asks about the offer alone; the conjoint prices it against the competing "
                "offers and the status quo, where people can walk away."
            )
    return out


def _stated_and_chosen(
    gg: GaborGrangerResult, sim: Any, market: Any, offer: str | None, currency: str
) -> list[str]:
    """How far demand falls over the Gabor–Granger ladder: stated, and in the conjoint."""
    p1, p2 = float(gg.curve["price"].min()), float(gg.curve["price"].max())
    curve = gg.curve.set_index("price")["demand"]
    if curve.loc[p1] <= 0 or p1 == p2:
        return []
    point, draws = sim.share_of([market.with_price(offer, p1), market.with_price(offer, p2)], offer)
    chosen = 1 - point[1] / point[0]
    stated = 1 - curve.loc[p2] / curve.loc[p1]
    m = lambda v: money_text(v, currency)  # noqa: E731
    text = (
        f"From {m(p1)} to {m(p2)}, stated demand (Gabor–Granger) falls by "
        f"{100 * stated:.0f}%; the offer's conjoint share falls by {100 * chosen:.0f}%"
    )
    if draws is None:
        return [text + "."]
    tail = (1 - sim.interval) / 2
    a, b = np.quantile(1 - draws[:, 1] / draws[:, 0], [tail, 1 - tail])
    text += f" (95%: {100 * a:.0f}% to {100 * b:.0f}%)"
    if a <= stated <= b:
        return [text + ": the same price sensitivity."]
    if stated < a:
        return [
            text + ": people say they are less price sensitive than their choices show "
            "(a common bias of direct price questions)."
        ]
    return [text + ": people say they are more price sensitive than their choices show."]
