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
3. every θ_r | α, D, data by ``individual_steps`` random-walk Metropolis steps, all
   respondents at once: θ*_r = θ_r + s_r L_r z_r with L_r L_r' = (H_r + D⁻¹)⁻¹ and z_r
   of independent unit-variance uniform components (any symmetric z_r will do), H_r the
   respondent's logit information at the pooled MNL estimate (bayesm's
   ``rhierMnlRwMixture`` proposal), accepted with probability
   min(1, exp(ℓ_r(θ*) − ℓ_r(θ) − ½ q_r(θ*) + ½ q_r(θ))), q_r the Mahalanobis
   distance to α under D. With ``individual_leapfrog`` > 0 every θ_r moves instead by
   HMC transitions with mass matrix H_r + D⁻¹ and the analytic logit gradient, all
   respondents at once, each with its own step size and accept (see
   :mod:`offerlab.numerics._hb_chain`).

During burn-in, every respondent's scale s_r moves towards an acceptance rate of
30% (CBC/HB's target) by a Robbins–Monro step, and L_r is recomputed every
``adapt_every`` iterations with the current D. After burn-in both are frozen
(CBC/HB 5 does the same: "the jump size does not change after burn-in
iterations are completed"), except that with ``proposal_follows_covariance`` (the
default) L_r is kept relative to the Cholesky factor of D and scales with the current
D: the proposal then depends on the current state only, so the saved draws still come
from a valid Metropolis-within-Gibbs kernel.

With ``interweave`` each iteration ends with a non-centred HMC move of α and the
Cholesky factor of D (:mod:`offerlab.numerics._hb_chain`, which runs the iteration);
it is what makes the population covariance mix.

Data layout: the respondents' tasks are padded to (R, T, A, K), A = J − 1: the
attributes of every non-chosen alternative minus those of the chosen one, so
that ℓ_rt = −log(1 + Σ_a exp(x̃_rta' β_r + b_rta)), where b holds −∞ for
unavailable alternatives and padded tasks (and the offset difference). One
batched matrix product gives every respondent's utilities. Choices among items
(MaxDiff's best and worst stages) are read back from that layout and evaluated from
each item's exp(±β) when every move starts from θ afresh (:mod:`offerlab.numerics._hb_items`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np
from scipy import sparse

from offerlab.numerics._hb_chain import HBChain, HBChainSetup, chain_likelihood
from offerlab.numerics._hb_items import ItemChoices, item_choices
from offerlab.numerics._hb_kernels import (
    SPARSE_GRADIENT,
    WORK_DTYPE,
    signed_pair_indices,
    transform_coefficients,
)
from offerlab.numerics._hb_kernels import (  # noqa: F401
    huang_wand_log_marginal as _huang_wand_log_marginal,
)
from offerlab.numerics._hb_kernels import huang_wand_scales as _huang_wand_scales  # noqa: F401
from offerlab.numerics._hb_kernels import lower_inverse as _lower_inverse  # noqa: F401
from offerlab.numerics._hb_kernels import (  # noqa: F401  (tests reach them here)
    wishart_precision_root as _wishart_precision_root,
)
from offerlab.numerics._hb_segment import ChainSegment

__all__ = [
    "HBChain",
    "HBChainSetup",
    "HBLayout",
    "HBPrior",
    "HBSettings",
    "InterweaveCoordinates",
    "chain_likelihood",
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
    def xd_work(self) -> np.ndarray:
        """``Xd`` as (R, K, A·T), a row of coefficients times it gives the utilities, in
        the sampler's single precision (:data:`WORK_DTYPE`).

        Built once per layout and read by every chain of a fit: built before the chains'
        workers fork, the processes share its pages. A copy per chain (7.3 MB on the
        1,000-respondent MaxDiff bench) made two concurrent chains' working sets
        overflow the shared cache.
        """
        R, T, A, K = self.Xd.shape
        xd = self.Xd.transpose(0, 3, 2, 1)
        out = np.ascontiguousarray(xd, dtype=WORK_DTYPE).reshape(R, K, A * T)
        out.flags.writeable = False
        return out

    @cached_property
    def xd_pairs(self) -> np.ndarray | None:
        """Gather indices of the utilities when the design allows them exactly, else None.

        See :func:`offerlab.numerics._hb_kernels.signed_pair_indices`; built once per
        layout and shared like ``xd_work``.
        """
        return signed_pair_indices(self.xd_work)

    @cached_property
    def item_choices(self) -> ItemChoices | None:
        """The stages as choices among items (MaxDiff), else None (see
        :mod:`offerlab.numerics._hb_items`); built once per layout and shared like
        ``xd_work``."""
        return item_choices(self.Xd, self.base)

    @cached_property
    def xd_sparse_gradient(self) -> sparse.csr_array | None:
        """Xd' as a block-diagonal sparse (R·K, R·A·T) matrix when it is sparse, else None.

        The gradient Σ_a P_rta x̃_rta of every respondent is one sparse product with the
        stacked probabilities instead of R dense ones; used when at most ``SPARSE_GRADIENT``
        of ``xd_work``'s entries are nonzero (a tenth on the MaxDiff bench).
        """
        XT = self.xd_work
        R, K, n = XT.shape
        r, k, s = np.nonzero(XT)
        if r.size > SPARSE_GRADIENT * XT.size:
            return None
        # row r·K + k, column r·n + s: XT's nonzeros in row-major order are already in
        # CSR's order
        index = np.int32 if max(R * n, r.size) < np.iinfo(np.int32).max else np.int64
        indptr = np.zeros(R * K + 1, dtype=index)
        np.cumsum(np.bincount(r * K + k, minlength=R * K), out=indptr[1:])
        columns = (r * n + s).astype(index)
        return sparse.csr_array((XT[r, k, s], columns, indptr), shape=(R * K, R * n))

    @cached_property
    def base_work(self) -> np.ndarray | None:
        """``base_alt_major`` as (R, A·T) in single precision; shared like ``xd_work``."""
        if self.base_alt_major is None:
            return None
        R, A, T = self.base_alt_major.shape
        out = self.base_alt_major.reshape(R, A * T).astype(WORK_DTYPE)
        out.flags.writeable = False
        return out

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
    scale_shape: float = 0.5  # Huang–Wand η: a_k ~ IG(η, 1/A_k²); ½ gives half-t SDs


# How the interweaving move sees the Cholesky factor of D (HBChain._pack).
InterweaveCoordinates = Literal["entries", "row-ratios"]


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
    # Off by default: it bought little for its time (bench/README.md, HB).
    scale_moves: bool = False
    # The utilities of the current draws are updated by the proposals' increments; they
    # are recomputed from θ this often so that rounding cannot accumulate.
    refresh_every: int = 1000
    # Iterations whose proposals (steps, shifts and their products with the data) are
    # drawn at once: one batched product for the block instead of one per iteration.
    block: int = 20
    # The interweaving move (non-centred HMC on α and the Cholesky factor of D, see
    # offerlab.numerics._hb_chain) and its leapfrog steps per iteration.
    interweave: bool = False
    interweave_leapfrog: int = 6
    # The move's coordinates for Λ's off-diagonals: "entries" (Λ_kj) or "row-ratios"
    # (Λ_kj / Λ_kk), which mix population variances near zero (HBChain._pack).
    interweave_coordinates: InterweaveCoordinates = "entries"
    # Under the Huang–Wand prior the interweaving move targets D with the scales a
    # integrated out and draws a | D after it (_hb_kernels.huang_wand_log_marginal); False
    # moves D given a.
    collapse_scales: bool = True
    # Random-walk steps of every θ_r per iteration (cheap: the proposals come in blocks).
    individual_steps: int = 1
    # 0: every θ_r moves by those random-walk steps. n > 0: instead by
    # ``individual_trajectories`` HMC transitions of n leapfrog steps each
    # (HBChain._individual_hmc), whose step sizes aim at ``target_acceptance_hmc``.
    individual_leapfrog: int = 0
    individual_trajectories: int = 1
    # With the respondents' and the shift's HMC: choices among items (MaxDiff) by their
    # own likelihood (offerlab.numerics._hb_items); False keeps the design's utilities.
    item_likelihood: bool = True
    # With the respondents' HMC: 0 moves the joint shift by a random-walk step, n > 0
    # by an HMC transition of n leapfrog steps (HBChain._shift_hmc).
    shift_leapfrog: int = 0
    target_acceptance_hmc: float = 0.65
    # The random-walk proposals scale with the current D rather than the one at the
    # last adaptation (offerlab.numerics._hb_chain.HBChain._set_proposal_roots).
    proposal_follows_covariance: bool = True
    # Every how many saved draws an individual draw is stored (for the decisions'
    # resampling and the individual diagnostics).
    individual_every: int = 10


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
    """Run one chain of the hierarchical Bayes MNL sampler: burn-in, then saved draws.

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
        spaced stored individual draws; ``alpha_trace`` (I, K) and ``sd_trace`` (I, K)
        every iteration (burn-in included); ``acceptance`` (I,) mean acceptance rate;
        ``loglike`` (I,) Σ_r ℓ_r at the current draws; ``scale`` (R,) final s_r;
        ``acceptance_saved`` (R,) acceptance rate of every respondent after burn-in;
        with the Huang–Wand prior also ``hw_a`` (S, K), the saved draws of a.

    Notes
    -----
    The iteration is :class:`offerlab.numerics._hb_chain.HBChain`'s. Where the time
    goes and why utilities are kept in single precision: bench/README.md, "Hierarchical
    Bayes".
    """
    setup = HBChainSetup(layout, prior, settings, information, _signs(signs))
    chain = HBChain(setup, theta0, alpha0, rng)
    burn = chain.burn(settings.burn_in, tick)
    offset = settings.burn_in

    def tick_after_burn(done: int) -> None:
        if tick is not None:
            tick(offset + done)

    draws = chain.sample(settings.draws, settings.thin, tick_after_burn)
    if tick is not None:
        tick(settings.burn_in + settings.draws * settings.thin)
    return ChainSegment.concat([burn, draws]).as_dict(settings.keep_individual, chain.scale)


def _signs(signs: np.ndarray | None) -> np.ndarray | None:
    return None if signs is None or not np.any(signs) else np.asarray(signs, dtype=float)
