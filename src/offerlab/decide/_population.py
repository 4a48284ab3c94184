"""The population the simulator averages over, and the uncertainty of that population.

Every estimator's results give ``population_coefficients(n, rng) -> (B, w)``: coefficient
vectors B (R, K) in the model's column order with weights w (R,) summing to 1 (MNL: the
point estimate; HB: individual draws; latent class: the class vectors with their shares;
mixed logit: draws from the estimated distribution). The uncertainty of the estimates
enters through ``uncertainty_draws``: S draws of a whole population, (S, R_u, K).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from offerlab.exceptions import OfferlabError, OfferlabWarning
from offerlab.models import ChoiceResults, MNLResults

__all__ = [
    "Population",
    "UncertaintyDraws",
    "decision_population",
    "mnl_population",
    "population_from_results",
]

#: S draws of the population: a callable ``(S, rng) -> ndarray (S, R_u, K)``, or the array.
UncertaintyDraws = Callable[[int, np.random.Generator], np.ndarray] | np.ndarray


@dataclass(frozen=True)
class Population:
    """Coefficient vectors that stand for the market, with weights and segments.

    Attributes
    ----------
    B : ndarray, shape (R, K)
        Coefficient vectors, columns in the order of ``names``.
    w : ndarray, shape (R,)
        Weights, non-negative, summing to 1.
    names : tuple of str
        The K coefficient names (for a conjoint fit: ``ConjointCoding.names``).
    segments : ndarray, shape (R,), optional
        A segment label per row (a screener answer, a latent class…).
    uncertainty : callable or ndarray, optional
        S draws of the population from the estimator's uncertainty: a callable
        ``(S, rng) -> (S, R_u, K)`` or an array (S, R_u, K). MNL: R_u = 1, β ~ N(β̂, Σ);
        HB: R_u = respondents, one posterior draw each.
    uncertainty_weights : ndarray, shape (R_u,), optional
        Weights of the rows of an uncertainty draw (default: ``w`` when R_u = R, else
        equal weights).
    uncertainty_segments : ndarray, shape (R_u,), optional
        Segments of the rows of an uncertainty draw (default: ``segments`` when R_u = R).
    model : str
        The model the rows come from, in words (for provenance).
    level : str
        ``individual``, ``classes``, ``distribution`` or ``aggregate``.
    """

    B: np.ndarray
    w: np.ndarray
    names: tuple[str, ...]
    segments: np.ndarray | None = None
    uncertainty: UncertaintyDraws | None = None
    uncertainty_weights: np.ndarray | None = None
    uncertainty_segments: np.ndarray | None = None
    model: str = ""
    level: str = ""

    def __post_init__(self) -> None:
        B = np.asarray(self.B, dtype=float)
        w = np.asarray(self.w, dtype=float)
        if B.ndim != 2:
            raise OfferlabError(f"B must have shape (R, K); got {B.shape}")
        R, K = B.shape
        if R == 0:
            raise OfferlabError("a population needs at least one coefficient vector")
        if len(self.names) != K:
            raise OfferlabError(f"{len(self.names)} names for {K} coefficient columns")
        if not np.isfinite(B).all():
            raise OfferlabError("coefficient vectors must be finite")
        if w.shape != (R,) or not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
            raise OfferlabError(f"weights must be {R} non-negative numbers with a positive sum")
        object.__setattr__(self, "B", B)
        object.__setattr__(self, "w", w / w.sum())
        object.__setattr__(self, "names", tuple(str(n) for n in self.names))
        if self.segments is not None:
            seg = np.asarray(self.segments)
            if seg.shape != (R,):
                raise OfferlabError(f"segments must have one label per row ({R}); got {seg.shape}")
            object.__setattr__(self, "segments", seg)

    @property
    def n_rows(self) -> int:
        return int(self.B.shape[0])

    @property
    def has_uncertainty(self) -> bool:
        return self.uncertainty is not None

    def draws(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` draws of the population, shape (n, R_u, K) (see :attr:`uncertainty`)."""
        if self.uncertainty is None:
            raise OfferlabError("this population carries no uncertainty draws")
        if callable(self.uncertainty):
            D = np.asarray(self.uncertainty(n, rng), dtype=float)
        else:
            D = np.asarray(self.uncertainty, dtype=float)
            if D.shape[0] < n:
                raise OfferlabError(
                    f"{n} uncertainty draws asked for; the array holds {D.shape[0]}"
                )
            D = D[:n]
        if D.ndim != 3 or D.shape[0] != n or D.shape[2] != len(self.names):
            raise OfferlabError(
                f"uncertainty draws must have shape ({n}, R, {len(self.names)}); got {D.shape}"
            )
        return D

    def draw_weights(self, R_u: int) -> np.ndarray:
        """Weights of the R_u rows of an uncertainty draw (normalised)."""
        if self.uncertainty_weights is not None:
            w = np.asarray(self.uncertainty_weights, dtype=float)
            if w.shape != (R_u,):
                raise OfferlabError(f"uncertainty_weights must have shape ({R_u},)")
            return w / w.sum()
        if R_u == self.n_rows:
            return self.w
        return np.full(R_u, 1.0 / R_u)

    def draw_segments(self, R_u: int) -> np.ndarray | None:
        """Segments of the R_u rows of an uncertainty draw (None: no segments)."""
        if self.uncertainty_segments is not None:
            seg = np.asarray(self.uncertainty_segments)
            if seg.shape != (R_u,):
                raise OfferlabError(f"uncertainty_segments must have shape ({R_u},)")
            return seg
        if self.segments is None:
            return None
        if R_u == self.n_rows:
            return self.segments
        raise OfferlabError(
            "segments given for the population but not for its uncertainty draws "
            f"({R_u} rows instead of {self.n_rows}); pass uncertainty_segments"
        )


def mnl_population(results: MNLResults, kind: str | None = None) -> Population:
    """Adapter for :class:`~offerlab.models.MNLResults`: one row, the point estimate.

    Its uncertainty is β ~ N(β̂, Σ) with Σ of ``kind`` (default the fit's ``cov_type``),
    drawn as (S, 1, K), as :func:`~offerlab.simulate.share_of_preference` does.
    """
    beta = results.params.to_numpy(dtype=float)
    cov = results.cov_of(kind).to_numpy(dtype=float)
    names = tuple(str(n) for n in results.params.index)

    def draws(n: int, rng: np.random.Generator) -> np.ndarray:
        return rng.multivariate_normal(beta, cov, size=n, method="eigh")[:, None, :]

    usable = _usable_covariance(cov, "multinomial logit")
    return Population(beta[None, :], np.ones(1), names, uncertainty=draws if usable else None)


def _usable_covariance(cov: np.ndarray, model: str) -> bool:
    """Whether parameter draws can come from ``cov``; a warning says why not.

    A fit on too few answers can leave parameters unidentified: the covariance then holds
    inf or NaN, and intervals drawn from it would be meaningless (or fail outright).
    """
    if np.all(np.isfinite(cov)):
        return True
    message = (
        f"the {model} fit has no finite covariance (some parameters are not identified by "
        "these answers): shares come without intervals"
    )
    warnings.warn(OfferlabWarning.because("no_covariance", message), stacklevel=3)
    return False


def population_from_results(
    results: ChoiceResults,
    *,
    n: int = 1000,
    rng: np.random.Generator | int | None = None,
    segments: Sequence[object] | np.ndarray | None = None,
    uncertainty: UncertaintyDraws | None = None,
) -> Population:
    """The population of any fitted model.

    Parameters
    ----------
    results : ChoiceResults
        Any fit: its ``population_coefficients(n, rng)`` in the columns of its coding
        (or its ``coefficient_names``); an MNLResults goes through :func:`mnl_population`.
    n : int
        Rows asked of ``population_coefficients``.
    rng : Generator or int, optional
    segments : array of labels, optional
        One label per row the results return (e.g. the class of each latent class
        row; a respondent's screener answer repeated for each of its HB draws).
    uncertainty : callable or ndarray, optional
        Overrides the results' own ``uncertainty_draws`` (when they have one).

    Returns
    -------
    Population
    """
    if isinstance(results, MNLResults):  # the point estimate, with N(β̂, Σ) uncertainty
        pop = mnl_population(results)
        if segments is not None:
            raise OfferlabError(
                "an MNL population has one row (the point estimate): it has no segments; "
                "simulate each segment's own fit instead"
            )
        if uncertainty is not None:
            pop = Population(pop.B, pop.w, pop.names, uncertainty=uncertainty)
        return pop
    B, w = results.population_coefficients(n, rng)
    coding = results.coding
    names = tuple(coding.names) if coding is not None else tuple(results.coefficient_names)
    return Population(
        B, w, names, segments=None if segments is None else np.asarray(segments),
        uncertainty=uncertainty,
    )  # fmt: skip


def decision_population(
    results: Any, *, n: int = 1000, seed: int = 0, aggregate: bool = False
) -> Population:
    """The population the simulator averages over, with its uncertainty and segments.

    Heterogeneity first: whatever level the fit has is used.

    * HB: posterior draws of every respondent; uncertainty: each draw of the population
      is a bootstrap sample of the respondents with one saved posterior draw each (the
      posterior alone would leave out that 500 answers are a sample of a market).
    * Latent classes: the class vectors weighted by the class shares, segments = the
      classes; uncertainty: the class coefficients drawn from N(θ̂, Σ) with the class
      sizes held at their estimates.
    * Mixed logit: draws from the estimated distribution.
    * MNL: the point estimate; uncertainty β ~ N(β̂, Σ).

    ``aggregate`` asks for one average consumer instead: the population's weighted
    mean coefficients (and the mean of each uncertainty draw) -- the aggregate-logit
    view, which ignores that people differ.
    """
    pop = _decision_population(results, n=n, seed=seed)
    if not aggregate or pop.n_rows == 1:
        return pop
    mean = pop.w @ pop.B
    unc = None
    if pop.uncertainty is not None:
        source = pop

        def unc(S: int, rng: np.random.Generator) -> np.ndarray:
            D = source.draws(S, rng)
            w = source.draw_weights(D.shape[1])
            return np.einsum("srk,r->sk", D, w)[:, None, :]

    return Population(
        mean[None, :], np.ones(1), pop.names, uncertainty=unc,
        model=f"{pop.model} (averaged)", level="aggregate",
    )  # fmt: skip


def _model_title(results: Any) -> str:
    name = type(results).__name__
    if hasattr(results, "individual_draws"):
        return "hierarchical Bayes"
    if hasattr(results, "cmap") and hasattr(results, "shares"):
        return f"latent class ({len(results.shares)} classes)"
    if "Mixed" in name or "MXL" in name.upper():
        return "mixed logit"
    if "MNL" in name or hasattr(results, "cov_of"):
        return "multinomial logit"
    return name


@dataclass(frozen=True)
class _RespondentBootstrap:
    """HB's uncertainty: S bootstrap samples of the respondents, one posterior draw each
    (the market is the population the sample was drawn from, so an interval must carry
    which people happened to answer as well as what each of them wants)."""

    draws: np.ndarray  # (R, m, K)

    def respondents(self, S: int, rng: np.random.Generator) -> np.ndarray:
        """Who is in each sample, (S, R): the first thing drawn from ``rng``."""
        R = self.draws.shape[0]
        return rng.integers(0, R, size=(S, R))

    def __call__(self, S: int, rng: np.random.Generator) -> np.ndarray:
        R, m, _ = self.draws.shape
        who = self.respondents(S, rng)
        pick = rng.integers(0, m, size=(S, R))
        return self.draws[who, pick]


def _decision_population(results: Any, *, n: int, seed: int) -> Population:
    model = _model_title(results)
    if hasattr(results, "individual_draws"):
        hb_draws = _RespondentBootstrap(np.asarray(results.individual_draws))  # (R, m, K)
        pop = population_from_results(results, n=n, rng=seed, uncertainty=hb_draws)
        return replace(pop, model=model, level="individual")
    if hasattr(results, "cmap") and hasattr(results, "shares"):
        B, w = results.population_coefficients(n, seed)
        labels = np.array([f"class {c + 1}" for c in range(len(w))])
        theta = results.params.to_numpy(dtype=float)
        cov = results.cov_of().to_numpy(dtype=float)

        def lc_draws(S: int, rng: np.random.Generator) -> np.ndarray:
            thetas = rng.multivariate_normal(theta, cov, size=S, method="eigh")
            return np.stack([results.cmap.betas(t) for t in thetas])

        usable = _usable_covariance(cov, "latent class")
        return Population(
            B,
            w,
            tuple(results.coding.names),
            segments=labels,
            uncertainty=lc_draws if usable else None,
            uncertainty_weights=w if usable else None,
            uncertainty_segments=labels if usable else None,
            model=model,
            level="classes",
        )
    pop = population_from_results(results, n=n, rng=seed)
    level = "aggregate" if pop.n_rows == 1 else "distribution"
    return replace(pop, model=model, level=level)
