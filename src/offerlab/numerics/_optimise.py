"""Optimisers of the estimators: Newton (MNL), BHHH then BFGS (mixed logit), Hessians.

Pure functions on a log-likelihood callable: ``loglike(theta, derivatives) -> terms``
with ``terms.value``, ``terms.gradient`` and, as each method needs it, ``terms.hessian``
(Newton) or the per-unit ``terms.scores`` (BHHH). They raise
:class:`~offerlab.exceptions.EstimationError` naming the coefficients that cannot be
identified and warn with :class:`~offerlab.exceptions.ConvergenceWarning`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np
from scipy.linalg import cho_solve

from offerlab.exceptions import ConvergenceWarning, EstimationError
from offerlab.numerics._mnl import MNLTerms
from offerlab.numerics._mxl import MXLTerms

Terms = TypeVar("Terms", MNLTerms, MXLTerms)

__all__ = ["bfgs", "bhhh_inverse", "newton", "numerical_hessian", "solve_newton"]


def _not_converged(message: str) -> ConvergenceWarning:
    return ConvergenceWarning.because("estimate_not_converged", message)


def _start(loglike: Callable[..., Terms], x0: np.ndarray, what: str) -> tuple[np.ndarray, Terms]:
    """The starting point (a float copy) and its terms, which must be finite."""
    x = np.array(x0, dtype=float)
    terms = loglike(x, True)
    if not np.isfinite(terms.value):
        raise EstimationError(
            f"{what} is not finite at the starting values; check the data for infinite "
            "or missing values"
        )
    return x, terms


def newton(
    loglike: Callable[..., MNLTerms],
    beta0: np.ndarray,
    names: Sequence[str],
    *,
    tol: float = 1e-10,
    max_iter: int = 100,
) -> tuple[np.ndarray, MNLTerms, int, bool]:
    """Maximise a concave log-likelihood by Newton's method with step halving.

    Parameters
    ----------
    loglike : callable
        ``loglike(beta, derivatives: bool) -> MNLTerms`` (gradient and Hessian
        when ``derivatives``).
    beta0 : ndarray, shape (K,)
    names : sequence of str
        Coefficient names, for error messages.
    tol : float
        Stop when the Newton decrement g'(−H)⁻¹g < ``tol``.
    max_iter : int

    Returns
    -------
    beta, terms at beta, n_iter, converged

    Notes
    -----
    Direction d = (−H)⁻¹g, solved by Cholesky on the Jacobi-scaled matrix
    D(−H)D with D = diag(−H)^(−1/2), which makes the solve insensitive to the
    units of the variables (a price in francs next to a 0/1 constant). The
    step t ∈ {1, ½, ¼, …} is the first meeting Armijo's condition
    ℓ(β + t d) ≥ ℓ(β) + 10⁻⁴ t g'd. The decrement g'd is invariant to
    linear reparametrisation, so centring variables would not change the path.
    """
    beta, terms = _start(loglike, beta0, "the log-likelihood")
    for it in range(1, max_iter + 1):
        step = solve_newton(-terms.hessian, terms.gradient, names)
        decrement = float(terms.gradient @ step)
        if decrement < tol:
            return beta, terms, it - 1, True
        t = 1.0
        while True:
            trial = loglike(beta + t * step, True)
            if np.isfinite(trial.value) and trial.value >= terms.value + 1e-4 * t * decrement:
                break
            t /= 2
            if t < 1e-12:
                # The trial overwrote a shared scores buffer: re-evaluate at beta.
                terms = loglike(beta, True)
                # No ascent possible in floating point: we are at the optimum's precision.
                converged = decrement < max(tol, 1e-6)
                if not converged:
                    message = (
                        f"Newton's method stalled with decrement {decrement:.3g} > tol {tol:g}"
                    )
                    warnings.warn(_not_converged(message), stacklevel=3)
                return beta, terms, it, converged
        beta = beta + t * step
        terms = trial
    message = (
        f"Newton's method did not converge in {max_iter} iterations; estimates may be "
        "unreliable (perfect separation makes some coefficients run off to infinity)"
    )
    warnings.warn(_not_converged(message), stacklevel=3)
    return beta, terms, max_iter, False


def solve_newton(
    neg_hessian: np.ndarray, rhs: np.ndarray, names: Sequence[str], *, rcond: float = 1e-12
) -> np.ndarray:
    """Solve (−H) x = rhs for a symmetric positive definite −H, or explain why not.

    Raises
    ------
    EstimationError
        When −H is singular: names the coefficients that cannot be identified.
    """
    diag = np.diag(neg_hessian).copy()
    flat = [names[k] for k in np.flatnonzero(~(diag > 0))]
    if flat:
        raise EstimationError(
            f"singular Hessian: coefficient(s) {flat} are not identified: their variable "
            "never differs between the alternatives of a task (e.g. a constant on every "
            "alternative, or a respondent characteristic without alternative-specific "
            "coefficients)"
        )
    d = 1.0 / np.sqrt(diag)
    M = neg_hessian * np.outer(d, d)
    rhs = np.asarray(rhs)
    try:
        L = np.linalg.cholesky(M)
        ok = np.min(np.diag(L)) ** 2 > rcond
    except np.linalg.LinAlgError:
        ok = False
    if not ok:
        vals, vecs = np.linalg.eigh(M)
        small = vecs[:, vals < max(rcond, 1e-10) * max(vals.max(), 1.0)]
        if small.size == 0:
            small = vecs[:, :1]
        load = np.abs(small).max(axis=1)
        culprits = [names[k] for k in np.flatnonzero(load > 0.1)]
        combo = " + ".join(
            f"{small[k, 0]:.2f}·{names[k]}" for k in np.flatnonzero(np.abs(small[:, 0]) > 0.1)
        )
        raise EstimationError(
            f"singular Hessian: coefficients {culprits} are not identified (collinear: "
            f"{combo} ≈ 0 in every task). Typical causes: a level or constant that also "
            "appears as another coefficient, a constant on every alternative, dummies of "
            "every level, or an attribute that never varies within a task"
        )
    scale = d if rhs.ndim == 1 else d[:, None]
    return scale * cho_solve((L, True), rhs * scale)


def bfgs(
    loglike: Callable[[np.ndarray, bool], MXLTerms],
    theta0: np.ndarray,
    names: Sequence[str],
    *,
    tol: float = 1e-6,
    max_iter: int = 1000,
    bhhh_until: float = 1.0,
    progress: Callable[[float, float], None] | None = None,
) -> tuple[np.ndarray, MXLTerms, int, bool]:
    """Maximise a log-likelihood by BHHH steps, then BFGS from the last BHHH matrix.

    Parameters
    ----------
    loglike : callable
        ``loglike(theta, derivatives) -> MXLTerms``: with ``derivatives`` the
        gradient and the per-unit ``scores``.
    theta0 : ndarray, shape (P,)
    names : sequence of str
        Parameter names, for error messages.
    tol : float
        Stop when the decrement g'Hg (H the inverse-Hessian approximation) < ``tol``.
    max_iter : int
    bhhh_until : float
        Take BHHH steps while their decrement exceeds this, then switch to BFGS.
    progress : callable, optional
        ``progress(decrement, tol)`` after every iteration.

    Returns
    -------
    theta, terms at theta (with scores), n_iter, converged

    Notes
    -----
    Far from the maximum, H = (Σ_n s_n s_n')⁻¹ from the current scores (BHHH): it
    is fresh at every step, costs nothing (the scores come with the gradient) and
    gets the scale of every parameter right. Once its decrement g'Hg falls below
    ``bhhh_until`` (less than about half a log-likelihood unit to gain), BFGS
    updates take over from that matrix and converge superlinearly, where BHHH only
    converges linearly. On the Electricity panel this takes 14 iterations; BFGS
    from the first BHHH matrix alone took 38 (xlogit, which does that with its
    own line search, 25). A full step is
    tried first, with the gradient; when it fails Armijo's condition
    ℓ(θ + t d) ≥ ℓ(θ) + 10⁻⁴ t g'd, the step is cut by quadratic interpolation on
    value-only evaluations. H is updated only when the curvature s'y < 0 holds
    (ascent: y = g_new − g), so it stays negative definite.
    """
    theta, terms = _start(loglike, theta0, "the simulated log-likelihood")
    H = bhhh_inverse(terms.scores, names)
    g = terms.gradient
    use_bhhh = True
    for it in range(1, max_iter + 1):
        if use_bhhh:
            H = bhhh_inverse(terms.scores, names)
        d = H @ g
        decrement = float(g @ d)
        if progress is not None:
            progress(decrement, tol)
        if decrement < tol:
            return theta, terms, it - 1, True
        if decrement < 0:  # H lost definiteness: back to BHHH
            use_bhhh = True
            continue
        if use_bhhh and decrement < bhhh_until:
            use_bhhh = False
        slope = decrement  # directional derivative g'd at t = 0
        t = 1.0
        trial = loglike(theta + d, True)
        while not (np.isfinite(trial.value) and trial.value >= terms.value + 1e-4 * t * slope):
            # Quadratic through ℓ(0), ℓ'(0) and ℓ(t), safeguarded to [t/10, t/2].
            drop = terms.value + slope * t - trial.value if np.isfinite(trial.value) else np.inf
            t_new = slope * t * t / (2 * drop) if np.isfinite(drop) and drop > 0 else t / 10
            t = float(np.clip(t_new, t / 10, t / 2))
            if t < 1e-10:
                terms = loglike(theta, True)  # refresh the shared scores buffer
                converged = decrement < max(tol, 1e-5)
                if not converged:
                    message = (
                        f"BFGS stalled with decrement {decrement:.3g} > tol {tol:g}; the "
                        "estimates may not be at the maximum (try more draws or another start)"
                    )
                    warnings.warn(_not_converged(message), stacklevel=3)
                return theta, terms, it, converged
            trial = loglike(theta + t * d, False)
        if trial.gradient is None:
            trial = loglike(theta + t * d, True)
        s = t * d
        yv = trial.gradient - g
        theta = theta + s
        terms = trial
        g = trial.gradient
        sy = float(s @ yv)
        if not use_bhhh and sy < -1e-12 * np.linalg.norm(s) * np.linalg.norm(yv):
            # BFGS update of H ≈ (−∇²ℓ)⁻¹: the textbook formula for f = −ℓ, whose
            # gradient change is −y, so ρ = 1/(−y)'s and the cross terms change sign.
            rho = -1.0 / sy
            Hy = H @ yv
            H = (
                H
                + rho * (np.outer(s, Hy) + np.outer(Hy, s))
                + (rho * rho * float(yv @ Hy) + rho) * np.outer(s, s)
            )
    message = f"BFGS did not converge in {max_iter} iterations; estimates may be unreliable"
    warnings.warn(_not_converged(message), stacklevel=3)
    return theta, terms, max_iter, False


def bhhh_inverse(scores: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """(Σ_n s_n s_n')⁻¹, or the pseudo-inverse with a note of unidentified parameters."""
    B = scores.T @ scores
    diag = np.diag(B)
    flat = [names[k] for k in np.flatnonzero(~(diag > 0))]
    if flat:
        raise EstimationError(
            f"parameter(s) {flat} do not move the simulated log-likelihood at the start: "
            "their variable never differs between the alternatives of a task"
        )
    d = 1.0 / np.sqrt(diag)
    return np.linalg.pinv(B * np.outer(d, d)) * np.outer(d, d)


def numerical_hessian(
    gradient: Callable[[np.ndarray], np.ndarray],
    theta: np.ndarray,
    g0: np.ndarray,
    *,
    progress: Callable[[float], None] | None = None,
) -> np.ndarray:
    """Hessian by forward differences of an analytic gradient, symmetrised.

    Parameters
    ----------
    gradient : callable
        θ → ∇ℓ(θ).
    theta : ndarray, shape (P,)
    g0 : ndarray, shape (P,)
        ∇ℓ(θ), already known.

    Notes
    -----
    Steps h_p = 10⁻⁵ max(1, |θ_p|): the truncation error O(h) is then about 10⁻⁵
    relative, plenty for standard errors, at P gradient evaluations (central
    differences would take 2P).
    """
    P = len(theta)
    H = np.empty((P, P))
    for p in range(P):
        h = 1e-5 * max(1.0, abs(theta[p]))
        up = theta.copy()
        up[p] += h
        H[:, p] = (gradient(up) - g0) / h
        if progress is not None:
            progress((p + 1) / P)
    return (H + H.T) / 2
