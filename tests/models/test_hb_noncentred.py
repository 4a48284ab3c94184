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


def _chain(kind: str, collapse_scales: bool = True) -> HBChain:
    layout, beta = small_chain_problem(40, K)
    if kind == "huang-wand":
        prior = HBPrior(np.eye(K), 2.0, kind="huang-wand", scale=np.array([1.0, 2.5, 0.7]))
    else:
        prior = HBPrior(np.eye(K) * 1.3, K + 5.0)
    settings = HBSettings(burn_in=10, draws=10, interweave=True, collapse_scales=collapse_scales)
    chain = small_chain(layout, prior, settings, beta + 0.1)
    chain.burn(5)
    return chain


def _point(chain: HBChain) -> tuple[np.ndarray, np.ndarray]:
    Lam = chain._cholesky_of_cov()
    z = np.linalg.solve(Lam, (chain.theta - chain.alpha).T).T
    return chain._pack(Lam, chain.alpha), z


@pytest.mark.parametrize(
    ("kind", "collapse_scales"),
    [("inverse-wishart", True), ("huang-wand", True), ("huang-wand", False)],
    ids=["inverse-wishart", "huang-wand-scales-integrated-out", "huang-wand-given-scales"],
)
def test_gradient_matches_central_differences(kind: str, collapse_scales: bool) -> None:
    chain = _chain(kind, collapse_scales)
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
