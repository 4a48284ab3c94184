"""Information matrix, D-error and the Street–Burgess bound against theory and hand algebra."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from offerlab.design import d_error, information_matrix, street_burgess_bound
from offerlab.numerics import code_levels

# DESIGN_BOUNDS.md: (levels, alternatives, tasks) -> (effects, dummy)
TABLE = [
    ((3, 3, 3, 3), 3, 9, 0.192450, 0.577350),
    ((4, 3, 3, 2), 3, 12, 0.164509, 0.479210),
    ((2, 2, 2), 2, 4, 0.250000, 1.000000),
]


@pytest.mark.parametrize(("levels", "m", "n", "effects", "dummy"), TABLE)
def test_bound_reproduces_the_published_table(levels, m, n, effects, dummy) -> None:
    assert street_burgess_bound(levels, m, n, "effects") == pytest.approx(effects, abs=5e-7)
    # Dummy coding multiplies det M by Π 1/l_q² (c_q = 1/l_q instead of l_q), so
    # D_min(dummy) = D_min(effects) · (Π l_q²)^(1/p). The table's 4×3×3×2 dummy entry,
    # 0.479210, is 3e-6 above that (0.479207): designs reach 0.4792073 in dummy coding
    # (see test_efficient), so the table's last digit is a rounding slip.
    p = sum(q - 1 for q in levels)
    ratio = float(np.prod(np.square(levels))) ** (1 / p)
    assert street_burgess_bound(levels, m, n, "dummy") == pytest.approx(
        effects * ratio, abs=5e-7 * ratio
    )
    assert street_burgess_bound(levels, m, n, "dummy") == pytest.approx(dummy, abs=5e-6)


def _orthogonal_array_design() -> np.ndarray:
    """3^4 / m=3 / N=9: an OA(9, 3^4), each set built by adding (1,1,1,1) and (2,2,2,2) mod 3."""
    runs = np.array([[i, j, (i + j) % 3, (i + 2 * j) % 3] for i in range(3) for j in range(3)])
    return np.stack([runs, (runs + 1) % 3, (runs + 2) % 3], axis=1)  # (9, 3, 4)


def _foldover_design() -> np.ndarray:
    """2^3 / m=2 / N=4: a half fraction and its fold-over."""
    half = np.array([[0, 0, 0], [0, 1, 1], [1, 0, 1], [1, 1, 0]])
    return np.stack([half, 1 - half], axis=1)  # (4, 2, 3)


@pytest.mark.parametrize("coding", ["effects", "dummy"])
@pytest.mark.parametrize(
    ("design", "levels"),
    [(_orthogonal_array_design(), (3, 3, 3, 3)), (_foldover_design(), (2, 2, 2))],
)
def test_known_optimal_designs_reach_the_bound(design, levels, coding) -> None:
    X = code_levels(design, levels, coding)
    bound = street_burgess_bound(levels, design.shape[1], design.shape[0], coding)
    assert d_error(X) == pytest.approx(bound, rel=1e-12)


def test_efficiency_does_not_depend_on_the_coding() -> None:
    rng = np.random.default_rng(3)
    levels = (4, 3, 3, 2)
    design = np.stack([rng.integers(n, size=(12, 3)) for n in levels], axis=-1)
    eff = [
        street_burgess_bound(levels, 3, 12, c) / d_error(code_levels(design, levels, c))
        for c in ("effects", "dummy")
    ]
    assert eff[0] == pytest.approx(eff[1], rel=1e-10)
    assert 0 < eff[0] < 1


def test_bound_is_a_lower_bound_on_random_designs() -> None:
    rng = np.random.default_rng(5)
    levels = (3, 2, 4)
    bound = street_burgess_bound(levels, 3, 8)
    for _ in range(50):
        design = np.stack([rng.integers(n, size=(8, 3)) for n in levels], axis=-1)
        assert d_error(code_levels(design, levels)) >= bound * (1 - 1e-12)


def test_bound_spreads_options_evenly_when_levels_are_fewer_than_options() -> None:
    # One 2-level attribute, m = 3: the best split is 2 + 1, S = (9 − 5)/2 = 2 differing pairs;
    # det M = N · (2·2 / 9) · 2 (effects), so D_min = 1 / det M.
    assert street_burgess_bound([2], 3, 5) == pytest.approx(1 / (5 * 4 / 9 * 2))


def test_information_matrix_by_hand() -> None:
    # Two pairs, two effects-coded attributes: (+,+) vs (−,−) and (+,−) vs (−,+).
    X = np.array([[[1.0, 1.0], [-1.0, -1.0]], [[1.0, -1.0], [-1.0, 1.0]]])
    # Each pair has p = (1/2, 1/2): X'(diag p − pp')X = (1/2) X'X, the column sums being 0.
    np.testing.assert_allclose(information_matrix(X), [[2.0, 0.0], [0.0, 2.0]])
    assert d_error(X) == pytest.approx(0.5)


def test_information_matrix_with_coefficients_matches_the_definition() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(5, 3, 4))
    beta = rng.normal(size=4)
    expected = np.zeros((4, 4))
    for xs in X:
        v = xs @ beta
        p = np.exp(v) / np.exp(v).sum()
        expected += xs.T @ (np.diag(p) - np.outer(p, p)) @ xs
    np.testing.assert_allclose(information_matrix(X, beta), expected, rtol=1e-12)
    np.testing.assert_allclose(information_matrix(X, np.zeros(4)), information_matrix(X))


def test_bayesian_d_error_is_the_mean_over_draws() -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(6, 2, 3))
    draws = rng.normal(size=(7, 3))
    each = [d_error(X, b) for b in draws]
    assert d_error(X, draws) == pytest.approx(np.mean(each))


def test_unidentified_design_has_infinite_d_error() -> None:
    # The second attribute never varies within a set.
    design = np.array([[[0, 0], [1, 0]], [[1, 1], [0, 1]]])
    assert d_error(code_levels(design, (2, 2))) == np.inf


def test_d_error_checks_shapes() -> None:
    with pytest.raises(ValueError, match="shape"):
        d_error(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="coefficients"):
        d_error(np.zeros((2, 2, 3)), np.zeros(4))


def test_every_level_combination_reaches_the_2x2x2_bound_only_with_full_contrast() -> None:
    # Exhaustive check on the tiny 2^2, m=2, N=2 problem: the best of all designs hits the bound.
    concepts = list(itertools.product(range(2), repeat=2))
    pairs = [(a, b) for a, b in itertools.combinations(concepts, 2)]
    best = min(
        d_error(code_levels(np.array([s1, s2]), (2, 2)))
        for s1, s2 in itertools.product(pairs, repeat=2)
    )
    assert best == pytest.approx(street_burgess_bound((2, 2), 2, 2))
