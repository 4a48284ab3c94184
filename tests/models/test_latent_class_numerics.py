"""The latent class kernel: analytic derivatives against finite differences, the optimiser."""

from __future__ import annotations

import numpy as np
import pytest

from offerlab.numerics import mnl_loglike
from offerlab.numerics._latent_class import ClassMap, lc_data, lc_fit, lc_loglike


def _problem(rng: np.random.Generator, n_resp: int = 60, tasks: int = 5, J: int = 3, K: int = 3):
    N = n_resp * tasks
    X = rng.normal(size=(N, J, K))
    groups = np.repeat(np.arange(100, 100 + n_resp), tasks)
    # two taste groups, so that a mixture has something to find
    beta = np.where((groups % 2 == 0)[:, None], [1.0, -1.0, 0.5], [-0.5, 1.0, 0.0])
    V = np.einsum("njk,nk->nj", X, beta)
    y = np.argmax(V + rng.gumbel(size=V.shape), axis=1)
    available = np.ones((N, J), dtype=bool)
    available[::7, 2] = False
    y[::7] = np.where(y[::7] == 2, 0, y[::7])
    offset = rng.normal(scale=0.3, size=(N, J))
    weights = np.repeat(rng.uniform(0.5, 2.0, n_resp), tasks)
    return X, y, groups, available, offset, weights


def _cmap_three_classes() -> ClassMap:
    """Three classes; x1 shared by classes 1 and 3 and fixed at 0.2 in class 2; x0, x2 free."""
    index = np.array([[0, 1, 2], [3, -1, 4], [5, 1, 6]])
    values = np.zeros((3, 3))
    values[1, 1] = 0.2
    return ClassMap(index, values)


def _fd_check(theta, data, cmap) -> None:
    terms = lc_loglike(theta, data, cmap)

    def f(x):
        return lc_loglike(x, data, cmap, derivatives=False).value

    def g(x):
        return lc_loglike(x, data, cmap).gradient

    eps = 1e-6
    E = np.eye(theta.size)
    g_fd = np.array([(f(theta + eps * e) - f(theta - eps * e)) / (2 * eps) for e in E])
    H_fd = np.array([(g(theta + eps * e) - g(theta - eps * e)) / (2 * eps) for e in E])
    scale = max(1.0, np.abs(terms.hessian).max())
    assert np.allclose(terms.gradient, g_fd, atol=1e-5 * scale)
    assert np.allclose(terms.hessian, H_fd, atol=1e-5 * scale)
    assert np.allclose(terms.unit_scores.sum(axis=0), terms.gradient)
    assert np.allclose(terms.posterior.sum(axis=1), 1.0)


@pytest.mark.parametrize("panel", [True, False])
@pytest.mark.parametrize("weighted", [True, False])
def test_gradient_and_hessian_are_the_derivatives_of_the_loglikelihood(panel, weighted) -> None:
    rng = np.random.default_rng(3)
    X, y, groups, available, offset, weights = _problem(rng)
    data = lc_data(
        X,
        y,
        groups,
        available=available,
        offset=offset,
        weights=weights if weighted else None,
        panel=panel,
    )
    cmap = _cmap_three_classes()
    theta = rng.normal(scale=0.5, size=cmap.n_params)
    _fd_check(theta, data, cmap)


def test_one_class_is_the_multinomial_logit() -> None:
    rng = np.random.default_rng(4)
    X, y, groups, available, offset, _weights = _problem(rng)
    cmap = ClassMap(np.arange(3)[None, :], np.zeros((1, 3)))
    beta = np.array([0.3, -0.2, 0.1])
    for panel in (True, False):
        data = lc_data(X, y, groups, available=available, offset=offset, panel=panel)
        lc = lc_loglike(beta, data, cmap)
        mnl = mnl_loglike(beta, X, y, available, None, offset)
        assert lc.value == pytest.approx(mnl.value, rel=1e-12)
        assert np.allclose(lc.gradient, mnl.gradient)
        assert np.allclose(lc.hessian, mnl.hessian)


def test_the_fit_never_decreases_the_loglikelihood_and_stops_at_a_stationary_point() -> None:
    rng = np.random.default_rng(5)
    X, y, groups, available, _offset, weights = _problem(rng, n_resp=120)
    data = lc_data(X, y, groups, available=available, weights=weights, panel=True)
    cmap = ClassMap(np.arange(6).reshape(2, 3), np.zeros((2, 3)))
    theta0 = np.concatenate([[0.0], rng.normal(scale=0.3, size=6)])
    fit = lc_fit(theta0, data, cmap)
    assert fit.converged
    assert np.all(np.diff(fit.history) >= -1e-9)
    assert np.abs(fit.terms.gradient).max() < 1e-4
    assert np.all(np.linalg.eigvalsh(-fit.terms.hessian) > 0)


def test_panel_weights_must_be_constant_within_a_respondent() -> None:
    rng = np.random.default_rng(6)
    X, y, groups, _available, _offset, weights = _problem(rng)
    weights = weights.copy()
    weights[1] += 1.0
    with pytest.raises(ValueError, match="constant within each respondent"):
        lc_data(X, y, groups, weights=weights, panel=True)
