"""Latent class multinomial logit: log-likelihood, analytic derivatives, EM and Newton steps.

Notation (shapes):

* N choice observations, J alternatives, K coefficients per class, C classes;
* G likelihood units: respondents (panel: the class is constant over a respondent's
  tasks) or observations (cross-section: each task draws its class anew);
* θ (P,) the free parameters: C − 1 class constants α_2..α_C (class 1 the
  reference), then the free coefficients. A :class:`ClassMap` says where each
  class's coefficient vector β_c (K,) takes its values from θ, so coefficients may
  be class-specific, shared by several classes, or fixed in some classes.

Model::

    π_c   = exp(α_c) / Σ_d exp(α_d),   α_1 = 0
    L_i   = Σ_c π_c Π_{t∈i} P_t(β_c)               (P_t: the MNL probability of the choice)
    ℓ(θ)  = Σ_i w_i log L_i
    h_ic  = π_c Π_t P_t(β_c) / L_i                 (posterior class probability)

Gradient: ∂ℓ/∂α_d = Σ_i w_i (h_id − π_d); ∂ℓ/∂β_c = Σ_i w_i h_ic Σ_{t∈i} s_tc with
s_tc = x_t,y − x̄_t(β_c) the MNL score.

Hessian (analytic): with ℓ_ic = log π_c + Σ_t log P_t(β_c) and g_ic = ∂ℓ_ic/∂θ,

    ∂²ℓ = Σ_i w_i [ Σ_c h_ic (∂²ℓ_ic + g_ic g_ic') − ḡ_i ḡ_i' ],   ḡ_i = Σ_c h_ic g_ic,

where ∂²ℓ_ic is block diagonal: −(diag π − ππ') on the constants and
Σ_t H_t(β_c) (the MNL Hessian) on class c's coefficients. Σ_i w_i h_ic Σ_t H_t(β_c)
is the MNL Hessian with observation weights w_i h_ic: one call of the MNL kernel
per class gives it, together with the weighted scores and the value of the EM
objective Q. The same call therefore serves an EM step (which uses only that
part of the curvature) and a Newton step on ℓ (which uses all of it).

The optimiser alternates: Newton steps with a line search when −∂²ℓ is positive
definite and the step increases ℓ, EM steps otherwise (closed-form shares, one
Newton step on the concave M-step objective of the coefficients, halved until
the objective increases), which never decrease ℓ.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from offerlab.numerics._mnl import mnl_loglike

__all__ = [
    "ClassMap",
    "LCData",
    "LCFit",
    "LCTerms",
    "lc_data",
    "lc_fit",
    "lc_loglike",
    "lc_probabilities",
    "log_class_shares",
]


@dataclass(frozen=True)
class ClassMap:
    """Where each class's coefficients come from.

    Attributes
    ----------
    index : ndarray of int, shape (C, K)
        Position of β_ck among the free coefficients (θ without the C − 1 class
        constants), or −1 when β_ck is fixed. A position may serve several classes
        (a shared coefficient) but at most once per class.
    values : ndarray, shape (C, K)
        Fixed values, used where ``index`` is −1.
    """

    index: np.ndarray
    values: np.ndarray

    @property
    def n_classes(self) -> int:
        return int(self.index.shape[0])

    @property
    def n_coefficients(self) -> int:
        return int(self.index.shape[1])

    @property
    def n_free(self) -> int:
        """Free coefficients (θ without the class constants)."""
        return int(self.index.max()) + 1 if self.index.size and self.index.max() >= 0 else 0

    @property
    def n_params(self) -> int:
        """Length of θ: C − 1 class constants and the free coefficients."""
        return self.n_classes - 1 + self.n_free

    def betas(self, theta: np.ndarray) -> np.ndarray:
        """Class coefficient vectors, shape (C, K)."""
        free = np.asarray(theta, dtype=float)[self.n_classes - 1 :]
        return np.where(self.index >= 0, free[np.maximum(self.index, 0)], self.values)

    def positions(self, c: int) -> tuple[np.ndarray, np.ndarray]:
        """(coefficients k of class c that are free, their positions in θ)."""
        k = np.flatnonzero(self.index[c] >= 0)
        return k, self.index[c, k] + self.n_classes - 1


def _logsumexp_rows(a: np.ndarray) -> np.ndarray:
    """log Σ_j exp(a_ij) per row, shape (G,).

    Column by column: with a few classes, numpy's reductions along the short axis
    (and scipy's logsumexp) cost more than the arithmetic.
    """
    m = a[:, 0].copy()
    for j in range(1, a.shape[1]):
        np.maximum(m, a[:, j], out=m)
    m[~np.isfinite(m)] = 0.0
    total = np.zeros_like(m)
    for j in range(a.shape[1]):
        total += np.exp(a[:, j] - m)
    return m + np.log(total)


def log_class_shares(theta: np.ndarray, n_classes: int) -> np.ndarray:
    """log π (C,) from the class constants θ[:C−1] (class 1 has constant 0)."""
    z = np.concatenate([[0.0], np.asarray(theta, dtype=float)[: n_classes - 1]])
    return z - _logsumexp_rows(z[None, :])[0]


@dataclass(frozen=True)
class LCData:
    """The arrays of a latent class fit and the likelihood units.

    Attributes
    ----------
    X, y, available, offset
        As for :func:`~offerlab.numerics.mnl_loglike`.
    unit : ndarray of int, shape (N,)
        Likelihood unit of each observation, 0..G−1.
    n_units : int
    unit_sum : sparse matrix (G, N) or None
        Sums observations into units (None: every observation is its own unit).
    unit_weights : ndarray, shape (G,), or None
    obs_weights : ndarray, shape (N,), or None
        The unit weight of each observation's unit.
    """

    X: np.ndarray
    y: np.ndarray
    available: np.ndarray | None
    offset: np.ndarray | None
    unit: np.ndarray
    n_units: int
    unit_sum: sp.csr_matrix | None
    unit_weights: np.ndarray | None
    obs_weights: np.ndarray | None

    def to_units(self, values: np.ndarray) -> np.ndarray:
        """Sum per-observation rows (N, ...) over each unit → (G, ...)."""
        if self.unit_sum is None:
            return values
        return np.asarray(self.unit_sum @ values)

    @property
    def total_weight(self) -> float:
        return float(self.n_units if self.unit_weights is None else self.unit_weights.sum())


def lc_data(
    X: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    *,
    available: np.ndarray | None = None,
    offset: np.ndarray | None = None,
    weights: np.ndarray | None = None,
    panel: bool = True,
) -> LCData:
    """Bundle the arrays and define the likelihood units.

    Parameters
    ----------
    X : ndarray, shape (N, J, K)
    y : ndarray of int, shape (N,)
    groups : ndarray, shape (N,)
        Respondent of each observation.
    available, offset : optional
    weights : ndarray, shape (N,), optional
        Observation weights; in a panel they must be constant within a respondent
        (the respondent's weight).
    panel : bool
        True: one class per respondent for all their tasks. False: a class per task.

    Raises
    ------
    ValueError
        When panel weights vary within a respondent.
    """
    N = X.shape[0]
    w = None if weights is None else np.asarray(weights, dtype=float)
    if not panel:
        return LCData(X, y, available, offset, np.arange(N), N, None, w, w)
    _, unit = np.unique(np.asarray(groups), return_inverse=True)
    unit = unit.reshape(N)
    G = int(unit.max()) + 1 if N else 0
    matrix = sp.csr_matrix((np.ones(N), (unit, np.arange(N))), shape=(G, N))
    unit_w = None
    if w is not None:
        unit_w = np.zeros(G)
        unit_w[unit] = w
        if not np.allclose(unit_w[unit], w, rtol=1e-12, atol=0.0):
            raise ValueError("panel weights must be constant within each respondent")
    return LCData(X, y, available, offset, unit, G, matrix, unit_w, w)


@dataclass(frozen=True)
class LCTerms:
    """Value and derivatives of the latent class log-likelihood at one θ.

    Attributes
    ----------
    value : float
        ℓ(θ).
    loglikeobs : ndarray, shape (N, C)
        log P_t(β_c) of every observation under every class.
    posterior : ndarray, shape (G, C)
        h_ic.
    gradient : ndarray, shape (P,) or None
    hessian : ndarray, shape (P, P) or None
        Full analytic Hessian of ℓ.
    em_hessian : ndarray, shape (P, P) or None
        The curvature of the EM objective: −W (diag π − ππ') on the constants and
        Σ_c Σ_i w_i h_ic Σ_t H_t(β_c) on the coefficients.
    em_value : float or None
        Σ_c Σ_t w h_tc log P_t(β_c) (the coefficient part of the EM objective Q).
    unit_scores : ndarray, shape (G, P) or None
        w_i ∂ log L_i/∂θ; they sum to ``gradient``.
    """

    value: float
    loglikeobs: np.ndarray
    posterior: np.ndarray
    gradient: np.ndarray | None = None
    hessian: np.ndarray | None = None
    em_hessian: np.ndarray | None = None
    em_value: float | None = None
    unit_scores: np.ndarray | None = None


def _loglikeobs(theta: np.ndarray, data: LCData, cmap: ClassMap, chunk_size: int | None):
    """log P_t(β_c), shape (N, C): one value-only pass of the MNL kernel per class."""
    betas = cmap.betas(theta)
    out = np.empty((data.X.shape[0], cmap.n_classes))
    for c in range(cmap.n_classes):
        terms = mnl_loglike(
            betas[c],
            data.X,
            data.y,
            data.available,
            None,
            data.offset,
            gradient=False,
            hessian=False,
            loglikeobs=True,
            chunk_size=chunk_size,
        )
        out[:, c] = terms.loglikeobs
    return out


def _posterior(theta: np.ndarray, L: np.ndarray, data: LCData, n_classes: int):
    """(ℓ, log L_i (G,), h (G, C)) from the per-observation log-probabilities."""
    log_joint = data.to_units(L) + log_class_shares(theta, n_classes)
    log_Li = _logsumexp_rows(log_joint)
    h = np.exp(log_joint - log_Li[:, None])
    value = float(log_Li.sum() if data.unit_weights is None else log_Li @ data.unit_weights)
    return value, log_Li, h


def lc_loglike(
    theta: np.ndarray,
    data: LCData,
    cmap: ClassMap,
    *,
    derivatives: bool = True,
    loglikeobs: np.ndarray | None = None,
    chunk_size: int | None = None,
    scores_buffer: np.ndarray | None = None,
) -> LCTerms:
    """Latent class log-likelihood and, on request, its analytic gradient and Hessian.

    Parameters
    ----------
    theta : ndarray, shape (P,)
        Class constants then free coefficients (see :class:`ClassMap`).
    data : LCData
    cmap : ClassMap
    derivatives : bool
        Compute gradient, Hessian, EM curvature and unit scores.
    loglikeobs : ndarray, shape (N, C), optional
        log P_t(β_c) at this θ when already known (from a line search): saves a pass.
    chunk_size : int, optional
        Passed to the MNL kernel.
    scores_buffer : ndarray, shape (N, K), optional
        Reused for the MNL scores of each class.

    Returns
    -------
    LCTerms
    """
    theta = np.asarray(theta, dtype=float)
    C, K = cmap.n_classes, cmap.n_coefficients
    if theta.shape != (cmap.n_params,):
        raise ValueError(f"theta must have shape ({cmap.n_params},); got {theta.shape}")
    L = _loglikeobs(theta, data, cmap, chunk_size) if loglikeobs is None else loglikeobs
    value, _, h = _posterior(theta, L, data, C)
    if not derivatives:
        return LCTerms(value=value, loglikeobs=L, posterior=h)

    N, G, P = data.X.shape[0], data.n_units, cmap.n_params
    w_unit = np.ones(G) if data.unit_weights is None else data.unit_weights
    W = float(w_unit.sum())
    pi = np.exp(log_class_shares(theta, C))
    betas = cmap.betas(theta)
    scores = np.empty((N, K)) if scores_buffer is None else scores_buffer

    U = np.zeros((G, P))  # w_i ∂ log L_i/∂θ
    H = np.zeros((P, P))
    H_em = np.zeros((P, P))
    em_value = 0.0
    # Constants: ∂ log L_i/∂α_d = h_id − π_d; curvature −W (diag π − ππ') in both Hessians.
    U[:, : C - 1] = (h[:, 1:] - pi[1:]) * w_unit[:, None]
    share_curv = -(np.diag(pi) - np.outer(pi, pi))[1:, 1:]
    H[: C - 1, : C - 1] += W * share_curv
    H_em[: C - 1, : C - 1] += W * share_curv
    for c in range(C):
        k, pos = cmap.positions(c)
        w_obs = h[data.unit, c] if data.obs_weights is None else h[data.unit, c] * data.obs_weights
        terms = mnl_loglike(
            betas[c],
            data.X,
            data.y,
            data.available,
            w_obs,
            data.offset,
            gradient=True,
            hessian=True,
            scores_out=scores,
            chunk_size=chunk_size,
        )
        em_value += terms.value
        Hc = terms.hessian[np.ix_(k, k)]
        H[np.ix_(pos, pos)] += Hc
        H_em[np.ix_(pos, pos)] += Hc
        # w_i h_ic G_ic with G_ic = Σ_{t∈i} s_tc (the class-c score of the unit).
        Uc = data.to_units(scores)[:, k]  # (G, K) first: the copy is then small
        U[:, pos] += Uc
        # Σ_i w_i h_ic g_ic g_ic' with g_ic = (e_c − π on the constants, G_ic on pos).
        whc = w_unit * h[:, c]
        a = (np.arange(C) == c).astype(float)[1:] - pi[1:]  # (C−1,)
        H[: C - 1, : C - 1] += whc.sum() * np.outer(a, a)
        cross = a[:, None] * Uc.sum(axis=0)[None, :]  # Σ_i w h a G'
        H[np.ix_(np.arange(C - 1), pos)] += cross
        H[np.ix_(pos, np.arange(C - 1))] += cross.T
        # (w h G)(w h G)' / (w h). Rows with w h < 1e-250 add less than 1e-250 |G|² and
        # are left out: dividing by a subnormal would overflow.
        # Products written as V'V so that numpy calls BLAS syrk: a general product of
        # these thin matrices ran 30× slower with OpenBLAS threads on a busy machine.
        root = np.sqrt(np.divide(1.0, whc, out=np.zeros(G), where=whc > 1e-250))
        V = Uc * root[:, None]
        H[np.ix_(pos, pos)] += V.T @ V
    # − Σ_i w_i ḡ_i ḡ_i' with ḡ_i = U_i / w_i.
    V = U / np.sqrt(w_unit)[:, None]
    H -= V.T @ V
    H = (H + H.T) / 2
    return LCTerms(
        value=value,
        loglikeobs=L,
        posterior=h,
        gradient=U.sum(axis=0),
        hessian=H,
        em_hessian=H_em,
        em_value=em_value,
        unit_scores=U,
    )


def lc_probabilities(
    theta: np.ndarray,
    X: np.ndarray,
    cmap: ClassMap,
    available: np.ndarray | None = None,
    offset: np.ndarray | None = None,
) -> np.ndarray:
    """Unconditional choice probabilities Σ_c π_c P_nj(β_c), shape (N, J)."""
    from offerlab.numerics._mnl import mnl_probabilities

    pi = np.exp(log_class_shares(theta, cmap.n_classes))
    betas = cmap.betas(theta)
    out = np.zeros(X.shape[:2])
    for c in range(cmap.n_classes):
        out += pi[c] * mnl_probabilities(betas[c], X, available, offset)
    return out


# -- optimisation -------------------------------------------------------------------------


@dataclass(frozen=True)
class LCFit:
    """Outcome of :func:`lc_fit` from one start.

    Attributes
    ----------
    theta : ndarray (P,)
    terms : LCTerms
        At ``theta``, with derivatives.
    n_em, n_newton : int
        EM and Newton steps taken.
    converged : bool
        The Newton decrement fell below the tolerance with −∂²ℓ positive definite.
    history : list of float
        ℓ after every step.
    """

    theta: np.ndarray
    terms: LCTerms
    n_em: int
    n_newton: int
    converged: bool
    history: list[float]


def _scaled_cholesky_solve(neg_h: np.ndarray, rhs: np.ndarray) -> np.ndarray | None:
    """Solve (−H) x = rhs by Cholesky of the Jacobi-scaled matrix; None if not PD."""
    diag = np.diag(neg_h)
    if not np.all(diag > 0):
        return None
    d = 1.0 / np.sqrt(diag)
    M = neg_h * np.outer(d, d)
    try:
        Lc = np.linalg.cholesky(M)
    except np.linalg.LinAlgError:
        return None
    if np.min(np.diag(Lc)) ** 2 < 1e-12:
        return None
    z = np.linalg.solve(Lc, rhs * d)
    return d * np.linalg.solve(Lc.T, z)


def _em_direction(neg_h: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Newton direction of the (concave) M-step; pseudo-inverse when a class is empty."""
    x = _scaled_cholesky_solve(neg_h, rhs)
    if x is not None:
        return x
    vals, vecs = np.linalg.eigh(neg_h)
    keep = vals > 1e-10 * max(vals.max(initial=0.0), 1.0)
    return vecs[:, keep] @ ((vecs[:, keep].T @ rhs) / vals[keep])


def _armijo(
    theta: np.ndarray,
    step: np.ndarray,
    decrement: float,
    value: float,
    data: LCData,
    cmap: ClassMap,
    chunk_size: int | None,
) -> tuple[np.ndarray, np.ndarray] | None:
    """The first θ + t·step, t ∈ {1, ½, …}, that meets Armijo's rule, with its per-observation
    log-likelihoods; None when none does."""
    t = 1.0
    while t > 1e-10:
        trial = theta + t * step
        L = _loglikeobs(trial, data, cmap, chunk_size)
        trial_value, _, _ = _posterior(trial, L, data, cmap.n_classes)
        if np.isfinite(trial_value) and trial_value >= value + 1e-4 * t * decrement:
            return trial, L
        t /= 2
    return None


def _em_step(
    theta: np.ndarray, terms: LCTerms, data: LCData, cmap: ClassMap, chunk_size: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """One EM step: shares from the posteriors, the coefficients by a halved Newton step
    on Q (see :func:`lc_fit`). Returns θ and its per-observation log-likelihoods."""
    C = cmap.n_classes
    new = theta.copy()
    h = terms.posterior
    counts = h.sum(axis=0) if data.unit_weights is None else data.unit_weights @ h
    pi_new = np.maximum(counts / counts.sum(), 1e-300)
    new[: C - 1] = np.log(pi_new[1:] / pi_new[0])
    free = np.arange(C - 1, cmap.n_params)
    if not free.size:
        return new, terms.loglikeobs
    g = terms.gradient
    direction = _em_direction(-terms.em_hessian[np.ix_(free, free)], g[free])
    slope = float(g[free] @ direction)
    t = 1.0
    hw = h[data.unit] if data.obs_weights is None else h[data.unit] * data.obs_weights[:, None]
    while True:
        new[free] = theta[free] + t * direction
        L = _loglikeobs(new, data, cmap, chunk_size)
        q = float(np.sum(hw * L))
        if q >= terms.em_value + 1e-4 * t * slope or t < 1e-10:
            break
        t /= 2
    if t < 1e-10:
        new[free] = theta[free]
        L = terms.loglikeobs
    return new, L


def lc_fit(
    theta0: np.ndarray,
    data: LCData,
    cmap: ClassMap,
    *,
    tol: float = 1e-10,
    max_iter: int = 1000,
    em_first: int = 3,
    chunk_size: int | None = None,
    progress: Callable[[float], None] | None = None,
) -> LCFit:
    """Maximise the latent class log-likelihood from one start.

    Parameters
    ----------
    theta0 : ndarray, shape (P,)
    data : LCData
    cmap : ClassMap
    tol : float
        Stop when the Newton decrement g'(−H)⁻¹g falls below ``tol``.
    max_iter : int
        Steps at most (EM and Newton together).
    em_first : int
        EM steps before the first Newton attempt (random starts are rough).
    chunk_size : int, optional
    progress : callable, optional
        Called with the fraction of ``max_iter`` used (a rough upper bound).

    Returns
    -------
    LCFit

    Notes
    -----
    Each step evaluates the derivatives once (one weighted MNL pass per class).
    Newton: direction d = (−H)⁻¹g when −H is positive definite, step t ∈ {1, ½, …}
    by Armijo's rule ℓ(θ + td) ≥ ℓ(θ) + 10⁻⁴ t g'd (value-only passes). EM otherwise,
    or when the line search fails: shares π_c ← Σ_i w_i h_ic / W and coefficients by
    one Newton step on Q(β) = Σ_c Σ_t w h_tc log P_t(β_c), halved until Q increases,
    which by the EM inequality increases ℓ.
    """
    theta = np.array(theta0, dtype=float)
    scores = np.empty((data.X.shape[0], cmap.n_coefficients))
    terms = lc_loglike(theta, data, cmap, chunk_size=chunk_size, scores_buffer=scores)
    if not np.isfinite(terms.value):
        raise ValueError("the log-likelihood is not finite at the starting values")
    history = [terms.value]
    n_em = n_newton = 0
    converged = False
    for it in range(max_iter):
        if progress is not None:
            progress(it / max_iter)
        g = terms.gradient
        step = None
        if it >= em_first:
            step = _scaled_cholesky_solve(-terms.hessian, g)
        if step is not None:
            decrement = float(g @ step)
            if decrement < tol:
                converged = True
                break
            accepted = _armijo(theta, step, decrement, terms.value, data, cmap, chunk_size)
            if accepted is not None:
                theta = accepted[0]
                terms = lc_loglike(
                    theta,
                    data,
                    cmap,
                    loglikeobs=accepted[1],
                    chunk_size=chunk_size,
                    scores_buffer=scores,
                )
                n_newton += 1
                history.append(terms.value)
                continue
            if decrement < max(tol, 1e-7):
                # No ascent left in floating point: the optimum to machine precision.
                converged = True
                break
        new, L = _em_step(theta, terms, data, cmap, chunk_size)
        old_value = terms.value
        theta = new
        terms = lc_loglike(
            theta, data, cmap, loglikeobs=L, chunk_size=chunk_size, scores_buffer=scores
        )
        n_em += 1
        history.append(terms.value)
        if it >= em_first and abs(terms.value - old_value) < 1e-13 * max(1.0, abs(old_value)):
            # EM no longer moves and Newton is unavailable: a degenerate optimum
            # (an empty class or coefficients that are not identified).
            break
    if progress is not None:
        progress(1.0)
    return LCFit(theta, terms, n_em, n_newton, converged, history)
