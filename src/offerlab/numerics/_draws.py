"""Draws for simulated likelihoods: Halton, scrambled Halton, Sobol and pseudo-random.

Every generator returns an array of shape (n_units, n_dims, n_draws): unit ``n``
(a respondent in a panel, an observation in a cross-section) owns the block
``draws[n]``, contiguous in memory, which is the layout the mixed-logit kernel reads.

Conventions (those of Train, *Discrete Choice Methods with Simulation*, ch. 9, and
of xlogit 0.2.7, so that both can be fed the same draws):

* a quasi-random sequence of length ``n_units · n_draws`` per dimension, its points
  handed out in order: unit 0 gets points 0 … R−1, unit 1 points R … 2R−1, …;
* dimension d of a Halton sequence uses the d-th prime as base (2, 3, 5, 7, …);
* plain Halton drops the first ``drop`` points (default 100, as xlogit: the first
  point is 0, and the first points of sequences in different primes are strongly
  correlated).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Literal, get_args

import numpy as np
from scipy.special import ndtri
from scipy.stats import qmc

__all__ = [
    "DRAW_KINDS",
    "DrawKind",
    "StandardShape",
    "halton_sequence",
    "standard_draws",
    "uniform_draws",
]

DrawKind = Literal["halton", "scrambled_halton", "sobol", "pseudo"]
DRAW_KINDS: tuple[str, ...] = get_args(DrawKind)
StandardShape = Literal["normal", "triangular"]

HALTON_DROP = 100

# Uniform draws are clipped into [EPS, 1 − EPS] before the inverse CDF: a point at
# exactly 0 (the first Halton point) would become −∞.
_EPS = 2.0**-53


def _primes(n: int) -> list[int]:
    """The first n primes."""
    out: list[int] = []
    candidate = 2
    while len(out) < n:
        if all(candidate % p for p in out if p * p <= candidate):
            out.append(candidate)
        candidate += 1
    return out


def halton_sequence(length: int, base: int, drop: int = 0) -> np.ndarray:
    """Points ``drop`` … ``drop + length − 1`` of the radical-inverse sequence in ``base``.

    Parameters
    ----------
    length : int
        Number of points returned.
    base : int
        A prime.
    drop : int
        Leading points skipped (point 0 is 0).

    Returns
    -------
    ndarray, shape (length,)

    Notes
    -----
    Built by the digit recursion h(i + k·bᵗ) = h(i) + k / bᵗ⁺¹ for i < bᵗ: each
    stage copies the block built so far, so the cost is a few passes over memory,
    not one division per digit and point (for 68 million points scipy's
    generator took 6.5 s here, this one 1.5 s, mostly first touch of the memory).
    It is xlogit's construction, so the points are bit-for-bit xlogit's.
    """
    total = int(length) + int(drop)
    seq = np.empty(total)
    if total == 0:
        return seq
    seq[0] = 0.0
    filled = 1
    t = 1
    while filled < total:
        step = 1.0 / base**t
        size = filled
        k = 1
        while k < base and filled < total:
            n = min(total - filled, size)
            np.add(seq[:n], step * k, out=seq[filled : filled + n])
            filled += n
            k += 1
        t += 1
    return seq[drop:]


def uniform_draws(
    n_units: int,
    n_draws: int,
    n_dims: int,
    kind: DrawKind = "halton",
    *,
    rng: np.random.Generator | int | None = None,
    drop: int | None = None,
) -> np.ndarray:
    """Uniform draws on (0, 1), shape (n_units, n_dims, n_draws).

    Parameters
    ----------
    n_units : int
        Units that get their own draws (respondents in a panel, observations in a
        cross-section).
    n_draws : int
        R, draws per unit.
    n_dims : int
        Dimensions (one per random coefficient).
    kind : {"halton", "scrambled_halton", "sobol", "pseudo"}
        ``"halton"``: plain Halton in the first primes (deterministic).
        ``"scrambled_halton"``: scipy's Halton with random digit permutations.
        ``"sobol"``: scipy's scrambled Sobol (choose R a power of 2: then every
        unit's block is a (t, m, s)-net). ``"pseudo"``: ``rng.random``.
    rng : Generator or int, optional
        Randomness of the scrambled and pseudo-random draws (ignored by ``"halton"``).
    drop : int, optional
        Leading points skipped. Default 100 for ``"halton"``, 0 otherwise.

    Returns
    -------
    ndarray, shape (n_units, n_dims, n_draws)
    """
    if kind not in DRAW_KINDS:
        raise ValueError(f"kind must be one of {DRAW_KINDS}; got {kind!r}")
    if n_units < 0 or n_draws < 1 or n_dims < 0:
        raise ValueError(
            f"need n_units >= 0, n_draws >= 1, n_dims >= 0; got {n_units}, {n_draws}, {n_dims}"
        )
    out = np.empty((n_units, n_dims, n_draws))
    if n_dims == 0 or n_units == 0:
        return out
    total = n_units * n_draws
    if kind == "halton":
        skip = HALTON_DROP if drop is None else int(drop)
        for d, prime in enumerate(_primes(n_dims)):
            out[:, d, :] = halton_sequence(total, prime, skip).reshape(n_units, n_draws)
    elif kind == "pseudo":
        out[...] = np.random.default_rng(rng).random((n_units, n_dims, n_draws))
    else:
        engine_type = qmc.Halton if kind == "scrambled_halton" else qmc.Sobol
        engine = engine_type(n_dims, scramble=True, rng=np.random.default_rng(rng))
        if drop:
            engine.fast_forward(int(drop))
        with warnings.catch_warnings():
            # Sobol warns when n is not a power of 2: the blocks per unit still are.
            warnings.simplefilter("ignore", UserWarning)
            points = engine.random(total)  # (total, n_dims)
        out[...] = points.reshape(n_units, n_draws, n_dims).transpose(0, 2, 1)
    np.clip(out, _EPS, 1.0 - _EPS, out=out)
    return out


def standard_draws(
    n_units: int,
    n_draws: int,
    shapes: Sequence[StandardShape],
    kind: DrawKind = "halton",
    *,
    rng: np.random.Generator | int | None = None,
    drop: int | None = None,
) -> np.ndarray:
    """Standard draws of every dimension, shape (n_units, len(shapes), n_draws).

    Parameters
    ----------
    shapes : sequence of {"normal", "triangular"}
        ``"normal"``: standard normal (inverse CDF of the uniform draws).
        ``"triangular"``: symmetric triangular on [−1, 1] (variance 1/6).
    n_units, n_draws, kind, rng, drop
        As in :func:`uniform_draws`.

    Notes
    -----
    Normal draws are the inverse normal CDF of the uniform draws, except pseudo-random
    ones, which come from ``rng.standard_normal``. Triangular inverse CDF:
    t = √(2u) − 1 for u ≤ ½, 1 − √(2(1 − u)) above.
    """
    bad = [s for s in shapes if s not in ("normal", "triangular")]
    if bad:
        raise ValueError(f"shapes must be 'normal' or 'triangular'; got {bad}")
    if kind == "pseudo":
        # Normal pseudo-random draws straight from the generator (ziggurat): half the
        # time of uniforms through the inverse CDF, the same distribution.
        generator = np.random.default_rng(rng)
        draws = np.empty((n_units, len(shapes), n_draws))
        generator.standard_normal(out=draws)
        for d, shape in enumerate(shapes):
            if shape == "triangular":
                draws[:, d, :] = generator.random((n_units, n_draws))
    else:
        draws = uniform_draws(n_units, n_draws, len(shapes), kind, rng=rng, drop=drop)
    for d, shape in enumerate(shapes):
        u = draws[:, d, :]
        if shape == "normal":
            if kind != "pseudo":
                ndtri(u, out=u)
        else:
            u[...] = np.where(u <= 0.5, np.sqrt(2.0 * u) - 1.0, 1.0 - np.sqrt(2.0 * (1.0 - u)))
    return draws
