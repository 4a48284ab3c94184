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
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

__all__ = [
    "DISTRIBUTIONS",
    "Distribution",
    "MXLProblem",
    "MXLTerms",
    "draw_shape",
    "mxl_conditional_means",
    "mxl_loglike",
    "prepare_mxl",
]

Distribution = Literal["normal", "lognormal", "negative_lognormal", "triangular"]
DISTRIBUTIONS: tuple[str, ...] = ("normal", "lognormal", "negative_lognormal", "triangular")

# Temporaries per chunk: V (n, T·J', R) floats. About 1 MiB keeps them in the L2
# cache of this machine's cores (on the Electricity panel, 16 MiB chunks were about
# twice as slow as 1–4 MiB ones; between 1 and 4 MiB the timings were within noise).
CHUNK_BYTES = 1 << 20
# When one more row of R floats per unit costs at most this much, every chunk keeps its
# draws with a row of ones below them, so that one BLAS product adds the base utility
# Xd β + offset to V instead of another pass over the largest array.
AUGMENT_BYTES = 64 << 20


def draw_shape(distribution: str) -> Literal["normal", "triangular"]:
    """The standard draws a distribution is built on."""
    return "triangular" if distribution == "triangular" else "normal"


# Utility offset of unavailable and padded alternatives: exp() of it is exactly 0,
# and unlike −inf it can ride through the BLAS product (−inf · 0 would be NaN).
_UNAVAILABLE = -1e300


@dataclass(frozen=True)
class _Chunk:
    """The units of one chunk, padded to its longest panel (T tasks)."""

    units: np.ndarray  # (n,) unit indices (original numbering)
    T: int
    Xd: np.ndarray  # (n, T·J', K) differences to the chosen alternative; 0 where padded
    Xr: np.ndarray  # (n, T·J', Kr) the random columns of Xd, contiguous for BLAS
    lo: np.ndarray  # (n, T·J') offset differences; _UNAVAILABLE where unavailable or padded
    z: np.ndarray  # (n, Kr, R) standard draws of these units
    za: np.ndarray | None  # (n, Kr + 1, R): z and a row of ones (see AUGMENT_BYTES), or None
    weights: np.ndarray | None  # (n,)


@dataclass(frozen=True)
class MXLProblem:
    """Arrays prepared once by :func:`prepare_mxl` for every likelihood evaluation.

    Attributes
    ----------
    n_units, n_draws, n_coef : int
        U, R and K.
    random_index : ndarray of int, shape (Kr,)
        Columns of ``X`` with random coefficients.
    distributions : tuple of str
        Distribution of each random coefficient.
    chol_rows, chol_cols : ndarray of int
        Positions (row, column) in L of the free Cholesky entries, the order of ℓ.
    unit_weights : ndarray, shape (U,), or None
    unit_groups : ndarray of int, shape (U,)
        Respondent (cluster) of every unit, numbered 0 … G−1.

    Notes
    -----
    Scratch buffers are cached on the problem per worker thread: do not evaluate
    one problem from two threads at once (``n_threads`` splits a call safely).
    """

    n_units: int
    n_draws: int
    n_coef: int
    random_index: np.ndarray
    distributions: tuple[str, ...]
    chol_rows: np.ndarray
    chol_cols: np.ndarray
    unit_weights: np.ndarray | None
    unit_groups: np.ndarray
    chunks: list[_Chunk] = field(repr=False)
    n_alt_diff: int = 1
    _scratch: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def n_random(self) -> int:
        return len(self.random_index)

    @property
    def n_params(self) -> int:
        return self.n_coef + len(self.chol_rows)

    @property
    def nbytes(self) -> int:
        """Memory held by the prepared arrays (draws included)."""
        seen = 0
        for c in self.chunks:
            seen += (
                c.Xd.nbytes + c.Xr.nbytes + c.lo.nbytes + (c.za if c.za is not None else c.z).nbytes
            )
        return seen

    def cholesky(self, theta: np.ndarray) -> np.ndarray:
        """L (Kr, Kr) from θ."""
        Kr = self.n_random
        L = np.zeros((Kr, Kr))
        L[self.chol_rows, self.chol_cols] = np.asarray(theta)[self.n_coef :]
        return L


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


def prepare_mxl(
    X: np.ndarray,
    y: np.ndarray,
    units: np.ndarray,
    draws: np.ndarray,
    random_index: Sequence[int],
    distributions: Sequence[str],
    *,
    available: np.ndarray | None = None,
    weights: np.ndarray | None = None,
    offset: np.ndarray | None = None,
    groups: np.ndarray | None = None,
    correlated: Sequence[int] | bool = False,
    chunk_bytes: int | None = None,
) -> MXLProblem:
    """Lay out the data for :func:`mxl_loglike` (differences, chunks, padding).

    Parameters
    ----------
    X : ndarray, shape (N, J, K)
    y : ndarray of int, shape (N,)
        Chosen alternative (must be available).
    units : ndarray of int, shape (N,)
        Unit of every observation, numbered 0 … U−1 (the first axis of ``draws``).
        A panel passes the respondent, a cross-section ``arange(N)``.
    draws : ndarray, shape (U, Kr, R)
        Standard draws (:func:`~offerlab.numerics._draws.standard_draws`) of the
        random coefficients, in the order of ``random_index``.
    random_index : sequence of int
        Columns of ``X`` with random coefficients.
    distributions : sequence of str
        One of :data:`DISTRIBUTIONS` per random coefficient.
    available : ndarray of bool, shape (N, J), optional
    weights : ndarray, shape (N,), optional
        Observation weights; in a panel they must be equal within a unit.
    offset : ndarray, shape (N, J), optional
        Fixed utility.
    groups : ndarray, shape (N,), optional
        Respondent of every observation, for clustered covariances (default: units).
    correlated : bool or sequence of int
        Positions (in ``random_index``) of the coefficients that are correlated
        with each other; ``True``: all. The others get a diagonal entry only.
    chunk_bytes : int, optional
        Size of the (n, T·J', R) temporaries per chunk (default :data:`CHUNK_BYTES`).

    Returns
    -------
    MXLProblem
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 3:
        raise ValueError(f"X must have shape (N, J, K); got {X.shape}")
    N, J, K = X.shape
    y = np.asarray(y, dtype=np.int64)
    units = np.asarray(units, dtype=np.int64)
    if y.shape != (N,) or units.shape != (N,):
        raise ValueError(f"y and units must have shape ({N},)")
    random_index = np.asarray(random_index, dtype=np.int64).reshape(-1)
    Kr = len(random_index)
    distributions = tuple(distributions)
    if len(distributions) != Kr or any(d not in DISTRIBUTIONS for d in distributions):
        raise ValueError(f"need one of {DISTRIBUTIONS} per random coefficient; got {distributions}")
    if len(set(random_index.tolist())) != Kr or (Kr and not 0 <= random_index.min() <= K - 1):
        raise ValueError(f"random_index must hold distinct columns of X; got {random_index}")
    if random_index.size and random_index.max() >= K:
        raise ValueError(f"random_index must hold columns of X (K = {K}); got {random_index}")
    U = int(units.max()) + 1 if N else 0
    if draws.ndim != 3 or draws.shape[:2] != (U, Kr):
        raise ValueError(f"draws must have shape ({U}, {Kr}, R); got {draws.shape}")
    R = draws.shape[2]
    if available is None:
        available = np.ones((N, J), dtype=bool)
    available = np.asarray(available, dtype=bool)
    if not available[np.arange(N), y].all():
        raise ValueError("every chosen alternative must be available")

    # Cholesky structure: diagonal, plus the lower triangle among correlated ones.
    if correlated is True:
        corr = np.arange(Kr)
    elif correlated is False:
        corr = np.arange(0)
    else:
        corr = np.asarray(correlated, dtype=np.int64)
    mask = np.eye(Kr, dtype=bool)
    mask[np.ix_(corr, corr)] = True
    mask &= np.tri(Kr, dtype=bool)
    chol_rows, chol_cols = np.nonzero(mask)  # row-major: the order of ℓ

    # Unit weights (a panel's weight is its respondent's).
    unit_weights = None
    if weights is not None:
        weights = np.asarray(weights, dtype=np.float64)
        unit_weights = np.zeros(U)
        unit_weights[units] = weights
        if not np.allclose(unit_weights[units], weights, rtol=0, atol=1e-12):
            raise ValueError("weights must be equal within a unit (respondent) of a panel")
    if groups is None:
        unit_groups = np.arange(U)
    else:
        unit_groups = np.zeros(U, dtype=np.int64)
        codes = pd.factorize(np.asarray(groups))[0]
        unit_groups[units] = codes

    # Differences to the chosen alternative: the J − 1 others of every observation.
    Jd = max(J - 1, 1)
    others = np.empty((N, Jd), dtype=np.int64)
    if J > 1:
        grid = np.broadcast_to(np.arange(J - 1), (N, J - 1))
        others[:] = grid + (grid >= y[:, None])
    else:
        others[:] = 0
    rows = np.arange(N)[:, None]
    avail_d = available[rows, others] if J > 1 else np.zeros((N, 1), dtype=bool)

    # Tasks per unit, and the position of every observation in its unit's panel.
    order_obs = np.argsort(units, kind="stable")
    counts = np.bincount(units, minlength=U)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    pos_sorted = np.arange(N) - np.repeat(starts, counts)
    position = np.empty(N, dtype=np.int64)
    position[order_obs] = pos_sorted

    # Units sorted by panel length, so that chunks need little padding; stable, so a
    # cross-section (all T = 1) keeps its order and every chunk's draws are a view.
    unit_order = np.argsort(counts, kind="stable")
    target = chunk_bytes or CHUNK_BYTES
    augment = U * R * 8 <= AUGMENT_BYTES
    chunks: list[_Chunk] = []
    obs_of_unit = np.split(order_obs, np.cumsum(counts)[:-1]) if U else []
    u0 = 0
    while u0 < U:
        T = int(counts[unit_order[u0]])
        per_unit = max(T, 1) * Jd * R * 8
        n = max(1, min(U - u0, target // per_unit))
        # (the chunk's T is its last unit's: units are sorted by T)
        sel = unit_order[u0 : u0 + n]
        T = max(int(counts[sel[-1]]), 1)
        chunks.append(
            _make_chunk(
                sel,
                T,
                obs_of_unit,
                position,
                X,
                y,
                others,
                avail_d,
                offset,
                draws,
                unit_weights,
                random_index,
                Jd,
                augment,
            )
        )
        u0 += n
    return MXLProblem(
        n_units=U,
        n_draws=R,
        n_coef=K,
        random_index=random_index,
        distributions=distributions,
        chol_rows=chol_rows,
        chol_cols=chol_cols,
        unit_weights=unit_weights,
        unit_groups=unit_groups,
        chunks=chunks,
        n_alt_diff=Jd,
    )


def _make_chunk(
    sel: np.ndarray,
    T: int,
    obs_of_unit: list[np.ndarray],
    position: np.ndarray,
    X: np.ndarray,
    y: np.ndarray,
    others: np.ndarray,
    avail_d: np.ndarray,
    offset: np.ndarray | None,
    draws: np.ndarray,
    unit_weights: np.ndarray | None,
    random_index: np.ndarray,
    Jd: int,
    augment: bool,
) -> _Chunk:
    n = len(sel)
    K = X.shape[2]
    obs = np.concatenate([obs_of_unit[u] for u in sel])
    slot = np.repeat(np.arange(n), [len(obs_of_unit[u]) for u in sel])
    tpos = position[obs]
    rows = obs[:, None]
    # Rows of a unit are alternative-major (j, t): sums over alternatives and the
    # scaling by 1/S then run over contiguous (T, R) slabs.
    Xd = np.zeros((n, Jd, T, K))
    diff = X[rows, others[obs]] - X[obs, y[obs]][:, None, :]  # (m, J', K)
    ok = avail_d[obs]
    diff[~ok] = 0.0
    Xd[slot, :, tpos] = diff
    lo = np.full((n, Jd, T), _UNAVAILABLE)
    if offset is not None:
        odiff = offset[rows, others[obs]] - offset[obs, y[obs]][:, None]
    else:
        odiff = np.zeros((len(obs), Jd))
    lo[slot, :, tpos] = np.where(ok, odiff, _UNAVAILABLE)
    Xd = Xd.reshape(n, Jd * T, K)
    Xr = np.ascontiguousarray(Xd[:, :, random_index])
    contiguous = np.array_equal(sel, np.arange(sel[0], sel[0] + n))
    z = draws[sel[0] : sel[0] + n] if contiguous else draws[sel]
    za = None
    if augment:
        Kr = len(random_index)
        za = np.empty((n, Kr + 1, draws.shape[2]))
        za[:, :Kr] = z
        za[:, Kr] = 1.0
        z = za[:, :Kr]
    return _Chunk(
        units=sel,
        T=T,
        Xd=Xd,
        Xr=Xr,
        lo=lo.reshape(n, T * Jd),
        z=z,
        za=za,
        weights=None if unit_weights is None else unit_weights[sel],
    )


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
