"""NumPyro NUTS on offerlab's own hierarchical Bayes model: is the variance inflation the prior?

offerlab's HB (CBC/HB's defaults) puts D ~ IW(K + 5, (K + 5) I) on the population
covariance; on the 1,000-respondent bench study its variances come out 1.74x the truth.
This script samples the very same model (α ~ N(0, 10² I), D ~ IW(K + 5, (K + 5) I),
θ_r ~ N(α, D), MNL choices) with NUTS, non-centred through the Cholesky factor of the
Wishart precision, and prints the same recovery figures as ``bench_hb.py``. Measured on
2026-11-28: variance ratio 1.73, Σ relative error 0.475, individual correlation 0.7387 —
offerlab's figures: the prior, not the sampler.

Run in the peers' venv, on the problem file ``bench_hb.py`` writes (``problem.npz`` in its
run folder)::

    bench/.venv-hb/bin/python bench/nuts_iw_check.py RUN/problem.npz 1000 500

(arguments: the problem, the number of respondents to keep, NUTS warm-up = draws per chain).
It takes about an hour on 2 cores.
"""

from __future__ import annotations

import os
import sys
import time

os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
from numpyro.infer import MCMC, NUTS


def main(problem: str, respondents: int, iterations: int) -> None:
    numpyro.set_host_device_count(2)
    z = np.load(problem)
    keep = z["groups"] < respondents
    X = jnp.asarray(z["X"][keep])
    y = jnp.asarray(z["y"][keep])
    g = jnp.asarray(z["groups"][keep])
    beta_true = z["beta"][:respondents]
    K = X.shape[2]
    nu = K + 5.0

    def model() -> None:
        alpha = numpyro.sample("alpha", dist.Normal(0, 10).expand([K]).to_event(1))
        # precision W = D⁻¹ ~ Wishart(ν, (ν I)⁻¹), i.e. D ~ IW(ν, ν I)
        LW = numpyro.sample("LW", dist.WishartCholesky(nu, scale_tril=jnp.eye(K) / jnp.sqrt(nu)))
        zz = numpyro.sample("z", dist.Normal(0, 1).expand([respondents, K]).to_event(2))
        # θ = α + LW'⁻¹ z has covariance (LW LW')⁻¹ = D
        theta = alpha + jax.scipy.linalg.solve_triangular(LW.T, zz.T, lower=False).T
        numpyro.deterministic("theta", theta)
        V = jnp.einsum("njk,nk->nj", X, theta[g])
        numpyro.sample("y", dist.Categorical(logits=V), obs=y)

    t0 = time.time()
    mcmc = MCMC(
        NUTS(model),
        num_warmup=iterations,
        num_samples=iterations,
        num_chains=2,
        chain_method="parallel",
        progress_bar=False,
    )
    mcmc.run(jax.random.PRNGKey(0))
    s = mcmc.get_samples()
    LW = np.asarray(s["LW"])
    D = np.linalg.inv(LW @ np.swapaxes(LW, 1, 2)).mean(axis=0)
    S = np.cov(beta_true.T)
    theta = np.asarray(s["theta"]).mean(axis=0)
    corr = np.mean([np.corrcoef(theta[:, k], beta_true[:, k])[0, 1] for k in range(K)])
    print(f"time {time.time() - t0:.0f} s")
    print(f"variance ratio {(np.diag(D) / np.diag(S)).mean():.3f}")
    print(f"Sigma relative error {np.linalg.norm(D - S) / np.linalg.norm(S):.3f}")
    print(f"individual correlation {corr:.4f}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
