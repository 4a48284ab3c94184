"""MCMC convergence diagnostics: rank-normalised split R-hat and effective sample sizes.

Implements Vehtari, Gelman, Simpson, Carpenter and Bürkner (2021), "Rank-normalization,
folding, and localization: an improved R-hat for assessing convergence of MCMC",
Bayesian Analysis 16(2), 667–718, with numpy only:

* **split R-hat**: every chain is cut in two halves (so a trend within one chain
  shows up as disagreement between its halves), the draws of all halves are
  replaced by normal scores of their pooled ranks (robust to heavy tails), and
  R-hat is the larger of the value for the draws and for the draws folded about
  their median (which detects chains that differ in scale, not location);
* **bulk ESS**: effective sample size of the rank-normalised split chains, from
  the autocorrelations combined across chains with Geyer's initial monotone
  sequence (Stan's estimator);
* **tail ESS**: the smaller effective sample size of the indicators
  I(x ≤ q₀.₀₅) and I(x ≤ q₀.₉₅), i.e. of the 5% and 95% quantiles.

The paper recommends trusting a posterior summary only when R-hat < 1.01 and both
ESS exceed 400 (100 per chain for four chains): see :data:`RHAT_MAX`, :data:`ESS_MIN`.

Draws are arrays of shape (chains, draws) for one parameter or (chains, draws, P)
for P parameters.
"""

from __future__ import annotations

import numpy as np
from scipy import special

__all__ = [
    "ESS_MIN",
    "RHAT_MAX",
    "ess_bulk",
    "ess_tail",
    "rank_normalize",
    "rhat",
    "split_chains",
]

#: Vehtari et al. (2021), section 4: "we recommend running at least four chains ... and
#: using the sample only if R-hat < 1.01".
RHAT_MAX = 1.01
#: Vehtari et al. (2021), section 4: bulk- and tail-ESS should exceed 100 per chain
#: (400 for the recommended four chains) for reliable R-hat and quantile estimates.
ESS_MIN = 400.0


def _as_3d(draws: np.ndarray) -> tuple[np.ndarray, bool]:
    draws = np.asarray(draws, dtype=float)
    if draws.ndim == 2:
        return draws[:, :, None], True
    if draws.ndim != 3:
        raise ValueError(f"draws must have shape (chains, draws[, P]); got {draws.shape}")
    return draws, False


def split_chains(draws: np.ndarray) -> np.ndarray:
    """Cut every chain into its first and second half: (C, S, P) → (2C, S // 2, P).

    With an odd number of draws the middle draw is dropped.
    """
    x, _ = _as_3d(draws)
    S = x.shape[1]
    half = S // 2
    return np.concatenate([x[:, :half], x[:, S - half :]], axis=0)


def rank_normalize(draws: np.ndarray) -> np.ndarray:
    """Normal scores of the pooled ranks, Φ⁻¹((r − 3/8) / (n + 1/4)), same shape.

    Ties get their average rank (Blom's offsets as in the paper, eq. 14).
    """
    x, squeeze = _as_3d(draws)
    C, S, P = x.shape
    flat = x.reshape(C * S, P)
    n = C * S
    out = np.empty_like(flat)
    for p in range(P):
        col = flat[:, p]
        order = np.argsort(col, kind="stable")
        ranks = np.empty(n)
        ranks[order] = np.arange(1, n + 1)
        # average ranks of tied values
        sorted_col = col[order]
        if n > 1 and np.any(sorted_col[1:] == sorted_col[:-1]):
            _, first, counts = np.unique(sorted_col, return_index=True, return_counts=True)
            avg = first + (counts + 1) / 2.0
            ranks[order] = np.repeat(avg, counts)
        out[:, p] = special.ndtri((ranks - 0.375) / (n + 0.25))
    out = out.reshape(C, S, P)
    return out[:, :, 0] if squeeze else out


def _rhat_basic(x: np.ndarray) -> np.ndarray:
    """Classic potential scale reduction of (M, N, P) chains (no splitting)."""
    N = x.shape[1]
    chain_means = x.mean(axis=1)
    W = x.var(axis=1, ddof=1).mean(axis=0)
    B = N * chain_means.var(axis=0, ddof=1)
    var_plus = (N - 1) / N * W + B / N
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.sqrt(var_plus / W)
    # constant draws: no evidence of non-convergence unless the chains sit apart
    return np.where(W > 0, r, np.where(B > 0, np.inf, 1.0))


def rhat(draws: np.ndarray) -> np.ndarray | float:
    """Rank-normalised split R-hat (Vehtari et al. 2021, eq. 17): max of bulk and folded.

    Parameters
    ----------
    draws : ndarray, shape (chains, draws) or (chains, draws, P)

    Returns
    -------
    float or ndarray (P,)
    """
    x, squeeze = _as_3d(draws)
    if x.shape[1] < 4:
        raise ValueError("R-hat needs at least 4 draws per chain")
    split = split_chains(x)
    bulk = _rhat_basic(rank_normalize(split))
    folded = np.abs(split - np.median(split.reshape(-1, split.shape[2]), axis=0))
    tail = _rhat_basic(rank_normalize(folded))
    out = np.maximum(bulk, tail)
    return float(out[0]) if squeeze else out


def _autocovariance(x: np.ndarray) -> np.ndarray:
    """Biased autocovariance of every chain along axis 1, by FFT: (M, N, P) → (M, N, P)."""
    N = x.shape[1]
    centred = x - x.mean(axis=1, keepdims=True)
    size = 1 << int(np.ceil(np.log2(2 * N)))
    f = np.fft.rfft(centred, n=size, axis=1)
    acov = np.fft.irfft(f * np.conj(f), n=size, axis=1)[:, :N]
    return acov / N


def _ess(x: np.ndarray) -> np.ndarray:
    """Effective sample size of (M, N, P) chains (Stan's estimator, Geyer truncation)."""
    M, N, P = x.shape
    out = np.empty(P)
    if N < 4:
        raise ValueError("ESS needs at least 4 draws per chain")
    acov = _autocovariance(x)
    chain_mean = x.mean(axis=1)
    mean_var = acov[:, 0, :].mean(axis=0) * N / (N - 1)
    var_plus = mean_var * (N - 1) / N
    if M > 1:
        var_plus = var_plus + chain_mean.var(axis=0, ddof=1)
    for p in range(P):
        if not var_plus[p] > 0:
            out[p] = float(M * N)  # constant: every draw is "independent"
            continue
        rho_lag = 1.0 - (mean_var[p] - acov[:, :, p].mean(axis=0)) / var_plus[p]
        rho = np.zeros(N)
        rho[0] = 1.0
        rho_even, rho_odd = 1.0, rho_lag[1]
        rho[1] = rho_odd
        t = 1
        # Geyer's initial positive sequence: sum pairs while their sum stays positive.
        while t < N - 3 and rho_even + rho_odd > 0:
            rho_even, rho_odd = rho_lag[t + 1], rho_lag[t + 2]
            if rho_even + rho_odd >= 0:
                rho[t + 1], rho[t + 2] = rho_even, rho_odd
            t += 2
        max_t = t - 2
        if rho_even > 0:
            rho[max_t + 1] = rho_even
        # Initial monotone sequence: pair sums must not increase.
        t = 1
        while t <= max_t - 2:
            if rho[t + 1] + rho[t + 2] > rho[t - 1] + rho[t]:
                rho[t + 1] = rho[t + 2] = (rho[t - 1] + rho[t]) / 2
            t += 2
        tau = -1.0 + 2.0 * rho[: max_t + 1].sum() + rho[max_t + 1]
        tau = max(tau, 1.0 / np.log10(M * N))
        out[p] = M * N / tau
    return out


def ess_bulk(draws: np.ndarray) -> np.ndarray | float:
    """Bulk effective sample size: ESS of the rank-normalised split chains.

    Parameters
    ----------
    draws : ndarray, shape (chains, draws) or (chains, draws, P)
    """
    x, squeeze = _as_3d(draws)
    out = _ess(rank_normalize(split_chains(x)))
    return float(out[0]) if squeeze else out


def ess_tail(draws: np.ndarray) -> np.ndarray | float:
    """Tail effective sample size: min ESS of I(x ≤ q₀.₀₅) and I(x ≤ q₀.₉₅), split chains.

    Parameters
    ----------
    draws : ndarray, shape (chains, draws) or (chains, draws, P)
    """
    x, squeeze = _as_3d(draws)
    split = split_chains(x)
    flat = split.reshape(-1, split.shape[2])
    q05, q95 = np.quantile(flat, [0.05, 0.95], axis=0)
    low = _ess((split <= q05).astype(float))
    high = _ess((split <= q95).astype(float))
    out = np.minimum(low, high)
    return float(out[0]) if squeeze else out
