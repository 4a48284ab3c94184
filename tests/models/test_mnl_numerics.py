"""The MNL kernel: derivatives against finite differences, chunking, masking."""

from __future__ import annotations

import numpy as np
import pytest

from offerlab.numerics import mnl_loglike, mnl_null_loglike, mnl_probabilities


def _problem(seed: int = 0, N: int = 200, J: int = 4, K: int = 5):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, J, K))
    available = rng.random((N, J)) > 0.2
    available[:, 0] = True
    beta = rng.standard_normal(K) * 0.5
    P = mnl_probabilities(beta, X, available)
    y = np.array([rng.choice(J, p=p) for p in P])
    weights = rng.uniform(0.5, 2.0, N)
    offset = rng.standard_normal((N, J)) * 0.3
    return beta, X, y, available, weights, offset


def test_gradient_and_hessian_match_finite_differences() -> None:
    beta, X, y, av, w, off = _problem()
    terms = mnl_loglike(beta, X, y, av, w, off, scores=True, chunk_size=37)
    h = 1e-6
    K = beta.size
    num_g = np.empty(K)
    num_H = np.empty((K, K))
    for k in range(K):
        e = np.zeros(K)
        e[k] = h
        up = mnl_loglike(beta + e, X, y, av, w, off)
        dn = mnl_loglike(beta - e, X, y, av, w, off)
        num_g[k] = (up.value - dn.value) / (2 * h)
        num_H[:, k] = (up.gradient - dn.gradient) / (2 * h)
    np.testing.assert_allclose(terms.gradient, num_g, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(terms.hessian, num_H, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(terms.scores.sum(axis=0), terms.gradient, atol=1e-10)
    assert np.allclose(terms.hessian, terms.hessian.T)


def test_value_matches_direct_formula_and_chunks_agree() -> None:
    beta, X, y, av, w, off = _problem(1)
    V = np.einsum("njk,k->nj", X, beta) + off
    V[~av] = -np.inf
    logp = V - np.log(np.exp(V).sum(axis=1, keepdims=True))
    direct = float(w @ logp[np.arange(len(y)), y])
    a = mnl_loglike(beta, X, y, av, w, off, loglikeobs=True, chunk_size=7)
    b = mnl_loglike(beta, X, y, av, w, off, loglikeobs=True, chunk_size=10_000)
    assert a.value == pytest.approx(direct, rel=1e-12)
    np.testing.assert_allclose(a.hessian, b.hessian, rtol=1e-12)
    np.testing.assert_allclose(a.loglikeobs, logp[np.arange(len(y)), y], rtol=1e-12, atol=1e-14)


def test_huge_utilities_do_not_overflow() -> None:
    beta, X, y, av, w, off = _problem(2)
    terms = mnl_loglike(beta * 1e3, X, y, av, w, off)
    assert np.isfinite(terms.gradient).all() and np.isfinite(terms.hessian).all()
    P = mnl_probabilities(beta * 1e3, X, av)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    assert (P[~av] == 0).all()


def test_null_loglike_counts_available_alternatives() -> None:
    av = np.array([[True, True, False], [True, True, True]])
    assert mnl_null_loglike(av) == pytest.approx(-np.log(2) - np.log(3))
    assert mnl_null_loglike(av, np.array([2.0, 1.0])) == pytest.approx(-2 * np.log(2) - np.log(3))


def test_a_pass_allocates_far_less_than_the_design() -> None:
    """Chunking keeps temporaries small: peak allocation well under the size of X."""
    import tracemalloc

    beta, X, y, av, w, _ = _problem(3, N=40_000, J=4, K=20)
    tracemalloc.start()
    mnl_loglike(beta, X, y, av, w)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 0.25 * X.nbytes, (peak, X.nbytes)
