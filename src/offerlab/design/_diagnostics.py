"""Design diagnostics: D-error and efficiency, balance, overlap, dominance, standard errors.

Everything here concerns the *concepts* of the design tasks: a none option
and the holdout tasks are left out. The none option adds an alternative
specific constant whose precision depends on how often respondents choose it,
which a design alone cannot tell; holdouts are not used for estimation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from offerlab.design._bounds import street_burgess_bound
from offerlab.design._design import Design
from offerlab.design._information import information_matrix, log_det
from offerlab.design._prior import prior_draws, prior_mean
from offerlab.exceptions import DesignError

__all__ = ["DesignDiagnostics", "diagnose", "parameter_names"]


def parameter_names(design: Design, coding: str) -> pd.DataFrame:
    """Attribute and level of every coded column (P rows), in column order.

    Effects coding has a column for every level but the last; dummy coding for
    every level but the first (the reference).
    """
    rows = []
    for attr in design.study.attributes:
        names = attr.level_names
        kept = names[:-1] if coding == "effects" else names[1:]
        rows += [(f"{attr.name}[{lv}]", attr.name, lv) for lv in kept]
    return pd.DataFrame(rows, columns=["parameter", "attribute", "level"])


@dataclass(frozen=True)
class DesignDiagnostics:
    """Diagnostics of a design (see :func:`diagnose`).

    Attributes
    ----------
    method, n_versions, n_tasks, n_alternatives, seed :
        The design's method and shape (design tasks only) and seed.
    coding : str
        Coding of the parameters ("effects" or "dummy").
    d_errors : ndarray, shape (versions,)
        Zero-prior D-error of every version, det(M_v⁻¹)^(1/P).
    d_error : float
        Their mean (infinite when some version alone leaves a part-worth unidentified).
    d_error_pooled : float
        D-error of the versions' average information, det((Σ_v M_v / V)⁻¹)^(1/P): what a
        respondent contributes on average. Finite whenever the versions together
        identify every part-worth, even if no single version does.
    d_errors_prior : ndarray, shape (versions,), or None
        Bayesian D-error of every version under the study's prior (None without one).
    optimum : float or None
        Street–Burgess smallest possible D-error of one version, when it applies.
    d_efficiency : ndarray, shape (versions,), or None
        optimum / D-error per version (1.0 = provably optimal).
    efficiency_note : str
        Why ``d_efficiency`` is None, or what it is relative to.
    level_counts : DataFrame
        ``attribute, level, count`` over all versions' design tasks.
    balance : DataFrame
        ``attribute, min_count, max_count, ratio`` (ratio = min / max; 1 = perfect).
    overlap : DataFrame
        ``attribute, overlap, minimal``: share of tasks in which some level of the
        attribute appears twice, and the smallest share possible (1 when the
        attribute has fewer levels than a task has concepts).
    n_dominated_tasks, n_tasks_total : int
        Tasks with a dominated concept (``Study.dominated``), out of all tasks.
    respondents : int
        Respondents of the design test, spread evenly over the versions.
    target_se : float
        Standard error the design test aims for.
    parameters : DataFrame
        ``parameter, attribute, level, se, respondents_needed`` per coded parameter.
    respondents_needed : int or None
        Respondents for every parameter's SE to reach ``target_se`` (None when
        the design does not identify every parameter).
    se_note : str
        At which coefficients the SEs were computed.
    """

    method: str
    n_versions: int
    n_tasks: int
    n_alternatives: int
    seed: int | None
    coding: str
    d_errors: np.ndarray
    d_error: float
    d_error_pooled: float
    d_errors_prior: np.ndarray | None
    optimum: float | None
    d_efficiency: np.ndarray | None
    efficiency_note: str
    level_counts: pd.DataFrame
    balance: pd.DataFrame
    overlap: pd.DataFrame
    n_dominated_tasks: int
    n_tasks_total: int
    respondents: int
    target_se: float
    parameters: pd.DataFrame
    respondents_needed: int | None
    se_note: str

    @property
    def n_unidentified_versions(self) -> int:
        """Versions that alone leave some part-worth unidentified (infinite D-error)."""
        return int((~np.isfinite(self.d_errors)).sum())

    @property
    def unidentified_note(self) -> str:
        """Why a D-error is infinite, and whether that matters."""
        pooled = (
            "the versions together identify every part-worth (pooled D-error "
            f"{self.d_error_pooled:.6g}), so the data will"
            if np.isfinite(self.d_error_pooled)
            else "even all versions together do not identify every part-worth: add tasks"
        )
        return (
            f"{self.n_unidentified_versions} of {self.n_versions} versions alone do not "
            f"identify every part-worth (too few tasks per version for {self.n_params} "
            f"parameters); {pooled}"
        )

    @property
    def n_params(self) -> int:
        return len(self.parameters)

    @property
    def mean_efficiency(self) -> float | None:
        """Mean D-efficiency over versions, or None."""
        return None if self.d_efficiency is None else float(np.mean(self.d_efficiency))

    def to_frame(self) -> pd.DataFrame:
        """Tidy per-parameter table: parameter, attribute, level, se, respondents_needed."""
        return self.parameters.copy()

    def summary(self) -> str:
        """A plain-text summary (returned, not printed)."""
        lines = [
            f"Design: {self.method}, {self.n_versions} version(s) x {self.n_tasks} tasks x "
            f"{self.n_alternatives} concepts"
            + (f", seed {self.seed}" if self.seed is not None else ""),
            f"D-error ({self.coding} coding, zero prior): mean {self.d_error:.6g}"
            + (
                f" (versions {self.d_errors.min():.6g} to {self.d_errors.max():.6g}; "
                f"pooled {self.d_error_pooled:.6g})"
                if self.n_versions > 1
                else ""
            ),
        ]
        if self.n_unidentified_versions:
            lines.append(self.unidentified_note)
        if self.d_errors_prior is not None:
            lines.append(f"Bayesian D-error under the prior: mean {self.d_errors_prior.mean():.6g}")
        if self.d_efficiency is not None:
            lines.append(
                f"D-efficiency vs the Street-Burgess optimum ({self.optimum:.6g}): mean "
                f"{100 * self.mean_efficiency:.2f}%, worst version "
                f"{100 * self.d_efficiency.min():.2f}%"
            )
        else:
            lines.append(f"D-efficiency: not available ({self.efficiency_note})")
        bal = ", ".join(f"{r.attribute} {r.ratio:.2f}" for r in self.balance.itertuples())
        lines.append(f"Level balance (min/max count): {bal}")
        ov = ", ".join(
            f"{r.attribute} {100 * r.overlap:.0f}% (min {100 * r.minimal:.0f}%)"
            for r in self.overlap.itertuples()
        )
        lines.append(f"Overlap (tasks repeating a level): {ov}")
        lines.append(
            f"Tasks with a dominated concept: {self.n_dominated_tasks} of {self.n_tasks_total}"
        )
        se = self.parameters["se"]
        worst = self.parameters.loc[se.idxmax()] if np.isfinite(se).all() else None
        if worst is None or self.respondents_needed is None:
            lines.append("Design test: some parameters are not identified by this design")
        else:
            lines.append(
                f"Design test at {self.respondents} respondents ({self.se_note}): largest SE "
                f"{worst['se']:.4f} ({worst['parameter']}); SE <= {self.target_se:g} for every "
                f"parameter needs {self.respondents_needed} respondents"
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def _efficiency(
    design: Design, coding: str, d_errors: np.ndarray, zero_prior: bool
) -> tuple[float | None, np.ndarray | None, str]:
    """Street–Burgess optimum, efficiency per version and a note (why not, or what)."""
    study = design.study
    if study.prohibitions:
        return (
            None,
            None,
            (
                "the Street-Burgess optimum assumes every combination of levels is allowed; "
                "this study has prohibitions"
            ),
        )
    if not zero_prior:
        return None, None, "the Street-Burgess optimum holds for the zero prior only"
    bound = street_burgess_bound(study.n_levels, design.n_alternatives, design.n_tasks, coding)
    if bound is None:
        return None, None, "theory gives no optimum for this design"
    return bound, bound / d_errors, "relative to the Street-Burgess optimum (zero prior)"


def diagnose(
    design: Design, *, respondents: int = 500, target_se: float = 0.05
) -> DesignDiagnostics:
    """Diagnose a design: efficiency, balance, overlap, dominance, and a design test.

    Parameters
    ----------
    design : Design
        The design (its design tasks; holdouts and the none option are left out).
    respondents : int, default 500
        Respondents of the design test, spread evenly over the versions.
    target_se : float, default 0.05
        Standard error every coded part-worth should reach.

    Returns
    -------
    DesignDiagnostics

    Notes
    -----
    The design test takes the MNL information of version v, M_v, at the prior
    mean (zero without a prior), and gives each version N/V respondents: the
    information is I = (N/V) Σ_v M_v and the standard errors are the square
    roots of the diagonal of I⁻¹. They scale as 1/√N, so parameter k reaches the
    target with N_k = ⌈N (SE_k / target)²⌉ respondents.
    """
    if isinstance(respondents, bool) or not isinstance(respondents, int) or respondents < 1:
        raise DesignError(
            f"the 'respondents' parameter must be an integer >= 1; got {respondents!r}"
        )
    if not target_se > 0:
        raise DesignError(f"the 'target_se' parameter must be a number > 0; got {target_se!r}")
    study = design.study
    coding = study.design.coding
    X = design.coded(coding)  # (V, T, m, P)
    V = design.n_versions
    P = X.shape[-1]
    infos = [information_matrix(x) for x in X]
    d_errors = np.array([np.exp(-log_det(m) / P) for m in infos])
    d_error_pooled = float(np.exp(-log_det(sum(infos) / V) / P))
    d_errors_prior = None
    draws = prior_draws(study, coding, np.random.default_rng(0))
    if draws is not None:
        d_errors_prior = np.array(
            [np.mean([np.exp(-log_det(information_matrix(x, b)) / P) for b in draws]) for x in X]
        )
    optimum, efficiency, note = _efficiency(design, coding, d_errors, draws is None)

    # Level balance and overlap, over all versions' design tasks.
    lv = design.levels.reshape(-1, design.n_alternatives, len(study.attributes))  # (V·T, m, A)
    counts, balance, overlap = [], [], []
    m = design.n_alternatives
    for a, attr in enumerate(study.attributes):
        c = np.bincount(lv[..., a].ravel(), minlength=len(attr.level_names))
        counts += [(attr.name, name, int(k)) for name, k in zip(attr.level_names, c, strict=True)]
        balance.append(
            (attr.name, int(c.min()), int(c.max()), c.min() / c.max() if c.max() else 1.0)
        )
        col = np.sort(lv[..., a], axis=1)
        repeats = (np.diff(col, axis=1) == 0).any(axis=1)
        minimal = 1.0 if len(attr.level_names) < m else 0.0
        overlap.append((attr.name, float(repeats.mean()) if len(col) else 0.0, minimal))
    dominated = sum(bool(study.dominated(task).any()) for task in lv)

    # Design test.
    beta0 = prior_mean(study, coding)
    info = sum(information_matrix(x, beta0) for x in X) * (respondents / V)
    names = parameter_names(design, coding)
    if np.isfinite(log_det(info)):
        se = np.sqrt(np.diag(np.linalg.inv(info)))
        # ceil, forgiving float noise: 200.00000000000003 respondents are 200
        needed = np.ceil(respondents * (se / target_se) ** 2 * (1 - 1e-12)).astype(int)
        needed_all: int | None = int(needed.max())
    else:
        se = np.full(P, np.inf)
        needed = np.full(P, -1)
        needed_all = None
    params = names.assign(
        se=se, respondents_needed=pd.array(np.where(needed > 0, needed, None), dtype="Int64")
    )
    return DesignDiagnostics(
        method=design.method,
        n_versions=V,
        n_tasks=design.n_tasks,
        n_alternatives=m,
        seed=design.seed,
        coding=coding,
        d_errors=d_errors,
        d_error=float(d_errors.mean()),
        d_error_pooled=d_error_pooled,
        d_errors_prior=d_errors_prior,
        optimum=optimum,
        d_efficiency=efficiency,
        efficiency_note=note,
        level_counts=pd.DataFrame(counts, columns=["attribute", "level", "count"]),
        balance=pd.DataFrame(balance, columns=["attribute", "min_count", "max_count", "ratio"]),
        overlap=pd.DataFrame(overlap, columns=["attribute", "overlap", "minimal"]),
        n_dominated_tasks=int(dominated),
        n_tasks_total=len(lv),
        respondents=respondents,
        target_se=float(target_se),
        parameters=params,
        respondents_needed=needed_all,
        # Numeric attributes too get one part-worth per level here (the design's own
        # coding): a linear term fitted later is estimated at least as precisely.
        se_note=("at the prior mean" if beta0 is not None else "at zero coefficients")
        + f", every attribute as part-worths in {coding} coding",
    )
