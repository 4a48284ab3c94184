"""Hierarchical Bayes multinomial logit: the Allenby–Rossi Gibbs sampler, vectorised.

Model (Allenby & Rossi 1999; Rossi, Allenby & McCulloch 2005, ch. 5; Sawtooth
Software, "The CBC/HB System for Hierarchical Bayes Estimation, Version 5.0
Technical Paper", 2009):

* respondent r chooses by a multinomial logit with coefficients β_r = g(θ_r);
  g is the identity except for sign-constrained coefficients, where
  β_rk = s_k exp(θ_rk) (s_k = ±1: a log-normal coefficient of known sign);
* θ_r ~ N(α, D) (upper level, full covariance);
* α has a flat prior (as CBC/HB), D ~ inverse-Wishart(ν, ν V₀) with
  ν = K + prior_df.

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
from functools import cached_property

import numpy as np
from scipy.linalg import cho_factor, cho_solve, solve_triangular

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
    R, K = layout.Xd.shape[0], layout.Xd.shape[3]
    B = np.broadcast_to(np.asarray(beta, dtype=float), (R, K))
    V = np.einsum("rtak,rk->rta", layout.Xd, B)
    if layout.base is not None:
        V = V + layout.base
    V = np.minimum(V, 700.0)
    E = np.exp(V)
    P = E / (1.0 + E.sum(axis=2, keepdims=True))  # the chosen alternative has x̃ = 0
    xbar = np.einsum("rta,rtak->rtk", P, layout.Xd)
    second = np.einsum("rta,rtak,rtal->rkl", P, layout.Xd, layout.Xd)
    return second - np.einsum("rtk,rtl->rkl", xbar, xbar)


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
    R = layout.Xd.shape[0]

    def objective(b: np.ndarray) -> np.ndarray:
        d = b - mean
        return respondent_loglike(b, layout) - 0.5 * np.einsum("rk,kl,rl->r", d, precision, d)

    b = np.tile(np.asarray(mean, dtype=float), (R, 1))
    value = objective(b)
    for _ in range(iterations):
        V = np.einsum("rtak,rk->rta", layout.Xd, b)
        if layout.base is not None:
            V = V + layout.base
        E = np.exp(np.minimum(V, 700.0))
        P = E / (1.0 + E.sum(axis=2, keepdims=True))
        grad = -np.einsum("rta,rtak->rk", P, layout.Xd) - (b - mean) @ precision
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
    """Prior of the upper level: D ~ IW(ν, ν V₀), flat on α.

    With ``diagonal``, D is diagonal and each variance d_k ~ IW₁(ν, ν V₀_kk), an
    inverse gamma with shape ν/2 and scale ν V₀_kk / 2 (ν = 1 + prior_df then).
    """

    V0: np.ndarray
    df: float  # ν = K + prior_df (full) or 1 + prior_df (diagonal)
    diagonal: bool = False


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


def _wishart_root(df: float, scale_inv_chol: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """M lower-triangular with M M' ~ Wishart(df, Σ), Σ = C C' (C = ``scale_inv_chol``).

    Bartlett: M = C A, A lower-triangular, A_ii = √χ²(df − i), A_ij ~ N(0, 1), i > j.
    """
    K = scale_inv_chol.shape[0]
    A = np.tril(rng.standard_normal((K, K)), -1)
    A[np.diag_indices(K)] = np.sqrt(rng.chisquare(df - np.arange(K)))
    return scale_inv_chol @ A


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
        ``acceptance_saved`` (R,) acceptance rate of every respondent after burn-in.
    """
    R, T, A, K = layout.Xd.shape
    burn, n_draws, thin = settings.burn_in, settings.draws, settings.thin
    n_iter = burn + n_draws * thin
    signs = None if signs is None or not np.any(signs) else np.asarray(signs, dtype=float)

    theta = np.array(theta0, dtype=float)
    alpha = np.array(alpha0, dtype=float)
    work = np.empty((R, A * T, 1))
    ll = respondent_loglike(transform_coefficients(theta, signs), layout, work=work)
    ll_new = np.empty(R)
    if not np.all(np.isfinite(ll)):
        raise FloatingPointError("the log-likelihood is not finite at the starting values")

    nu_post = prior.df + R
    S0 = prior.df * prior.V0
    # D starts at the prior's centre V₀: M M' = D⁻¹.
    M = np.linalg.cholesky(np.linalg.inv(prior.V0))
    scale = np.full(R, 2.38 / np.sqrt(K))  # optimal RW scale for a Gaussian target
    roots = _proposal_roots(information, M)
    shift_root = np.linalg.cholesky(np.linalg.inv(information.sum(axis=0)))
    shift_scale = 2.38 / np.sqrt(K)
    scale_step = 0.1 / np.sqrt(K)
    S0_root = np.linalg.cholesky(S0)  # S₀ = C C': tr(S₀ M M') = ‖C' M‖²

    keep = max(0, min(settings.keep_individual, n_draws))
    keep_at = set(np.linspace(0, n_draws - 1, keep).round().astype(int).tolist()) if keep else set()
    alpha_saved = np.empty((n_draws, K))
    D_saved = np.empty((n_draws, K, K))
    beta_sum = np.zeros((R, K))
    beta_sq = np.zeros((R, K))
    theta_sum = np.zeros((R, K))
    beta_draws = np.empty((R, keep, K))
    accepted_saved = np.zeros(R)
    alpha_trace = np.empty((n_iter, K))
    sd_trace = np.empty((n_iter, K))
    acc_trace = np.empty(n_iter)
    ll_trace = np.empty(n_iter)
    saved = kept = 0
    sqrt_r = np.sqrt(R)
    for it in range(n_iter):
        # 1. α | θ, D ~ N(θ̄, D/R); D = (M M')⁻¹, so D^½ z = M'⁻¹ z.
        z = rng.standard_normal(K)
        alpha = theta.mean(axis=0) + solve_triangular(M.T, z, lower=False) / sqrt_r
        # 2. D | θ, α ~ IW(ν + R, ν V₀ + Σ dev dev'): draw D⁻¹ ~ Wishart(ν + R, S⁻¹).
        dev = theta - alpha
        if prior.diagonal:
            # Independent inverse-gamma (1×1 inverse-Wishart) variances.
            ss = np.diag(S0) + np.einsum("rk,rk->k", dev, dev)
            precision = rng.chisquare(nu_post, size=K) / ss
            M = np.diag(np.sqrt(precision))
        else:
            S = S0 + dev.T @ dev
            S_inv = cho_solve(cho_factor(S, lower=True), np.eye(K))
            M = _wishart_root(nu_post, np.linalg.cholesky(S_inv), rng)
        # 3. θ_r | α, D: one random-walk Metropolis step for every respondent.
        if it < burn and it % settings.adapt_every == 0 and it > 0:
            roots = _proposal_roots(information, M)
        z = rng.standard_normal((R, K, 1))
        step = np.matmul(roots, z)[:, :, 0]
        step *= scale[:, None]
        proposal = theta + step
        respondent_loglike(transform_coefficients(proposal, signs), layout, out=ll_new, work=work)
        q_old = np.square(dev @ M).sum(axis=1)
        q_new = np.square((proposal - alpha) @ M).sum(axis=1)
        log_ratio = ll_new - ll - 0.5 * (q_new - q_old)
        accept = np.log(rng.random(R)) < log_ratio  # NaN (−inf − −inf) never accepts
        np.copyto(theta, proposal, where=accept[:, None])
        np.copyto(ll, ll_new, where=accept)
        rate = accept.mean()
        if it < burn:
            # Robbins–Monro: a step that shrinks so the scales settle before burn-in ends.
            gain = 0.5 / np.sqrt(1.0 + it / 10.0)
            scale *= np.exp(gain * (accept - settings.target_acceptance))
        alpha_trace[it] = alpha
        D_diag = np.square(np.linalg.inv(M)).sum(axis=0)  # diag((M M')⁻¹)
        sd_trace[it] = np.sqrt(D_diag)
        acc_trace[it] = rate
        ll_trace[it] = ll.sum()
        if it >= burn and (it - burn) % thin == thin - 1:
            Minv = np.linalg.inv(M)
            alpha_saved[saved] = alpha
            D_saved[saved] = Minv.T @ Minv
            beta = transform_coefficients(theta, signs)
            beta_sum += beta
            beta_sq += beta * beta
            theta_sum += theta
            if saved in keep_at:
                beta_draws[:, kept] = beta
                kept += 1
            saved += 1
        if it >= burn:
            accepted_saved += accept
        if settings.shift_moves:
            # 4. Joint shift (θ_r, α) → (θ_r + δ, α + δ): the prior of θ − α and the
            #    flat prior of α are unchanged, so only the likelihood enters the ratio.
            #    It moves α along the direction the individual steps explore slowly.
            delta = shift_scale * (shift_root @ rng.standard_normal(K))
            shifted = theta + delta
            respondent_loglike(
                transform_coefficients(shifted, signs), layout, out=ll_new, work=work
            )
            total_new = ll_new.sum()
            ok = np.log(rng.random()) < total_new - ll.sum()
            if ok:
                theta = shifted
                alpha = alpha + delta
                ll, ll_new = ll_new, ll
            if it < burn:
                gain = 0.5 / np.sqrt(1.0 + it / 10.0)
                shift_scale *= np.exp(gain * (ok - settings.target_acceptance))
        if settings.scale_moves:
            # 5. Joint rescaling (parameter expansion): θ_r − α → G(θ_r − α), D → G D G
            #    with G = diag(g), log g ~ N(0, s² I). The population density of θ is
            #    unchanged up to |G|^−R, which the Jacobian cancels; with the
            #    inverse-Wishart prior the log ratio is
            #    Δℓ − ν Σ log g_k − ½ tr(S₀ (G⁻¹ D⁻¹ G⁻¹ − D⁻¹)).
            #    When 12 tasks say little about each respondent, D and the spread of
            #    the θ_r can only drift together one small Gibbs step at a time; this
            #    move takes them along that ridge in one step.
            log_g = scale_step * rng.standard_normal(K)
            g = np.exp(log_g)
            scaled = alpha + (theta - alpha) * g
            respondent_loglike(transform_coefficients(scaled, signs), layout, out=ll_new, work=work)
            M_new = M / g[:, None]  # (G⁻¹ M)(G⁻¹ M)' = G⁻¹ D⁻¹ G⁻¹, still lower-triangular
            log_r = (
                ll_new.sum()
                - ll.sum()
                - prior.df * log_g.sum()
                - 0.5 * (np.square(S0_root.T @ M_new).sum() - np.square(S0_root.T @ M).sum())
            )
            ok = np.log(rng.random()) < log_r
            if ok:
                theta = scaled
                M = M_new
                ll, ll_new = ll_new, ll
            if it < burn:
                gain = 0.5 / np.sqrt(1.0 + it / 10.0)
                scale_step *= np.exp(gain * (ok - settings.target_acceptance))
        if tick is not None and (it + 1) % 100 == 0:
            tick(it + 1)
    if tick is not None:
        tick(n_iter)
    n_after = max(n_iter - burn, 1)
    return {
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


def _proposal_roots(information: np.ndarray, M: np.ndarray) -> np.ndarray:
    """L_r with L_r L_r' = (H_r + D⁻¹)⁻¹ for every respondent, D⁻¹ = M M'."""
    precision = information + (M @ M.T)[None]
    chol = np.linalg.cholesky(precision)  # P = C C' → P⁻¹ = C'⁻¹ C⁻¹
    K = M.shape[0]
    eye = np.broadcast_to(np.eye(K), precision.shape)
    inv_chol = np.linalg.solve(chol, eye)
    return np.swapaxes(inv_chol, 1, 2)
