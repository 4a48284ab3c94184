"""Tune the simulator's scale factor on the holdout tasks.

Share of preference multiplies every utility by a scale factor λ. Models fitted on few
tasks per respondent rarely give λ = 1 the best predictions: hierarchical Bayes under
CBC/HB's default prior over-fits sparse individual data and its part-worths come out on
too large a scale (shares too extreme), and an aggregate MNL can be too flat. The holdout
tasks — fixed tasks every respondent saw, kept out of the estimation — tell which λ
predicts real choices best; this is the "exponent" Sawtooth's simulator users tune.

For every holdout task the respondent's choice probability is averaged over the model's
rows for that respondent (HB: their saved posterior draws; other models: the population
rows, the same for everyone), and λ maximises the mean log-probability of the choices
made. With dual response the forced choice among the concepts is what is predicted.

Under randomized first choice the same λ is tuned with RFC's own probabilities: the
level and product errors (of fixed total size, see
:func:`~offerlab.decide._market.rfc_errors`) are drawn once per holdout task and row
(common random numbers, so the log-likelihood is a smooth function of λ), and since a
first choice does not change when every utility and error is multiplied by the same
number, tuning λ is tuning the size of the errors against the part-worths.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import minimize_scalar

from offerlab.data import ChoiceData
from offerlab.decide._kernels import EULER_GAMMA, _gumbel, level_ids
from offerlab.decide._market import rfc_errors
from offerlab.decide._population import decision_population
from offerlab.exceptions import OfferlabError
from offerlab.models import build_model_matrix

__all__ = ["ScaleCalibration", "calibrate_scale"]

BOUNDS = (0.05, 5.0)


@dataclass(frozen=True)
class ScaleCalibration:
    """The scale factor the holdout tasks favour.

    Attributes
    ----------
    scale : float
        λ maximising the holdout log-likelihood.
    se : float
        Its standard error from the curvature of the holdout log-likelihood (the observed
        information of the n_tasks choices).
    loglik, loglik_at_one : float
        Mean log-probability of the holdout choices at λ and at λ = 1.
    hit_rate : float
        Share of holdout tasks whose most probable alternative was chosen (λ does not
        change it).
    n_tasks, n_respondents : int
    curve : DataFrame
        ``scale`` and ``loglik`` over a grid, for a plot.
    """

    scale: float
    se: float
    loglik: float
    loglik_at_one: float
    hit_rate: float
    n_tasks: int
    n_respondents: int
    curve: pd.DataFrame
    rule: str = "logit"

    def describe(self) -> str:
        """One sentence for a report or a terminal."""
        under = " (randomized first choice)" if self.rule == "rfc" else ""
        return (
            f"Scale factor{under} tuned on {self.n_tasks:,} holdout choices of "
            f"{self.n_respondents:,} respondents: {self.scale:.2f} ± {self.se:.2f} (mean holdout "
            f"log-likelihood {self.loglik:.4f}, against {self.loglik_at_one:.4f} at 1)."
        )


#: Rows per respondent and error draws per row the RFC likelihood averages over.
RFC_ROWS = 40
RFC_DRAWS = 8


def calibrate_scale(results: Any, data: ChoiceData, rule: str = "logit") -> ScaleCalibration:
    """The share-of-preference scale factor that best predicts ``data``'s holdout tasks.

    Parameters
    ----------
    results : MNLResults, LatentClassResults, HBResults…
        A conjoint fit (``fit(data, study=...)``).
    data : ChoiceData
        Choice data with holdout tasks (``holdout == 1``); usually the data of the fit.
    rule : {"logit", "rfc"}
        The simulator rule whose probabilities are tuned (``sop`` = ``logit``).

    Raises
    ------
    OfferlabError
        Without a conjoint fit, without holdout tasks, or when no holdout task belongs
        to a respondent the fit knows (HB).
    """
    coding = getattr(results, "coding", None)
    if coding is None:
        raise OfferlabError("tuning the scale needs a conjoint fit (fit(data, study=...))")
    rule = {"sop": "logit"}.get(rule, rule)
    if rule not in ("logit", "rfc"):
        raise OfferlabError(f"the scale is tuned for the rules sop and rfc; got {rule!r}")
    holdouts = data.holdouts()
    frame = holdouts.frame
    if frame.empty:
        raise OfferlabError("the data have no holdout tasks to tune the scale factor on")
    if holdouts.dual_response:  # the forced choice among the concepts is predicted
        frame = frame[frame["none"] == 0].reset_index(drop=True)
        holdouts = ChoiceData(frame, holdouts.variables)
    design = build_model_matrix(holdouts, coding.n_params, list(coding.names), coding.code_rows)
    V, w = _utilities(results, design)  # (n, R, J) and the rows' weights (R,)
    y = design.y
    available = design.available[:, None, :]

    if rule == "rfc":
        V, w = _thin(V, w, RFC_ROWS)
        loglik = _rfc_loglik(V, w, design, coding, available, y)
    else:

        def loglik(scale: float) -> float:
            W = np.where(available, scale * V, -np.inf)
            W = W - W.max(axis=2, keepdims=True)
            P = np.exp(W)
            P /= P.sum(axis=2, keepdims=True)
            p = np.einsum("nrj,r->nj", P, w)[np.arange(len(y)), y]
            return float(np.log(np.maximum(p, 1e-300)).mean())

    found = minimize_scalar(
        lambda s: -loglik(s), bounds=BOUNDS, method="bounded", options={"xatol": 1e-4}
    )
    scale = float(found.x)
    h = 1e-3 * max(scale, 0.1)
    curvature = (loglik(scale + h) - 2 * loglik(scale) + loglik(scale - h)) / h**2
    se = float(1 / np.sqrt(-curvature * len(y))) if curvature < 0 else float("inf")
    grid = np.round(np.linspace(0.1, 2.0, 39), 2)
    mean_v = np.where(design.available, np.einsum("nrj,r->nj", V, w), -np.inf)
    return ScaleCalibration(
        scale=scale,
        se=se,
        loglik=-float(found.fun),
        loglik_at_one=loglik(1.0),
        hit_rate=float((mean_v.argmax(axis=1) == y).mean()),
        n_tasks=len(y),
        n_respondents=int(pd.Series(design.groups).nunique()),
        curve=pd.DataFrame({"scale": grid, "loglik": [loglik(s) for s in grid]}),
        rule=rule,
    )


def _thin(V: np.ndarray, w: np.ndarray, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """At most ``rows`` of the R rows (evenly spaced saved draws), reweighted."""
    R = V.shape[1]
    if rows >= R:
        return V, w
    pick = np.linspace(0, R - 1, rows).round().astype(int)
    return V[:, pick], w[pick] / w[pick].sum()


def _rfc_loglik(
    V: np.ndarray, w: np.ndarray, design: Any, coding: Any, available: np.ndarray, y: np.ndarray
) -> Any:
    """Mean log-probability of the holdout choices under RFC, as a function of λ.

    The errors are drawn once (common random numbers): standardised level errors
    summed per alternative, N (n, R·D, J), and the product error integrated out.
    """
    n, R, J = V.shape
    X = design.X.reshape(n * J, -1)
    offers = np.ones(n * J, dtype=bool)
    if coding.none_index is not None:
        offers &= X[:, coding.none_index] == 0
    ids = level_ids(X, [(b.start, b.stop) for b in coding.blocks], offers).reshape(n, J, -1)
    sigma_a, sigma_p = rfc_errors(1.0, len(coding.blocks))
    rng = np.random.default_rng(20261206)
    L = int(ids.max()) + 1
    E = _gumbel(rng, (n, R * RFC_DRAWS, L)) - np.float32(EULER_GAMMA)
    N = np.zeros((n, R * RFC_DRAWS, J), dtype=np.float32)
    for a in range(ids.shape[2]):
        col = ids[:, :, a]
        got = np.take_along_axis(E, np.maximum(col, 0)[:, None, :], axis=2)
        N += np.where(col[:, None, :] >= 0, got, 0.0)
    N *= sigma_a
    Vr = np.repeat(V, RFC_DRAWS, axis=1)
    wr = np.repeat(w, RFC_DRAWS) / RFC_DRAWS

    def loglik(scale: float) -> float:
        W = np.where(available, (scale * Vr + N) / sigma_p, -np.inf)
        W = W - W.max(axis=2, keepdims=True)
        P = np.exp(W)
        P /= P.sum(axis=2, keepdims=True)
        p = np.einsum("nrj,r->nj", P, wr)[np.arange(len(y)), y]
        return float(np.log(np.maximum(p, 1e-300)).mean())

    return loglik


def _utilities(results: Any, design: Any) -> tuple[np.ndarray, np.ndarray]:
    """Utilities (n tasks, R rows, J alternatives) of each holdout task's respondent, and
    the weights (R,) of the rows."""
    X = design.X
    offset = 0.0 if design.offset is None else design.offset[:, None, :]
    draws = getattr(results, "individual_draws", None)
    if draws is not None:  # HB: each respondent's own saved posterior draws
        index = pd.Index(results.individual.index)
        rows = index.get_indexer(pd.Index(design.groups))
        keep = rows >= 0
        if not keep.all():
            raise OfferlabError(
                "holdout tasks of respondents the fit does not know: tune on the fit's data"
            )
        m = np.asarray(draws).shape[1]
        V = np.einsum("njk,nmk->nmj", X, np.asarray(draws)[rows]) + offset
        return V, np.full(m, 1.0 / m)
    population = decision_population(results)  # MNL: one row; latent classes: one per class
    return np.einsum("njk,rk->nrj", X, population.B) + offset, population.w
