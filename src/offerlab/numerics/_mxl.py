"""Simulated log-likelihood of the mixed logit and its analytic gradient.

Notation (shapes):

* N choice observations, J alternatives, K coefficients (columns of ``X``);
* U units that own draws: respondents in a panel (one draw per respondent across
  all of their tasks), observations in a cross-section;
* Kr random coefficients, R draws per unit, ``z`` (U, Kr, R) standard draws
  (normal, or triangular on [−1, 1]);
* θ = (β, ℓ): β (K,) holds the fixed coefficients and the location μ_k of every
  random coefficient, in the column order of ``X``; ℓ holds the free entries of
  the lower-triangular Cholesky factor L (Kr, Kr) of the random part, row by row
  (the diagonal only when the coefficients are uncorrelated).

Model. For unit n and draw r, u_nr = μ + L z_nr and coefficient k is
b_nkr = u_nkr ("normal", "triangular"), exp(u_nkr) ("lognormal") or −exp(u_nkr)
("negative_lognormal"). Task t of unit n chooses y_t with the logit probability
P_tr = 1 / (1 + Σ_{j≠y_t} exp(V_tjr − V_t,y_t,r)), and

    L_nr = Π_{t∈n} P_tr,    ℓ(θ) = Σ_n w_n log( (1/R) Σ_r L_nr ).

Computation. Utilities are differences to the chosen alternative, Xd_tj =
x_tj − x_t,y_t for the J' = J − 1 others, so the chosen alternative never needs
an exponential. Units are processed in chunks of a few (about 1 MiB of
temporaries, in buffers reused by every chunk and call), padded to the chunk's
longest panel, rows alternative-major so that sums over alternatives run over
contiguous memory. Per chunk one batched BLAS product builds
V (n, T·J', R) = [Xd_r L | Xd β + offset] @ [z ; 1]: the Cholesky factor multiplies
the small design, not the draws, and the base utility rides along as a row of
ones. Then E = exp(V) in place, S_tr = 1 + Σ_j E_tjr = 1/P_tr, and
L_nr = 1/Π_t S_tr with no logarithm or exponential per draw; only when that product
would overflow or the mean underflow (long panels, wild parameters) is the chunk
redone in log space (log-sum-exp), and only when a utility difference exceeds
exp's range are the exponentials max-shifted. Log-normal coefficients, which need
b = ±exp(u) per draw, get one more product.

Gradient. With posterior weights ω_nr = L_nr / Σ_s L_ns and the probabilities
Q_tjr = exp(Vd_tjr) P_tr of the non-chosen alternatives,

    ∂ log L̂_n / ∂b_k at draw r = −Σ_{t∈n, j} Xd_tjk Q_tjr,

and the chain rule through b_nkr = f_k(u_nkr) gives, for any θ_p acting on
coefficient k(p) with ∂b/∂θ_p = c_p(n, r) (1, z_l, f'(u), f'(u) z_l),

    s_np = −Σ_{t∈n, j} Xd_tjk(p) Σ_r Q_tjr ω_nr c_p(n, r).

The inner sums over r for all the distinct c are one batched product
Q (n, T·J', R) @ C (n, R, C), the outer sums one more, Xdᵀ (n, K, T·J') @ M: the
gradient costs about as much as the value. (In a cross-section Q = E / S is never
formed: 1/S_r folds into the draw weights C.)
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from offerlab.numerics._mxl_layout import MXLProblem, _Chunk

__all__ = ["MXLTerms", "mxl_conditional_means", "mxl_loglike"]


@dataclass(frozen=True)
class MXLTerms:
    """Value and derivatives of the simulated log-likelihood at one θ.

    Attributes
    ----------
    value : float
        ℓ(θ) = Σ_n w_n log L̂_n.
    gradient : ndarray, shape (P,) or None
    scores : ndarray, shape (U, P) or None
        Per-unit gradients w_n ∂ log L̂_n/∂θ (units in their original order).
    loglikeobs : ndarray, shape (U,) or None
        Per-unit (unweighted) log L̂_n.
    """

    value: float
    gradient: np.ndarray | None = None
    scores: np.ndarray | None = None
    loglikeobs: np.ndarray | None = None


@dataclass(frozen=True)
class _Columns:
    """The weighted draw columns C the gradient needs, and where each θ_p reads.

    C's columns: ω, then ω z_l for the dimensions l in ``z_dims`` (one product),
    then ω f'(u_k) [z_l] for exp-transformed coefficients, one by one (``exp_spec``).
    """

    n_cols: int
    z_dims: np.ndarray
    exp_spec: list[tuple[int, int]]  # (k, l or −1) of columns 1 + len(z_dims) …
    coef_of_param: np.ndarray  # (P,) column of X that θ_p acts on
    col_of_param: np.ndarray  # (P,) column of C it reads


def _columns(problem: MXLProblem) -> _Columns:
    K = problem.n_coef
    exp_dims = {k for k, d in enumerate(problem.distributions) if d.endswith("lognormal")}
    chol = list(zip(problem.chol_rows.tolist(), problem.chol_cols.tolist(), strict=True))
    z_dims = sorted({col for row, col in chol if row not in exp_dims})
    z_col = {dim: 1 + i for i, dim in enumerate(z_dims)}
    exp_spec: list[tuple[int, int]] = []

    def exp_column(k: int, dim: int) -> int:
        if (k, dim) not in exp_spec:
            exp_spec.append((k, dim))
        return 1 + len(z_dims) + exp_spec.index((k, dim))

    coef = list(range(K))
    cols = [0] * K
    for k in sorted(exp_dims):
        cols[int(problem.random_index[k])] = exp_column(k, -1)
    for row, col in chol:
        coef.append(int(problem.random_index[row]))
        cols.append(exp_column(row, col) if row in exp_dims else z_col[col])
    return _Columns(
        1 + len(z_dims) + len(exp_spec),
        np.asarray(z_dims, dtype=np.int64),
        exp_spec,
        np.asarray(coef),
        np.asarray(cols),
    )


class _Scratch:
    """Buffers sized for the largest chunk, reused by every chunk and call.

    Fresh multi-MiB arrays would be mapped and page-faulted anew on every call.
    """

    def __init__(self, problem: MXLProblem, n_cols: int) -> None:
        R = problem.n_draws
        n_exp = sum(d.endswith("lognormal") for d in problem.distributions)
        chunks = problem.chunks
        cells = max((c.Xd.shape[0] * c.Xd.shape[1] for c in chunks), default=0) * R
        units = max((c.Xd.shape[0] for c in chunks), default=0)
        self.V = np.empty(cells)
        self.V2 = np.empty(cells if n_exp else 0)
        self.S = np.empty(max((c.Xd.shape[0] * c.T for c in chunks), default=0) * R)
        self.B = np.empty(units * n_exp * R)
        self.C = np.empty(units * n_cols * R)
        self.L = np.empty(units * R)
        self.Lr = np.empty(units * R)

    @staticmethod
    def view(buf: np.ndarray, *shape: int) -> np.ndarray:
        size = 1
        for s in shape:
            size *= s
        return buf[:size].reshape(shape)


def _scratch(problem: MXLProblem, worker: int, n_cols: int) -> _Scratch:
    key = (worker, n_cols)
    if key not in problem._scratch:
        problem._scratch[key] = _Scratch(problem, n_cols)
    return problem._scratch[key]


@dataclass
class _Partial:
    value: float = 0.0
    gradient: np.ndarray | None = None
    done: int = 0


@dataclass(frozen=True)
class _Setup:
    """What every chunk needs from θ."""

    beta_lin: np.ndarray  # (K,) β with 0 at exp-transformed coefficients
    L_lin: np.ndarray  # (Kr, Kr) L with the rows of exp-transformed coefficients zeroed
    diagonal: bool
    exp_dims: list[int]
    L_exp: np.ndarray  # (n_exp, Kr) rows of L of exp-transformed coefficients
    mu_exp: np.ndarray  # (n_exp,)
    negative: list[bool]
    cols: _Columns | None


def _check_theta(theta: np.ndarray, problem: MXLProblem) -> np.ndarray:
    theta = np.asarray(theta, dtype=np.float64)
    if theta.shape != (problem.n_params,):
        raise ValueError(f"theta must have shape ({problem.n_params},); got {theta.shape}")
    return theta


def _make_setup(theta: np.ndarray, problem: MXLProblem, gradient: bool) -> _Setup:
    beta = theta[: problem.n_coef]
    exp_dims = [k for k, d in enumerate(problem.distributions) if d.endswith("lognormal")]
    L = problem.cholesky(theta)
    # Locations of linear random coefficients (and fixed ones) enter through Xd β;
    # those of exp-transformed ones inside the exponential.
    beta_lin = beta.copy()
    beta_lin[problem.random_index[exp_dims]] = 0.0
    L_lin = L.copy()
    L_lin[exp_dims] = 0.0
    return _Setup(
        beta_lin=beta_lin,
        L_lin=L_lin,
        diagonal=bool(np.all(problem.chol_rows == problem.chol_cols)),
        exp_dims=exp_dims,
        L_exp=np.ascontiguousarray(L[exp_dims]),
        mu_exp=beta[problem.random_index[exp_dims]],
        negative=[problem.distributions[k] == "negative_lognormal" for k in exp_dims],
        cols=_columns(problem) if gradient else None,
    )


def mxl_conditional_means(theta: np.ndarray, problem: MXLProblem) -> np.ndarray:
    """Every unit's expected coefficients given its own choices, shape (U, K).

    E[b_n | y_n] = Σ_r ω_nr b_nr with the posterior weights ω_nr = L_nr / Σ_s L_ns
    (Revelt & Train's individual-level estimates): a respondent's part-worths in a
    panel fit. Fixed coefficients are copied.
    """
    theta = _check_theta(theta, problem)
    setup = _make_setup(theta, problem, gradient=False)
    K, R, Jd = problem.n_coef, problem.n_draws, problem.n_alt_diff
    lin = [k for k in range(problem.n_random) if k not in setup.exp_dims]
    out = np.tile(theta[:K], (problem.n_units, 1))
    for chunk in problem.chunks:
        n, TJ, _ = chunk.Xd.shape
        T = chunk.T
        V = np.empty((n, TJ, R))
        B = np.empty((n, len(setup.exp_dims), R)) if setup.exp_dims else None
        _utilities(chunk, setup, V, B, np.empty_like(V) if B is not None else None)
        V4 = V.reshape(n, Jd, T, R)
        m = np.maximum(V4.max(axis=1), 0.0)
        logL = -(m + np.log(np.exp(V4 - m[:, None]).sum(axis=1) + np.exp(-m))).sum(axis=1)
        omega = np.exp(logL - logL.max(axis=1, keepdims=True))
        omega /= omega.sum(axis=1, keepdims=True)
        zbar = np.einsum("nlr,nr->nl", chunk.z, omega)  # (n, Kr)
        shift = zbar @ setup.L_lin.T  # (n, Kr): E[(L z)_k] for linear k
        rows = chunk.units
        for k in lin:
            out[rows, problem.random_index[k]] += shift[:, k]
        for i, k in enumerate(setup.exp_dims):
            out[rows, problem.random_index[k]] = np.einsum("nr,nr->n", B[:, i, :], omega)
    return out


def mxl_loglike(
    theta: np.ndarray,
    problem: MXLProblem,
    *,
    gradient: bool = True,
    scores: bool = False,
    loglikeobs: bool = False,
    scores_out: np.ndarray | None = None,
    n_threads: int = 1,
    progress: Callable[[float], None] | None = None,
) -> MXLTerms:
    """Simulated log-likelihood of the mixed logit and, on request, its gradient.

    Parameters
    ----------
    theta : ndarray, shape (P,)
        (β, ℓ): see the module notes.
    problem : MXLProblem
        From :func:`prepare_mxl`.
    gradient, scores, loglikeobs : bool
        Which terms to compute. ``scores`` implies the gradient.
    scores_out : ndarray, shape (U, P), optional
        Buffer for the scores (implies ``scores``).
    n_threads : int
        Threads sharing the chunks (numpy releases the GIL in its loops and BLAS
        calls, so two threads run nearly twice as fast on two idle cores).
    progress : callable, optional
        Called with the fraction of units done after every chunk (single thread)
        or once at the end.

    Returns
    -------
    MXLTerms
    """
    theta = _check_theta(theta, problem)
    P = problem.n_params
    if scores_out is not None:
        scores = True
    gradient = gradient or scores
    U = problem.n_units
    setup = _make_setup(theta, problem, gradient)
    S_out = None
    if scores:
        S_out = scores_out if scores_out is not None else np.empty((U, P))
    ll_out = np.empty(U) if loglikeobs else None
    n_threads = max(1, min(int(n_threads), len(problem.chunks)))
    partials = [_Partial(gradient=np.zeros(P) if gradient else None) for _ in range(n_threads)]

    stop = threading.Event()  # set on Ctrl-C, so that workers quit after their chunk

    def run(worker: int) -> None:
        cols = setup.cols
        scratch = _scratch(problem, worker, cols.n_cols if cols else 1)
        part = partials[worker]
        for chunk in problem.chunks[worker::n_threads]:
            if stop.is_set():
                return
            _chunk_terms(chunk, problem, setup, scratch, part, S_out, ll_out)
            if progress is not None and n_threads == 1:
                progress(part.done / max(U, 1))

    if n_threads == 1:
        run(0)
    else:
        with ThreadPoolExecutor(n_threads) as pool:
            try:
                list(pool.map(run, range(n_threads)))
            except BaseException:
                stop.set()
                raise
        if progress is not None:
            progress(1.0)
    value = float(sum(p.value for p in partials))
    g = np.sum([p.gradient for p in partials], axis=0) if gradient else None
    return MXLTerms(value=value, gradient=g, scores=S_out, loglikeobs=ll_out)


def _utilities(
    chunk: _Chunk, setup: _Setup, V: np.ndarray, B: np.ndarray | None, tmp: np.ndarray | None
) -> None:
    """Utility differences into V (n, T·J', R); b of exp-transformed coefficients into B.

    Linear coefficients: V = (Xd_r L) z + Xd β — the Cholesky factor multiplies the
    small design, not the draws, so nothing of size R is made for them.
    """
    Xr = chunk.Xr
    Xs = Xr * np.diag(setup.L_lin) if setup.diagonal else Xr @ setup.L_lin
    base = chunk.Xd @ setup.beta_lin
    base += chunk.lo
    if chunk.za is not None:
        n, TJ, Kr = Xr.shape
        Xa = np.empty((n, TJ, Kr + 1))
        Xa[:, :, :Kr] = Xs
        Xa[:, :, Kr] = base
        np.matmul(Xa, chunk.za, out=V)
    else:
        np.matmul(Xs, chunk.z, out=V)
        V += base[:, :, None]
    if setup.exp_dims:
        np.matmul(setup.L_exp, chunk.z, out=B)  # (n, n_exp, R)
        for i, negative in enumerate(setup.negative):
            Bi = B[:, i, :]
            Bi += setup.mu_exp[i]
            np.exp(Bi, out=Bi)
            if negative:
                np.negative(Bi, out=Bi)
        np.matmul(np.ascontiguousarray(Xr[:, :, setup.exp_dims]), B, out=tmp)
        V += tmp


def _chunk_terms(
    chunk: _Chunk,
    problem: MXLProblem,
    setup: _Setup,
    scratch: _Scratch,
    part: _Partial,
    S_out: np.ndarray | None,
    ll_out: np.ndarray | None,
) -> None:
    """Add one chunk's log-likelihood (and gradient, scores) to ``part``."""
    n, TJ, _ = chunk.Xd.shape
    T, Jd = chunk.T, problem.n_alt_diff
    R = problem.n_draws
    n_exp = len(setup.exp_dims)
    V = _Scratch.view(scratch.V, n, TJ, R)
    B = _Scratch.view(scratch.B, n, n_exp, R) if n_exp else None
    tmp = _Scratch.view(scratch.V2, n, TJ, R) if n_exp else None
    _utilities(chunk, setup, V, B, tmp)
    with np.errstate(over="ignore"):  # overflow is caught below
        E = np.exp(V, out=V)
    E4 = E.reshape(n, Jd, T, R)
    S = _Scratch.view(scratch.S, n, T, R)  # 1 + Σ_j exp(Vd) = 1 / P_tr
    np.add(E4[:, 0], 1.0, out=S)
    for j in range(1, Jd):
        S += E4[:, j]
    # Fast path: L_nr = 1 / Π_t S_tr and its mean over draws, no log or exp per draw.
    # It needs Π_t S_tr finite and the mean away from underflow; long panels or wild
    # parameters take the log-space path instead.
    if T == 1:
        prod = S[:, 0]
    else:
        prod = _Scratch.view(scratch.L, n, R)
        with np.errstate(over="ignore"):
            np.prod(S, axis=1, out=prod)
    Lr = _Scratch.view(scratch.Lr, n, R)
    fast = bool(np.isfinite(prod.sum()))
    if fast:
        np.reciprocal(prod, out=Lr)
        mean = Lr.mean(axis=1)
        fast = bool(mean.min() > 1e-250)
    if fast:
        ll_units = np.log(mean)
    else:
        if np.isfinite(S).all():  # the product overflowed: sum the logs instead
            logL = -np.log(S).sum(axis=1)
        else:  # a utility difference beyond ~709: recompute this chunk stably
            E, S, logL = _stable_chunk(chunk, setup, Jd, R, B)
            E4 = E.reshape(n, Jd, T, R)
        m = logL.max(axis=1)
        np.exp(logL - m[:, None], out=Lr)  # L_nr / max_r L_nr
        mean = Lr.mean(axis=1)
        ll_units = m + np.log(mean)
    w = chunk.weights
    part.value += float(ll_units.sum() if w is None else ll_units @ w)
    part.done += n
    if ll_out is not None:
        ll_out[chunk.units] = ll_units
    cols = setup.cols
    if cols is None:
        return
    C = _Scratch.view(scratch.C, n, cols.n_cols, R)
    C0 = C[:, 0, :]
    np.multiply(Lr, (1.0 / (R * mean))[:, None], out=C0)  # ω: posterior weights over draws
    if T == 1 and fast:
        # Q = E / S and 1/S = L_nr = R·mean·ω: fold 1/S into the draw weights
        # (n, R) instead of scaling E (n, J', R).
        C0 *= C0
        C0 *= (R * mean)[:, None]
    else:
        np.reciprocal(S, out=S)
        E4 *= S[:, None]  # Q = exp(Vd) / S, in place
    nz = len(cols.z_dims)
    if nz:
        zz = chunk.z if nz == problem.n_random else chunk.z[:, cols.z_dims]
        np.multiply(zz, C0[:, None, :], out=C[:, 1 : 1 + nz])
    for c, (i, dim) in enumerate(cols.exp_spec, start=1 + nz):
        Cc = C[:, c, :]
        np.multiply(C0, B[:, setup.exp_dims.index(i), :], out=Cc)
        if dim >= 0:
            Cc *= chunk.z[:, dim, :]
    M = np.matmul(E, C.transpose(0, 2, 1))  # (n, T·J', C)
    G = np.matmul(chunk.Xd.transpose(0, 2, 1), M)  # (n, K, C)
    s = G[:, cols.coef_of_param, cols.col_of_param]  # (n, P)
    np.negative(s, out=s)
    if w is not None:
        s *= w[:, None]
    part.gradient += s.sum(axis=0)
    if S_out is not None:
        S_out[chunk.units] = s


def _stable_chunk(
    chunk: _Chunk, setup: _Setup, Jd: int, R: int, B: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One chunk with max-shifted exponentials (fresh arrays), for huge utilities.

    With m = max(0, max_j Vd): E = exp(Vd − m) and S = e^{−m} + Σ_j E, so that E / S
    is Q and log L = −Σ_t (m + log S), as in the fast path.
    """
    n, TJ, _ = chunk.Xd.shape
    T = chunk.T
    V = np.empty((n, TJ, R))
    _utilities(chunk, setup, V, B, np.empty_like(V) if B is not None else None)
    V4 = V.reshape(n, Jd, T, R)
    m = np.maximum(V4.max(axis=1), 0.0)  # (n, T, R)
    V4 -= m[:, None]
    E = np.exp(V, out=V)
    S = E.reshape(n, Jd, T, R).sum(axis=1) + np.exp(-m)
    logL = -(m + np.log(S)).sum(axis=1)
    return E, S, logL
