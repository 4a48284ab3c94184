"""Van Westendorp's Price Sensitivity Meter (van Westendorp 1976) from the survey's direct
price questions: four cumulative curves, their complements, the four intersection prices
and the acceptable range; with purchase-likelihood answers, the Newton–Miller–Smith
(1993) trial and revenue curves.

:func:`van_westendorp` takes one row per respondent; :func:`van_westendorp_frame` pivots
the tidy answers of the fielding export (see :mod:`offerlab.decide._needs` for that
frame).

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
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from offerlab.decide._needs import question_rows
from offerlab.exceptions import OfferlabError

__all__ = [
    "NMS_CALIBRATION",
    "VanWestendorpResult",
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


def _consistent_answers(
    answers: pd.DataFrame, weights: str | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The four prices (n, 4) and weights of the respondents whose answers are too cheap <
    cheap < expensive < too expensive, and which rows those are."""
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
    return P, w, ok


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
    P, w, ok = _consistent_answers(answers, weights)
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


def van_westendorp_frame(answers: pd.DataFrame, question: str) -> pd.DataFrame:
    """One row per respondent from tidy answers of a ``van_westendorp`` page.

    ``answers`` has ``respondent``, ``question``, ``item``, ``answer``; the page's rows
    have ``question`` = the page id and ``item`` one of ``too_cheap``, ``cheap``,
    ``expensive``, ``too_expensive``, ``likelihood_cheap``, ``likelihood_expensive``.
    """
    rows = question_rows(answers, question)
    wide = rows.pivot_table(index="respondent", columns="item", values="answer", aggfunc="first")
    wide = wide.apply(pd.to_numeric, errors="coerce").reset_index()
    wide.columns.name = None
    return wide
