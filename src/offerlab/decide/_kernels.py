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

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Literal

import numpy as np

from offerlab.exceptions import OfferlabError

__all__ = ["RULES", "Rule", "grouped_shares", "level_ids", "level_matrix", "row_shares"]

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


EULER_GAMMA = 0.5772156649015329


def level_ids(
    X: np.ndarray, blocks: Sequence[tuple[int, int]] | None, offers: np.ndarray | None = None
) -> np.ndarray:
    """The level of every alternative on every attribute, as ids (J, A).

    An attribute's columns are ``blocks[a] = (start, stop)``; offers with the same coded
    row in a block share the level (and so RFC's attribute error on it). ``offers`` (J,)
    bool marks the offers: a status-quo or none alternative shares no level with
    anything (its zero rows would otherwise look like a dummy-coded base level), so it
    gets a level of its own on every attribute -- an error as large as an offer's, and
    independent. Without ``blocks`` every column is an attribute.
    """
    X = np.asarray(X, dtype=float)
    J, K = X.shape
    if blocks is None:
        blocks = [(k, k + 1) for k in range(K)]
    ids = np.full((J, len(blocks)), -1, dtype=np.int64)
    mask = np.ones(J, dtype=bool) if offers is None else np.asarray(offers, dtype=bool)
    own = np.flatnonzero(~mask)
    next_id = 0
    for a, (start, stop) in enumerate(blocks):
        if mask.any():
            rows = np.round(X[mask, start:stop], 9)
            _, inv = np.unique(rows, axis=0, return_inverse=True)
            ids[mask, a] = next_id + inv.ravel()
            next_id += int(inv.max()) + 1
        ids[own, a] = next_id + np.arange(len(own))
        next_id += len(own)
    return ids


def level_matrix(ids: np.ndarray) -> np.ndarray:
    """Indicator (J, L) of each alternative's levels (float32), from :func:`level_ids`."""
    ids = np.asarray(ids, dtype=np.int64)
    L = int(ids.max()) + 1 if ids.size and ids.max() >= 0 else 0
    Z = np.zeros((ids.shape[0], L), dtype=np.float32)
    for a in range(ids.shape[1]):
        has = ids[:, a] >= 0
        Z[np.flatnonzero(has), ids[has, a]] += 1.0
    return Z


def attribute_noise(rng: np.random.Generator, Z: np.ndarray, n: int, sigma: float) -> np.ndarray:
    """RFC's attribute variability (J, n): a mean-zero Gumbel(σ) error on every level
    for each of n rows, summed over each alternative's levels (``Z`` from
    :func:`level_matrix`). Alternatives sharing levels share those errors, so near
    copies are correlated; centring keeps offers level with status-quo options."""
    E = _gumbel(rng, (Z.shape[1], n))
    E -= np.float32(EULER_GAMMA)
    E *= np.float32(sigma)
    return Z @ E


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
    Z: np.ndarray,
) -> np.ndarray:
    """Weighted share sums (G, J) of one chunk of rows (weights not yet normalised)."""
    J = X.shape[0]
    off = offset[:, None]
    if rule == "rfc":
        rng = np.random.default_rng(seed)
        P = np.zeros((J, B.shape[0]))
        V0 = X @ B.T
        V0 += off
        V0 *= scale
        for _ in range(rfc_draws):
            V = V0.copy()
            if attribute_error > 0 and Z.shape[1]:
                # Attribute variability: one error per level, shared by every
                # alternative with that level (this is what breaks IIA for copies).
                V += attribute_noise(rng, Z, B.shape[0], attribute_error)
            if product_error > 0:
                # Product variability: i.i.d. Gumbel(0, σ_p) on each alternative. Its
                # first choice, given the attribute errors, is exactly a logit with
                # scale 1/σ_p (Gumbel-max), so it is integrated out analytically: the
                # same expectation as drawing it, lower variance, shares sum to one.
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
    # One weighted sum per group and alternative (a dense group × rows matrix would
    # take n_groups × CHUNK_ROWS doubles: 0.5 GB for 1,000 uncertainty draws).
    return np.stack([np.bincount(group, weights=P[j] * w, minlength=n_groups) for j in range(J)], 1)


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
    levels: np.ndarray | None = None,
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
    levels : ndarray of int, shape (J, A), optional
        RFC only: the level ids of each alternative (:func:`level_ids`; −1: none).
        Default: every column of X is an attribute and every distinct value in it a
        level.

    Returns
    -------
    ndarray, shape (G, J)
        Every row sums to 1 (up to rounding) for each group with positive weight;
        a group without weight gets NaN.

    Notes
    -----
    Randomized first choice (Sawtooth's RFC): each simulated respondent picks the
    alternative with the highest U_j = λ (x_j'β + o_j) + Σ_a ε_{a, l_ja} + ε_pj: attribute
    variability ε_{a,l} (a mean-zero Gumbel(σ_a) error on every level l of every
    attribute a, drawn per row and draw, shared by all alternatives with that level,
    so offers alike in many levels have correlated errors and split their share) and
    product variability ε_pj ~ Gumbel(0, σ_p) per alternative, integrated out
    analytically. With σ_a = 0 and σ_p = 1 RFC equals the logit rule; with σ_p = 0 it
    is first choice per draw. An exact copy of an offer shares all its attribute
    errors: it gains share only through the product error.
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
    if rule == "rfc":
        ids = level_ids(X, None) if levels is None else np.asarray(levels, dtype=np.int64)
        if ids.shape[0] != J:
            raise OfferlabError(f"levels must have one row per alternative ({J})")
        Z = level_matrix(ids)
    else:
        Z = np.zeros((J, 0), dtype=np.float32)
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
            attribute_error, product_error, rfc_draws, seeds[i], Z,
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
