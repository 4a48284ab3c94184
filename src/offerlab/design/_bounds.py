"""The Street–Burgess optimum: the smallest D-error a generic main-effects design can reach.

Burgess & Street (2005, J. Statistical Planning and Inference 134:288–301) and
Street & Burgess (2007, *The Construction of Optimal Stated Choice
Experiments*) bound the information of any design of N choice sets of m options
for k attributes with l_1 … l_k levels, under the MNL with all coefficients
zero. With S_q = (m² − Σ_i n_i²)/2 the most pairs of options in one set that can
differ on attribute q (the m options spread over the l_q levels as evenly as
possible, n_i options at level i), the information matrix summed over the N sets
has at most

    det M = N^p · Π_q (2 S_q / (m² (l_q − 1)))^(l_q − 1) · c_q,

c_q = l_q for effects coding and 1/l_q for dummy coding, p = Σ_q (l_q − 1), so the
D-error det(M⁻¹)^(1/p) is at least D_min = (det M)^(−1/p).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["street_burgess_bound"]


def _max_differing_pairs(n_levels: int, alternatives: int) -> int:
    """S_q: pairs of options that differ on an attribute, spread as evenly as possible."""
    base, extra = divmod(alternatives, n_levels)
    counts = [base + 1] * extra + [base] * (n_levels - extra)
    return (alternatives**2 - sum(c * c for c in counts)) // 2


def street_burgess_bound(
    n_levels: Sequence[int], alternatives: int, tasks: int, coding: str = "effects"
) -> float | None:
    """Smallest D-error of a generic main-effects choice design (Street–Burgess D_min).

    Parameters
    ----------
    n_levels : sequence of int, length k
        Levels of every attribute (all coded as part-worths).
    alternatives : int
        Options per choice set, m ≥ 2 (the none option excluded).
    tasks : int
        Choice sets in the design, N ≥ 1.
    coding : {"effects", "dummy"}, default "effects"
        Coding of the design matrix; the D-efficiency D_min / D-error does not
        depend on it.

    Returns
    -------
    float or None
        D_min, or ``None`` when theory gives no bound (an attribute with fewer
        than 2 levels).

    Notes
    -----
    The bound is for the zero prior (all coefficients zero) and a design in
    which every level combination is allowed. It is reached only when every set
    attains S_q on every attribute and the attributes are orthogonal, which is
    not always possible; it is then a lower bound, not an attainable value.

    Examples
    --------
    >>> round(street_burgess_bound([3, 3, 3, 3], alternatives=3, tasks=9), 6)
    0.19245
    >>> round(street_burgess_bound([2, 2, 2], alternatives=2, tasks=4, coding="dummy"), 6)
    1.0
    """
    if coding not in ("effects", "dummy"):
        raise ValueError(f"coding must be 'effects' or 'dummy', got {coding!r}")
    if alternatives < 2 or tasks < 1:
        raise ValueError(f"need alternatives >= 2 and tasks >= 1, got {alternatives} and {tasks}")
    levels = [int(n) for n in n_levels]
    if not levels or min(levels) < 2:
        return None
    m = alternatives
    p = sum(n - 1 for n in levels)
    log_det = p * np.log(tasks)
    for n in levels:
        s_q = _max_differing_pairs(n, m)
        c_q = n if coding == "effects" else 1.0 / n
        log_det += (n - 1) * np.log(2.0 * s_q / (m * m * (n - 1))) + np.log(c_q)
    return float(np.exp(-log_det / p))
