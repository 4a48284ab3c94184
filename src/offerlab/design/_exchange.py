"""Coordinate exchange on a batch of designs: the local search of the efficient method.

Every design of the batch (B designs, each T tasks × m concepts × A attributes)
is improved cell by cell. A *cell* is one attribute of one concept. Its moves
are: give the concept another level of the attribute (L_a − 1 moves), or swap
the attribute's level with another concept of the same task (m − 1 moves; this
keeps level counts and changes only how attributes combine). The best move
that keeps the task valid is taken if it lowers the D-error. All designs of the
batch visit the same cell at the same time, so numpy does the work for all of
them at once; a pass visits every cell once in random order, and a design that
a full pass cannot improve is at a local optimum and leaves the batch.

Zero prior (:func:`exchange_zero`)
    The information of set s is M_s = (1/m) X_s' H X_s with H = I − J/m. A move
    changes X_s to X_s + v d', with v = e_j (level change) or e_j − e_k (swap)
    and d nonzero only in the attribute's columns, so
    ΔM = (1/m)(u d' + d u' + h d d') with u = X_s'Hv and h = v'Hv: a rank-2
    update. By the matrix determinant lemma det(M + ΔM)/det(M) =
    det(I₂ + C W'M⁻¹W) with W = [u d], C = (1/m)[[0, 1], [1, h]], which costs
    a few dot products per move.

Bayesian prior (:func:`exchange_bayes`)
    The information of the changed set is recomputed for every move and every
    prior draw, and the moves are ranked by the mean D-error over the draws.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from offerlab.design._information import log_det, set_information
from offerlab.design._space import DesignSpace

__all__ = ["Clock", "exchange_bayes", "exchange_zero"]

# Relative improvement a move must bring to be taken (guards against float noise).
_TOL = 1e-9
# Ridge added before inverting M, so that singular starting designs can improve.
_RIDGE = 1e-6
# Bayesian exchange: largest work array (elements) and most designs per chunk.
_BAYES_CHUNK = 4_000_000


class Clock:
    """A time cap: ``expired`` turns true the first time a search finds it passed.

    Parameters
    ----------
    seconds : float or None
        Seconds from now; ``None`` means no cap.
    """

    def __init__(self, seconds: float | None) -> None:
        self.start = time.perf_counter()
        self.deadline = None if seconds is None else self.start + seconds
        self.expired = False

    def out(self) -> bool:
        """Whether the cap has passed (and remember it)."""
        if self.deadline is not None and time.perf_counter() > self.deadline:
            self.expired = True
        return self.expired

    def elapsed(self) -> float:
        return time.perf_counter() - self.start


def _cells(space: DesignSpace, T: int, rng: np.random.Generator) -> np.ndarray:
    """Every (task, concept, attribute) cell once, in random order; shape (T·m·A, 3)."""
    grid = np.indices((T, space.m, space.A)).reshape(3, -1).T
    return grid[rng.permutation(len(grid))]


def exchange_zero(
    space: DesignSpace,
    levels: np.ndarray,
    rng: np.random.Generator,
    *,
    max_passes: int = 100,
    clock: Clock | None = None,
    progress: Callable[[float], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Coordinate exchange of a batch of designs under the zero prior.

    Parameters
    ----------
    space : DesignSpace
        Codings and validity checks of the study.
    levels : ndarray of int, shape (B, T, m, A)
        Valid starting designs; they are not modified.
    rng : numpy.random.Generator
        Orders the cells of every pass.
    max_passes : int, default 100
        Upper limit on passes over all cells.
    clock : Clock, optional
        Time cap; the search stops early once it has passed.
    progress : callable, optional
        Called after every pass with the share of designs at a local optimum.

    Returns
    -------
    levels : ndarray of int, shape (B, T, m, A)
        The improved (still valid) designs.
    log_det : ndarray, shape (B,)
        log det M of each design (−inf when singular); larger is better.
    """
    levels = np.array(levels, dtype=np.int64, copy=True)
    B, T, m, _ = levels.shape
    P = space.P
    X = space.code(levels)  # (B, T, m, P)
    ridge = _RIDGE * np.eye(P)
    others = [np.array([k for k in range(m) if k != j]) for j in range(m)]
    # Per attribute: h of its moves (level changes, then swaps) and its level range.
    h_of = [np.r_[np.full(n, 1.0 - 1.0 / m), np.full(m - 1, 2.0)] for n in space.n_levels]
    level_range = [np.arange(n) for n in space.n_levels]
    active = np.arange(B)
    for _ in range(max_passes):
        if active.size == 0 or (clock is not None and clock.out()):
            break
        lv, Xa = levels[active], X[active]
        ids = space.ids(lv) if space.use_ids else None
        M = set_information(Xa).sum(axis=1)  # exact at the start of each pass
        Minv = np.linalg.inv(M + ridge)
        nb = active.size
        rows = np.arange(nb)
        improved = np.zeros(nb, dtype=bool)
        for t, j, a in _cells(space, T, rng):
            if clock is not None and clock.out():
                break
            La, C, cs, oj, h = space.n_levels[a], space.codes[a], space.cols[a], others[j], h_of[a]
            K = La + m - 1
            Xt = Xa[:, t]  # (nb, m, P)
            cur = lv[:, t, :, a]  # (nb, m)
            xj = Xt[:, j]
            Cj = C[cur[:, j]]  # (nb, q)
            # Moves k < La: concept j takes level k; u = x_j − mean(x), d = C[k] − C[cur_j].
            # Moves k ≥ La: swap with concept oj[k − La]; u = x_j − x_o, d = C[cur_o] − C[cur_j].
            U = np.empty((nb, K, P))
            U[:, :La] = (xj - Xt.sum(axis=1) / m)[:, None, :]
            U[:, La:] = xj[:, None, :] - Xt[:, oj]
            Dd = np.empty((nb, K, C.shape[1]))
            Dd[:, :La] = C[None, :, :] - Cj[:, None, :]
            Dd[:, La:] = C[cur[:, oj]] - Cj[:, None, :]
            AU = U @ Minv  # (nb, K, P); Minv is symmetric
            aa = np.einsum("bkp,bkp->bk", U, AU)
            bb = np.einsum("bkq,bkq->bk", Dd, AU[..., cs])
            cc = np.einsum("bkq,bkq->bk", Dd @ Minv[:, cs, cs], Dd)
            ratio = (1 + bb / m) * (1 + (bb + h * cc) / m) - (cc / m) * (aa + h * bb) / m
            new_j = np.broadcast_to(level_range[a], (nb, La))
            ok = space.candidates_valid(
                lv[:, t], None if ids is None else ids[:, t], j, a, new_j, oj
            )
            ratio = np.where(ok, ratio, -np.inf)
            best = ratio.argmax(axis=1)
            take = np.nonzero(ratio[rows, best] > 1 + _TOL)[0]
            if take.size == 0:
                continue
            k = best[take]
            swap = k >= La
            partner = oj[np.clip(k - La, 0, m - 2)]  # (ignored for level changes)
            u, hk = U[take, k], h[k]
            dfull = np.zeros((take.size, P))
            dfull[:, cs] = Dd[take, k]
            new_cur = cur[take].copy()
            sw = np.nonzero(swap)[0]
            new_cur[sw, partner[sw]] = cur[take[sw], j]
            new_cur[:, j] = np.where(swap, cur[take, partner], k)
            dM = (
                u[:, :, None] * dfull[:, None, :]
                + dfull[:, :, None] * u[:, None, :]
                + hk[:, None, None] * dfull[:, :, None] * dfull[:, None, :]
            ) / m
            M[take] += dM
            Minv[take] = np.linalg.inv(M[take] + ridge)
            lv[take, t, :, a] = new_cur
            Xa[take, t, :, cs] = C[new_cur]
            if ids is not None:
                ids[take, t] = space.ids(lv[take, t])
            improved[take] = True
        levels[active], X[active] = lv, Xa
        active = active[improved]
        if progress is not None:
            progress(1.0 - active.size / B)
    return levels, log_det(set_information(X).sum(axis=1))


def exchange_bayes(
    space: DesignSpace,
    levels: np.ndarray,
    betas: np.ndarray,
    rng: np.random.Generator,
    *,
    max_passes: int = 100,
    clock: Clock | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Coordinate exchange of a batch of designs minimising the Bayesian D-error.

    Parameters
    ----------
    space, levels, rng, max_passes, clock
        As in :func:`exchange_zero`.
    betas : ndarray, shape (D, P)
        Prior draws of the coded coefficients (one row for a point prior).
    progress : callable, optional
        Called with the number of designs finished after every chunk.

    Returns
    -------
    levels : ndarray of int, shape (B, T, m, A)
        The improved (still valid) designs.
    d_b : ndarray, shape (B,)
        Bayesian D-error (1/D) Σ_d det(M(β_d)⁻¹)^(1/P); smaller is better.
    """
    levels = np.array(levels, dtype=np.int64, copy=True)
    B, _, m, _ = levels.shape
    D, P = betas.shape
    K = max(space.n_levels) + m - 1
    chunk = int(np.clip(_BAYES_CHUNK // (K * D * max(2 * m * P, 4 * m * m, P * P)), 1, 32))
    out = np.empty(B)
    for lo in range(0, B, chunk):
        sl = slice(lo, min(B, lo + chunk))
        levels[sl], out[sl] = _exchange_bayes_chunk(
            space, levels[sl], betas, rng, max_passes, clock
        )
        if progress is not None:
            progress(sl.stop - sl.start)
    return levels, out


def _probabilities(Xs: np.ndarray, bT: np.ndarray) -> np.ndarray:
    """MNL probabilities (..., D, m) of concepts Xs (..., m, P) under draws bT (P, D)."""
    v = Xs @ bT  # (..., m, D)
    v = v - v.max(axis=-2, keepdims=True)
    p = np.exp(v)
    p /= p.sum(axis=-2, keepdims=True)
    return np.swapaxes(p, -1, -2)


def _set_info(Xs: np.ndarray, bT: np.ndarray) -> np.ndarray:
    """Per-draw information (..., D, P, P) of sets Xs (..., m, P): X'(diag p − pp')X."""
    p = _probabilities(Xs, bT)  # (..., D, m)
    Xd = Xs[..., None, :, :]  # (..., 1, m, P)
    xp = p[..., None] * Xd  # (..., D, m, P)
    px = xp.sum(axis=-2)  # (..., D, P)
    return np.swapaxes(Xd, -1, -2) @ xp - px[..., :, None] * px[..., None, :]


def _design_info(X: np.ndarray, bT: np.ndarray) -> np.ndarray:
    """Per-draw information (B, D, P, P) of designs X (B, T, m, P), summed task by task."""
    M = _set_info(X[:, 0], bT)
    for t in range(1, X.shape[1]):
        M += _set_info(X[:, t], bT)
    return M


def _spd_logdet(A: np.ndarray) -> np.ndarray:
    """log det of small symmetric positive definite matrices (..., n, n), vectorised.

    Cholesky elimination over the n columns, every matrix at once; −inf where a
    matrix is not positive definite.
    """
    A = np.array(A, copy=True)
    n = A.shape[-1]
    out = np.zeros(A.shape[:-2])
    bad = np.zeros(A.shape[:-2], dtype=bool)
    for k in range(n):
        piv = A[..., k, k]
        bad |= ~(piv > 0)
        piv = np.where(piv > 0, piv, 1.0)
        out += np.log(piv)
        if k + 1 < n:
            col = A[..., k + 1 :, k] / piv[..., None]
            A[..., k + 1 :, k + 1 :] -= col[..., :, None] * A[..., k, None, k + 1 :]
    return np.where(bad, -np.inf, out)


def _root_weights(p: np.ndarray) -> np.ndarray:
    """V with VV' = diag(p) − pp', namely V = diag(√p)(I − √p√p'); (..., m) → (..., m, m)."""
    q = np.sqrt(p)
    m = p.shape[-1]
    return q[..., :, None] * (np.eye(m) - q[..., :, None] * q[..., None, :])


def _exchange_bayes_chunk(
    space: DesignSpace,
    levels: np.ndarray,
    betas: np.ndarray,
    rng: np.random.Generator,
    max_passes: int,
    clock: Clock | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Bayesian coordinate exchange of one chunk of designs.

    A move replaces the concepts Z₀ (m × P) of set s by Z₁. Write the weights
    diag(p) − pp' of a set as VV' (:func:`_root_weights`). With G_ab = Z_a M⁻¹ Z_b'
    per draw, the information without set s, R = M − Z₀'V₀V₀'Z₀, has
    det R = det M · det N₀ with N₀ = I − V₀'G₀₀V₀, and by Woodbury
    Z₁R⁻¹Z₁' = G₁₁ + F N₀⁻¹ F' with F = G₁₀V₀. Then

        det(R + Z₁'V₁V₁'Z₁) = det M · det N₀ · det(I + V₁'(G₁₁ + F N₀⁻¹ F')V₁):

    m × m symmetric positive definite determinants per move and draw, given M⁻¹
    per draw, which is refreshed only for the designs that take a move.
    """
    B, T, m, A = levels.shape
    P = space.P
    D = betas.shape[0]
    bT = betas.T  # (P, D)
    ridge = _RIDGE * np.eye(P)
    eye_m = np.eye(m)
    X = space.code(levels)  # (B, T, m, P)
    others = [np.array([k for k in range(m) if k != j]) for j in range(m)]
    rows = np.arange(B)
    ids = space.ids(levels) if space.use_ids else None

    for _ in range(max_passes):
        M = _design_info(X, bT) + ridge  # exact at the start of each pass
        Minv = np.linalg.inv(M)  # (B, D, P, P)
        ld = np.linalg.slogdet(M)[1]  # (B, D)
        score = np.exp(-ld / P).mean(axis=-1)  # (B,)
        improved = False
        for t, j, a in _cells(space, T, rng):
            if clock is not None and clock.out():
                return levels, _exact_bayes(space, levels, bT)
            La, oj = space.n_levels[a], others[j]
            task = levels[:, t]  # (B, m, A)
            cur = task[:, :, a]
            Kc = La + m - 1
            cand = np.broadcast_to(task[:, None], (B, Kc, m, A)).copy()
            cand[:, :La, j, a] = np.arange(La)
            ks = np.arange(m - 1)
            cand[:, La + ks, j, a] = cur[:, oj]
            cand[:, La + ks, oj, a] = cur[:, j, None]
            new_j = np.broadcast_to(np.arange(La), (B, La))
            ok = space.candidates_valid(task, None if ids is None else ids[:, t], j, a, new_j, oj)
            Z1 = space.code(cand)  # (B, Kc, m, P)
            Z0 = X[:, t]  # (B, m, P)
            # The set as it is: N₀ (B, D, m, m).
            Z0M = Z0[:, None] @ Minv  # (B, D, m, P)
            V0 = _root_weights(_probabilities(Z0, bT))  # (B, D, m, m)
            G00 = Z0M @ np.swapaxes(Z0, -1, -2)[:, None]
            N0 = eye_m - np.swapaxes(V0, -1, -2) @ G00 @ V0
            ld_rest = ld + _spd_logdet(N0)  # (B, D)
            N0inv = np.linalg.inv(N0)
            # The moves: G₁₁ and G₁₀ (B, Kc, D, m, m) as stacks of larger products.
            Z1M = Z1.reshape(B, Kc * m, P) @ Minv.transpose(0, 2, 1, 3).reshape(B, P, D * P)
            Z1M = Z1M.reshape(B, Kc, m, D, P).transpose(0, 1, 3, 2, 4)  # (B, Kc, D, m, P)
            G11 = Z1M @ np.swapaxes(Z1, -1, -2)[:, :, None]
            F = Z1M @ (np.swapaxes(Z0, -1, -2)[:, None] @ V0)[:, None]  # G₁₀V₀
            H = G11 + F @ N0inv[:, None] @ np.swapaxes(F, -1, -2)
            V1 = _root_weights(_probabilities(Z1, bT))  # (B, Kc, D, m, m)
            gain = _spd_logdet(eye_m + np.swapaxes(V1, -1, -2) @ H @ V1)  # (B, Kc, D)
            obj = np.exp(-(ld_rest[:, None] + gain) / P).mean(axis=-1)  # (B, Kc)
            obj = np.where(ok, obj, np.inf)
            best = obj.argmin(axis=1)
            take = np.nonzero(obj[rows, best] < score * (1 - _TOL))[0]
            if take.size == 0:
                continue
            improved = True
            k = best[take]
            levels[take, t] = cand[take, k]
            M[take] += _set_info(Z1[take, k], bT) - _set_info(Z0[take], bT)
            X[take, t] = Z1[take, k]
            Minv[take] = np.linalg.inv(M[take])
            ld[take] = np.linalg.slogdet(M[take])[1]
            score[take] = np.exp(-ld[take] / P).mean(axis=-1)
            if ids is not None:
                ids[take, t] = space.ids(levels[take, t])
        if not improved:
            break
    return levels, _exact_bayes(space, levels, bT)


def _exact_bayes(space: DesignSpace, levels: np.ndarray, bT: np.ndarray) -> np.ndarray:
    """Bayesian D-error (B,) of designs (B, T, m, A), without ridge (inf if singular)."""
    M = _design_info(space.code(levels), bT)  # (B, D, P, P)
    return np.exp(-log_det(M) / space.P).mean(axis=-1)
