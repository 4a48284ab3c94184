"""MaxDiff (best–worst scaling): counts and the sequential best–worst logit.

The answers frame has one row per item shown: ``respondent``, ``task``, ``item``, and
``best`` / ``worst`` (1 on the item picked as best / worst in that task, else 0).

Counts (Louviere, Flynn & Marley 2015, ch. 3): per item the times shown, picked best and
picked worst; the best-minus-worst score (B − W) / shown in −1 … 1, and √(B / W)
(with ½ added to both when either is 0), standardised to the largest item = 1.

The sequential best–worst logit: the best item is chosen from the task's items with
utilities u; the worst from the remaining items with utilities −u. Utilities are
identified up to a constant: the last item is fixed at 0 while fitting, and reported
centred (mean 0). Standard errors are robust to the repeated answers of one person
(sandwich clustered by respondent). Probability-rescaled scores (Sawtooth's
convention) turn utilities into shares that sum to 100: an item's chance of being picked
best from a task of a items with a − 1 average items, exp(u) / (exp(u) + a − 1),
rescaled to sum to 100; their intervals come from 2,000 draws of the utilities' sampling
distribution.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from offerlab.exceptions import OfferlabError
from offerlab.models._hb import HBResults, HierarchicalBayes
from offerlab.numerics import mnl_loglike

__all__ = [
    "MaxDiffAnswers",
    "MaxDiffHB",
    "MaxDiffHBResults",
    "MaxDiffLogit",
    "MaxDiffResults",
    "maxdiff_answers",
    "maxdiff_counts",
]

_COLUMNS = ("respondent", "task", "item", "best", "worst")


@dataclass(frozen=True)
class MaxDiffAnswers:
    """Best–worst answers as arrays: one row per task answered.

    ``shown``: tasks × J item indices (−1 pads tasks that show fewer items);
    ``best``, ``worst``: the column of the picked item in ``shown``; ``respondent``:
    index into ``respondents``.
    """

    items: tuple[str, ...]
    respondents: np.ndarray
    respondent: np.ndarray
    shown: np.ndarray
    best: np.ndarray
    worst: np.ndarray

    @property
    def per_task(self) -> float:
        return float((self.shown >= 0).sum(axis=1).mean())


def maxdiff_answers(frame: pd.DataFrame, items: list[str] | None = None) -> MaxDiffAnswers:
    """Check and convert the long answers frame (see the module's description)."""
    missing = [c for c in _COLUMNS if c not in frame.columns]
    if missing:
        raise OfferlabError(f"MaxDiff answers lack column(s) {', '.join(missing)}")
    names = tuple(items) if items is not None else tuple(sorted(frame["item"].astype(str).unique()))
    unknown = sorted(set(frame["item"].astype(str)) - set(names))
    if unknown:
        raise OfferlabError(f"MaxDiff answers name unknown item(s): {', '.join(unknown[:5])}")
    frame = frame.sort_values(["respondent", "task"], kind="stable")
    grouped = frame.groupby(["respondent", "task"], sort=False)
    group = grouped.ngroup().to_numpy()
    position = grouped.cumcount().to_numpy()
    codes = pd.Categorical(frame["item"].astype(str), categories=names).codes
    keys = grouped.size().index
    sizes = np.bincount(group)
    best = _one_per_task(frame["best"].to_numpy() == 1, group, position, len(keys))
    worst = _one_per_task(frame["worst"].to_numpy() == 1, group, position, len(keys))
    duplicated = pd.Series(list(zip(group, codes, strict=True))).duplicated().to_numpy()
    bad = (sizes < 3) | (best < 0) | (worst < 0) | (best == worst)
    bad[group[duplicated]] = True
    if bad.any():
        person, task = keys[int(np.flatnonzero(bad)[0])]
        raise OfferlabError(
            f"respondent {person}, task {task}: needs 3 or more distinct items, "
            "one picked best and another picked worst"
        )
    shown = np.full((len(keys), int(sizes.max())), -1, dtype=np.intp)
    shown[group, position] = codes
    respondents, respondent = np.unique(
        keys.get_level_values(0).to_numpy(dtype=object), return_inverse=True
    )
    return MaxDiffAnswers(names, respondents, respondent, shown, best, worst)


def _one_per_task(
    picked: np.ndarray, group: np.ndarray, position: np.ndarray, tasks: int
) -> np.ndarray:
    """Position of the one picked item per task; −1 where none or several were picked."""
    where = np.full(tasks, -1, dtype=np.intp)
    where[group[picked]] = position[picked]
    where[np.bincount(group[picked], minlength=tasks) != 1] = -1
    return where


def maxdiff_counts(answers: MaxDiffAnswers) -> pd.DataFrame:
    """Counts per item: shown, best, worst, (B − W)/shown and standardised √(B/W)."""
    n = len(answers.items)
    rows = np.arange(len(answers.shown))
    shown = np.bincount(answers.shown[answers.shown >= 0], minlength=n)
    best = np.bincount(answers.shown[rows, answers.best], minlength=n)
    worst = np.bincount(answers.shown[rows, answers.worst], minlength=n)
    with np.errstate(divide="ignore", invalid="ignore"):
        bw = (best - worst) / shown
        padded = (best == 0) | (worst == 0)
        ratio = np.sqrt(np.where(padded, (best + 0.5) / (worst + 0.5), best / worst))
    return pd.DataFrame(
        {
            "shown": shown,
            "best": best,
            "worst": worst,
            "best_minus_worst": best - worst,
            "bw_score": bw,
            "sqrt_bw": ratio / ratio.max(),
        },
        index=pd.Index(answers.items, name="item"),
    )


@dataclass(frozen=True)
class MaxDiffResults:
    """The fitted best–worst logit: centred utilities, robust covariance, scores."""

    items: tuple[str, ...]
    utilities: np.ndarray
    covariance: np.ndarray
    loglike: float
    null_loglike: float
    n_tasks: int
    n_respondents: int
    per_task: float

    @property
    def std_errors(self) -> np.ndarray:
        return np.sqrt(np.diag(self.covariance))

    def scores(self, draws: int = 2000, interval: float = 0.95, seed: int = 0) -> pd.DataFrame:
        """Probability-rescaled scores (sum 100) with simulation intervals."""
        rng = np.random.default_rng(seed)
        sampled = rng.multivariate_normal(self.utilities, self.covariance, size=draws)
        point = _rescaled(self.utilities[None, :], self.per_task)[0]
        spread = _rescaled(sampled, self.per_task)
        tail = (1 - interval) / 2 * 100
        low, high = np.percentile(spread, [tail, 100 - tail], axis=0)
        return pd.DataFrame(
            {"score": point, "low": low, "high": high}, index=pd.Index(self.items, name="item")
        )

    def to_frame(self, interval: float = 0.95) -> pd.DataFrame:
        """Utilities (centred), robust standard errors and intervals."""
        z = stats.norm.ppf(0.5 + interval / 2)
        se = self.std_errors
        return pd.DataFrame(
            {
                "utility": self.utilities,
                "std_error": se,
                "low": self.utilities - z * se,
                "high": self.utilities + z * se,
            },
            index=pd.Index(self.items, name="item"),
        )

    def summary(self) -> str:
        rho = 1 - self.loglike / self.null_loglike
        head = (
            f"MaxDiff best–worst logit: {self.n_respondents} respondents, {self.n_tasks} tasks, "
            f"log-likelihood {self.loglike:.3f} (null {self.null_loglike:.3f}, ρ² {rho:.3f})"
        )
        return head + "\n" + self.to_frame().round(4).to_string()


class MaxDiffLogit:
    """Sequential best–worst multinomial logit fitted by Newton's method (concave)."""

    def __init__(self, tol: float = 1e-10, max_iter: int = 100) -> None:
        self.tol = tol
        self.max_iter = max_iter

    def fit(self, answers: MaxDiffAnswers) -> MaxDiffResults:
        X, y, available, cluster = _stacked_choices(answers)
        K = len(answers.items) - 1
        beta = np.zeros(K)
        for _ in range(self.max_iter):
            terms = mnl_loglike(beta, X, y, available)
            step = np.linalg.solve(-terms.hessian, terms.gradient)
            beta = beta + step
            if np.max(np.abs(step)) < self.tol:
                break
        else:
            raise OfferlabError("the MaxDiff logit did not converge")
        final = mnl_loglike(beta, X, y, available, scores=True)
        null = mnl_loglike(np.zeros(K), X, y, available, gradient=False, hessian=False)
        covariance = _clustered_covariance(final.hessian, final.scores, cluster)
        centring = np.eye(K + 1)[:, :K] - 1 / (K + 1)  # full utilities = C β, mean zero
        return MaxDiffResults(
            answers.items,
            centring @ beta,
            centring @ covariance @ centring.T,
            float(final.value),
            float(null.value),
            len(answers.shown),
            len(answers.respondents),
            answers.per_task,
        )


@dataclass(frozen=True)
class MaxDiffHBResults:
    """Individual MaxDiff utilities from hierarchical Bayes, with the sampler's diagnostics.

    ``individual``: posterior mean utilities, people × items, centred per person.
    ``individual_scores``: each person's probability-rescaled scores (sum 100), posterior
    mean. ``hb``: the underlying :class:`HBResults` (convergence, population covariance).
    """

    items: tuple[str, ...]
    individual: pd.DataFrame
    individual_scores: pd.DataFrame
    score_draws: np.ndarray
    hb: HBResults

    @property
    def converged(self) -> bool:
        return bool(self.hb.converged)

    def scores(self, interval: float = 0.95) -> pd.DataFrame:
        """Mean probability-rescaled score over people, with posterior intervals."""
        tail = (1 - interval) / 2 * 100
        low, high = np.percentile(self.score_draws, [tail, 100 - tail], axis=0)
        return pd.DataFrame(
            {"score": self.individual_scores.mean().to_numpy(), "low": low, "high": high},
            index=pd.Index(self.items, name="item"),
        )


class MaxDiffHB:
    """Hierarchical Bayes on best–worst answers: the sequential logit per person.

    ``estimator`` sets the sampler (chains, draws, covariance prior); the default is
    :class:`HierarchicalBayes` with its defaults.
    """

    def __init__(self, estimator: HierarchicalBayes | None = None) -> None:
        self.estimator = estimator if estimator is not None else HierarchicalBayes()

    def fit(self, answers: MaxDiffAnswers) -> MaxDiffHBResults:
        X, y, available, cluster = _stacked_choices(answers)
        hb = self.estimator.fit_arrays(
            X, y, groups=cluster, available=available, names=list(answers.items[:-1])
        )
        draws = np.asarray(hb.individual_draws)  # people × draws × (items − 1)
        full = np.concatenate([draws, np.zeros((*draws.shape[:2], 1))], axis=2)
        full -= full.mean(axis=2, keepdims=True)
        people = answers.respondents[np.asarray(hb.individual.index, dtype=np.intp)]
        scores = _rescaled(full.reshape(-1, full.shape[2]), answers.per_task).reshape(full.shape)
        columns = pd.Index(answers.items, name="item")
        return MaxDiffHBResults(
            answers.items,
            pd.DataFrame(full.mean(axis=1), index=people, columns=columns),
            pd.DataFrame(scores.mean(axis=1), index=people, columns=columns),
            scores.mean(axis=0),
            hb,
        )


def _stacked_choices(
    answers: MaxDiffAnswers,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Best choices (utility u) then worst choices among the rest (utility −u)."""
    n = len(answers.items)
    tasks = len(answers.shown)
    dummies = np.vstack([np.eye(n)[:, : n - 1], np.zeros((1, n - 1))])  # row −1 → zeros
    X_best = dummies[answers.shown]
    available_best = answers.shown >= 0
    rows = np.arange(tasks)
    rest = answers.shown.copy()
    rest[rows, answers.best] = -1
    X_worst = -dummies[rest]
    available_worst = rest >= 0
    X = np.concatenate([X_best, X_worst])
    y = np.concatenate([answers.best, answers.worst])
    available = np.concatenate([available_best, available_worst])
    cluster = np.concatenate([answers.respondent, answers.respondent])
    return np.ascontiguousarray(X), y, available, cluster


def _clustered_covariance(
    hessian: np.ndarray, scores: np.ndarray, cluster: np.ndarray
) -> np.ndarray:
    bread = np.linalg.inv(-hessian)
    by_person = np.zeros((cluster.max() + 1, scores.shape[1]))
    np.add.at(by_person, cluster, scores)
    g = len(by_person)
    meat = by_person.T @ by_person * g / (g - 1) if g > 1 else by_person.T @ by_person
    return bread @ meat @ bread


def _rescaled(utilities: np.ndarray, per_task: float) -> np.ndarray:
    odds = np.exp(utilities - utilities.max(axis=1, keepdims=True))
    anchor = np.exp(-utilities.max(axis=1, keepdims=True))  # exp(0) on the same shift
    share = odds / (odds + (per_task - 1) * anchor)
    return 100 * share / share.sum(axis=1, keepdims=True)
