"""Coding of attribute levels into design-matrix columns.

Shapes: ``levels`` holds level indices with the attributes on the last axis
(..., A); the coded matrix has the parameters on the last axis (..., P) with
P = Σ_a (L_a − 1).

* effects coding: level l < L−1 is the unit vector e_l, the last level is −1…−1
  (part-worths sum to zero within an attribute, as Sawtooth reports them);
* dummy coding: the first level is the reference (all zeros), level l ≥ 1 is e_{l−1}.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

__all__ = ["Scheme", "code_levels", "level_coding_matrix", "partworths_from_coded"]

Scheme = Literal["effects", "dummy"]


def level_coding_matrix(n_levels: int, scheme: Scheme = "effects") -> np.ndarray:
    """The (L, L−1) matrix whose row l codes level l."""
    if n_levels < 2:
        raise ValueError(f"an attribute needs at least 2 levels, got {n_levels}")
    eye = np.eye(n_levels - 1)
    if scheme == "effects":
        return np.vstack([eye, -np.ones((1, n_levels - 1))])
    if scheme == "dummy":
        return np.vstack([np.zeros((1, n_levels - 1)), eye])
    raise ValueError(f"coding scheme must be 'effects' or 'dummy', got {scheme!r}")


def code_levels(
    levels: np.ndarray, n_levels: Sequence[int], scheme: Scheme = "effects"
) -> np.ndarray:
    """Code level indices (..., A) into part-worth columns (..., Σ(L_a − 1))."""
    levels = np.asarray(levels)
    if levels.shape[-1] != len(n_levels):
        raise ValueError(f"levels have {levels.shape[-1]} attributes, n_levels has {len(n_levels)}")
    blocks = [level_coding_matrix(n, scheme)[levels[..., a]] for a, n in enumerate(n_levels)]
    return np.concatenate(blocks, axis=-1)


def partworths_from_coded(
    beta: np.ndarray, n_levels: Sequence[int], scheme: Scheme = "effects"
) -> list[np.ndarray]:
    """Part-worth of every level, attribute by attribute, from coded coefficients.

    ``beta`` may carry leading axes (draws…, P); each returned array is (draws…, L_a).
    """
    beta = np.asarray(beta)
    out, start = [], 0
    for n in n_levels:
        block = beta[..., start : start + n - 1]
        out.append(block @ level_coding_matrix(n, scheme).T)
        start += n - 1
    return out
