"""The mixed logit estimator: maximum simulated likelihood on the analytic gradient.

The random coefficients follow normal, log-normal (of either sign) or triangular
distributions, independent or correlated (a Cholesky factor). In a panel every
respondent keeps one draw of their coefficients across all of their tasks; in a
cross-section every task gets its own. The likelihood and its gradient are the
kernels of :mod:`offerlab.numerics._mxl`; this module picks the draws, starts from
the multinomial logit, maximises by BFGS and computes the covariances.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import KW_ONLY, dataclass
from typing import ClassVar, Literal

import numpy as np
import pandas as pd

from offerlab.exceptions import ConvergenceWarning, EstimationError, OfferlabError
from offerlab.models._constraints import (
    FIT_CONSTRAINTS,
    ML_CONSTRAINTS,
    Constraint,
    one_of,
    optional,
    whole,
)
from offerlab.models._estimator import FitRun, MLEstimator, free_coefficients
from offerlab.models._fit_input import FitInput
from offerlab.models._matrix import ModelMatrix
from offerlab.models._mnl import design_loglike
from offerlab.models._mxl_results import MixedLogitResults, mxl_param_names
from offerlab.models._spec import spec_random
from offerlab.numerics import (
    DISTRIBUTIONS,
    DRAW_KINDS,
    DrawKind,
    MXLProblem,
    MXLTerms,
    bfgs,
    draw_shape,
    mnl_null_loglike,
    mxl_conditional_means,
    mxl_loglike,
    newton,
    numerical_hessian,
    prepare_mxl,
    standard_draws,
)

__all__ = ["MixedLogit"]

RandomSpec = Mapping[str, str] | Sequence[str] | Literal["all"] | None


@dataclass(eq=False)
class MixedLogit(MLEstimator[MixedLogitResults]):
    """Mixed (random-coefficients) logit by maximum simulated likelihood.

    Parameters
    ----------
    random : mapping, sequence of str or "all", optional
        Random coefficients and their distributions: ``{"price": "lognormal"}``, a
        list of names (all normal) or ``"all"`` (every coefficient normal). Names
        are columns of the model (``"brand[b]"``), or a whole conjoint attribute
        (``"brand"``), or a coded spec coefficient (all of its columns).
        Distributions: ``"normal"``, ``"lognormal"`` (b = exp(u), positive),
        ``"negative_lognormal"`` (b = −exp(u)) and ``"triangular"`` (b = μ + s·t,
        t symmetric triangular on [−1, 1]). Default: a spec's ``distribution``
        entries; for conjoint and array fits every coefficient, normal.
    n_draws : int, optional
        Draws per respondent (panel) or per task (cross-section). Default 1000.
    draws : {"halton", "scrambled_halton", "sobol", "pseudo"}, optional
        Default ``"halton"`` (Train's and xlogit's convention: first primes as
        bases, the first 100 points dropped, consecutive points per respondent).
    panel : bool, optional
        One draw per respondent across all of their tasks (default) or one per task.
    correlated : bool or sequence of str, optional
        Correlate all random coefficients (``True``) or those named: a full
        Cholesky factor among them. Default: independent.
    seed : int, optional
        Randomness of scrambled and pseudo-random draws.
    cov_type : {"classic", "robust", "cluster"}, default "classic"
        Covariance behind t-values, p-values and intervals (all are computed).
    hessian : {"numerical", "bhhh"}, default "bhhh"
        The classic covariance: the inverse outer product of the respondents' scores
        (BHHH: free, the scores come with the last gradient; what xlogit reports), or
        the inverse of the Hessian from finite differences of the analytic gradient
        (P more gradient evaluations: on the Electricity panel it more than doubles
        the time of the fit, bench/README.md). The estimates and the log-likelihood
        are the same either way; robust and clustered SEs use the chosen matrix.
    tol : float, default 1e-6
        Stop when the quasi-Newton decrement g'H⁻¹g (about twice the log-likelihood
        still to gain) falls below ``tol``: the estimates are then within about
        √tol = 0.001 standard errors of the maximum (Stata's ``nrtolerance`` is 1e-5).
    max_iter : int, default 1000
    n_threads : int, optional
        Threads evaluating the likelihood. Default: the machine's cores, but one
        per million utilities (draws × tasks × alternatives) at most, so small
        problems stay single-threaded. On a machine busy with other work, 1 is faster.
    chunk_bytes : int, optional
        Size of the kernel's per-chunk temporaries (default about 1 MiB).
    level_coding : {"effects", "dummy"}, default "effects"
        Coding of categorical attributes (conjoint fits).
    dual : {"sawtooth", "joint"}, default "sawtooth"
        Likelihood of dual-response answers (see MultinomialLogit).

    Examples
    --------
    >>> from offerlab.models._mxl import MixedLogit
    >>> res = MixedLogit(n_draws=600).fit(spec="examples/swissmetro_mxl.yaml")  # doctest: +SKIP
    """

    _parameter_constraints: ClassVar[dict[str, Constraint]] = {
        "n_draws": optional(whole(1)),
        "draws": optional(one_of(*DRAW_KINDS)),
        "hessian": one_of("numerical", "bhhh"),
        "n_threads": optional(whole(1)),
        **ML_CONSTRAINTS,
        **FIT_CONSTRAINTS,
    }

    random: RandomSpec = None
    _: KW_ONLY
    n_draws: int | None = None
    draws: DrawKind | None = None
    panel: bool | None = None
    correlated: bool | Sequence[str] | None = None
    seed: int | None = None
    hessian: Literal["numerical", "bhhh"] = "bhhh"
    tol: float = 1e-6
    n_threads: int | None = None
    chunk_bytes: int | None = None

    # -- fitting ----------------------------------------------------------------------------
    def _fit_given(self, given: FitInput, run: FitRun) -> MixedLogitResults:
        """A conjoint fit's random coefficients are whole attributes; a spec's come from
        its ``distribution`` entries and its ``mixed`` section sets the simulation."""
        design = given.design
        if given.spec is None:
            coding = given.coding
            groups = {b.attribute: list(coding.names[b.start : b.stop]) for b in coding.blocks}
            random = "all" if self.random is None else self.random
            return self._fit_matrix(design, random, groups, run)
        spec = given.spec
        groups = {
            name: [c for c in design.names if c.startswith(f"{name}[")]
            for name, coef in spec.utility.items()
            if coef.coding is not None
        }
        random = self.random
        if random is None:
            random = spec_random(spec, design.names)
            if not random:
                raise OfferlabError(
                    "the spec has no random coefficient: give one a 'distribution' "
                    "(e.g. B_TIME: {variable: time, distribution: normal}) or pass random="
                )
        mixed = spec.mixed
        return self._fit_matrix(
            design,
            random,
            groups,
            run,
            n_draws=mixed.n_draws if mixed else None,
            draws=mixed.draws if mixed else None,
            panel=mixed.panel if mixed else None,
            correlated=mixed.correlated if mixed else None,
            seed=mixed.seed if mixed else None,
        )

    def _fit_design(self, design: ModelMatrix, run: FitRun) -> MixedLogitResults:
        random = "all" if self.random is None else self.random
        return self._fit_matrix(design, random, {}, run)

    # -- the fit ----------------------------------------------------------------------------
    def _fit_matrix(
        self,
        design: ModelMatrix,
        random: RandomSpec,
        groups: dict[str, list[str]],
        run: FitRun,
        **spec_defaults,
    ) -> MixedLogitResults:
        start, progress, source = run.start, run.progress, run.source

        def setting(name: str, default):
            own = getattr(self, name)
            if own is not None:
                return own
            from_spec = spec_defaults.get(name)
            return default if from_spec is None else from_spec

        n_draws = int(setting("n_draws", 1000))
        kind = setting("draws", "halton")
        panel = bool(setting("panel", True))
        correlated = setting("correlated", False)
        seed = setting("seed", None)
        names = list(design.names)
        free_coefficients(design)
        dist = _resolve_random(random, names, groups)
        random_index = [names.index(n) for n in dist]
        distributions = list(dist.values())
        corr_pos = _resolve_correlated(correlated, list(dist), groups)

        N = design.X.shape[0]
        if panel:
            units, unit_ids = pd.factorize(design.groups)  # respondents, order of appearance
        else:
            units, unit_ids = np.arange(N), np.asarray(design.groups)
        U = int(units.max()) + 1
        z = standard_draws(U, n_draws, [draw_shape(d) for d in distributions], kind, rng=seed)
        try:
            problem = prepare_mxl(
                design.X,
                design.y,
                units,
                z,
                random_index,
                distributions,
                available=design.available,
                weights=design.weights,
                offset=design.offset,
                groups=design.groups,
                correlated=corr_pos,
                chunk_bytes=self.chunk_bytes,
            )
        except ValueError as exc:  # e.g. weights that differ within a respondent
            raise EstimationError(str(exc)) from None
        del z  # the chunks hold views or copies of what they need
        n_threads = self.n_threads or _default_threads(problem)
        param_names = mxl_param_names(names, dist, problem)
        theta0 = self._start(design, problem, start, param_names)

        report = _Progress(progress)
        scores_buf = np.empty((U, problem.n_params))

        def loglike(theta: np.ndarray, derivatives: bool = True) -> MXLTerms:
            return mxl_loglike(
                theta,
                problem,
                gradient=derivatives,
                scores_out=scores_buf if derivatives else None,
                n_threads=n_threads,
            )

        theta, final, n_iter, converged = bfgs(
            loglike,
            theta0,
            param_names,
            tol=self.tol,
            max_iter=self.max_iter,
            progress=report.optimiser,
        )
        final_scores = final.scores.copy()
        hessian = None
        if self.hessian == "numerical":
            hessian = numerical_hessian(
                lambda t: loglike(t, True).gradient,
                theta,
                final.gradient,
                progress=report.hessian,
            )
        individual = mxl_conditional_means(theta, problem)
        report.done()
        results = MixedLogitResults.from_fit(
            design=design,
            problem=problem,
            theta=theta,
            value=final.value,
            gradient=final.gradient,
            scores=final_scores,
            hessian=hessian,
            param_names=param_names,
            random=dist,
            llnull=mnl_null_loglike(design.available, design.weights),
            n_iter=n_iter,
            converged=converged,
            cov_type=self.cov_type,
            settings={
                "n_draws": n_draws,
                "draws": kind,
                "panel": panel,
                "correlated": [list(dist)[i] for i in corr_pos],
                "seed": seed,
                "hessian": self.hessian,
            },
            source=source,
        )
        results._individual = (individual, np.asarray(unit_ids), panel)
        return results

    def _start(
        self,
        design: ModelMatrix,
        problem: MXLProblem,
        start: Sequence[float] | None,
        param_names: list[str],
    ) -> np.ndarray:
        P = problem.n_params
        if start is not None:
            theta0 = np.asarray(start, dtype=float)
            if theta0.shape != (P,):
                raise OfferlabError(
                    f"start must have {P} values ({param_names}); got {theta0.shape}"
                )
            return theta0
        K = problem.n_coef

        loglike = design_loglike(design)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            beta, *_ = newton(loglike, np.zeros(K), design.names, tol=1e-8, max_iter=100)
        theta0 = np.zeros(P)
        theta0[:K] = beta
        for i, (k, d) in enumerate(zip(problem.random_index, problem.distributions, strict=True)):
            if d.endswith("lognormal"):
                # exp(μ) starts at the MNL coefficient when its sign agrees, else small.
                signed = beta[k] if d == "lognormal" else -beta[k]
                theta0[k] = np.log(signed) if signed > 1e-3 else np.log(1e-3)
            del i
        diagonal = problem.chol_rows == problem.chol_cols
        theta0[K:][diagonal] = 0.1  # xlogit's start for the spreads
        return theta0


def _default_threads(problem: MXLProblem) -> int:
    """Two threads pay once a call has a few million utilities to compute."""
    work = sum(c.Xd.shape[0] * c.Xd.shape[1] for c in problem.chunks) * problem.n_draws
    cores = os.cpu_count() or 1
    return max(1, min(cores, len(problem.chunks), work // 1_000_000))


def _resolve_random(
    random: RandomSpec, names: list[str], groups: dict[str, list[str]]
) -> dict[str, str]:
    """Column name → distribution, in the column order of the design."""
    if isinstance(random, str):
        if random != "all":
            raise OfferlabError(
                f"random must be a mapping, a list of names or 'all'; got {random!r}"
            )
        wanted: dict[str, str] = dict.fromkeys(names, "normal")
    elif isinstance(random, Mapping):
        wanted = dict(random)
    elif random is None:
        wanted = {}
    else:
        wanted = dict.fromkeys(random, "normal")
    out: dict[str, str] = {}
    for name, distribution in wanted.items():
        if distribution not in DISTRIBUTIONS:
            raise OfferlabError(
                f"random coefficient '{name}': distribution must be one of {DISTRIBUTIONS}; "
                f"got {distribution!r}"
            )
        columns = [name] if name in names else groups.get(name)
        if not columns:
            raise OfferlabError(
                f"random coefficient '{name}' is not a coefficient of the model; "
                f"the model has {names[:30]}"
            )
        for column in columns:
            out[column] = distribution
    if not out:
        raise OfferlabError("a mixed logit needs at least one random coefficient")
    return {n: out[n] for n in names if n in out}


def _resolve_correlated(
    correlated: bool | Sequence[str] | None, random: list[str], groups: dict[str, list[str]]
) -> list[int]:
    """Positions (among the random columns) of the correlated coefficients."""
    if correlated is None or correlated is False:
        return []
    if correlated is True:
        return list(range(len(random)))
    if isinstance(correlated, str):
        correlated = [correlated]
    positions: list[int] = []
    for name in correlated:
        columns = [name] if name in random else groups.get(name, [])
        missing = [c for c in columns if c not in random] or ([] if columns else [name])
        if missing:
            raise OfferlabError(
                f"correlated: '{name}' is not a random coefficient; random ones: {random}"
            )
        positions += [random.index(c) for c in columns]
    return sorted(set(positions))


class _Progress:
    """Maps the optimiser's and the Hessian's advance onto one 0…1 fraction."""

    OPTIMISER_SHARE = 0.9

    def __init__(self, callback: Callable[[float], None] | None) -> None:
        self.callback = callback
        self.best = 0.0
        self.first_decrement: float | None = None

    def _emit(self, fraction: float) -> None:
        if self.callback is None:
            return
        fraction = min(max(fraction, self.best), 1.0)
        self.best = fraction
        self.callback(fraction)

    def optimiser(self, decrement: float, tol: float) -> None:
        """Progress on a log scale from the first decrement down to ``tol``."""
        if self.first_decrement is None:
            self.first_decrement = max(decrement, tol * 10)
        span = np.log(self.first_decrement / tol)
        done = np.log(self.first_decrement / max(decrement, tol)) / span
        self._emit(self.OPTIMISER_SHARE * float(np.clip(done, 0.0, 1.0)))

    def hessian(self, fraction: float) -> None:
        share = self.OPTIMISER_SHARE
        self._emit(share + (1 - share) * fraction)

    def done(self) -> None:
        self._emit(1.0)
