"""Pure array kernels of the market simulator: utilities → shares under a choice rule.

Everything here works on arrays only (no I/O, randomness passed in as a seed
sequence), so the simulator, the optimiser and the benchmark share one code path.

Shapes
------
B : (N, K)   coefficient vectors (respondents, draws, classes…)
w : (N,)     their weights (normalised within each group here)
X : (J, K)   the coded alternatives of a market
offset : (J,) fixed utility of each alternative (status-quo options)
group : (N,) int in [0, G)  which output row a coefficient vector adds to
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Literal

import numpy as np

from offerlab.exceptions import OfferlabError

__all__ = ["RULES", "Rule", "grouped_shares", "row_shares"]

Rule = Literal["logit", "first_choice", "rfc"]
RULES: tuple[str, ...] = ("logit", "first_choice", "rfc")

# Rows per chunk: 65,536 rows × 10 alternatives × 8 bytes = 5 MiB of utilities, small
# enough to stay in cache-friendly territory and to bound memory for any N.
CHUNK_ROWS = 1 << 16


def row_shares(
    V: np.ndarray,
    rule: Rule,
    *,
    scale: float = 1.0,
) -> np.ndarray:
    """Choice probabilities (n, J) of each row of utilities V (n, J), in place.

    ``logit``: exp(λV_j) / Σ exp(λV); ``first_choice``: 1 on the best alternative
    (ties split equally). V is overwritten.
    """
    if rule == "first_choice":
        best = V.max(axis=1, keepdims=True) == V
        P = best.astype(float)
        P /= P.sum(axis=1, keepdims=True)
        return P
    if scale != 1.0:
        V *= scale
    V -= V.max(axis=1, keepdims=True)
    np.exp(V, out=V)
    V /= V.sum(axis=1, keepdims=True)
    return V


def _gumbel(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Standard Gumbel draws −log(−log U), in float32 (half the time of float64; ample
    precision for simulation noise)."""
    u = rng.random(shape, dtype=np.float32)
    np.maximum(u, np.finfo(np.float32).tiny, out=u)  # U = 0 would give −inf
    np.log(u, out=u)
    np.negative(u, out=u)
    np.log(u, out=u)
    np.negative(u, out=u)
    return u


def _column_shares(V: np.ndarray, first_choice: bool, scale: float) -> np.ndarray:
    """Choice probabilities of utilities laid out (J, n), in place.

    The alternatives run down the first axis so that every reduction over them is an
    elementwise operation on contiguous rows (a reduction over a short last axis is
    ~10x slower in numpy).
    """
    best = np.maximum.reduce(V, axis=0)
    if first_choice:
        P = (best == V).astype(float)
        P /= P.sum(axis=0)
        return P
    V -= best
    if scale != 1.0:
        V *= scale
    np.exp(V, out=V)
    V /= V.sum(axis=0)
    return V


def _chunk_shares(
    B: np.ndarray,
    w: np.ndarray,
    group: np.ndarray | None,
    n_groups: int,
    X: np.ndarray,
    offset: np.ndarray,
    rule: Rule,
    scale: float,
    attribute_error: float,
    product_error: float,
    rfc_draws: int,
    seed: np.random.SeedSequence | None,
) -> np.ndarray:
    """Weighted share sums (G, J) of one chunk of rows (weights not yet normalised)."""
    J = X.shape[0]
    off = offset[:, None]
    if rule == "rfc":
        rng = np.random.default_rng(seed)
        P = np.zeros((J, B.shape[0]))
        for _ in range(rfc_draws):
            # Attribute error: Gumbel noise on every coded coefficient, so alternatives
            # that share a level share its error (this is what breaks IIA for near
            # duplicates). λ scales the systematic utility, as in the logit rule.
            Bd = scale * B
            if attribute_error > 0:
                E = _gumbel(rng, B.shape)
                E *= attribute_error
                Bd += E
            V = X @ Bd.T
            V += scale * off
            if product_error > 0:
                # Product error: i.i.d. Gumbel(0, σ_p) on each alternative. Its first
                # choice, given the attribute error, is exactly a logit with scale 1/σ_p
                # (Gumbel-max), so it is integrated out analytically: same expectation
                # as drawing it, lower variance, and shares sum to one exactly.
                P += _column_shares(V, False, 1.0 / product_error)
            else:
                P += _column_shares(V, True, 1.0)
        P /= rfc_draws
    else:
        V = X @ B.T
        V += off
        P = _column_shares(V, rule == "first_choice", scale)
    if group is None:
        return (P @ w)[None, :]
    M = np.zeros((n_groups, B.shape[0]))
    M[group, np.arange(B.shape[0])] = w
    return (P @ M.T).T


def grouped_shares(
    B: np.ndarray,
    w: np.ndarray,
    X: np.ndarray,
    offset: np.ndarray | None = None,
    *,
    group: np.ndarray | None = None,
    n_groups: int = 1,
    rule: Rule = "logit",
    scale: float = 1.0,
    attribute_error: float = 0.0,
    product_error: float = 1.0,
    rfc_draws: int = 1,
    seed: int | np.random.SeedSequence | None = None,
    threads: int = 2,
) -> np.ndarray:
    """Shares (G, J): the weighted mean of every row's choice probabilities per group.

    Parameters
    ----------
    B : ndarray, shape (N, K)
    w : ndarray, shape (N,)
        Non-negative weights; normalised within each group.
    X : ndarray, shape (J, K)
    offset : ndarray, shape (J,), optional
        Fixed utilities (added after the coefficients, before the scale λ).
    group : ndarray of int, shape (N,), optional
        Group of each row (all rows in group 0 when omitted).
    n_groups : int
    rule : {"logit", "first_choice", "rfc"}
        Share of preference, first choice, or randomized first choice.
    scale : float
        λ multiplying the systematic utility.
    attribute_error, product_error : float
        RFC only: scales of the Gumbel errors on the coefficients and on the
        alternatives (see Notes).
    rfc_draws : int
        RFC only: attribute-error draws per row.
    seed : int or SeedSequence, optional
        RFC only. Each chunk of rows gets its own child stream, so the result does not
        depend on how many threads run.
    threads : int
        Chunks are processed by this many threads (numpy releases the GIL in the
        matrix product, exp and the random draws).

    Returns
    -------
    ndarray, shape (G, J)
        Every row sums to 1 (up to rounding) for each group with positive weight;
        a group without weight gets NaN.

    Notes
    -----
    Randomized first choice (Sawtooth's RFC): each simulated respondent picks the
    alternative with the highest U_j = λ x_j'(β + ε_a) + λ o_j + ε_pj, with attribute
    error ε_a ~ Gumbel(0, σ_a) on each coded coefficient and product error
    ε_pj ~ Gumbel(0, σ_p). The product error is integrated out analytically. With
    σ_a = 0 and σ_p = 1 RFC equals the logit rule; with σ_p = 0 it is first choice
    on perturbed coefficients.
    """
    B = np.ascontiguousarray(B, dtype=float)
    X = np.ascontiguousarray(X, dtype=float)
    w = np.asarray(w, dtype=float)
    N, K = B.shape
    J = X.shape[0]
    if X.shape[1] != K:
        raise OfferlabError(f"the market has {X.shape[1]} columns, the coefficients {K}")
    if w.shape != (N,):
        raise OfferlabError(f"weights must have shape ({N},); got {w.shape}")
    if rule not in RULES:
        raise OfferlabError(f"rule must be one of {list(RULES)}; got {rule!r}")
    offset = np.zeros(J) if offset is None else np.asarray(offset, dtype=float)
    if group is not None:
        group = np.asarray(group, dtype=np.int64)
    starts = list(range(0, N, CHUNK_ROWS))
    if rule == "rfc":
        root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
        seeds: list[np.random.SeedSequence | None] = list(root.spawn(len(starts)))
    else:
        seeds = [None] * len(starts)

    def work(i: int) -> np.ndarray:
        a = starts[i]
        b = min(a + CHUNK_ROWS, N)
        g = None if group is None else group[a:b]
        return _chunk_shares(
            B[a:b], w[a:b], g, n_groups, X, offset, rule, scale,
            attribute_error, product_error, rfc_draws, seeds[i],
        )  # fmt: skip

    if threads > 1 and len(starts) > 1:
        with ThreadPoolExecutor(min(threads, len(starts))) as pool:
            parts = list(pool.map(work, range(len(starts))))
    else:
        parts = [work(i) for i in range(len(starts))]
    total = np.sum(parts, axis=0)
    if group is None:
        mass = np.array([w.sum()])
    else:
        mass = np.bincount(group, weights=w, minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / mass[:, None]
