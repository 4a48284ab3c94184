"""The interweaving move's target: log density and gradient of (α, Λ) given z.

HMC stays exact with any gradient (the Metropolis correction uses the log density), so a
wrong gradient would only show as poor mixing; these checks catch it directly, against
central differences, for both covariance priors.
"""

from __future__ import annotations

import numpy as np
import pytest
from _hb_sim import small_chain, small_chain_problem

from offerlab.numerics._hb import HBChain, HBPrior, HBSettings

K = 3


def _chain(kind: str, collapse_scales: bool = True, coordinates: str = "entries") -> HBChain:
    layout, beta = small_chain_problem(40, K)
    if kind == "huang-wand":
        prior = HBPrior(np.eye(K), 2.0, kind="huang-wand", scale=np.array([1.0, 2.5, 0.7]))
    else:
        prior = HBPrior(np.eye(K) * 1.3, K + 5.0)
    settings = HBSettings(
        burn_in=10,
        draws=10,
        interweave=True,
        collapse_scales=collapse_scales,
        interweave_coordinates=coordinates,
    )
    chain = small_chain(layout, prior, settings, beta + 0.1)
    chain.burn(5)
    return chain


def _point(chain: HBChain) -> tuple[np.ndarray, np.ndarray]:
    Lam = chain._cholesky_of_cov()
    z = np.linalg.solve(Lam, (chain.theta - chain.alpha).T).T
    return chain._pack(Lam, chain.alpha), z


@pytest.mark.parametrize("coordinates", ["entries", "row-ratios"])
@pytest.mark.parametrize(
    ("kind", "collapse_scales"),
    [("inverse-wishart", True), ("huang-wand", True), ("huang-wand", False)],
    ids=["inverse-wishart", "huang-wand-scales-integrated-out", "huang-wand-given-scales"],
)
def test_gradient_matches_central_differences(
    kind: str, collapse_scales: bool, coordinates: str
) -> None:
    chain = _chain(kind, collapse_scales, coordinates)
    u, z = _point(chain)
    V = np.empty_like(chain.V)
    _, grad, _, _ = chain._non_centred_logp(u, z, V)
    h = 1e-3
    numeric = np.empty_like(u)
    for i in range(u.size):
        e = np.zeros_like(u)
        e[i] = h
        numeric[i] = (
            chain._non_centred_logp(u + e, z, V)[0] - chain._non_centred_logp(u - e, z, V)[0]
        ) / (2 * h)
    # single-precision utilities: ℓ rounds at ~1e-5, so h is not smaller
    np.testing.assert_allclose(grad, numeric, rtol=1e-2, atol=5e-2)


@pytest.mark.parametrize("coordinates", ["entries", "row-ratios"])
def test_target_is_the_inverse_wishart_density_of_d_times_the_jacobian(coordinates: str) -> None:
    """In the move's coordinates u (Λ's off-diagonals or their ratios to the row's
    diagonal, log Λ_kk, α) the target carries p(D) |∂vech D / ∂u| and nothing else besides
    the likelihood: a wrong power of Λ_kk would bias every variance (the exact-posterior
    tests have one coefficient, so no off-diagonal). Checked at random points against
    scipy's inverse-Wishart density and a numerical Jacobian."""
    from scipy.stats import invwishart

    chain = _chain("inverse-wishart", coordinates=coordinates)
    prior = chain.setup.prior
    n_lam = K * (K + 1) // 2
    rows, cols = np.tril_indices(K)
    rng = np.random.default_rng(7)
    V = np.empty_like(chain.V)

    def d_of(u: np.ndarray) -> np.ndarray:
        Lam, _ = chain._unpack(u)
        return Lam @ Lam.T

    def log_jacobian(u: np.ndarray) -> float:
        h, jac = 1e-6, np.empty((n_lam, n_lam))
        for i in range(n_lam):
            e = np.zeros_like(u)
            e[i] = h
            jac[:, i] = (d_of(u + e) - d_of(u - e))[rows, cols] / (2 * h)
        return float(np.linalg.slogdet(jac)[1])

    def prior_part(u: np.ndarray) -> float:
        logp, _, ll, _ = chain._non_centred_logp(u, z, V)
        return logp - float(ll.sum())

    u0, z = _point(chain)
    values = []
    for _ in range(4):
        u = u0 + rng.normal(0, 0.3, u0.size)
        expected = invwishart(df=prior.df, scale=prior.df * prior.V0).logpdf(d_of(u))
        values.append((prior_part(u), expected + log_jacobian(u)))
    got, want = np.array(values).T
    np.testing.assert_allclose(got - got[0], want - want[0], atol=1e-6)
