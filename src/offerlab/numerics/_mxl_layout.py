"""The mixed logit's data laid out for its likelihood: differences to the chosen
alternative, units sorted by panel length into chunks of about 1 MiB, padding.

See :mod:`offerlab.numerics._mxl` for the notation and the likelihood itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, get_args

import numpy as np
import pandas as pd

__all__ = [
    "AUGMENT_BYTES",
    "CHUNK_BYTES",
    "DISTRIBUTIONS",
    "Distribution",
    "MXLProblem",
    "draw_shape",
    "prepare_mxl",
]

Distribution = Literal["normal", "lognormal", "negative_lognormal", "triangular"]
DISTRIBUTIONS: tuple[str, ...] = get_args(Distribution)

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
    y, units = _checked_rows(X, y, units)
    N, J, K = X.shape
    random_index, distributions = _checked_random(K, units, draws, random_index, distributions)
    available = _checked_available(available, y, J)
    U, R = draws.shape[0], draws.shape[2]
    chol_rows, chol_cols = _cholesky_pattern(len(random_index), correlated)
    unit_weights = _unit_weights(weights, units, U)
    if groups is None:
        unit_groups = np.arange(U)
    else:
        unit_groups = np.zeros(U, dtype=np.int64)
        unit_groups[units] = pd.factorize(np.asarray(groups))[0]
    others, avail_d = _differences(y, available, J)
    Jd = others.shape[1]

    # Tasks per unit, and the position of every observation in its unit's panel.
    order_obs = np.argsort(units, kind="stable")
    counts = np.bincount(units, minlength=U)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    position = np.empty(N, dtype=np.int64)
    position[order_obs] = np.arange(N) - np.repeat(starts, counts)

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
        n = max(1, min(U - u0, target // (max(T, 1) * Jd * R * 8)))
        # (the chunk's T is its last unit's: units are sorted by T)
        sel = unit_order[u0 : u0 + n]
        T = max(int(counts[sel[-1]]), 1)
        args = (obs_of_unit, position, X, y, others, avail_d, offset, draws, unit_weights)
        chunks.append(_make_chunk(sel, T, *args, random_index, Jd, augment))
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


def _checked_rows(X: np.ndarray, y: np.ndarray, units: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``y`` and ``units`` as integer arrays of one entry per observation of ``X``, or a
    ValueError saying which is wrong."""
    if X.ndim != 3:
        raise ValueError(f"X must have shape (N, J, K); got {X.shape}")
    N = X.shape[0]
    y = np.asarray(y, dtype=np.int64)
    units = np.asarray(units, dtype=np.int64)
    if y.shape != (N,) or units.shape != (N,):
        raise ValueError(f"y and units must have shape ({N},)")
    return y, units


def _checked_random(
    K: int,
    units: np.ndarray,
    draws: np.ndarray,
    random_index: Sequence[int],
    distributions: Sequence[str],
) -> tuple[np.ndarray, tuple[str, ...]]:
    """The random coefficients (distinct columns of X, K in all; one distribution each)
    and their draws (one row per unit), or a ValueError saying which is wrong."""
    random_index = np.asarray(random_index, dtype=np.int64).reshape(-1)
    Kr = len(random_index)
    distributions = tuple(distributions)
    if len(distributions) != Kr or any(d not in DISTRIBUTIONS for d in distributions):
        raise ValueError(f"need one of {DISTRIBUTIONS} per random coefficient; got {distributions}")
    if len(set(random_index.tolist())) != Kr or (Kr and not 0 <= random_index.min() <= K - 1):
        raise ValueError(f"random_index must hold distinct columns of X; got {random_index}")
    if random_index.size and random_index.max() >= K:
        raise ValueError(f"random_index must hold columns of X (K = {K}); got {random_index}")
    U = int(units.max()) + 1 if len(units) else 0
    if draws.ndim != 3 or draws.shape[:2] != (U, Kr):
        raise ValueError(f"draws must have shape ({U}, {Kr}, R); got {draws.shape}")
    return random_index, distributions


def _checked_available(available: np.ndarray | None, y: np.ndarray, J: int) -> np.ndarray:
    """Availability (N, J), every alternative by default; the chosen ones must be available."""
    N = len(y)
    if available is None:
        available = np.ones((N, J), dtype=bool)
    available = np.asarray(available, dtype=bool)
    if not available[np.arange(N), y].all():
        raise ValueError("every chosen alternative must be available")
    return available


def _cholesky_pattern(Kr: int, correlated: Sequence[int] | bool) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of L's free entries: the diagonal, plus the lower triangle among
    the correlated coefficients, row-major (the order of ℓ in θ)."""
    if correlated is True:
        corr = np.arange(Kr)
    elif correlated is False:
        corr = np.arange(0)
    else:
        corr = np.asarray(correlated, dtype=np.int64)
    mask = np.eye(Kr, dtype=bool)
    mask[np.ix_(corr, corr)] = True
    mask &= np.tri(Kr, dtype=bool)
    return np.nonzero(mask)


def _unit_weights(weights: np.ndarray | None, units: np.ndarray, U: int) -> np.ndarray | None:
    """The weight of every unit (a panel's weight is its respondent's), or None."""
    if weights is None:
        return None
    weights = np.asarray(weights, dtype=np.float64)
    unit_weights = np.zeros(U)
    unit_weights[units] = weights
    if not np.allclose(unit_weights[units], weights, rtol=0, atol=1e-12):
        raise ValueError("weights must be equal within a unit (respondent) of a panel")
    return unit_weights


def _differences(y: np.ndarray, available: np.ndarray, J: int) -> tuple[np.ndarray, np.ndarray]:
    """The J − 1 alternatives other than the chosen one of every observation (N, J'),
    and whether each is available."""
    N = len(y)
    others = np.empty((N, max(J - 1, 1)), dtype=np.int64)
    if J > 1:
        grid = np.broadcast_to(np.arange(J - 1), (N, J - 1))
        others[:] = grid + (grid >= y[:, None])
    else:
        others[:] = 0
    rows = np.arange(N)[:, None]
    avail_d = available[rows, others] if J > 1 else np.zeros((N, 1), dtype=bool)
    return others, avail_d


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
