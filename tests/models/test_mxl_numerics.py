"""Mixed-logit kernels: draws, simulated log-likelihood and gradient against plain loops."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import logsumexp
from scipy.stats import qmc

from offerlab.numerics import mxl_loglike, prepare_mxl
from offerlab.numerics._draws import halton_sequence, standard_draws, uniform_draws

DISTS = ["normal", "lognormal", "negative_lognormal", "triangular"]


# -- draws ----------------------------------------------------------------------------------


def test_halton_is_the_radical_inverse_with_the_first_points_dropped() -> None:
    engine = qmc.Halton(3, scramble=False)
    engine.fast_forward(100)
    reference = engine.random(40 * 7)  # (points, dims)
    draws = uniform_draws(40, 7, 3, "halton")
    # unit n owns consecutive points n·R … n·R + R − 1 of every dimension's sequence
    np.testing.assert_allclose(draws.transpose(0, 2, 1).reshape(-1, 3), reference, atol=1e-15)
    # base 3 by hand: 1/3, 2/3, 1/9, 4/9, 7/9, 2/9, …
    np.testing.assert_allclose(
        halton_sequence(6, 3, drop=1), [1 / 3, 2 / 3, 1 / 9, 4 / 9, 7 / 9, 2 / 9]
    )


@pytest.mark.parametrize("kind", ["halton", "scrambled_halton", "sobol", "pseudo"])
def test_standard_draws_have_the_right_moments_and_layout(kind: str) -> None:
    z = standard_draws(64, 256, ["normal", "triangular"], kind, rng=3)
    assert z.shape == (64, 2, 256) and z.flags.c_contiguous and np.isfinite(z).all()
    tol = 0.02 if kind != "pseudo" else 0.05
    assert abs(z[:, 0].mean()) < tol and abs(z[:, 0].std() - 1) < tol
    assert abs(z[:, 1].var() - 1 / 6) < tol / 3 and np.abs(z[:, 1]).max() <= 1
    again = standard_draws(64, 256, ["normal", "triangular"], kind, rng=3)
    np.testing.assert_array_equal(z, again)  # the seed decides


def test_sobol_blocks_of_a_power_of_two_are_balanced() -> None:
    u = uniform_draws(8, 64, 1, "sobol", rng=0)[:, 0, :]
    # every unit's 64 points put exactly one point in each 1/64 stratum
    counts = np.stack([np.bincount((row * 64).astype(int), minlength=64) for row in u])
    assert (counts == 1).all()


# -- the simulated log-likelihood --------------------------------------------------------------


def _problem_data(seed: int = 0, N: int = 60, J: int = 4, K: int = 5, U: int = 12):
    rng = np.random.default_rng(seed)
    units = np.unique(np.sort(rng.integers(0, U, N)), return_inverse=True)[1]
    X = rng.normal(size=(N, J, K))
    y = rng.integers(0, J, N)
    avail = rng.random((N, J)) > 0.2
    avail[np.arange(N), y] = True
    offset = rng.normal(size=(N, J))
    weights = (rng.random(units.max() + 1) + 0.5)[units]
    return X, y, units, avail, offset, weights


def _naive(theta, X, y, units, avail, offset, weights, z, ridx, dists, L):
    """log-likelihood by loops over units, draws and tasks (log-sum-exp per task)."""
    K = X.shape[2]
    beta = theta[:K]
    total = 0.0
    for n in range(units.max() + 1):
        obs = np.flatnonzero(units == n)
        logL = np.zeros(z.shape[2])
        for r in range(z.shape[2]):
            u = beta[ridx] + L @ z[n, :, r]
            b = beta.copy()
            for i, (k, d) in enumerate(zip(ridx, dists, strict=True)):
                b[k] = {"lognormal": np.exp(u[i]), "negative_lognormal": -np.exp(u[i])}.get(d, u[i])
            for t in obs:
                V = X[t] @ b + offset[t]
                V = np.where(avail[t], V, -np.inf)
                logL[r] += V[y[t]] - (V.max() + np.log(np.exp(V - V.max()).sum()))
        total += weights[obs[0]] * (logsumexp(logL) - np.log(len(logL)))
    return total


@pytest.mark.parametrize("correlated", [False, True, [0, 1]])
@pytest.mark.parametrize(("chunk_bytes", "augment"), [(None, True), (2000, True), (2000, False)])
def test_value_and_gradient_match_loops_and_finite_differences(
    correlated, chunk_bytes, augment, monkeypatch
) -> None:
    if not augment:  # draws too large for a row of ones: base utility added separately
        monkeypatch.setattr("offerlab.numerics._mxl_layout.AUGMENT_BYTES", 0)
    X, y, units, avail, offset, weights = _problem_data()
    ridx = [0, 2, 3, 4]
    z = standard_draws(units.max() + 1, 7, ["normal"] * 3 + ["triangular"], "pseudo", rng=1)
    problem = prepare_mxl(
        X, y, units, z, ridx, DISTS, available=avail, weights=weights, offset=offset,
        correlated=correlated, chunk_bytes=chunk_bytes,
    )  # fmt: skip
    theta = np.random.default_rng(2).normal(size=problem.n_params) * 0.3
    terms = mxl_loglike(theta, problem, scores=True, loglikeobs=True)
    expected = _naive(theta, X, y, units, avail, offset, weights, z, ridx, DISTS,
                      problem.cholesky(theta))  # fmt: skip
    assert terms.value == pytest.approx(expected, abs=1e-10)
    h = 1e-6
    numeric = [
        (
            mxl_loglike(theta + h * e, problem, gradient=False).value
            - mxl_loglike(theta - h * e, problem, gradient=False).value
        )
        / (2 * h)
        for e in np.eye(problem.n_params)
    ]
    np.testing.assert_allclose(terms.gradient, numeric, atol=1e-6)
    np.testing.assert_allclose(terms.scores.sum(axis=0), terms.gradient, atol=1e-12)
    unit_w = weights[np.unique(units, return_index=True)[1]]
    assert terms.loglikeobs @ unit_w == pytest.approx(terms.value, abs=1e-10)
    two = mxl_loglike(theta, problem, n_threads=2)
    assert two.value == pytest.approx(terms.value, abs=1e-10)
    np.testing.assert_allclose(two.gradient, terms.gradient, atol=1e-10)


@pytest.mark.parametrize("dist", DISTS)
def test_cross_section_each_distribution(dist: str) -> None:
    """One observation per unit (the T = 1 path that folds 1/S into the draw weights)."""
    X, y, _, avail, offset, _ = _problem_data(seed=4, N=30)
    units = np.arange(30)
    shape = "triangular" if dist == "triangular" else "normal"
    z = standard_draws(30, 9, [shape], "scrambled_halton", rng=5)
    problem = prepare_mxl(X, y, units, z, [1], [dist], available=avail, offset=offset)
    theta = np.random.default_rng(6).normal(size=problem.n_params) * 0.4
    terms = mxl_loglike(theta, problem)
    ones = np.ones(30)
    expected = _naive(theta, X, y, units, avail, offset, ones, z, [1], [dist],
                      problem.cholesky(theta))  # fmt: skip
    assert terms.value == pytest.approx(expected, abs=1e-10)
    h = 1e-6
    for p in range(problem.n_params):
        e = np.eye(problem.n_params)[p] * h
        d = (mxl_loglike(theta + e, problem).value - mxl_loglike(theta - e, problem).value) / (
            2 * h
        )
        assert terms.gradient[p] == pytest.approx(d, abs=1e-6)


def test_huge_utilities_take_the_stable_path() -> None:
    """Utility differences beyond exp's range (and long panels) stay finite and exact."""
    X, y, units, avail, offset, _weights = _problem_data(seed=7)
    X = X * 400.0
    z = standard_draws(units.max() + 1, 5, ["normal"], "pseudo", rng=8)
    problem = prepare_mxl(X, y, units, z, [0], ["normal"], available=avail, offset=offset)
    assert problem.chunks[0].za is not None
    theta = np.array([1.0, 0.5, -0.3, 0.2, 0.1, 0.5])
    terms = mxl_loglike(theta, problem)
    expected = _naive(theta, X, y, units, avail, offset, np.ones(len(y)), z, [0], ["normal"],
                      problem.cholesky(theta))  # fmt: skip
    assert np.isfinite(terms.value) and terms.value == pytest.approx(expected, rel=1e-12)
    assert np.isfinite(terms.gradient).all()


def test_panel_draws_are_shared_across_a_respondents_tasks() -> None:
    """With zero spread a panel is the MNL; with spread, panel ≠ cross-section."""
    X, y, units, avail, offset, _ = _problem_data(seed=9)
    z = standard_draws(units.max() + 1, 50, ["normal"], "halton")
    panel = prepare_mxl(X, y, units, z, [0], ["normal"], available=avail, offset=offset)
    zc = standard_draws(len(y), 50, ["normal"], "halton")
    cross = prepare_mxl(X, y, np.arange(len(y)), zc, [0], ["normal"], available=avail,
                        offset=offset)  # fmt: skip
    beta = np.array([0.3, -0.2, 0.1, 0.4, -0.5])
    V = X @ beta + offset
    V = np.where(avail, V, -np.inf)
    mnl = float(np.sum(V[np.arange(len(y)), y] - np.log(np.exp(V).sum(axis=1))))
    for problem in (panel, cross):
        assert mxl_loglike(np.r_[beta, 0.0], problem).value == pytest.approx(mnl, abs=1e-10)
    assert mxl_loglike(np.r_[beta, 1.0], panel).value != pytest.approx(
        mxl_loglike(np.r_[beta, 1.0], cross).value, abs=1e-3
    )


def test_bad_inputs_are_refused() -> None:
    X, y, units, _avail, _, weights = _problem_data()
    z = standard_draws(units.max() + 1, 5, ["normal"], "pseudo", rng=0)
    with pytest.raises(ValueError, match="draws must have shape"):
        prepare_mxl(X, y, units, z[:, :, :], [0, 1], ["normal", "normal"])
    with pytest.raises(ValueError, match="one of"):
        prepare_mxl(X, y, units, z, [0], ["gumbel"])
    w = weights.copy()
    w[0] += 1
    with pytest.raises(ValueError, match="equal within a unit"):
        prepare_mxl(X, y, units, z, [0], ["normal"], weights=w)
    with pytest.raises(ValueError, match="kind must be"):
        uniform_draws(2, 2, 1, "random")
