"""MNL information matrix and D-error of a choice design: pure functions on arrays.

Notation
--------
S   choice sets (tasks) of a design
m   alternatives (concepts) per set
P   coded parameters, P = Σ_a (L_a − 1)
D   prior draws

A design enters as its coded matrix ``X`` of shape (S, m, P). Under the
multinomial logit with coefficients ``beta`` the choice probabilities of set s
are p_s = softmax(X_s β) and the Fisher information of the design is

    M(β) = Σ_s X_s' (diag(p_s) − p_s p_s') X_s.

With all coefficients zero (the "zero prior") p_s = 1/m and the contribution
of one set is (1/m) X_s'X_s − (1/m²) (Σ_j x_sj)(Σ_j x_sj)'. The D-error is
det(M⁻¹)^(1/P); the Bayesian D-error D_B is its mean over prior draws.
"""

from __future__ import annotations

import numpy as np

__all__ = ["d_error", "information_matrix", "log_det", "set_information"]


def _probabilities(X: np.ndarray, beta: np.ndarray | None) -> np.ndarray:
    """Choice probabilities, shape (..., S, m) (or (D, ..., S, m) for drawn betas)."""
    m = X.shape[-2]
    if beta is None:
        return np.full(X.shape[:-1], 1.0 / m)
    v = X @ beta  # (..., S, m)
    v = v - v.max(axis=-1, keepdims=True)  # max-shift before exp
    e = np.exp(v)
    return e / e.sum(axis=-1, keepdims=True)


def set_information(X: np.ndarray, beta: np.ndarray | None = None) -> np.ndarray:
    """Information contributed by every choice set.

    Parameters
    ----------
    X : ndarray, shape (..., m, P)
        Coded concepts of one or more choice sets (any leading axes).
    beta : ndarray, shape (P,), optional
        Coefficients; ``None`` (default) is the zero prior, p = 1/m.

    Returns
    -------
    ndarray, shape (..., P, P)
        X'(diag(p) − pp')X for every set.
    """
    X = np.asarray(X, dtype=float)
    if beta is None:
        m = X.shape[-2]
        t = X.sum(axis=-2)  # (..., P)
        xtx = np.swapaxes(X, -1, -2) @ X
        return xtx / m - t[..., :, None] * t[..., None, :] / m**2
    p = _probabilities(X, np.asarray(beta, dtype=float))
    xp = p[..., None] * X  # rows weighted by p
    px = xp.sum(axis=-2)  # (..., P) = X'p
    return np.swapaxes(X, -1, -2) @ xp - px[..., :, None] * px[..., None, :]


def information_matrix(X: np.ndarray, beta: np.ndarray | None = None) -> np.ndarray:
    """MNL Fisher information of a design, summed over its choice sets.

    Parameters
    ----------
    X : ndarray, shape (S, m, P)
        Coded design: S choice sets of m concepts with P coded parameters.
    beta : ndarray, shape (P,), optional
        Coefficients at which to evaluate the information; ``None`` (default)
        means all zero (p = 1/m in every set).

    Returns
    -------
    ndarray, shape (P, P)
        M = Σ_s X_s' (diag(p_s) − p_s p_s') X_s.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[[1.0], [-1.0]], [[-1.0], [1.0]]])  # two pairs, one effects-coded column
    >>> information_matrix(X)
    array([[2.]])
    """
    X = np.asarray(X, dtype=float)
    if X.ndim != 3:
        raise ValueError(f"X must have shape (sets, alternatives, parameters), got {X.shape}")
    return set_information(X, beta).sum(axis=0)


def log_det(M: np.ndarray) -> np.ndarray:
    """log det of symmetric matrices (..., P, P); −inf where a matrix is singular."""
    sign, logdet = np.linalg.slogdet(M)
    P = M.shape[-1]
    # Treat numerically singular matrices as singular: their logdet is far below
    # what the trace allows (relative tolerance 1e-10 per eigenvalue).
    scale = np.log(np.maximum(np.trace(M, axis1=-2, axis2=-1) / P, 1e-300))
    singular = (sign <= 0) | (logdet < P * (scale + np.log(1e-10)))
    return np.where(singular, -np.inf, logdet)


def d_error(X: np.ndarray, beta: np.ndarray | None = None) -> float:
    """D-error det(M⁻¹)^(1/P) of a design, or its Bayesian mean over prior draws.

    Parameters
    ----------
    X : ndarray, shape (S, m, P)
        Coded design.
    beta : ndarray, shape (P,) or (D, P), optional
        ``None`` (default): the zero prior. One vector: a point prior. A matrix of
        D draws: the Bayesian D-error D_B = (1/D) Σ_d det(M(β_d)⁻¹)^(1/P).

    Returns
    -------
    float
        The D-error; ``inf`` when the information matrix is singular (some
        parameter is not identified by the design).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[[1.0], [-1.0]], [[-1.0], [1.0]]])
    >>> d_error(X)
    0.5
    """
    X = np.asarray(X, dtype=float)
    if X.ndim != 3:
        raise ValueError(f"X must have shape (sets, alternatives, parameters), got {X.shape}")
    P = X.shape[-1]
    if beta is None:
        betas = [None]
    else:
        beta = np.asarray(beta, dtype=float)
        if beta.shape[-1] != P:
            raise ValueError(f"beta has {beta.shape[-1]} coefficients, X has {P} columns")
        betas = list(np.atleast_2d(beta))
    errors = np.array([np.exp(-log_det(information_matrix(X, b)) / P) for b in betas])
    return float(errors.mean())
