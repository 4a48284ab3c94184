"""Hierarchical Bayes multinomial logit: the Allenby–Rossi Gibbs sampler, vectorised.

Model (Allenby & Rossi 1999; Rossi, Allenby & McCulloch 2005, ch. 5; Sawtooth
Software, "The CBC/HB System for Hierarchical Bayes Estimation, Version 5.0
Technical Paper", 2009):

* respondent r chooses by a multinomial logit with coefficients β_r = g(θ_r);
  g is the identity except for sign-constrained coefficients, where
  β_rk = s_k exp(θ_rk) (s_k = ±1: a log-normal coefficient of known sign);
* θ_r ~ N(α, D) (upper level, full covariance);
* α has a flat prior (as CBC/HB), D ~ inverse-Wishart(ν, ν V₀) with
  ν = K + prior_df; or, as an option, Huang & Wand's (2013) hierarchical
  inverse-Wishart D | a ~ IW(ν + K − 1, 2ν diag(1/a)), a_k ~ IG(1/2, 1/A_k²), which
  adds the conjugate step a | D after step 2 below.

Each iteration draws, in CBC/HB's order,

1. α | θ, D ~ N(θ̄, D / R);
2. D | θ, α ~ IW(ν + R, ν V₀ + Σ_r (θ_r − α)(θ_r − α)');
3. every θ_r | α, D, data by one random-walk Metropolis step, all respondents at
   once: θ*_r = θ_r + s_r L_r z_r with L_r L_r' = (H_r + D⁻¹)⁻¹, H_r the
   respondent's logit information at the pooled MNL estimate (bayesm's
   ``rhierMnlRwMixture`` proposal), accepted with probability
   min(1, exp(ℓ_r(θ*) − ℓ_r(θ) − ½ q_r(θ*) + ½ q_r(θ))), q_r the Mahalanobis
   distance to α under D.

During burn-in, every respondent's scale s_r moves towards an acceptance rate of
30% (CBC/HB's target) by a Robbins–Monro step, and L_r is recomputed every
``adapt_every`` iterations with the current D. After burn-in both are frozen
(CBC/HB 5 does the same: "the jump size does not change after burn-in
iterations are completed"), so the saved draws come from a fixed,
valid Metropolis-within-Gibbs kernel.

Data layout: the respondents' tasks are padded to (R, T, A, K), A = J − 1: the
attributes of every non-chosen alternative minus those of the chosen one, so
that ℓ_rt = −log(1 + Σ_a exp(x̃_rta' β_r + b_rta)), where b holds −∞ for
unavailable alternatives and padded tasks (and the offset difference). One
batched matrix product gives every respondent's utilities.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np
from scipy.linalg.lapack import dpotrf as _dpotrf
from scipy.linalg.lapack import dtrtri as _dtrtri

# The dtype of the sampler's utilities and likelihoods (see run_hb_chain's Notes).
_WORK = np.float32

__all__ = [
    "HBLayout",
    "HBPrior",
    "HBSettings",
    "hb_layout",
    "hb_prior_covariance",
    "respondent_information",
    "respondent_loglike",
    "respondent_modes",
    "run_hb_chain",
    "transform_coefficients",
]


@dataclass(frozen=True, eq=False)
class HBLayout:
    """Choice data padded per respondent.

    Attributes
    ----------
    Xd : ndarray, shape (R, T, A, K)
        x_(non-chosen) − x_(chosen) for every task slot.
    base : ndarray, shape (R, T, A), or None
        Fixed utility differences; −∞ for unavailable alternatives and padded tasks.
    n_obs : ndarray of int, shape (R,)
        Choice observations of every respondent.
    n_alternatives : ndarray of int, shape (R, T)
        Available alternatives of every task (0 on padded tasks).
    respondents : ndarray, shape (R,)
        The respondent labels (``groups`` values) in layout order.
    obs_index : ndarray of int, shape (R, T)
        Row of the original arrays behind every slot (−1 when padded).
    """

    Xd: np.ndarray
    base: np.ndarray | None
    n_obs: np.ndarray
    n_alternatives: np.ndarray
    respondents: np.ndarray
    obs_index: np.ndarray

    @cached_property
    def xd_alt_major(self) -> np.ndarray:
        """``Xd`` as (R, A·T, K), alternatives before tasks (the kernel's order)."""
        R, T, A, K = self.Xd.shape
        return np.ascontiguousarray(self.Xd.transpose(0, 2, 1, 3)).reshape(R, A * T, K)

    @cached_property
    def xd_k_major(self) -> np.ndarray:
        """``Xd`` as (R, K, A·T): a row of coefficients times it gives the utilities."""
        R, T, A, K = self.Xd.shape
        return np.ascontiguousarray(self.Xd.transpose(0, 3, 2, 1)).reshape(R, K, A * T)

    @cached_property
    def base_alt_major(self) -> np.ndarray | None:
        """``base`` as (R, A, T)."""
        if self.base is None:
            return None
        return np.ascontiguousarray(self.base.transpose(0, 2, 1))

    @property
    def shape(self) -> tuple[int, int, int, int]:
        return self.Xd.shape  # type: ignore[return-value]

    def null_loglike(self) -> np.ndarray:
        """Per-respondent log-likelihood of equal shares over the available alternatives."""
        counts = np.where(self.n_alternatives > 0, self.n_alternatives, 1)
        return -np.log(counts).sum(axis=1)


def hb_layout(
    X: np.ndarray,
    y: np.ndarray,
    available: np.ndarray | None,
    groups: np.ndarray,
    offset: np.ndarray | None = None,
) -> HBLayout:
    """Pad choice observations (N, J, K) per respondent into an :class:`HBLayout`.

    Parameters
    ----------
    X : ndarray, shape (N, J, K)
    y : ndarray of int, shape (N,)
    available : ndarray of bool, shape (N, J), or None
    groups : ndarray, shape (N,)
        Respondent of every observation.
    offset : ndarray, shape (N, J), or None
    """
    N, J, K = X.shape
    if J < 2:
        raise ValueError("hierarchical Bayes needs tasks with at least two alternatives")
    codes, labels = _factorize(groups)
    R = len(labels)
    order = np.argsort(codes, kind="stable")
    counts = np.bincount(codes, minlength=R)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    pos = np.empty(N, dtype=np.int64)
    pos[order] = np.arange(N) - np.repeat(starts, counts)
    T = int(counts.max())
    A = J - 1
    # The non-chosen alternatives of every observation, in their order.
    slots = np.arange(A)[None, :] + (np.arange(A)[None, :] >= y[:, None])  # (N, A)
    rows = np.arange(N)[:, None]
    Xd = np.zeros((R, T, A, K))
    Xd[codes, pos] = X[rows, slots] - X[np.arange(N), y][:, None, :]
    if available is None:
        available = np.ones((N, J), dtype=bool)
    avail_slots = available[rows, slots]
    padded = counts.min() < T
    base = None
    if offset is not None or padded or not avail_slots.all():
        base = np.full((R, T, A), -np.inf)
        b = np.where(avail_slots, 0.0, -np.inf)
        if offset is not None:
            b = b + (offset[rows, slots] - offset[np.arange(N), y][:, None])
        base[codes, pos] = b
    n_alt = np.zeros((R, T), dtype=np.int64)
    n_alt[codes, pos] = available.sum(axis=1)
    obs_index = np.full((R, T), -1, dtype=np.int64)
    obs_index[codes, pos] = np.arange(N)
    return HBLayout(Xd, base, counts, n_alt, labels, obs_index)


def _factorize(groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes 0..R−1 in order of first appearance, and the labels."""
    groups = np.asarray(groups)
    labels, first, codes = np.unique(groups, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    remap = np.empty(len(labels), dtype=np.int64)
    remap[order] = np.arange(len(labels))
    return remap[codes.reshape(-1)], labels[order]


def transform_coefficients(theta: np.ndarray, signs: np.ndarray | None) -> np.ndarray:
    """β = g(θ): identity, except β_k = s_k exp(θ_k) where ``signs[k]`` = s_k ≠ 0."""
    if signs is None or not np.any(signs):
        return theta
    beta = theta.copy()
    k = np.flatnonzero(signs)
    beta[..., k] = signs[k] * np.exp(theta[..., k])
    return beta


def respondent_loglike(
    beta: np.ndarray,
    layout: HBLayout,
    *,
    out: np.ndarray | None = None,
    work: np.ndarray | None = None,
) -> np.ndarray:
    """Log-likelihood of every respondent at its own coefficients.

    Parameters
    ----------
    beta : ndarray, shape (R, K)
    layout : HBLayout
    out : ndarray, shape (R,), optional
    work : ndarray, shape (R, T·A, 1), optional
        Scratch buffer for the utilities (avoids an allocation per call).

    Returns
    -------
    ndarray, shape (R,)
        ℓ_r = −Σ_t log(1 + Σ_a exp(x̃_rta'β_r + b_rta)).
    """
    R, T, A, _ = layout.Xd.shape
    if work is None:
        work = np.empty((R, A * T, 1))
    np.matmul(layout.xd_alt_major, beta[:, :, None], out=work)
    V = work.reshape(R, A, T)
    if layout.base_alt_major is not None:
        V += layout.base_alt_major
    # exp overflows only for absurd proposals: their ℓ = −inf and they are rejected.
    with np.errstate(over="ignore"):
        np.exp(V, out=V)
    # Alternatives on axis 1: the sum over them is A − 1 adds of (R, T) slabs, much
    # faster than a reduction over a short last axis.
    s = V[:, 0].copy()
    for a in range(1, A):
        s += V[:, a]
    np.log1p(s, out=s)
    if out is None:
        out = np.empty(R)
    np.sum(s, axis=1, out=out)
    np.negative(out, out=out)
    return out


def respondent_information(beta: np.ndarray, layout: HBLayout) -> np.ndarray:
    """Every respondent's logit information matrix −∂²ℓ_r/∂β∂β' at ``beta``.

    Parameters
    ----------
    beta : ndarray, shape (K,) or (R, K)

    Returns
    -------
    ndarray, shape (R, K, K)
    """
    R, T, A, K = layout.Xd.shape
    B = np.broadcast_to(np.asarray(beta, dtype=float), (R, K))
    P = _choice_probabilities(B, layout)  # (R, T, A)
    # Σ_ta P x x' − Σ_t x̄_t x̄_t' with x̄_t = Σ_a P x: batched matrix products.
    PX = layout.Xd * P[..., None]  # (R, T, A, K)
    X_flat = layout.Xd.reshape(R, T * A, K)
    second = np.matmul(X_flat.transpose(0, 2, 1), PX.reshape(R, T * A, K))
    xbar = PX.sum(axis=2)  # (R, T, K)
    return second - np.matmul(xbar.transpose(0, 2, 1), xbar)


def _choice_probabilities(B: np.ndarray, layout: HBLayout) -> np.ndarray:
    """P (R, T, A) of every non-chosen alternative at coefficients B (R, K)."""
    R, T, A, K = layout.Xd.shape
    V = np.matmul(layout.Xd.reshape(R, T * A, K), B[:, :, None]).reshape(R, T, A)
    if layout.base is not None:
        V = V + layout.base
    E = np.exp(np.minimum(V, 700.0))
    return E / (1.0 + E.sum(axis=2, keepdims=True))  # the chosen alternative has x̃ = 0


def respondent_modes(
    layout: HBLayout,
    mean: np.ndarray,
    precision: np.ndarray,
    *,
    iterations: int = 20,
) -> np.ndarray:
    """Every respondent's posterior mode under the prior N(mean, precision⁻¹).

    Batched Newton with step halving per respondent (the objective is strictly
    concave). Used to start the chains near the bulk of the individual posteriors,
    which shortens burn-in: from a common start the individual draws would first
    have to spread out, one random-walk step at a time.

    Parameters
    ----------
    layout : HBLayout
    mean : ndarray, shape (K,)
    precision : ndarray, shape (K, K)
    iterations : int

    Returns
    -------
    ndarray, shape (R, K)
    """
    R, T, A, K = layout.Xd.shape
    X_flat = layout.Xd.reshape(R, T * A, K)

    def objective(b: np.ndarray) -> np.ndarray:
        d = b - mean
        return respondent_loglike(b, layout) - 0.5 * ((d @ precision) * d).sum(axis=1)

    b = np.tile(np.asarray(mean, dtype=float), (R, 1))
    value = objective(b)
    for _ in range(iterations):
        P = _choice_probabilities(b, layout)
        grad = -np.matmul(P.reshape(R, 1, T * A), X_flat)[:, 0] - (b - mean) @ precision
        H = respondent_information(b, layout) + precision
        step = np.linalg.solve(H, grad[:, :, None])[:, :, 0]
        t = np.ones(R)
        for _ in range(30):
            trial = b + t[:, None] * step
            new = objective(trial)
            worse = ~(new >= value)
            if not worse.any():
                break
            t[worse] /= 2
        new = np.where(new >= value, new, value)
        trial = np.where((new >= value)[:, None], trial, b)
        done = np.max(np.abs(trial - b)) < 1e-8
        b, value = trial, new
        if done:
            break
    return b


def hb_prior_covariance(
    n_params: int,
    prior_variance: float,
    blocks: list[tuple[int, int, np.ndarray]] | None = None,
) -> np.ndarray:
    """V₀: prior variance on the diagonal, CBC/HB's proper prior for coded attributes.

    Parameters
    ----------
    n_params : int
    prior_variance : float
        v.
    blocks : list of (start, stop, A), optional
        Coded attributes: columns ``start:stop`` hold b = A p, the coded parameters
        of the attribute's L level part-worths p (A of shape (L−1, L)).

    Notes
    -----
    CBC/HB's "proper prior covariance" (Technical Paper v5, 2009) gives the coded
    parameters of an attribute the covariance they would have if the level
    part-worths were i.i.d. with variance v: v A A'. Dummy coding (b_j = p_j − p_1)
    gives 2v on the diagonal and v off it; effects coding (b_j = p_j − p̄) gives
    v(1 − 1/L) and −v/L. Every level is then treated alike, whichever is left out.
    """
    V0 = np.eye(n_params) * prior_variance
    for start, stop, A in blocks or []:
        V0[start:stop, start:stop] = prior_variance * (A @ A.T)
    return V0


@dataclass(frozen=True)
class HBPrior:
    """Prior of the upper level (flat on α).

    * ``kind="inverse-wishart"`` (CBC/HB): D ~ IW(ν, ν V₀), ν = ``df``. With
      ``diagonal``, D is diagonal and each variance d_k ~ IW₁(ν, ν V₀_kk), an inverse
      gamma with shape ν/2 and scale ν V₀_kk / 2 (ν = 1 + prior_df then).
    * ``kind="huang-wand"`` (Huang & Wand 2013): D | a ~ IW(ν + K − 1, 2ν diag(1/a)),
      a_k ~ IG(1/2, 1/A_k²), ν = ``df`` (2 by default: every correlation uniform on
      (−1, 1), every SD half-t with ν degrees of freedom and scale A_k = ``scale[k]``).
      ``V0`` is then only the centre the chains start from.
    """

    V0: np.ndarray
    df: float  # ν = K + prior_df (full) or 1 + prior_df (diagonal); Huang–Wand: ν
    diagonal: bool = False
    kind: str = "inverse-wishart"
    scale: np.ndarray | None = None  # Huang–Wand A_k, shape (K,)


@dataclass(frozen=True)
class HBSettings:
    """Sampler settings (see :class:`offerlab.models._hb.HierarchicalBayes`)."""

    burn_in: int
    draws: int
    thin: int = 1
    target_acceptance: float = 0.3
    adapt_every: int = 100
    keep_individual: int = 100
    shift_moves: bool = True
    # Off by default: on the 1,000-respondent study it raised the worst variance ESS
    # only from 4.9 to 6.0 (3,000 + 3,000 iterations, 2 chains) for 15% more time.
    scale_moves: bool = False
    # The utilities of the current draws are updated by the proposals' increments; they
    # are recomputed from θ this often so that rounding cannot accumulate.
    refresh_every: int = 1000
    # Iterations whose proposals (steps, shifts and their products with the data) are
    # drawn at once: one batched product for the block instead of one per iteration.
    block: int = 20


def _lower_inverse(L: np.ndarray) -> np.ndarray:
    """L⁻¹ of a lower-triangular matrix (LAPACK trtri)."""
    inv, info = _dtrtri(L, lower=1)
    if info != 0:
        raise np.linalg.LinAlgError(f"singular triangular matrix (trtri info {info})")
    return inv


def _inverse_root_lower(S: np.ndarray) -> np.ndarray:
    """C lower-triangular with C C' = S⁻¹, S symmetric positive definite.

    With J the reversal permutation and J S J = L L' (Cholesky), S⁻¹ = C C' for
    C = J L'⁻¹ J, which is lower-triangular: one Cholesky factor and one triangular
    inverse instead of a full inverse followed by a second factorisation.
    """
    L, info = _dpotrf(S[::-1, ::-1], lower=1, clean=1)
    if info != 0:
        raise np.linalg.LinAlgError(f"matrix not positive definite (potrf info {info})")
    return np.ascontiguousarray(_lower_inverse(L).T[::-1, ::-1])


@lru_cache(maxsize=8)
def _triangle_indices(
    K: int,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Below-diagonal and diagonal indices of a K × K matrix (cached: built once per K)."""
    return np.tril_indices(K, -1), np.diag_indices(K)


def _wishart_precision_root(
    S: np.ndarray, normals: np.ndarray, chisq: np.ndarray, work: np.ndarray
) -> np.ndarray:
    """M lower-triangular with M M' ~ Wishart(df, S⁻¹): the draw of D⁻¹ when D ~ IW(df, S).

    Bartlett: M = C A with C C' = S⁻¹ (C lower-triangular), A lower-triangular with
    A_ij ~ N(0, 1) below the diagonal (``normals``, K(K − 1)/2 of them) and
    A_ii = √χ²(df − i) (``chisq``, i = 0…K−1). ``work`` is a (K, K) buffer, zero above
    the diagonal.
    """
    below, diagonal = _triangle_indices(S.shape[0])
    work[below] = normals
    work[diagonal] = np.sqrt(chisq)
    return _inverse_root_lower(S) @ work


def _huang_wand_scales(
    M: np.ndarray, nu: float, inv_A2: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Draw a | D of the Huang–Wand prior, D⁻¹ = M M'.

    Prior: D | a ~ IW(ν + K − 1, 2ν diag(1/a)), a_k ~ IG(1/2, 1/A_k²) independently.
    The a_k-dependent part of the IW density is a_k^(−(ν+K−1)/2) exp(−ν (D⁻¹)_kk / a_k)
    (from |2ν diag(1/a)|^((ν+K−1)/2) and exp(−½ tr(2ν diag(1/a) D⁻¹))); times the
    prior a_k^(−1/2−1) exp(−1/(A_k² a_k)) the full conditional is
    a_k | D ~ IG((ν + K)/2, ν (D⁻¹)_kk + 1/A_k²) (Huang & Wand 2013, section 4), drawn
    as scale / Gamma(shape, 1).
    """
    K = M.shape[0]
    precision_diag = np.square(M).sum(axis=1)  # (M M')_kk
    return (nu * precision_diag + inv_A2) / rng.standard_gamma(0.5 * (nu + K), size=K)


def _loglike_from_utilities(
    V: np.ndarray, E: np.ndarray, s: np.ndarray, neg_ones: np.ndarray, out: np.ndarray
) -> np.ndarray:
    """ℓ_r = −Σ_t log(1 + Σ_a exp(V_rat)) from utilities V (R, A·T), alternatives first.

    ``E`` (A, R, T) and ``s`` (R, T) are work buffers; ``neg_ones`` is −1 of shape (T,).
    The exponentials are written alternative-major so that the sum over alternatives
    adds contiguous (R, T) slabs. log(1 + s) rather than log1p: numpy's log is
    vectorised, and the absolute error (what a Metropolis ratio sees) is a rounding
    error either way.
    """
    A, R, T = E.shape
    # exp overflows only for absurd proposals: their ℓ = −inf and they are rejected
    # (the caller silences the overflow warning).
    np.exp(V.reshape(R, A, T), out=E.transpose(1, 0, 2))
    np.add(E[0], 1.0, out=s)
    for a in range(1, A):
        s += E[a]
    np.log(s, out=s)
    return np.matmul(s, neg_ones, out=out)


def run_hb_chain(
    layout: HBLayout,
    prior: HBPrior,
    settings: HBSettings,
    theta0: np.ndarray,
    alpha0: np.ndarray,
    information: np.ndarray,
    rng: np.random.Generator,
    *,
    signs: np.ndarray | None = None,
    tick: Callable[[int], None] | None = None,
) -> dict[str, np.ndarray]:
    """Run one chain of the hierarchical Bayes MNL sampler.

    Parameters
    ----------
    layout : HBLayout
    prior : HBPrior
    settings : HBSettings
    theta0 : ndarray, shape (R, K)
        Starting individual parameters (θ scale).
    alpha0 : ndarray, shape (K,)
        Starting population mean (θ scale).
    information : ndarray, shape (R, K, K)
        H_r (θ scale) for the proposal covariance (H_r + D⁻¹)⁻¹.
    rng : numpy Generator
    signs : ndarray, shape (K,), optional
        0 for unconstrained coefficients, ±1 for log-normal coefficients of that sign.
    tick : callable, optional
        Called with the number of iterations done, every 100 iterations.

    Returns
    -------
    dict of arrays
        ``alpha`` (S, K) and ``D`` (S, K, K) saved population draws (θ scale);
        ``beta_mean`` and ``beta_sq`` (R, K): mean and mean square of the saved
        individual β draws; ``theta_mean`` (R, K); ``beta_draws`` (R, m, K): m evenly
        spaced saved individual draws; ``alpha_trace`` (I, K) and ``sd_trace`` (I, K)
        every iteration (burn-in included); ``acceptance`` (I,) mean acceptance rate;
        ``loglike`` (I,) Σ_r ℓ_r at the current draws; ``scale`` (R,) final s_r;
        ``acceptance_saved`` (R,) acceptance rate of every respondent after burn-in;
        with the Huang–Wand prior also ``hw_a`` (S, K), the saved draws of a.

    Notes
    -----
    Where the time goes (1,000 respondents × 36 utilities × 15 coefficients): the
    products of the data with the proposals, the normals and the exponentials. A
    step is s_r L_r z_r, and only the scalar s_r changes between adaptations of L_r;
    a shift is c W z with only the scalar c changing. So the unscaled steps L_r z_r
    and shifts W z of ``settings.block`` iterations are drawn at once (z independent
    of the chain's state, a block never spanning an adaptation): one batched product
    per block instead of one per iteration, each 10x cheaper per row. Without sign
    constraints β = θ, and the utilities move by s_r X_r L_r z_r and c X_r W z: those
    products come per block too (with G_r = L_r' X_r'), the current utilities are
    kept and refreshed from θ every ``settings.refresh_every`` iterations. With sign
    constraints β = g(θ) is not linear, and every proposal's utilities are computed
    from its β. The draws are those of the same kernel either way.

    Utilities and each respondent's log-likelihood are computed in single precision
    (θ, α, D, the Metropolis ratios and every sum over respondents in double): numpy's
    float32 ``exp`` and ``log`` are SIMD-vectorised where the float64 ones are not
    (AVX2 machines): the likelihood, most of an iteration, is about 1.7× cheaper and
    a chain about 1.3× faster (6,000 iterations of the bench study: 13.4 s → 10.1 s
    on the 2-core CI machine). The rounding, ~1e-6 on a respondent's log-likelihood,
    is far below what a Metropolis ratio resolves (NumPyro samples in float32 by
    default too); the exact-posterior tests in tests/models/test_hb_exact.py hold. A
    utility difference above ~88 overflows to ℓ = −∞ and its proposal is rejected, as
    it would almost surely be in double precision.
    """
    R, T, A, K = layout.Xd.shape
    AT = A * T
    burn, n_draws, thin = settings.burn_in, settings.draws, settings.thin
    n_iter = burn + n_draws * thin
    signs = None if signs is None or not np.any(signs) else np.asarray(signs, dtype=float)
    linear = signs is None
    huang_wand = prior.kind == "huang-wand"
    if huang_wand and prior.diagonal:
        raise ValueError("the Huang–Wand prior is a prior of a full covariance matrix")
    shift_moves, scale_moves = settings.shift_moves, settings.scale_moves

    # Data (R, K, A·T): a respondent's utilities are a (rows, K) @ (K, A·T) product.
    # Utilities and likelihoods in single precision (see Notes); parameters in double.
    XT = layout.xd_k_major.astype(_WORK)
    base = layout.base_alt_major
    base = None if base is None else base.reshape(R, AT).astype(_WORK)
    # Proposals are drawn for a block of iterations at once (see Notes), stored
    # iteration-major so that every iteration's slice is contiguous.
    B = max(1, settings.block)
    U_block = np.empty((B, R, K))  # unscaled steps L_r z_r
    XS_block = np.empty((B, R, AT), _WORK) if linear else None  # X_r L_r z_r
    XD_block = np.empty((B, R, AT), _WORK) if (linear and shift_moves) else None  # X_r δ_b
    W_block = np.empty((B, K))  # unscaled shifts shift_root z_b
    V = np.empty((R, AT), _WORK)  # utilities of the current draws
    V_new = np.empty((R, AT), _WORK)
    E = np.empty((A, R, T), _WORK)
    s_work = np.empty((R, T), _WORK)
    neg_ones = -np.ones(T, _WORK)

    def utilities(beta: np.ndarray, out: np.ndarray) -> np.ndarray:
        np.matmul(beta.astype(_WORK)[:, None, :], XT, out=out[:, None, :])
        if base is not None:
            out += base
        return out

    def loglike(Vx: np.ndarray, out: np.ndarray) -> np.ndarray:
        return _loglike_from_utilities(Vx, E, s_work, neg_ones, out)

    theta = np.array(theta0, dtype=float)
    alpha = np.array(alpha0, dtype=float)
    ll = np.empty(R)
    ll_new = np.empty(R)
    loglike(utilities(transform_coefficients(theta, signs), V), ll)
    if not np.all(np.isfinite(ll)):
        raise FloatingPointError("the log-likelihood is not finite at the starting values")

    # Prior pieces: D ~ IW(df_prior, S0) (given a, for Huang–Wand).
    if huang_wand:
        nu_hw = float(prior.df)
        hw_inv_A2 = 1.0 / np.square(np.asarray(prior.scale, dtype=float))
        df_prior = nu_hw + K - 1
        a_hw = 1.0 / hw_inv_A2  # start at a_k = A_k² (the IG(1/2, 1/A²) scale)
        S0_diag = 2.0 * nu_hw / a_hw
        S0 = np.diag(S0_diag)
        hw_saved = np.empty((n_draws, K))
    else:
        df_prior = float(prior.df)
        S0 = prior.df * prior.V0
        S0_diag = np.diag(S0).copy()
    nu_post = df_prior + R
    chi_df = nu_post - np.arange(K)  # Bartlett's diagonal degrees of freedom
    # D starts at the prior's centre V₀: M M' = D⁻¹, Minv = M⁻¹ (D = Minv' Minv).
    M = np.linalg.cholesky(np.linalg.inv(prior.V0))
    Minv = _lower_inverse(M)
    scale = np.full(R, 2.38 / np.sqrt(K))  # optimal RW scale for a Gaussian target
    roots_t = _proposal_roots(information, M)  # L_r' (R, K, K): step_r' = z_r' L_r'
    shift_root = np.linalg.cholesky(np.linalg.inv(information.sum(axis=0)))
    shift_scale = 2.38 / np.sqrt(K)
    scale_step = 0.1 / np.sqrt(K)
    n_low = K * (K - 1) // 2
    diag = np.diag_indices(K)
    bartlett = np.zeros((K, K))  # A of Bartlett's D⁻¹ = C A A' C' (above the diagonal: 0)
    mean_weights = np.full(R, 1.0 / R)

    keep = max(0, min(settings.keep_individual, n_draws))
    keep_at = set(np.linspace(0, n_draws - 1, keep).round().astype(int).tolist()) if keep else set()
    alpha_saved = np.empty((n_draws, K))
    D_saved = np.empty((n_draws, K, K))
    beta_sum = np.zeros((R, K))
    beta_sq = np.zeros((R, K))
    theta_sum = np.zeros((R, K)) if not linear else beta_sum
    beta_draws = np.empty((R, keep, K))
    accepted_saved = np.zeros(R)
    alpha_trace = np.empty((n_iter, K))
    sd_trace = np.empty((n_iter, K))
    acc_trace = np.empty(n_iter)
    ll_trace = np.empty(n_iter)
    saved = kept = 0
    sqrt_r = np.sqrt(R)
    dev = np.empty((R, K))
    step = np.empty((R, K))
    scale_col = scale[:, None]
    scale_work = scale_col.astype(_WORK)
    # G_r = L_r' X_r' (K, A·T): X_r L_r z_r = (z_r' G_r)' without forming the step first.
    G = np.matmul(roots_t.astype(_WORK), XT) if linear else None
    block_len = b = 0
    proposal = np.empty((R, K))
    work_rk = np.empty((R, K))
    # The normals of one iteration in one call: individual steps, α, Bartlett's
    # below-diagonal entries, the shift and the scale move.
    n_normal = K + n_low + K
    # exp overflows only for absurd proposals (ℓ = −inf: rejected); no warning for them.
    with np.errstate(over="ignore"):
        for it in range(n_iter):
            normals = rng.standard_normal(n_normal)
            z_alpha = normals[:K]
            z_low = normals[K : K + n_low]
            z_scale = normals[K + n_low :]
            uniforms = rng.random(R + 2)

            # 1. α | θ, D ~ N(θ̄, D/R); D = Minv' Minv, so D^½ z = Minv' z.
            alpha = mean_weights @ theta + (z_alpha @ Minv) / sqrt_r
            # 2. D | θ, α ~ IW(df + R, S₀ + Σ dev dev'): draw D⁻¹ ~ Wishart(df + R, S⁻¹).
            np.subtract(theta, alpha, out=dev)
            if prior.diagonal:
                # Independent inverse-gamma (1×1 inverse-Wishart) variances.
                ss = S0_diag + np.einsum("rk,rk->k", dev, dev)
                precision = rng.chisquare(nu_post, size=K) / ss
                M = np.diag(np.sqrt(precision))
                Minv = np.diag(1.0 / np.sqrt(precision))
            else:
                S = dev.T @ dev
                S[diag] += S0_diag
                M = _wishart_precision_root(S, z_low, rng.chisquare(chi_df), bartlett)
                Minv = _lower_inverse(M)
                if huang_wand:
                    # 2b. a | D (Huang & Wand 2013): one inverse gamma per coefficient.
                    a_hw = _huang_wand_scales(M, nu_hw, hw_inv_A2, rng)
                    S0_diag = 2.0 * nu_hw / a_hw
                    S0 = np.diag(S0_diag)
            # 3. θ_r | α, D: one random-walk Metropolis step for every respondent.
            adapting = it < burn and it % settings.adapt_every == 0 and it > 0
            if adapting:
                roots_t = _proposal_roots(information, M)
                if linear:
                    np.matmul(roots_t.astype(_WORK), XT, out=G)
            if b == block_len or adapting:
                # The next block of proposals: it never spans an adaptation of L_r.
                block_len = min(B, n_iter - it)
                if it < burn:
                    block_len = min(block_len, settings.adapt_every - it % settings.adapt_every)
                b = 0
                Z = rng.standard_normal((R, block_len, K))
                np.matmul(Z, roots_t, out=U_block[:block_len].transpose(1, 0, 2))
                W = rng.standard_normal((block_len, K)) @ shift_root.T
                W_block[:block_len] = W
                if linear:
                    np.matmul(Z.astype(_WORK), G, out=XS_block[:block_len].transpose(1, 0, 2))
                    if shift_moves:
                        np.matmul(
                            W.astype(_WORK)[None], XT, out=XD_block[:block_len].transpose(1, 0, 2)
                        )
            np.multiply(U_block[b], scale_col, out=step)  # s_r L_r z_r
            np.add(theta, step, out=proposal)
            delta = shift_scale * W_block[b]
            if linear:
                np.multiply(XS_block[b], scale_work, out=V_new)
                V_new += V
            else:
                utilities(transform_coefficients(proposal, signs), V_new)
            loglike(V_new, ll_new)
            # q(θ*) − q(θ) = step' D⁻¹ (step + 2 (θ − α)), D⁻¹ = M M'.
            np.multiply(dev, 2.0, out=work_rk)
            work_rk += step
            dq = np.einsum("rk,rk->r", step @ (M @ M.T), work_rk)
            log_ratio = ll_new - ll - 0.5 * dq
            accept = np.log(uniforms[:R]) < log_ratio  # NaN (−inf − −inf) never accepts
            moved = np.flatnonzero(accept)
            theta[moved] = proposal[moved]
            ll[moved] = ll_new[moved]
            V[moved] = V_new[moved]
            rate = moved.size / R
            if it < burn:
                # Robbins–Monro: a step that shrinks so the scales settle before burn-in ends.
                gain = 0.5 / np.sqrt(1.0 + it / 10.0)
                scale *= np.exp(gain * (accept - settings.target_acceptance))
                scale_work[:, 0] = scale
            alpha_trace[it] = alpha
            sd_trace[it] = np.sqrt(np.square(Minv).sum(axis=0))  # diag(Minv' Minv)
            acc_trace[it] = rate
            ll_trace[it] = ll.sum()
            if it >= burn and (it - burn) % thin == thin - 1:
                alpha_saved[saved] = alpha
                np.matmul(Minv.T, Minv, out=D_saved[saved])
                if huang_wand:
                    hw_saved[saved] = a_hw
                beta = transform_coefficients(theta, signs)
                beta_sum += beta
                np.square(beta, out=work_rk)
                beta_sq += work_rk
                if not linear:
                    theta_sum += theta
                if saved in keep_at:
                    beta_draws[:, kept] = beta
                    kept += 1
                saved += 1
            if it >= burn:
                accepted_saved += accept
            if shift_moves:
                # 4. Joint shift (θ_r, α) → (θ_r + δ, α + δ): the prior of θ − α and the
                #    flat prior of α are unchanged, so only the likelihood enters the ratio.
                #    It moves α along the direction the individual steps explore slowly.
                if linear:
                    np.multiply(XD_block[b], shift_scale, out=V_new)
                    V_new += V
                else:
                    utilities(transform_coefficients(theta + delta, signs), V_new)
                loglike(V_new, ll_new)
                ok = np.log(uniforms[R]) < ll_new.sum() - ll.sum()
                if ok:
                    theta += delta
                    alpha = alpha + delta
                    ll, ll_new = ll_new, ll
                    V, V_new = V_new, V
                if it < burn:
                    gain = 0.5 / np.sqrt(1.0 + it / 10.0)
                    shift_scale *= np.exp(gain * (ok - settings.target_acceptance))
            if scale_moves:
                # 5. Joint rescaling (parameter expansion): θ_r − α → G(θ_r − α), D → G D G
                #    with G = diag(g), log g ~ N(0, s² I). The population density of θ is
                #    unchanged up to |G|^−R, which the Jacobian cancels; with the
                #    inverse-Wishart prior IW(df, S₀) the log ratio is
                #    Δℓ − df Σ log g_k − ½ tr(S₀ (G⁻¹ D⁻¹ G⁻¹ − D⁻¹)).
                #    When 12 tasks say little about each respondent, D and the spread of
                #    the θ_r can only drift together one small Gibbs step at a time; this
                #    move takes them along that ridge in one step.
                log_g = scale_step * z_scale
                g = np.exp(log_g)
                scaled = alpha + (theta - alpha) * g
                utilities(transform_coefficients(scaled, signs), V_new)
                loglike(V_new, ll_new)
                M_new = M / g[:, None]  # (G⁻¹ M)(G⁻¹ M)' = G⁻¹ D⁻¹ G⁻¹, still lower-triangular
                log_r = (
                    ll_new.sum()
                    - ll.sum()
                    - df_prior * log_g.sum()
                    - 0.5 * (np.sum(S0 * (M_new @ M_new.T)) - np.sum(S0 * (M @ M.T)))
                )
                ok = np.log(uniforms[R + 1]) < log_r
                if ok:
                    theta = scaled
                    M = M_new
                    Minv = Minv * g[None, :]
                    ll, ll_new = ll_new, ll
                    V, V_new = V_new, V
                if it < burn:
                    gain = 0.5 / np.sqrt(1.0 + it / 10.0)
                    scale_step *= np.exp(gain * (ok - settings.target_acceptance))
            if linear and (it + 1) % settings.refresh_every == 0:
                # Utilities from θ afresh (the increments' rounding cannot pile up).
                utilities(theta, V)
                loglike(V, ll)
            b += 1
            if tick is not None and (it + 1) % 100 == 0:
                tick(it + 1)
    if tick is not None:
        tick(n_iter)
    n_after = max(n_iter - burn, 1)
    out = {
        "alpha": alpha_saved,
        "D": D_saved,
        "beta_mean": beta_sum / n_draws,
        "beta_sq": beta_sq / n_draws,
        "theta_mean": theta_sum / n_draws,
        "beta_draws": beta_draws[:, :kept],
        "alpha_trace": alpha_trace,
        "sd_trace": sd_trace,
        "acceptance": acc_trace,
        "loglike": ll_trace,
        "scale": scale,
        "acceptance_saved": accepted_saved / n_after,
    }
    if huang_wand:
        out["hw_a"] = hw_saved
    return out


def _proposal_roots(information: np.ndarray, M: np.ndarray) -> np.ndarray:
    """L_r' for every respondent, L_r L_r' = (H_r + D⁻¹)⁻¹, D⁻¹ = M M'.

    Returned transposed, (R, K, K): a step is the row z_r' L_r'.
    """
    precision = information + (M @ M.T)[None]
    chol = np.linalg.cholesky(precision)  # P = C C' → P⁻¹ = C'⁻¹ C⁻¹
    K = M.shape[0]
    eye = np.broadcast_to(np.eye(K), precision.shape)
    return np.linalg.solve(chol, eye)  # C⁻¹ = L_r'
