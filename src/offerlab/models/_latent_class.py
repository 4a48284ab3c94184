"""Latent class multinomial logit: EM then Newton, several random starts, class shares.

The likelihood, its analytic derivatives and the optimiser are pure functions in
:mod:`offerlab.numerics._latent_class`; this module turns choice data (conjoint or
spec) into arrays, draws the random starts, and packages the results.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import KW_ONLY, dataclass
from pathlib import Path
from typing import ClassVar, Literal

import numpy as np
import pandas as pd

from offerlab.data import ChoiceData
from offerlab.exceptions import ConvergenceWarning, OfferlabError
from offerlab.models._constraints import (
    FIT_CONSTRAINTS,
    ML_CONSTRAINTS,
    Constraint,
    whole,
)
from offerlab.models._contract import DesignSource
from offerlab.models._estimator import FitRun, MLEstimator, free_coefficients
from offerlab.models._latent_class_results import LatentClassResults
from offerlab.models._matrix import (
    ModelMatrix,
)
from offerlab.models._mnl import MultinomialLogit
from offerlab.models._results import CovKind, clustered, wald_fields
from offerlab.models._spec import ModelSpec, load_spec
from offerlab.numerics import (
    ClassMap,
    LCData,
    LCFit,
    lc_data,
    lc_fit,
    lc_loglike,
    log_class_shares,
)
from offerlab.study import Study

__all__ = [
    "ClassCountTable",
    "LatentClassLogit",
    "latent_class_table",
]

Restrictions = Mapping[int, Mapping[str, float]]


# -- parametrisation ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Parametrisation:
    """θ's layout: class constants, shared coefficients, then class-specific ones."""

    cmap: ClassMap
    names: list[str]  # (P,)
    coef_names: list[str]  # (K,)
    status: np.ndarray  # (C, K) "class" | "shared" | "fixed"


def _class_map(
    coef_names: Sequence[str],
    n_classes: int,
    shared: Iterable[str],
    restrictions: Restrictions,
) -> _Parametrisation:
    """Build the :class:`ClassMap` and parameter names; validate the options."""
    K, C = len(coef_names), n_classes
    known = set(coef_names)
    shared = list(dict.fromkeys(shared))
    unknown = [s for s in shared if s not in known]
    if unknown:
        raise OfferlabError(
            f"shared coefficient(s) {unknown} are not in the model; it has {list(coef_names)}"
        )
    fixed = np.zeros((C, K), dtype=bool)
    values = np.zeros((C, K))
    for c, rule in restrictions.items():
        if not isinstance(c, int | np.integer) or not 1 <= c <= C:
            raise OfferlabError(
                f"restrictions: class {c!r} does not exist; classes are numbered 1..{C}"
            )
        for name, value in rule.items():
            if name not in known:
                raise OfferlabError(
                    f"restrictions for class {c}: no coefficient {name!r}; the model has "
                    f"{list(coef_names)}"
                )
            value = float(value)
            if not np.isfinite(value):
                raise OfferlabError(f"restrictions for class {c}: {name} must be finite")
            k = list(coef_names).index(name)
            fixed[c - 1, k] = True
            values[c - 1, k] = value
    index = np.full((C, K), -1, dtype=np.int64)
    status = np.full((C, K), "class", dtype=object)
    names = [f"constant[class {c + 1}]" for c in range(1, C)]
    free = 0
    for k, name in enumerate(coef_names):
        if name in shared and C > 1:
            rows = np.flatnonzero(~fixed[:, k])
            if rows.size:
                index[rows, k] = free
                status[rows, k] = "shared"
                names.append(name)
                free += 1
    for c in range(C):
        for k, name in enumerate(coef_names):
            if fixed[c, k] or (name in shared and C > 1):
                continue
            index[c, k] = free
            names.append(name if C == 1 else f"{name}[class {c + 1}]")
            free += 1
    status[fixed] = "fixed"
    return _Parametrisation(ClassMap(index, values), names, list(coef_names), status)


# -- estimator ----------------------------------------------------------------------------


@dataclass(eq=False)
class LatentClassLogit(MLEstimator[LatentClassResults]):
    """Latent class multinomial logit (a discrete mixture of MNLs).

    Parameters
    ----------
    n_classes : int, default 2
        Number of classes C.
    panel : bool, default True
        True: a respondent belongs to one class for all their tasks (the usual latent
        class model of conjoint and panel data). False: each task draws its class
        anew (a cross-sectional discrete mixture, as biogeme's example
        b07_discrete_mixture).
    shared : sequence of str, optional
        Coefficients equal in every class (estimated once). The others are class
        specific.
    restrictions : mapping of int to mapping of str to float, optional
        Coefficients fixed in a class, keyed by class number (1-based), e.g.
        ``{1: {"B_TIME": 0.0}}``: class 1 ignores travel time. A restricted shared
        coefficient is shared among the classes where it is not fixed.
    n_starts : int, default 10
        Random starts; the fit with the highest log-likelihood is kept.
    seed : int or numpy Generator or None, default 0
        Seed of the random starts (the default makes fits reproducible).
    level_coding : {"effects", "dummy"}, default "effects"
        Coding of categorical attributes (conjoint fits).
    dual : {"sawtooth", "joint"}, default "sawtooth"
        Likelihood of dual-response answers (see :class:`MultinomialLogit`).
    cov_type : {"classic", "robust", "cluster"}, default "classic"
        Covariance behind ``tvalues``, ``pvalues`` and intervals; all three are computed.
    tol : float, default 1e-10
        Convergence: Newton decrement g'(−H)⁻¹g below ``tol``.
    max_iter : int, default 1000
        EM and Newton steps at most, per start.
    chunk_size : int, optional
        Observations per chunk of the MNL kernel.

    Notes
    -----
    Class shares are a multinomial logit of class constants with class 1 the
    reference: π_c = exp(α_c) / Σ_d exp(α_d), α_1 = 0. Each start begins with a few
    EM steps, then takes Newton steps on the full log-likelihood (analytic
    gradient and analytic Hessian, see :mod:`offerlab.numerics._latent_class`)
    whenever the Hessian is negative definite, EM steps otherwise. Standard errors
    come from the analytic Hessian at the optimum: classic (−H)⁻¹, robust
    H⁻¹BH⁻¹ over the likelihood's independent units (respondents in a panel,
    tasks in a cross-section) and clustered by respondent with G/(G−1).

    Random starts: the MNL estimates, with every class-specific coefficient moved
    by N(0, s_k²), s_k = |β̂_k|/2 + 1/(2 sd(x_k)) (about half a logit unit of
    utility per standard deviation of the variable), equal class shares.

    Without restrictions the classes are exchangeable; they are then numbered by
    decreasing share.

    Examples
    --------
    Biogeme's b07_discrete_mixture (class 1 ignores time, everything else shared):

    >>> model = LatentClassLogit(  # doctest: +SKIP
    ...     2, panel=False, shared=["ASC_TRAIN", "ASC_CAR", "B_COST"],
    ...     restrictions={1: {"B_TIME": 0.0}})
    >>> round(model.fit(spec="tests/data/swissmetro_mnl.yaml").llf, 3)  # doctest: +SKIP
    -5208.498
    """

    _parameter_constraints: ClassVar[dict[str, Constraint]] = {
        "n_classes": whole(1),
        "panel": Constraint("True or False", lambda v: isinstance(v, bool)),
        "shared": Constraint("a list of coefficient names", lambda v: not isinstance(v, str)),
        "restrictions": Constraint(
            "a mapping {class number: {coefficient: value}}",
            lambda v: v is None or isinstance(v, Mapping),
        ),
        "n_starts": whole(1),
        **FIT_CONSTRAINTS,
        **ML_CONSTRAINTS,
    }

    n_classes: int = 2
    _: KW_ONLY
    panel: bool = True
    shared: Sequence[str] = ()
    restrictions: Restrictions | None = None
    n_starts: int = 10
    seed: int | np.random.Generator | None = 0
    chunk_size: int | None = None

    # -- the work ---------------------------------------------------------------------------
    def _fit_design(self, design: ModelMatrix, run: FitRun) -> LatentClassResults:
        start, progress, source = run.start, run.progress, run.source
        free_coefficients(design)
        C = int(self.n_classes)
        par = _class_map(design.names, C, self.shared, dict(self.restrictions or {}))
        cmap = par.cmap
        try:
            data = lc_data(
                design.X,
                design.y,
                design.groups,
                available=design.available,
                offset=design.offset,
                weights=design.weights,
                panel=self.panel,
            )
        except ValueError as exc:
            raise OfferlabError(str(exc)) from None
        rng = np.random.default_rng(self.seed)

        # Start values: the MNL estimates (one class, same data).
        mnl = MultinomialLogit(chunk_size=self.chunk_size)._fit_design(design, FitRun())
        starts = _random_starts(mnl.params.to_numpy(), design, par, int(self.n_starts), rng)
        if start is not None:
            first = np.asarray(start, dtype=float)
            if first.shape != (cmap.n_params,):
                raise OfferlabError(
                    f"start must have {cmap.n_params} values ({par.names}); got {first.shape}"
                )
            starts[0] = first

        n = len(starts)
        fits: list[LCFit] = []
        for r, theta0 in enumerate(starts):
            inner = None
            if progress is not None:

                def inner(frac: float, r: int = r) -> None:
                    steps = frac * self.max_iter
                    progress(min((r + min(steps / 40, 0.95)) / (n + 0.1), 1.0))

            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # exp underflow in far starts
                fits.append(
                    lc_fit(
                        theta0,
                        data,
                        cmap,
                        tol=self.tol,
                        max_iter=self.max_iter,
                        chunk_size=self.chunk_size,
                        progress=inner,
                    )
                )
        lls = np.array([f.terms.value for f in fits])
        best = fits[int(np.nanargmax(lls))]
        theta, terms = best.theta, best.terms
        if not self.restrictions and C > 1:
            theta, terms = _order_by_share(theta, terms, data, par, self.chunk_size)
        if not best.converged:
            message = (
                f"latent class fit did not converge in {self.max_iter} steps (best of {n} "
                "starts); an empty class or unidentified coefficients are typical causes"
            )
            warning = ConvergenceWarning.because(
                "classes_not_converged", message, steps=self.max_iter, starts=n
            )
            warnings.warn(warning, stacklevel=3)
        results = _results(design, data, par, theta, terms, self.cov_type, self.panel, source)
        results.converged = bool(best.converged)
        results.n_iter = best.n_em + best.n_newton
        results.n_em = best.n_em
        results.start_llf = lls
        results.starts = pd.DataFrame(
            {
                "llf": lls,
                "em_steps": [f.n_em for f in fits],
                "newton_steps": [f.n_newton for f in fits],
                "converged": [f.converged for f in fits],
            },
            index=pd.RangeIndex(1, n + 1, name="start"),
        )
        results.seed = self.seed if not isinstance(self.seed, np.random.Generator) else None
        if progress is not None:
            progress(1.0)
        return results


def _random_starts(
    beta_mnl: np.ndarray,
    design: ModelMatrix,
    par: _Parametrisation,
    n_starts: int,
    rng: np.random.Generator,
) -> list[np.ndarray]:
    """θ of every start: MNL values, class-specific coefficients perturbed, equal shares."""
    cmap = par.cmap
    C, K = cmap.n_classes, cmap.n_coefficients
    avail = design.available
    sd = np.array([design.X[..., k][avail].std() for k in range(K)])
    spread = np.abs(beta_mnl) / 2 + np.where(sd > 0, 0.5 / np.where(sd > 0, sd, 1.0), 0.5)
    starts = []
    for _ in range(n_starts):
        theta = np.zeros(cmap.n_params)
        z = rng.standard_normal((C, K))
        for c in range(C):
            k, pos = cmap.positions(c)
            specific = par.status[c, k] == "class"
            theta[pos] = beta_mnl[k] + np.where(specific, z[c, k] * spread[k], 0.0)
        starts.append(theta)
    return starts


def _theta_from(
    betas: np.ndarray, log_pi: np.ndarray, cmap: ClassMap, like: np.ndarray
) -> np.ndarray:
    theta = np.array(like, dtype=float)
    C = cmap.n_classes
    theta[: C - 1] = log_pi[1:] - log_pi[0]
    for c in range(C):
        k, pos = cmap.positions(c)
        theta[pos] = betas[c, k]
    return theta


def _order_by_share(theta, terms, data: LCData, par: _Parametrisation, chunk_size):
    """Renumber exchangeable classes by decreasing share (and re-evaluate there)."""
    cmap = par.cmap
    log_pi = log_class_shares(theta, cmap.n_classes)
    order = np.argsort(-log_pi, kind="stable")
    if np.array_equal(order, np.arange(cmap.n_classes)):
        return theta, terms
    betas = cmap.betas(theta)[order]
    new = _theta_from(betas, log_pi[order], cmap, theta)
    return new, lc_loglike(new, data, cmap, chunk_size=chunk_size)


def _results(
    design: ModelMatrix,
    data: LCData,
    par: _Parametrisation,
    theta: np.ndarray,
    terms,
    cov_type: CovKind,
    panel: bool,
    source: DesignSource,
) -> LatentClassResults:
    names = par.names
    P = len(names)
    neg_h = -terms.hessian
    cov = np.full((P, P), np.nan)
    diag = np.diag(neg_h)
    if np.all(diag > 0):
        # Jacobi scaling first, as for the Newton steps: the test of definiteness then
        # does not depend on the units of the variables.
        d = 1.0 / np.sqrt(diag)
        try:
            vals, vecs = np.linalg.eigh(neg_h * np.outer(d, d))
            if vals.min() > 1e-12 * vals.max():
                cov = d[:, None] * ((vecs / vals) @ vecs.T) * d[None, :]
        except np.linalg.LinAlgError:
            pass
    if np.isnan(cov).any():
        message = (
            "the Hessian is not negative definite at the estimates: standard errors are "
            "unavailable (NaN). An empty class or coefficients not identified in some class "
            "are typical causes"
        )
        warnings.warn(ConvergenceWarning.because("no_standard_errors", message), stacklevel=4)
    U = terms.unit_scores
    unit_ids = np.unique(design.groups) if panel else design.groups
    return LatentClassResults(
        **wald_fields(design, names, theta, cov, U.T @ U),
        # panel: the units are the respondents; cross-section: the tasks, summed by respondent
        cov_cluster=clustered(cov, names, U, None if panel else design.groups),
        llf=terms.value,
        cmap=par.cmap,
        coef_names=par.coef_names,
        status=par.status,
        posterior=terms.posterior,
        unit_ids=unit_ids,
        panel=panel,
        cov_type=cov_type,
        gradient=terms.gradient,
        source=source,
    )


# -- choosing the number of classes ---------------------------------------------------------


@dataclass(frozen=True)
class ClassCountTable:
    """Fits with 1…K classes and their information criteria.

    Attributes
    ----------
    table : DataFrame
        Index ``classes``; columns ``llf``, ``parameters``, ``aic``, ``bic``, ``caic``,
        ``entropy_r2``, ``converged``, ``best_starts`` (starts reaching the best LL).
    results : dict of int to LatentClassResults
    """

    table: pd.DataFrame
    results: dict[int, LatentClassResults]

    def best(self, criterion: Literal["aic", "bic", "caic"] = "bic") -> int:
        """The number of classes with the smallest ``criterion``."""
        if criterion not in ("aic", "bic", "caic"):
            raise OfferlabError(f"criterion must be 'aic', 'bic' or 'caic'; got {criterion!r}")
        return int(self.table[criterion].idxmin())


def latent_class_table(
    data: ChoiceData | None = None,
    *,
    classes: Iterable[int] = (1, 2, 3, 4),
    study: Study | None = None,
    spec: ModelSpec | Path | str | None = None,
    progress: Callable[[float], None] | None = None,
    **options,
) -> ClassCountTable:
    """Fit 1…K classes and tabulate LL, parameters, AIC, BIC and CAIC to choose K.

    Parameters
    ----------
    data, study, spec
        As for :meth:`LatentClassLogit.fit`.
    classes : iterable of int, default (1, 2, 3, 4)
    progress : callable, optional
        Fraction done over all fits.
    **options
        Passed to :class:`LatentClassLogit` (``panel``, ``shared``, ``n_starts``,
        ``seed``…). ``restrictions`` on a class beyond a fit's count are dropped for
        that fit.

    Returns
    -------
    ClassCountTable
    """
    counts = sorted(set(int(c) for c in classes))
    if not counts or counts[0] < 1:
        raise OfferlabError(f"classes must be positive integers; got {list(classes)}")
    if spec is not None and not isinstance(spec, ModelSpec):
        spec = load_spec(spec)
    if spec is not None and data is None:
        data = spec.load_data()
    restrictions = dict(options.pop("restrictions", None) or {})
    cost = np.array(counts, dtype=float)  # work grows about linearly with C
    done = np.concatenate([[0.0], np.cumsum(cost)]) / cost.sum()
    results: dict[int, LatentClassResults] = {}
    rows = []
    for i, C in enumerate(counts):
        inner = None
        if progress is not None:

            def inner(f: float, i: int = i) -> None:
                progress(done[i] + f * (done[i + 1] - done[i]))

        model = LatentClassLogit(
            C, restrictions={c: r for c, r in restrictions.items() if c <= C}, **options
        )
        res = model.fit(data, study=study, spec=spec, progress=inner)
        results[C] = res
        best = np.nanmax(res.start_llf)
        rows.append(
            {
                "classes": C,
                "llf": res.llf,
                "parameters": res.k,
                "aic": res.aic,
                "bic": res.bic,
                "caic": res.caic,
                "entropy_r2": res.entropy_r2,
                "converged": res.converged,
                "best_starts": int(np.sum(np.abs(res.start_llf - best) < 1e-6 * abs(best))),
            }
        )
    table = pd.DataFrame(rows).set_index("classes")
    return ClassCountTable(table, results)
