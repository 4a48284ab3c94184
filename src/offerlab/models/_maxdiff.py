"""MaxDiff (best–worst scaling): counts and the sequential best–worst logit.

The answers frame has one row per item shown: ``respondent``, ``task``, ``item``, and
``best`` / ``worst`` (1 on the item picked as best / worst in that task, else 0).

Counts (Louviere, Flynn & Marley 2015, ch. 3): per item the times shown, picked best and
picked worst; the best-minus-worst score (B − W) / shown in −1 … 1, and √(B / W)
(with ½ added to both when either is 0), standardised to the largest item = 1.

The sequential best–worst logit: the best item is chosen from the task's items with
utilities u; the worst from the remaining items with utilities −u. The paired ("maxdiff")
model of Marley & Louviere (2005) instead chooses the (best, worst) pair among all
ordered pairs of distinct items shown, with utility u_best − u_worst — the model of
support.BWS's ``bws.dataset(model = "maxdiff")`` with ``survival::clogit``. Utilities are
identified up to a constant: the last item is fixed at 0 while fitting, and reported
centred (mean 0). Standard errors are robust to the repeated answers of one person
(sandwich clustered by respondent); the classic ones (inverse information, as clogit
prints them) are kept beside them. Probability-rescaled scores (Sawtooth's
convention) turn utilities into shares that sum to 100: an item's chance of being picked
best from a task of a items with a − 1 average items, exp(u) / (exp(u) + a − 1),
rescaled to sum to 100; their intervals come from 2,000 draws of the utilities' sampling
distribution.

Anchoring (Orme, "Anchored Scaling in MaxDiff Using Dual Response", Sawtooth Software
2009; Lattery 2010, "Anchored MaxDiff"; Louviere, Flynn & Marley 2015 on the direct binary
response): an optional ``anchor`` column places a threshold of "matters at all" among the
items. The threshold is an extra item of utility 0; utilities are then reported relative
to it (not centred), so an item of positive utility matters, one below 0 does not.

* dual response (after each task: all / some / none of these matter): ``anchor`` is
  ``all``, ``some`` or ``none`` on every row of the task. ``none`` adds a choice set of
  the threshold and the task's items in which the threshold is chosen best; ``all`` one in
  which the threshold is chosen worst (utilities −u); ``some`` adds two pairs, the best
  item chosen over the threshold and the worst item chosen as worse than it (the
  threshold lies between them). Coding ``some`` as nothing, as sometimes described, lets
  the share of ``none`` against ``all`` alone place the threshold: on simulated answers
  whose items lie mostly below (or above) it, that put the threshold 2 to 3 utility units
  off; with the two pairs, at most 0.3 (tests/models/test_maxdiff_anchor.py).
* direct binary (one screen: tick the items that matter at all): rows with ``task`` 0,
  one per item judged, ``best`` = ``worst`` = 0 and ``anchor`` ``yes`` (ticked) or ``no``;
  each is a pair of the item and the threshold, the item chosen when ticked.

With an anchor the probability-rescaled scores are those of Sawtooth's anchored scaling,
exp(u) / (exp(u) + a − 1) with u relative to the threshold, rescaled to sum to 100 over
the items; the threshold's own score on that scale (1/a, rescaled alike) is the anchor
line: an item scores above it exactly when its utility is above the threshold's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from offerlab.exceptions import OfferlabError
from offerlab.models._hb import HBResults, HierarchicalBayes
from offerlab.models._results import clustered
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
#: Dual-response answers, coded per task in :attr:`MaxDiffAnswers.dual`.
DUAL_ANSWERS = {"none": 0, "some": 1, "all": 2}
#: Direct binary answers (rows of task 0), coded 1 (matters) and 0.
BINARY_ANSWERS = {"yes": 1, "no": 0}


@dataclass(frozen=True)
class MaxDiffAnswers:
    """Best–worst answers as arrays: one row per task answered.

    ``shown``: tasks × J item indices (−1 pads tasks that show fewer items);
    ``best``, ``worst``: the column of the picked item in ``shown``; ``respondent``:
    index into ``respondents``.

    Anchoring (None without): ``dual``, per task, 0 none / 1 some / 2 all of the items
    matter (−1 not answered); ``binary``, rows of (respondent index, item index, 1 if the
    item matters else 0).
    """

    items: tuple[str, ...]
    respondents: np.ndarray
    respondent: np.ndarray
    shown: np.ndarray
    best: np.ndarray
    worst: np.ndarray
    dual: np.ndarray | None = None
    binary: np.ndarray | None = None

    @property
    def per_task(self) -> float:
        return float((self.shown >= 0).sum(axis=1).mean())

    @property
    def anchored(self) -> bool:
        """Whether the answers place the threshold (a dual-response or direct binary anchor)."""
        return self.dual is not None or self.binary is not None


def maxdiff_answers(frame: pd.DataFrame, items: list[str] | None = None) -> MaxDiffAnswers:
    """Check and convert the long answers frame (see the module's description)."""
    missing = [c for c in _COLUMNS if c not in frame.columns]
    if missing:
        raise OfferlabError(f"MaxDiff answers lack column(s) {', '.join(missing)}")
    names = tuple(items) if items is not None else tuple(sorted(frame["item"].astype(str).unique()))
    unknown = sorted(set(frame["item"].astype(str)) - set(names))
    if unknown:
        raise OfferlabError(f"MaxDiff answers name unknown item(s): {', '.join(unknown[:5])}")
    binary_rows = _anchor_column(frame) & (frame["task"] == 0).to_numpy()
    binary_frame = frame[binary_rows] if binary_rows.any() else None
    if binary_frame is not None:  # the direct binary screen, not a best–worst task
        frame = frame[frame["task"] != 0]
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
    dual = _dual(frame, group, len(keys), keys) if binary_frame is None else None
    binary = _binary(binary_frame, respondents, names) if binary_frame is not None else None
    return MaxDiffAnswers(names, respondents, respondent, shown, best, worst, dual, binary)


def _anchor_column(frame: pd.DataFrame) -> np.ndarray:
    """Rows that carry an anchor answer (a non-empty ``anchor``)."""
    if "anchor" not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    text = frame["anchor"].astype("string").fillna("").str.strip()
    return (text != "").to_numpy()


def _dual(frame: pd.DataFrame, group: np.ndarray, tasks: int, keys: pd.Index) -> np.ndarray | None:
    """Each task's dual-response answer (−1 where none was given); None without any."""
    if "anchor" not in frame.columns:
        return None
    text = frame["anchor"].astype("string").fillna("").str.strip().to_numpy(dtype=object)
    if not any(text):
        return None
    bad = sorted({str(v) for v in text if v and v not in DUAL_ANSWERS})
    if bad:
        raise OfferlabError(
            f"MaxDiff anchor answers are {', '.join(DUAL_ANSWERS)} on the rows of a task "
            f"(dual response), got {', '.join(map(repr, bad[:5]))}"
        )
    code = np.array([DUAL_ANSWERS.get(v, -1) for v in text], dtype=np.intp)
    low = np.full(tasks, 9, dtype=np.intp)
    high = np.full(tasks, -9, dtype=np.intp)
    np.minimum.at(low, group, code)
    np.maximum.at(high, group, code)
    if (low != high).any():  # the rows of one task disagree
        person, task = keys[int(np.flatnonzero(low != high)[0])]
        raise OfferlabError(
            f"respondent {person}, task {task}: the rows of one task carry one anchor answer"
        )
    return low


def _binary(frame: pd.DataFrame, respondents: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    """(respondent index, item index, matters) for the direct binary rows (task 0)."""
    text = frame["anchor"].astype("string").fillna("").str.strip().to_numpy(dtype=object)
    bad = sorted({str(v) for v in text if v not in BINARY_ANSWERS})
    if bad:
        raise OfferlabError(
            "MaxDiff direct binary answers (task 0) are yes or no, got "
            + ", ".join(map(repr, bad[:5]))
        )
    index = {person: k for k, person in enumerate(respondents)}
    people = frame["respondent"].to_numpy(dtype=object)
    strangers = [p for p in people if p not in index]
    if strangers:
        raise OfferlabError(
            f"respondent {strangers[0]} answered the direct binary anchor but no MaxDiff task"
        )
    items = pd.Categorical(frame["item"].astype(str), categories=names).codes
    rows = np.column_stack(
        [[index[p] for p in people], items, [BINARY_ANSWERS[v] for v in text]]
    ).astype(np.intp)
    if pd.DataFrame(rows[:, :2]).duplicated().any():
        raise OfferlabError("a respondent judged one item twice in the direct binary anchor")
    return rows.reshape(-1, 3)


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
    anchored: bool = False
    #: inverse information, not robust to the repeated answers of one person
    classic_covariance: np.ndarray | None = None
    model: str = "sequential"

    @property
    def std_errors(self) -> np.ndarray:
        return np.sqrt(np.diag(self.covariance))

    @property
    def classic_std_errors(self) -> np.ndarray:
        if self.classic_covariance is None:
            raise OfferlabError("these MaxDiff results carry no classic covariance")
        return np.sqrt(np.diag(self.classic_covariance))

    def anchor_score(
        self, draws: int = 2000, interval: float = 0.95, seed: int = 0
    ) -> tuple[float, float, float]:
        """The threshold on the probability-rescaled scale (score, low, high): the anchor
        line. The same draws as :meth:`scores` with the same seed."""
        if not self.anchored:
            raise OfferlabError("the MaxDiff answers have no anchor: no threshold to score")
        rng = np.random.default_rng(seed)
        sampled = rng.multivariate_normal(self.utilities, self.covariance, size=draws)
        point = _anchor_rescaled(self.utilities[None, :], self.per_task)[0]
        spread = _anchor_rescaled(sampled, self.per_task)
        tail = (1 - interval) / 2 * 100
        low, high = np.percentile(spread, [tail, 100 - tail])
        return float(point), float(low), float(high)

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
            f"MaxDiff best–worst logit ({self.model}): {self.n_respondents} respondents, "
            f"{self.n_tasks} tasks, "
            f"log-likelihood {self.loglike:.3f} (null {self.null_loglike:.3f}, ρ² {rho:.3f})"
        )
        if self.anchored:
            head += "\nutilities relative to the anchor's threshold (0 = matters just at all)"
        return head + "\n" + self.to_frame().round(4).to_string()


#: The best–worst logit's two forms (see the module's description).
MAXDIFF_MODELS = ("sequential", "paired")


class MaxDiffLogit:
    """Best–worst multinomial logit fitted by Newton's method (concave): ``sequential``
    (best, then worst among the rest; the default) or ``paired`` (the best–worst pair)."""

    def __init__(self, tol: float = 1e-10, max_iter: int = 100, model: str = "sequential") -> None:
        if model not in MAXDIFF_MODELS:
            raise OfferlabError(f"MaxDiff model is {' or '.join(MAXDIFF_MODELS)}, got {model!r}")
        self.tol = tol
        self.max_iter = max_iter
        self.model = model

    def fit(self, answers: MaxDiffAnswers) -> MaxDiffResults:
        if self.model == "paired":
            if answers.anchored:
                raise OfferlabError("the paired MaxDiff model takes no anchor answers")
            X, y, available, cluster = _paired_choices(answers)
        else:
            X, y, available, cluster = _stacked_choices(answers)
        K = X.shape[2]
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
        classic = np.linalg.inv(-final.hessian)
        covariance = clustered(classic, list(answers.items[:K]), final.scores, cluster).to_numpy()
        # anchored: utilities relative to the threshold, as estimated; else centred (C β)
        full = np.eye(K) if answers.anchored else np.eye(K + 1)[:, :K] - 1 / (K + 1)
        return MaxDiffResults(
            answers.items,
            full @ beta,
            full @ covariance @ full.T,
            float(final.value),
            float(null.value),
            len(answers.shown),
            len(answers.respondents),
            answers.per_task,
            answers.anchored,
            full @ classic @ full.T,
            self.model,
        )


@dataclass(frozen=True)
class MaxDiffHBResults:
    """Individual MaxDiff utilities from hierarchical Bayes, with the sampler's diagnostics.

    ``individual``: posterior mean utilities, people × items, centred per person.
    ``individual_scores``: each person's probability-rescaled scores (sum 100), posterior
    mean. ``hb``: the underlying :class:`HBResults` (convergence, population covariance).

    With an anchor, ``individual`` is relative to the threshold (not centred);
    ``above_draws`` (draws × items) is the share of the people whose utility is above the
    threshold in each kept draw, ``anchor_draws`` the threshold's mean rescaled score.
    """

    items: tuple[str, ...]
    individual: pd.DataFrame
    individual_scores: pd.DataFrame
    score_draws: np.ndarray
    hb: HBResults
    anchored: bool = False
    above_draws: np.ndarray | None = None
    anchor_draws: np.ndarray | None = None

    def above_threshold(self, interval: float = 0.95) -> pd.DataFrame:
        """Per item, the share of people for whom it matters (utility above the anchor's
        threshold): ``share`` (posterior mean), ``low``, ``high`` (posterior interval)."""
        if self.above_draws is None:
            raise OfferlabError("the MaxDiff answers have no anchor: no threshold")
        tail = (1 - interval) / 2 * 100
        low, high = np.percentile(self.above_draws, [tail, 100 - tail], axis=0)
        return pd.DataFrame(
            {"share": self.above_draws.mean(axis=0), "low": low, "high": high},
            index=pd.Index(self.items, name="item"),
        )

    def reached(self) -> pd.DataFrame:
        """People × items: the item matters to the person (posterior mean utility above
        the threshold) — what TURF on anchored items counts."""
        if not self.anchored:
            raise OfferlabError("the MaxDiff answers have no anchor: no threshold")
        return self.individual > 0

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
        free = answers.items if answers.anchored else answers.items[:-1]
        hb = self.estimator.fit_arrays(X, y, groups=cluster, available=available, names=list(free))
        draws = np.asarray(hb.individual_draws)  # people × draws × free items
        if answers.anchored:  # relative to the threshold, which is 0
            full = draws
        else:
            full = np.concatenate([draws, np.zeros((*draws.shape[:2], 1))], axis=2)
            full -= full.mean(axis=2, keepdims=True)
        people = answers.respondents[np.asarray(hb.individual.index, dtype=np.intp)]
        flat = full.reshape(-1, full.shape[2])
        scores = _rescaled(flat, answers.per_task).reshape(full.shape)
        columns = pd.Index(answers.items, name="item")
        above = anchor = None
        if answers.anchored:
            above = (full > 0).mean(axis=0)  # draws × items: share of people above
            anchor = _anchor_rescaled(flat, answers.per_task).reshape(full.shape[:2]).mean(0)
        return MaxDiffHBResults(
            answers.items,
            pd.DataFrame(full.mean(axis=1), index=people, columns=columns),
            pd.DataFrame(scores.mean(axis=1), index=people, columns=columns),
            scores.mean(axis=0),
            hb,
            answers.anchored,
            above,
            anchor,
        )


def _stacked_choices(
    answers: MaxDiffAnswers,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Best choices (utility u) then worst choices among the rest (utility −u); with an
    anchor, the threshold's choice sets after them (see the module's description).

    Without an anchor the last item is the reference (K = items − 1 columns); with one the
    threshold is (K = items columns, the threshold a row of zeros)."""
    sets = _choice_sets(answers)
    n = len(answers.items)
    K = n if answers.anchored else n - 1
    # rows 0 … n − 1 the items, row n the threshold, row n + 1 (index −1) an empty place
    dummies = np.vstack([np.eye(n)[:, :K], np.zeros((2, K))])
    width = max(codes.shape[1] for codes, _, _, _ in sets)
    X, y, available, cluster = [], [], [], []
    for codes, sign, chosen, person in sets:
        padded = np.full((len(codes), width), -1, dtype=np.intp)
        padded[:, : codes.shape[1]] = codes
        X.append(sign * dummies[padded])
        y.append(chosen)
        available.append(padded >= 0)
        cluster.append(person)
    return (
        np.ascontiguousarray(np.concatenate(X)),
        np.concatenate(y),
        np.concatenate(available),
        np.concatenate(cluster),
    )


def _paired_choices(
    answers: MaxDiffAnswers,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One choice per task among the ordered pairs (i, j) of distinct items shown, with
    attributes d_i − d_j (the last item is the reference); the (best, worst) pair is
    chosen."""
    n = len(answers.items)
    dummies = np.vstack([np.eye(n)[:, : n - 1], np.zeros((1, n - 1))])  # row −1: empty place
    width = answers.shown.shape[1]
    first, second = (a.ravel() for a in np.indices((width, width)))
    distinct = first != second
    left = answers.shown[:, first[distinct]]
    right = answers.shown[:, second[distinct]]
    X = dummies[left] - dummies[right]
    available = (left >= 0) & (right >= 0)
    # the place of the pair (best, worst) among the distinct ordered pairs
    place = np.full(width * width, -1, dtype=np.intp)
    place[distinct] = np.arange(int(distinct.sum()))
    y = place[answers.best * width + answers.worst]
    return np.ascontiguousarray(X), y, available, answers.respondent


def _choice_sets(
    answers: MaxDiffAnswers,
) -> list[tuple[np.ndarray, float, np.ndarray, np.ndarray]]:
    """The choice sets as (item codes, sign of the utilities, position chosen, person).

    Codes: item index, ``len(items)`` for the threshold, −1 for an empty place."""
    threshold = len(answers.items)
    rows = np.arange(len(answers.shown))
    rest = answers.shown.copy()
    rest[rows, answers.best] = -1
    sets = [
        (answers.shown, 1.0, answers.best, answers.respondent),
        (rest, -1.0, answers.worst, answers.respondent),
    ]
    with_threshold = np.column_stack([np.full(len(rows), threshold), answers.shown])
    if answers.dual is not None:
        for code, sign in ((DUAL_ANSWERS["none"], 1.0), (DUAL_ANSWERS["all"], -1.0)):
            # none matter: the threshold beats every item shown; all matter: it is worst
            picked = answers.dual == code
            zeros = np.zeros(int(picked.sum()), dtype=np.intp)
            sets.append((with_threshold[picked], sign, zeros, answers.respondent[picked]))
        # some matter: the threshold lies between the best and the worst item shown
        some = answers.dual == DUAL_ANSWERS["some"]
        t = np.full(int(some.sum()), threshold)
        best = answers.shown[rows[some], answers.best[some]]
        worst = answers.shown[rows[some], answers.worst[some]]
        z = np.zeros(len(t), dtype=np.intp)
        sets.append((np.column_stack([best, t]), 1.0, z, answers.respondent[some]))
        sets.append((np.column_stack([worst, t]), -1.0, z, answers.respondent[some]))
    if answers.binary is not None and len(answers.binary):
        person, item, matters = answers.binary.T
        pairs = np.column_stack([item, np.full(len(item), threshold)])
        sets.append((pairs, 1.0, np.where(matters == 1, 0, 1), person))
    return sets


def _rescaled(utilities: np.ndarray, per_task: float) -> np.ndarray:
    odds = np.exp(utilities - utilities.max(axis=1, keepdims=True))
    anchor = np.exp(-utilities.max(axis=1, keepdims=True))  # exp(0) on the same shift
    share = odds / (odds + (per_task - 1) * anchor)
    return 100 * share / share.sum(axis=1, keepdims=True)


def _anchor_rescaled(utilities: np.ndarray, per_task: float) -> np.ndarray:
    """The threshold (utility 0) on the scale of :func:`_rescaled`, per row of utilities."""
    top = utilities.max(axis=1, keepdims=True)
    odds = np.exp(utilities - top)
    anchor = np.exp(-top)
    share = odds / (odds + (per_task - 1) * anchor)
    return (100 * (1 / per_task) / share.sum(axis=1, keepdims=True))[:, 0]
