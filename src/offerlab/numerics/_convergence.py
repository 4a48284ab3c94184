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
for P parameters; single-precision draws are diagnosed in single precision, all others
in double.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import fft as sp_fft
from scipy import special

__all__ = [
    "ESS_MIN",
    "RHAT_MAX",
    "diagnose",
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
    # Single-precision draws stay single: the sampler stores its individual draws so,
    # and their transforms cost a quarter of double precision's (the final check of
    # 15,000 coefficients: the autocovariances' FFTs were most of its 9 s).
    draws = np.asarray(draws)
    if draws.dtype != np.float32:
        draws = draws.astype(float, copy=False)
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
    out = _SortedRows.of(x).normal_scores(x.shape)
    return out[:, :, 0] if squeeze else out


@dataclass(frozen=True)
class _SortedRows:
    """Every parameter's pooled draws sorted, (P, n), and where each came from.

    The sorted draws give the normal scores, the median and the quantiles the folded
    R-hat and the tail ESS need, and the folded draws' own order, without sorting or
    partitioning the draws again.
    """

    order: np.ndarray  # (P, n): position in the parameter's pooled draws (chain-major)
    ordered: np.ndarray  # (P, n): those draws, ascending

    @classmethod
    def of(cls, x: np.ndarray) -> _SortedRows:
        """One sort of the (C, S, P) draws of every parameter at once (rows contiguous)."""
        C, S, P = x.shape
        rows = np.ascontiguousarray(x.reshape(C * S, P).T)
        order = np.argsort(rows, axis=1)
        return cls(order, np.take_along_axis(rows, order, axis=1))

    def normal_scores(self, shape: tuple[int, ...]) -> np.ndarray:
        """:func:`rank_normalize` of the draws, in their (C, S, P) ``shape``.

        Ties, which a sort need not keep in order, get their average rank; those are
        multiples of ½, so every score is one of 2n + 1 values, looked up (Φ⁻¹ of each of
        the n·P draws was a quarter of the individual check).
        """
        P, n = self.ordered.shape
        scores_of_twice_rank = special.ndtri((np.arange(2 * n + 1) / 2.0 - 0.375) / (n + 0.25))
        dtype = self.ordered.dtype
        scores = np.empty((P, n), dtype)
        twice_ranks = _twice_sorted_ranks(self.ordered)
        np.put_along_axis(scores, self.order, scores_of_twice_rank.astype(dtype)[twice_ranks], 1)
        return scores.T.reshape(shape)

    def folded(self) -> _SortedRows:
        """The draws folded about their median, |x − m| in double precision, sorted.

        Below the median the sorted draws fold into a descending run, above it into an
        ascending one: the fold's order is one merge of the two (a stable sort, which
        merges runs, took a sixth of the time of sorting the folded draws afresh).
        """
        n = self.ordered.shape[1]
        half = n // 2  # every draw before it is ≤ m, every draw from it ≥ m
        median = _median_of_sorted(self.ordered)[:, None]
        # in double precision: |x − m| rounded to single would tie draws that differ
        runs = np.concatenate(
            [median - self.ordered[:, half - 1 :: -1], self.ordered[:, half:] - median], axis=1
        )
        merge = np.argsort(runs, axis=1, kind="stable")
        source = np.concatenate([np.arange(half - 1, -1, -1), np.arange(half, n)])
        order = np.take_along_axis(self.order[:, source], merge, axis=1)
        return _SortedRows(order, np.take_along_axis(runs, merge, axis=1))


def _twice_sorted_ranks(ordered: np.ndarray) -> np.ndarray:
    """Twice the 1-based average ranks of every row of ``ordered`` (each sorted), as integers.

    A run of equal values from 0-based position f to l has the average rank
    (f + l) / 2 + 1: every position finds its run's f as the running maximum of the run
    starts before it and l as the running minimum of the run ends after it (all rows at
    once, in place; a running count of runs with a gather took 9× as long). Individual
    draws have ties in almost every column (a respondent not moved between two stored
    draws; the folded draws |x − median|).
    """
    P, n = ordered.shape
    index = np.int32 if 2 * n < np.iinfo(np.int32).max else np.int64
    position = np.arange(n, dtype=index)
    starts = np.ones((P, n), dtype=bool)
    np.not_equal(ordered[:, 1:], ordered[:, :-1], out=starts[:, 1:])
    first = np.where(starts, position, 0)
    np.maximum.accumulate(first, axis=1, out=first)
    # a run ends where the next one starts; the ends read right to left
    ends_reversed = np.ones((P, n), dtype=bool)
    ends_reversed[:, 1:] = starts[:, :0:-1]
    last = np.where(ends_reversed, position[::-1], n)
    np.minimum.accumulate(last, axis=1, out=last)
    first += last[:, ::-1]
    first += 2
    return first


def _rhat_basic(x: np.ndarray) -> np.ndarray:
    """Classic potential scale reduction of (M, N, P) chains (no splitting)."""
    N = x.shape[1]
    # double-precision sums for single-precision draws too: R-hat is read to 1e-3
    chain_means = x.mean(axis=1, dtype=float)
    W = x.var(axis=1, ddof=1, dtype=float).mean(axis=0)
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
    rows = _SortedRows.of(split)
    out = _rhat_split(rows.normal_scores(split.shape), rows)
    return float(out[0]) if squeeze else out


def _rhat_split(ranked: np.ndarray, rows: _SortedRows) -> np.ndarray:
    """R-hat from split chains' normal scores and sorted draws: max of bulk and folded."""
    bulk = _rhat_basic(ranked)
    tail = _rhat_basic(rows.folded().normal_scores(ranked.shape))
    return np.maximum(bulk, tail)


def _median_of_sorted(ordered: np.ndarray) -> np.ndarray:
    """np.median of every sorted row, in double precision (NaN where a row holds one)."""
    n = ordered.shape[1]
    middle = ordered[:, n // 2].astype(float)
    median = middle if n % 2 else (ordered[:, n // 2 - 1] + middle) / 2
    return np.where(np.isnan(ordered[:, -1]), np.nan, median)  # a sort puts NaN last


def diagnose(draws: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """R-hat, bulk ESS and tail ESS of every parameter at once.

    The same values as :func:`rhat`, :func:`ess_bulk` and :func:`ess_tail`, with the
    split chains and their normal scores computed once.

    Parameters
    ----------
    draws : ndarray, shape (chains, draws, P)

    Returns
    -------
    (rhat, ess_bulk, ess_tail), each of shape (P,)
    """
    x, _ = _as_3d(draws)
    if x.shape[1] < 8:
        raise ValueError("diagnostics need at least 8 draws per chain")
    split = split_chains(x)
    rows = _SortedRows.of(split)
    ranked = rows.normal_scores(split.shape)
    return _rhat_split(ranked, rows), _ess(ranked), _ess_tail_split(split, rows.ordered)


def _autocovariance(x: np.ndarray) -> np.ndarray:
    """Biased autocovariance of every chain along axis 1, by FFT: (M, N, P) → (M, N, P)."""
    N = x.shape[1]
    # time on the last, contiguous axis: the transforms run on contiguous rows
    centred = np.ascontiguousarray(np.moveaxis(x - x.mean(axis=1, keepdims=True), 1, -1))
    size = sp_fft.next_fast_len(2 * N, real=True)
    f = sp_fft.rfft(centred, n=size, axis=-1, workers=-1)
    acov = sp_fft.irfft(f.real**2 + f.imag**2, n=size, axis=-1, workers=-1)[..., :N]
    return np.moveaxis(acov, -1, 1) / N


def _ess(x: np.ndarray) -> np.ndarray:
    """Effective sample size of (M, N, P) chains (Stan's estimator, Geyer truncation).

    Vectorised over parameters. With ρ̂_t the autocorrelations combined across chains
    and the pair sums S_0 = 1 + ρ̂_1, S_j = ρ̂_2j + ρ̂_2j+1, Geyer's initial positive
    sequence keeps the pairs before the first S_j ≤ 0, and his initial monotone sequence
    replaces every kept S_j by min(S_0, …, S_j); τ = −1 + 2 Σ S_j + (the next even lag if
    positive) — step for step Stan's (and ArviZ's) loop.
    """
    M, N, P = x.shape
    if N < 4:
        raise ValueError("ESS needs at least 4 draws per chain")
    acov = _autocovariance(x)
    chain_mean = x.mean(axis=1)
    mean_var = acov[:, 0, :].mean(axis=0) * N / (N - 1)
    var_plus = mean_var * (N - 1) / N
    if M > 1:
        var_plus = var_plus + chain_mean.var(axis=0, ddof=1)
    constant = ~(var_plus > 0)
    rho_lag = 1.0 - (mean_var - acov.mean(axis=0)) / np.where(constant, 1.0, var_plus)
    J = (N - 3) // 2  # the last pair the loop may load: lags 2J, 2J + 1 ≤ N − 2
    pair_sums = np.empty((J + 1, P))
    pair_sums[0] = 1.0 + rho_lag[1]
    pair_sums[1:] = rho_lag[2 : 2 * J + 1 : 2] + rho_lag[3 : 2 * J + 2 : 2]
    # The loop loads pair j while the previous pair's sum is positive: it stops at the
    # first j with S_(j−1) ≤ 0, or after pair J.
    nonpositive = pair_sums[:J] <= 0
    first = nonpositive.argmax(axis=0) if J > 0 else np.zeros(P, dtype=int)
    stop = np.where(nonpositive.any(axis=0), first + 1, J + 1)
    kept_total = np.cumsum(np.minimum.accumulate(pair_sums, axis=0), axis=0)
    cols = np.arange(P)
    last_even = rho_lag[2 * (stop - 1), cols]
    last_kept = (last_even > 0) | (pair_sums[stop - 1, cols] >= 0)
    tail = np.where(last_kept, last_even, 0.0)
    tau = np.where(stop >= 2, -1.0 + 2.0 * kept_total[np.maximum(stop - 2, 0), cols] + tail, 0.0)
    tau = np.maximum(tau, 1.0 / np.log10(M * N))
    # constant draws: every draw is "independent"
    return np.where(constant, float(M * N), M * N / tau)


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
    out = _ess_tail_split(split, np.sort(split.reshape(-1, split.shape[2]).T, axis=1))
    return float(out[0]) if squeeze else out


def _ess_tail_split(split: np.ndarray, ordered: np.ndarray) -> np.ndarray:
    """Tail ESS of split chains; ``ordered``: every parameter's draws sorted, (P, n)."""
    # quantiles of sorted rows: the same values, without partitioning the draws again
    q05, q95 = np.quantile(ordered, [0.05, 0.95], axis=1)
    low = _ess((split <= q05).astype(split.dtype))
    high = _ess((split <= q95).astype(split.dtype))
    return np.minimum(low, high)
