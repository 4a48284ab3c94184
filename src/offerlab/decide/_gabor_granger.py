"""Gabor–Granger from the survey's price ladder: demand, revenue and the step price
elasticity at each tested price, and the revenue-maximising price.

:func:`gabor_granger` takes one row per respondent and price asked;
:func:`gabor_granger_frame` builds it from the tidy answers of the fielding export (see
:mod:`offerlab.decide._needs` for that frame).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from offerlab.decide._needs import question_rows, wilson_bounds
from offerlab.exceptions import OfferlabError

__all__ = ["GaborGrangerResult", "gabor_granger", "gabor_granger_frame"]


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
    lower, upper = wilson_bounds(demand, n, interval)
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


def gabor_granger_frame(answers: pd.DataFrame, question: str) -> pd.DataFrame:
    """``respondent, price, answer`` from tidy answers of a ``gabor_granger`` page
    (``item`` = the price asked, ``answer`` = 1–5)."""
    rows = question_rows(answers, question)
    return pd.DataFrame(
        {
            "respondent": rows["respondent"].to_numpy(),
            "price": pd.to_numeric(rows["item"], errors="coerce").to_numpy(),
            "answer": pd.to_numeric(rows["answer"], errors="coerce").to_numpy(),
        }
    )
