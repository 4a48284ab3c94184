"""One chain of the hierarchical Bayes MNL sampler, resumable segment by segment.

The model and the Gibbs sweep are described in :mod:`offerlab.numerics._hb`. A chain
is an :class:`HBChain`: its state (θ, α, D, the proposal scales) lives between calls of
:meth:`HBChain.advance`, so a driver can run a chain in pieces and stop it when the
convergence diagnostics of all chains pass (see ``offerlab.models._hb_run``).

Each iteration is, in this order,

1. α | θ, D (normal) and D | θ, α (inverse-Wishart; Huang–Wand: then a | D);
2. every θ_r by ``individual_steps`` random-walk Metropolis steps (proposal covariance
   s_r² (H_r + D⁻¹)⁻¹), then optionally the joint shift (θ_r, α) → (θ_r + δ, α + δ);
   or, with ``individual_leapfrog`` > 0, the shift first (with ``shift_leapfrog`` > 0
   by HMC, :meth:`HBChain._shift_hmc`) and then every θ_r by
   ``individual_trajectories`` HMC transitions (mass matrix H_r + D⁻¹, the analytic
   logit gradient; :meth:`HBChain._individual_hmc`);
3. optionally the joint rescaling;
4. optionally the **interweaving move** (Yu & Meng 2011, "To centre or not to centre:
   that is not the question", JCGS 20(3)): with z_r = Λ⁻¹(θ_r − α) held fixed, D = ΛΛ'
   (Λ lower-triangular, in the coordinates of :meth:`HBChain._pack`) and α are moved
   together by Hamiltonian Monte Carlo on the non-centred posterior
   p(α, Λ | z, y) ∝ p(Λ) Π_r L_r(α + Λ z_r). Under the Huang–Wand prior p(Λ) is the
   marginal with the scales a integrated out, and a | D is drawn
   after the move (``collapse_scales``,
   :func:`~offerlab.numerics._hb_kernels.huang_wand_log_marginal`).

Why the last move. With 12 tasks for 15 coefficients each respondent's data say little,
θ_r | D is mostly prior, and D | θ is the spread of those θ_r: the centred Gibbs steps
can move D only as far as the θ_r follow, one step at a time (the worst covariance
entry had an effective sample size of 7 in 40,000 iterations). In the non-centred
parameters the weakly identified directions are exactly the ones where the likelihood
barely depends on Λ, so a move of Λ given z is large there; alternating the two
parameterisations ("ASIS") mixes well wherever either one does. The non-centred
conditional is smooth and log-concave in (α, Λ) up to the prior, and its gradient is
Σ_r g_r z_r' with g_r the analytic logit gradient: HMC with a few leapfrog steps and a
diagonal mass matrix adapted during burn-in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from offerlab.numerics._hb_items import ItemChoices
from offerlab.numerics._hb_kernels import (
    WORK_DTYPE,
    DesignLikelihood,
    huang_wand_log_marginal,
    huang_wand_scales,
    lower_inverse,
    proposal_roots,
    transform_coefficients,
    wishart_precision_root,
)
from offerlab.numerics._hb_segment import ChainSegment

if TYPE_CHECKING:  # _hb imports this module
    from offerlab.numerics._hb import HBLayout, HBSettings

__all__ = ["HBChain", "HBChainSetup", "NonCentredHMC", "chain_likelihood"]

_UNIFORM_UNIT_SD = 2.0 * np.sqrt(3.0)  # U(−½, ½) times this has variance 1


def _symmetric_uniforms(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Single-precision U(−√3, √3) components (variance 1) from the raw 64-bit stream.

    Unit-variance uniforms, not normals: any symmetric z keeps the Metropolis ratio a
    ratio of targets, and single-precision uniforms cost a quarter of the normals. Each
    64-bit word gives two 32-bit signed integers, scaled by 2⁻³² into [−½, ½): half the
    generator's work of ``rng.random(dtype=float32)`` (one word per number) and no
    shift, 0.5 ms → 0.3 ms for a block of 300,000.
    """
    n = int(np.prod(shape))
    words = rng.bit_generator.random_raw(-(-n // 2)).view(np.int32)[:n]
    out = np.empty(n, WORK_DTYPE)
    np.multiply(words, _UNIFORM_UNIT_SD / 2.0**32, out=out, casting="unsafe")
    return out.reshape(shape)


@dataclass(frozen=True)
class HBChainSetup:
    """Everything a chain needs that does not change while it runs."""

    layout: object  # HBLayout
    prior: object  # HBPrior
    settings: object  # HBSettings
    information: np.ndarray  # (R, K, K) H_r on the θ scale
    signs: np.ndarray | None


@dataclass
class NonCentredHMC:
    """Tuning of the interweaving move: step size and inverse mass (diagonal)."""

    step: float
    inverse_mass: np.ndarray
    leapfrog: int
    history: list[np.ndarray] = field(default_factory=list)
    accepted: float = 0.0
    tried: int = 0


class _IndividualHMC:
    """One iteration's HMC of every θ_r | α, D (see HBChain._individual_hmc)."""

    def __init__(
        self, chain: HBChain, roots: np.ndarray, factor: np.ndarray | None, precision: np.ndarray
    ) -> None:
        self.chain = chain
        # L_r' = roots_r F' (R, K, K): a drift is the row p' L_r'. With the proposals
        # following D the roots are whitened and F is D's Cholesky factor, applied to the
        # (R, K) rows instead of forming every L_r' (0.5 ms an iteration); else F = I.
        self.roots = roots
        self.factor = factor
        self.precision = precision  # D⁻¹

    def kick(self, g: np.ndarray) -> np.ndarray:
        """L_r' g, as rows."""
        if self.factor is not None:
            g = g @ self.factor
        return np.matmul(self.roots, g[:, :, None])[:, :, 0]

    def drift(self, p: np.ndarray) -> np.ndarray:
        """L_r p, as rows."""
        step = np.matmul(p[:, None, :], self.roots)[:, 0, :]
        return step if self.factor is None else step @ self.factor.T

    def prior_part(
        self, theta: np.ndarray, ll: np.ndarray, ll_grad: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """log π_r = ℓ_r − ½ (θ_r − α)' D⁻¹ (θ_r − α) and its gradient."""
        dev = theta - self.chain.alpha
        dev_p = dev @ self.precision
        return ll - 0.5 * np.einsum("rk,rk->r", dev, dev_p), ll_grad - dev_p

    def transition(self, logp: np.ndarray, kicked: np.ndarray, burning: bool) -> np.ndarray:
        """One trajectory per respondent and its Metropolis test; who moved (0/1)."""
        chain = self.chain
        settings, rng, R, K = chain.setup.settings, chain.rng, chain.R, chain.K
        eps = (chain.hmc_eps * np.exp(rng.uniform(-0.1, 0.1)))[:, None]  # jitter
        w = rng.standard_normal((R, K))
        p = w + 0.5 * eps * kicked
        theta = chain.theta
        n_leap = settings.individual_leapfrog
        for j in range(n_leap):
            theta = theta + eps * self.drift(p)
            ll, ll_grad = chain._loglike_gradient(theta, chain.V_new)
            logp_new, grad = self.prior_part(theta, ll, ll_grad)
            kicked_new = self.kick(grad)
            p = p + (eps if j < n_leap - 1 else 0.5 * eps) * kicked_new
        log_a = logp_new - logp - 0.5 * (np.einsum("rk,rk->r", p, p) - np.einsum("rk,rk->r", w, w))
        log_a = np.where(np.isnan(log_a), -np.inf, log_a)
        accept = np.log(rng.random(R)) < log_a
        moved = np.flatnonzero(accept)
        chain.theta[moved] = theta[moved]
        chain.ll[moved] = ll[moved]
        chain._ll_grad[moved] = ll_grad[moved]
        chain.V[moved] = chain.V_new[moved]
        logp[moved] = logp_new[moved]
        kicked[moved] = kicked_new[moved]
        if burning:
            gain = 0.5 / np.sqrt(1.0 + chain.iteration / 10.0)
            prob = np.exp(np.minimum(log_a, 0.0))
            chain.hmc_eps *= np.exp(gain * (prob - settings.target_acceptance_hmc))
        return accept


def chain_likelihood(layout: HBLayout, settings: HBSettings) -> DesignLikelihood | ItemChoices:
    """Choices among items (MaxDiff) from each item's exp(±β) where the design is of that
    kind and every move evaluates the likelihood at θ afresh (the random-walk moves and
    the random-walk shift update the design's utilities by increments); else by them.
    What it reads is built on the layout and kept there, for the fit's other chains."""
    fresh = settings.individual_leapfrog > 0 and (
        settings.shift_leapfrog > 0 or not settings.shift_moves
    )
    if fresh and settings.item_likelihood and layout.item_choices is not None:
        return layout.item_choices
    return DesignLikelihood(layout)


class HBChain:
    """A running chain: call :meth:`advance` for burn-in, then for saved draws."""

    def __init__(
        self,
        setup: HBChainSetup,
        theta0: np.ndarray,
        alpha0: np.ndarray,
        rng: np.random.Generator,
    ) -> None:
        layout, prior = setup.layout, setup.prior
        self.setup = setup
        self.rng = rng
        R, T, A, K = layout.Xd.shape
        self.R, self.K, self.AT = R, K, A * T
        self.signs = setup.signs
        self.linear = setup.signs is None
        self.huang_wand = prior.kind == "huang-wand"
        # The interweaving move targets D with the Huang–Wand scales a integrated out.
        self.collapsed = self.huang_wand and setup.settings.collapse_scales
        if self.huang_wand and prior.diagonal:
            raise ValueError("the Huang–Wand prior is a prior of a full covariance matrix")
        # Utilities and likelihoods in single precision (see run_hb_chain's Notes).
        self.likelihood = chain_likelihood(layout, setup.settings)
        self.theta = np.array(theta0, dtype=float)
        self.alpha = np.array(alpha0, dtype=float)
        self.V = self.likelihood.state()  # the likelihood's state: utilities, or β
        self.V_new = self.likelihood.state()
        self.ll = np.empty(R)
        self.ll_new = np.empty(R)
        self._loglike(
            self._utilities(transform_coefficients(self.theta, self.signs), self.V), self.ll
        )
        if not np.all(np.isfinite(self.ll)):
            raise FloatingPointError("the log-likelihood is not finite at the starting values")
        self._init_indices()
        self._init_prior()
        self._init_proposals()
        self.iteration = 0
        self.burn_in_done = 0

    # -- set-up ------------------------------------------------------------------------------
    def _init_prior(self) -> None:
        prior, K, R = self.setup.prior, self.K, self.R
        if self.huang_wand:
            self.nu_hw = float(prior.df)
            self.hw_shape = float(prior.scale_shape)
            self.hw_inv_A2 = 1.0 / np.square(np.asarray(prior.scale, dtype=float))
            self.df_prior = self.nu_hw + K - 1
            self.a_hw = 1.0 / self.hw_inv_A2  # start at a_k = A_k²
            self.S0_diag = 2.0 * self.nu_hw / self.a_hw
        else:
            self.df_prior = float(prior.df)
            self.S0_diag = np.diag(prior.df * prior.V0).copy()
        self.S0_full = None if self.huang_wand else prior.df * prior.V0
        self.nu_post = self.df_prior + R
        self.chi_df = self.nu_post - np.arange(K)  # Bartlett's diagonal degrees of freedom
        self._row_ratios = self.setup.settings.interweave_coordinates == "row-ratios"
        # The interweaving target's power of Λ_kk: −(df + K + 1) from IW(df, S₀)'s
        # |D|^−(df+K+1)/2, + (K − k) from the Jacobian of Λ ↦ D (0-based k), + 1 from u's
        # log-diagonal, + k from u's ratios (row-ratios): −(df + k) in Λ's entries, −df in
        # row ratios. A diagonal D (K independent IW₁(df, S₀_kk)): −df either way.
        rows_jacobian = self.setup.prior.diagonal or self._row_ratios
        self._power = self.df_prior + (np.zeros(K) if rows_jacobian else np.arange(K))
        # D starts at the prior's centre V₀: M M' = D⁻¹, Minv = M⁻¹ (D = Minv' Minv).
        self.M = np.linalg.cholesky(np.linalg.inv(prior.V0))
        self.Minv = lower_inverse(self.M)
        self.bartlett = np.zeros((K, K))

    def prior_scale(self) -> np.ndarray:
        """Scale matrix of the inverse-Wishart prior (given a, for Huang–Wand)."""
        return np.diag(self.S0_diag) if self.S0_full is None else self.S0_full

    def _init_proposals(self) -> None:
        settings, K, R = self.setup.settings, self.K, self.R
        self.scale = np.full(R, 2.38 / np.sqrt(K))  # optimal RW scale for a Gaussian target
        self.follow = bool(settings.proposal_follows_covariance)
        self.G = None
        self._set_proposal_roots()
        self.shift_root = np.linalg.cholesky(np.linalg.inv(self.setup.information.sum(axis=0)))
        self.shift_scale = 2.38 / np.sqrt(K)
        self.shift_eps = 0.5  # leapfrog step of the shift's HMC (whitened)
        self.scale_step = 0.1 / np.sqrt(K)
        random_walk = settings.individual_leapfrog == 0
        # The shift move's δ comes with the random walk's blocks only when they hold one
        # (frozen roots); otherwise it draws its own.
        self.shift_in_block = random_walk and not self.follow
        B = max(1, settings.block) if random_walk else 0  # the HMC uses no blocks
        # unscaled steps L_r z_r; single precision, as the utilities they move
        self.U_block = np.empty((B, R, K), WORK_DTYPE)
        self.XS_block = np.empty((B, R, self.AT), WORK_DTYPE) if self.linear else None
        self.XD_block = (
            np.empty((B, R, self.AT), WORK_DTYPE)
            if self.linear and settings.shift_moves and self.shift_in_block
            else None
        )
        self.W_block = np.empty((B, K))
        self.block_len = self.block_pos = 0
        self.hmc_eps = np.full(R, 0.8)  # leapfrog step of the individual HMC (whitened)
        # ∂ℓ_r/∂θ_r at the current θ, or None once θ moved without it (shift, scale, RW)
        self._ll_grad: np.ndarray | None = None
        self.hmc = None
        if settings.interweave:
            self.hmc = NonCentredHMC(
                step=0.1,
                inverse_mass=self._gauss_newton_inverse_mass(),
                leapfrog=settings.interweave_leapfrog,
            )

    # -- likelihood ---------------------------------------------------------------------------
    @property
    def XT(self) -> np.ndarray:  # noqa: N802  (the design, as in run_hb_chain's Notes)
        """The design (R, K, A·T) in single precision, read only, shared with the fit's
        other chains (HBLayout.xd_work); only the random-walk moves read it."""
        return self.setup.layout.xd_work

    def _utilities(self, beta: np.ndarray, out: np.ndarray) -> np.ndarray:
        return self.likelihood.utilities(beta, out)

    def _loglike(self, V: np.ndarray, out: np.ndarray) -> np.ndarray:
        return self.likelihood.loglike(V, out)

    def _loglike_gradient(self, theta: np.ndarray, V: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every ℓ_r and ∂ℓ_r/∂θ_r at θ (R, K); the likelihood's state is written into V."""
        beta = transform_coefficients(theta, self.signs)
        ll, grad = self.likelihood.loglike_gradient(beta, V)
        if not self.linear:
            grad *= np.where(self.signs != 0, beta, 1.0)
        return ll, grad

    # -- one iteration ------------------------------------------------------------------------
    def _draw_population(self, normals: np.ndarray) -> None:
        """α | θ, D; D | θ, α (and a | D under Huang–Wand)."""
        K, rng = self.K, self.rng
        self.alpha = self.theta.mean(axis=0) + (normals[:K] @ self.Minv) / np.sqrt(self.R)
        dev = self.theta - self.alpha
        if self.setup.prior.diagonal:
            ss = self.S0_diag + np.einsum("rk,rk->k", dev, dev)
            precision = rng.chisquare(self.nu_post, size=K) / ss
            self.M = np.diag(np.sqrt(precision))
            self.Minv = np.diag(1.0 / np.sqrt(precision))
            return
        S = dev.T @ dev + self.prior_scale()
        self.M = wishart_precision_root(S, normals[K:], rng.chisquare(self.chi_df), self.bartlett)
        self.Minv = lower_inverse(self.M)
        if self.huang_wand:
            self.a_hw = huang_wand_scales(self.M, self.nu_hw, self.hw_inv_A2, rng, self.hw_shape)
            self.S0_diag = 2.0 * self.nu_hw / self.a_hw

    def _set_proposal_roots(self) -> None:
        """L_r' with L_r L_r' = (H_r + D⁻¹)⁻¹ at the current D (burn-in's adaptation).

        With ``proposal_follows_covariance`` they are kept whitened, W_r' = L_r' F'⁻¹
        (F F' = D, F the Cholesky factor), and every block multiplies them by the then
        current F': a step is z' W_r' F', which is z' L_r' while D stays where it was
        and shrinks or widens with D where the population dominates (a variance near
        zero). Frozen L_r made the demo's chains stick: a variance that fell from 0.1 to
        0.005 after burn-in left the steps 20-50 times too wide there, the acceptance
        fell to 2-7% in three of four chains and the covariance's ESS to 11. The proposal
        depends on the current D only, so the step is still a Metropolis step for
        θ_r | α, D.
        """
        self.roots_t = proposal_roots(self.setup.information, self.M)
        self.roots_w = None  # the whitened roots in double precision, when first needed
        if self.follow:
            whiten = lower_inverse(self._cholesky_of_cov()).T
            self.roots_t32 = (self.roots_t @ whiten).astype(WORK_DTYPE)
            return
        self.roots_t32 = self.roots_t.astype(WORK_DTYPE)
        if self.linear:
            self.G = np.matmul(self.roots_t32, self.XT, out=self.G)

    def _next_block(self, burning: bool) -> None:
        """Draw the unscaled steps (and their products with the data) of a block."""
        settings, rng = self.setup.settings, self.rng
        n = max(1, settings.block)
        if self.follow:
            # one iteration's steps: the next iteration has another D
            n = max(1, settings.individual_steps)
        elif burning:
            n = min(n, settings.adapt_every - self.iteration % settings.adapt_every)
        self.block_len, self.block_pos = n, 0
        Z = _symmetric_uniforms(rng, (self.R, n, self.K))
        U = self.U_block[:n].transpose(1, 0, 2)  # (R, n, K)
        if self.follow:
            factor = self._cholesky_of_cov().T.astype(WORK_DTYPE)
            # W_r' F' for all respondents as one (R·K, K) product (the factor is common),
            # then one batched product with the steps: 0.47 → 0.31 ms a block.
            roots = np.matmul(self.roots_t32.reshape(-1, self.K), factor)
            np.matmul(Z, roots.reshape(self.R, self.K, self.K), out=U)
            if self.linear:
                np.matmul(U, self.XT, out=self.XS_block[:n].transpose(1, 0, 2))
            return  # the shift move draws its own δ (_shift_step)
        np.matmul(Z, self.roots_t32, out=U)
        W = rng.standard_normal((n, self.K)) @ self.shift_root.T
        self.W_block[:n] = W
        if self.linear:
            np.matmul(Z, self.G, out=self.XS_block[:n].transpose(1, 0, 2))
            if self.XD_block is not None:
                np.matmul(
                    W.astype(WORK_DTYPE)[None], self.XT, out=self.XD_block[:n].transpose(1, 0, 2)
                )

    def _individual_step(self, log_u: np.ndarray, burning: bool) -> np.ndarray:
        """One random-walk Metropolis step for every θ_r; returns who moved."""
        b = self.block_pos
        step = self.U_block[b] * self.scale[:, None]  # s_r L_r z_r (double: θ's dtype)
        proposal = self.theta + step
        if self.linear:
            np.multiply(self.XS_block[b], self.scale[:, None].astype(WORK_DTYPE), out=self.V_new)
            self.V_new += self.V
        else:
            self._utilities(transform_coefficients(proposal, self.signs), self.V_new)
        self._loglike(self.V_new, self.ll_new)
        # q(θ*) − q(θ) = step' D⁻¹ step + 2 step' D⁻¹(θ − α), D⁻¹ = M M'; D⁻¹(θ − α) is
        # kept up to date by the accepted steps instead of recomputed each step.
        step_p = step @ self._precision
        dq = np.einsum("rk,rk->r", step, step_p + 2.0 * self._precision_dev)
        accept = log_u < self.ll_new - self.ll - 0.5 * dq  # NaN never accepts
        moved = np.flatnonzero(accept)
        self.theta[moved] = proposal[moved]
        self._ll_grad = None
        self._precision_dev[moved] += step_p[moved]
        self.ll[moved] = self.ll_new[moved]
        self.V[moved] = self.V_new[moved]
        if burning:
            # Robbins–Monro: a step that shrinks so the scales settle before burn-in ends.
            gain = 0.5 / np.sqrt(1.0 + self.iteration / 10.0)
            self.scale *= np.exp(gain * (accept - self.setup.settings.target_acceptance))
        return accept

    def _individual_steps(self, uniforms: np.ndarray, burning: bool, adapting: bool) -> np.ndarray:
        """``settings.individual_steps`` random-walk steps; the mean acceptance per θ_r."""
        steps = max(1, self.setup.settings.individual_steps)
        self._precision = self.M @ self.M.T
        self._precision_dev = (self.theta - self.alpha) @ self._precision
        accepted = np.zeros(self.R)
        # the Metropolis uniforms of all steps at once, logged in one call
        log_u = np.empty((steps, self.R))
        log_u[0] = uniforms
        log_u[1:] = self.rng.random((steps - 1, self.R))
        np.log(log_u, out=log_u)
        for j in range(steps):
            if j > 0:
                self.block_pos += 1
            if self.block_pos >= self.block_len or ((adapting or self.follow) and j == 0):
                self._next_block(burning)
            accepted += self._individual_step(log_u[j], burning)
        return accepted / steps

    def _current_roots(self) -> tuple[np.ndarray, np.ndarray | None]:
        """(W_r', F) with L_r' = W_r' F' at the current D (R, K, K), or (L_r', None)."""
        if not self.follow:
            return self.roots_t, None
        if self.roots_w is None:
            self.roots_w = self.roots_t32.astype(float)
        return self.roots_w, self._cholesky_of_cov()

    def _individual_hmc(self, burning: bool) -> np.ndarray:
        """``individual_trajectories`` HMC transitions of every θ_r | α, D; mean acceptance.

        All respondents at once, each with its own trajectory, step ε_r and accept. The
        mass matrix is (H_r + D⁻¹): in whitened coordinates θ = L_r x (L_r L_r' =
        (H_r + D⁻¹)⁻¹, the random walk's proposal root at the current D) the leapfrog
        kicks by L_r' ∇ log π and drifts by ε L_r p. L_r and ε_r depend on D only (ε_r is
        frozen after burn-in), which is fixed during these transitions, so each is an
        HMC transition leaving p(θ_r | α, D, y) invariant: leapfrog is volume-preserving
        and reversible for any deterministic kick, and the Metropolis test on the
        Hamiltonian corrects the integration error. The target is the respondent's own
        ℓ_r − ½ (θ_r − α)' D⁻¹ (θ_r − α): respondents are independent given (α, D).
        A random-walk step moves ~1/K of the way across a respondent's posterior; a
        trajectory of a few leapfrog steps along the gradient moves across it, for one
        more product with the design (the gradient) per step.
        """
        settings, R = self.setup.settings, self.R
        hmc = _IndividualHMC(self, *self._current_roots(), self.M @ self.M.T)
        if self._ll_grad is None:  # θ moved without a gradient since the last one
            self.ll, self._ll_grad = self._loglike_gradient(self.theta, self.V)
        logp, grad = hmc.prior_part(self.theta, self.ll, self._ll_grad)
        kicked = hmc.kick(grad)  # L_r' ∇ log π at the current θ_r, kept for the accepted
        accepted = np.zeros(R)
        with np.errstate(invalid="ignore"):
            for _ in range(max(1, settings.individual_trajectories)):
                accepted += hmc.transition(logp, kicked, burning)
        return accepted / max(1, settings.individual_trajectories)

    def _accept_swap(self) -> None:
        self.ll, self.ll_new = self.ll_new, self.ll
        self.V, self.V_new = self.V_new, self.V

    def _shift_step(self, u: float, burning: bool) -> None:
        """(θ_r, α) → (θ_r + δ, α + δ): only the likelihood enters the ratio."""
        if not self.shift_in_block:
            # Its own δ and product (0.07 ms): a block of one iteration's steps would
            # hold n shifts' products (0.25 ms) of which the move uses one.
            delta = self.shift_scale * (self.rng.standard_normal(self.K) @ self.shift_root.T)
        else:
            delta = self.shift_scale * self.W_block[self.block_pos]
        if self.linear:
            if not self.shift_in_block:
                np.matmul(delta.astype(WORK_DTYPE), self.XT, out=self.V_new)
            else:
                np.multiply(self.XD_block[self.block_pos], self.shift_scale, out=self.V_new)
            self.V_new += self.V
        else:
            self._utilities(transform_coefficients(self.theta + delta, self.signs), self.V_new)
        self._loglike(self.V_new, self.ll_new)
        ok = np.log(u) < self.ll_new.sum() - self.ll.sum()
        if ok:
            self.theta += delta
            self.alpha = self.alpha + delta
            self._accept_swap()
            self._ll_grad = None
        if burning:
            gain = 0.5 / np.sqrt(1.0 + self.iteration / 10.0)
            self.shift_scale *= np.exp(gain * (ok - self.setup.settings.target_acceptance))

    def _shift_hmc(self, burning: bool) -> float:
        """(θ_r, α) → (θ_r + δ, α + δ) by HMC on δ; the random-walk shift's target.

        The population density of θ_r − α and the flat prior of α do not change along
        the shift, so the target of δ is Π_r L_r(θ_r + δ), whose gradient is Σ_r g_r and
        whose curvature is about Σ_r H_r: with that as the mass matrix the target is
        close to a standard normal in whitened coordinates, and a few leapfrog steps of
        ~0.5 cross it (a random walk in K dimensions moves ~1/K of the way). The mass
        and the step depend on nothing that moves, so this is an HMC transition.
        Returns the acceptance probability.
        """
        if self._ll_grad is None:
            self.ll, self._ll_grad = self._loglike_gradient(self.theta, self.V)
        rng, root = self.rng, self.shift_root  # root root' = (Σ_r H_r)⁻¹
        eps = self.shift_eps * np.exp(rng.uniform(-0.1, 0.1))
        w = rng.standard_normal(self.K)
        p = w + 0.5 * eps * (self._ones_r @ self._ll_grad) @ root
        delta = np.zeros(self.K)
        n_leap = self.setup.settings.shift_leapfrog
        with np.errstate(over="ignore", invalid="ignore"):
            for j in range(n_leap):
                delta = delta + eps * (root @ p)
                theta = self.theta + delta
                ll, ll_grad = self._loglike_gradient(theta, self.V_new)
                p = p + (eps if j < n_leap - 1 else 0.5 * eps) * ((self._ones_r @ ll_grad) @ root)
            log_a = ll.sum() - self.ll.sum() - 0.5 * (p @ p - w @ w)
        log_a = -np.inf if np.isnan(log_a) else log_a
        if np.log(rng.random()) < log_a:
            self.theta = theta
            self.alpha = self.alpha + delta
            self.ll, self._ll_grad = ll, ll_grad
            self._swap_utilities()
        prob = float(np.exp(min(log_a, 0.0)))
        if burning:
            gain = 0.5 / np.sqrt(1.0 + self.iteration / 10.0)
            self.shift_eps *= np.exp(gain * (prob - self.setup.settings.target_acceptance_hmc))
            # At most a quarter turn on the normal the mass describes (leapfrog turns by
            # φ = 2 arcsin(ε/2) a step): that trajectory gives a nearly independent δ. On
            # a near-normal target the acceptance stays high up to leapfrog's stability
            # limit ε = 2, where an acceptance target alone would drive the step and the
            # trajectories turn erratic. A half turn (δ across the posterior from where
            # it started) raised the bench's population-mean ESS by a fifth but let the
            # demo's near-zero variances wander: a run of 4 × 4,000 draws ended with
            # R-hat 1.27, against 1.023 with a quarter turn and the same seed.
            self.shift_eps = min(self.shift_eps, 2.0 * np.sin(np.pi / (4 * n_leap)))
        return prob

    def _scale_step(self, normals: np.ndarray, u: float, burning: bool) -> None:
        """Joint rescaling θ_r − α → G(θ_r − α), D → G D G (parameter expansion).

        The population density of θ is unchanged up to |G|^−R, which the Jacobian
        cancels; with the prior IW(df, S₀) the log ratio is
        Δℓ − df Σ log g_k − ½ tr(S₀ (G⁻¹ D⁻¹ G⁻¹ − D⁻¹)).
        """
        log_g = self.scale_step * normals
        g = np.exp(log_g)
        scaled = self.alpha + (self.theta - self.alpha) * g
        self._utilities(transform_coefficients(scaled, self.signs), self.V_new)
        self._loglike(self.V_new, self.ll_new)
        M_new = self.M / g[:, None]
        S0 = self.prior_scale()
        log_r = (
            self.ll_new.sum()
            - self.ll.sum()
            - self.df_prior * log_g.sum()
            - 0.5 * (np.sum(S0 * (M_new @ M_new.T)) - np.sum(S0 * (self.M @ self.M.T)))
        )
        ok = np.log(u) < log_r
        if ok:
            self.theta = scaled
            self.M = M_new
            self.Minv = self.Minv * g[None, :]
            self._accept_swap()
            self._ll_grad = None
        if burning:
            gain = 0.5 / np.sqrt(1.0 + self.iteration / 10.0)
            self.scale_step *= np.exp(gain * (ok - self.setup.settings.target_acceptance))

    # -- the interweaving (non-centred) move ---------------------------------------------------
    def _free_lower(self) -> tuple[np.ndarray, np.ndarray]:
        """Indices of Λ's free below-diagonal entries (none for a diagonal D)."""
        return self._below

    def _init_indices(self) -> None:
        # Built once: np.tril_indices cost ~13 µs a call, and the interweaving move
        # needed it three times per leapfrog step (5% of an iteration).
        if self.setup.prior.diagonal:
            empty = np.array([], dtype=np.int64)
            self._below = (empty, empty)
        else:
            self._below = np.tril_indices(self.K, -1)
        self._diagonal = np.diag_indices(self.K)
        self._ones_r = np.ones(self.R)

    def _cholesky_of_cov(self) -> np.ndarray:
        return np.linalg.cholesky(self.Minv.T @ self.Minv)

    def _pack(self, Lam: np.ndarray, alpha: np.ndarray) -> np.ndarray:
        """The move's coordinates u: (Λ_kj below the diagonal, log Λ_kk, α), or with
        ``row-ratios`` (Λ_kj / Λ_kk, log Λ_kk, α). Where a variance is near zero its
        posterior is a funnel whose neck the whole row of Λ enters; in entries the row's
        off-diagonals then span ~20 times less there than at the mouth, too wide a range
        for one diagonal mass and step size; in row ratios only log Λ_kk enters the neck.
        Entries stay the default: without such variances they mixed better under
        Huang–Wand (bench/README.md, "The demo converges")."""
        below = self._free_lower()
        diag = np.diag(Lam)
        off = Lam[below] / diag[below[0]] if self._row_ratios else Lam[below]
        return np.concatenate([off, np.log(diag), alpha])

    def _unpack(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        below = self._free_lower()
        n, K = below[0].size, self.K
        Lam = np.zeros((K, K))
        diag = np.exp(u[n : n + K])
        Lam[below] = u[:n] * diag[below[0]] if self._row_ratios else u[:n]
        Lam[self._diagonal] = diag
        return Lam, u[n + K :]

    def _gauss_newton_inverse_mass(self) -> np.ndarray:
        """Start of the mass matrix: the likelihood's curvature along each coordinate."""
        Lam = self._cholesky_of_cov()
        z = np.linalg.solve(Lam, (self.theta - self.alpha).T).T
        h_diag = np.einsum("rkk->rk", self.setup.information)  # (R, K)
        h = h_diag.T @ np.square(z)  # (K, K): Σ_r H_r,kk z_rl²
        below = self._free_lower()
        d2 = np.square(np.diag(Lam))
        off = h[below] * d2[below[0]] if self._row_ratios else h[below]
        curvature = np.concatenate([off, np.diag(h) * d2, h_diag.sum(axis=0)])
        return 1.0 / (curvature + 1.0)

    def _non_centred_logp(
        self, u: np.ndarray, z: np.ndarray, V: np.ndarray, at_current: bool = False
    ) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
        """log p(α, Λ | z, y) up to a constant, its gradient in u, ℓ_r and θ.

        ``at_current``: u is the chain's own (α, Λ), so θ = α + Λ z is the current θ
        and its ℓ_r and gradient are the ones the chain holds (one evaluation of the
        likelihood fewer per move).
        """
        Lam, alpha = self._unpack(u)
        diag = np.diag(Lam)
        if not (np.all(np.isfinite(u)) and np.all(diag > 1e-100) and np.all(diag < 1e100)):
            # A trajectory that left every plausible covariance (early in burn-in, when
            # the step size is still large): rejected like any −inf proposal.
            return -np.inf, np.zeros_like(u), self.ll, self.theta
        if at_current and self._ll_grad is not None:
            theta, ll, grad_theta = self.theta, self.ll, self._ll_grad
        else:
            theta = alpha + z @ Lam.T
            ll, grad_theta = self._loglike_gradient(theta, V)
            self._nc_ll_grad = grad_theta  # the last point's: θ's gradient if accepted
        B = lower_inverse(Lam)
        precision = B.T @ B  # D⁻¹
        # IW(df, S₀) prior of D = ΛΛ' in u: −power · log Λ_kk − ½ tr(S₀ Λ'⁻¹ Λ⁻¹)
        power = self._power
        if self.collapsed:
            log_prior, S0 = huang_wand_log_marginal(
                np.diag(precision), self.nu_hw, self.hw_inv_A2, self.hw_shape
            )
        else:
            S0 = self.prior_scale()  # given a, for Huang–Wand
            log_prior = -0.5 * float(np.sum(S0 * precision))
        logp = ll.sum() - power @ np.log(diag) + log_prior
        if not np.isfinite(logp):
            return -np.inf, np.zeros_like(u), ll, theta
        # −½ tr(S₀ D⁻¹) has ∂/∂Λ = D⁻¹ S₀ Λ'⁻¹.
        grad_L = grad_theta.T @ z + precision @ S0 @ B.T
        below = self._free_lower()
        if self._row_ratios:  # a ratio moves one entry of Λ, log Λ_kk all of row k
            off, log_diag = grad_L[below] * diag[below[0]], np.einsum("kj,kj->k", Lam, grad_L)
        else:
            off, log_diag = grad_L[below], np.diag(grad_L) * diag
        # Σ_r g_r as a product with ones: a column sum of (R, K) took 20 µs.
        grad = np.concatenate([off, log_diag - power, self._ones_r @ grad_theta])
        return float(logp), grad, ll, theta

    def _interweave_step(self, burning: bool) -> None:
        """HMC on (α, Λ) with z_r = Λ⁻¹(θ_r − α) fixed (see the module docstring)."""
        hmc, rng = self.hmc, self.rng
        Lam = self._cholesky_of_cov()
        # z = Λ⁻¹(θ − α) by the triangular inverse: a general solve took 0.2 ms.
        z = (self.theta - self.alpha) @ lower_inverse(Lam).T
        u0 = self._pack(Lam, self.alpha)
        logp0, grad, _, _ = self._non_centred_logp(u0, z, self.V_new, at_current=True)
        minv = hmc.inverse_mass
        p = rng.standard_normal(u0.size) / np.sqrt(minv)
        h0 = logp0 - 0.5 * np.sum(p * p * minv)
        eps = hmc.step * np.exp(rng.uniform(-0.1, 0.1))  # jitter: no resonant trajectories
        u = u0.copy()
        logp, ll, theta = logp0, None, None
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for _ in range(hmc.leapfrog):
                p = p + 0.5 * eps * grad
                u = u + eps * minv * p
                logp, grad, ll, theta = self._non_centred_logp(u, z, self.V_new)
                if not np.isfinite(logp):
                    break
                p = p + 0.5 * eps * grad
            h1 = logp - 0.5 * np.sum(p * p * minv)
        log_a = h1 - h0 if np.isfinite(h1) else -np.inf
        accept_prob = float(np.exp(min(0.0, log_a)))
        if rng.random() < accept_prob:
            Lam_new, self.alpha = self._unpack(u)
            self.theta = theta
            self.M = lower_inverse(Lam_new).T  # D⁻¹ = Λ'⁻¹ Λ⁻¹ = M M'
            self.Minv = Lam_new.T
            self.ll = ll
            self._ll_grad = self._nc_ll_grad
            self._swap_utilities()
        if self.collapsed:  # (D, a) | z, y as a block: the move's D, then a | D
            self.a_hw = huang_wand_scales(self.M, self.nu_hw, self.hw_inv_A2, rng, self.hw_shape)
            self.S0_diag = 2.0 * self.nu_hw / self.a_hw
        if burning:
            self._adapt_hmc(accept_prob, u0 if accept_prob == 0.0 else u)

    def _swap_utilities(self) -> None:
        self.V, self.V_new = self.V_new, self.V

    def _adapt_hmc(self, accept_prob: float, u: np.ndarray) -> None:
        """Robbins–Monro on the step size (target 0.7); the mass from burn-in's spread."""
        hmc, settings = self.hmc, self.setup.settings
        gain = 0.5 / np.sqrt(1.0 + self.iteration / 10.0)
        hmc.step *= np.exp(gain * (accept_prob - 0.7))
        burn = max(settings.burn_in, 1)
        if self.iteration >= burn // 4:
            hmc.history.append(self._pack(self._cholesky_of_cov(), self.alpha))
        if self.iteration in (burn // 2, (3 * burn) // 4) and len(hmc.history) >= 20:
            spread = np.var(np.asarray(hmc.history), axis=0)
            hmc.inverse_mass = np.maximum(spread, 1e-8)
            hmc.history = []

    # -- driving ----------------------------------------------------------------------------
    def _iterate(self, burning: bool) -> float:
        """One sweep; returns the acceptance rate of the individual steps."""
        settings, K, R = self.setup.settings, self.K, self.R
        n_low = K * (K - 1) // 2
        normals = self.rng.standard_normal(K + n_low + K)
        uniforms = self.rng.random(R + 2)
        self._draw_population(normals[: K + n_low])
        it = self.iteration
        adapting = burning and it > 0 and it % settings.adapt_every == 0
        if adapting:
            self._set_proposal_roots()
        if settings.individual_leapfrog > 0:
            # The shift first: the HMC then starts from the gradient the previous
            # iteration left (the interweaving move's or its own) unless the shift moved
            # θ. Any fixed order of posterior-invariant moves is a valid sweep.
            if settings.shift_moves and settings.shift_leapfrog > 0:
                self._shift_hmc(burning)
            elif settings.shift_moves:
                self._shift_step(uniforms[R], burning)
            accept = self._individual_hmc(burning)
        else:
            accept = self._individual_steps(uniforms[:R], burning, adapting)
            if settings.shift_moves:
                self._shift_step(uniforms[R], burning)
        if settings.scale_moves:
            self._scale_step(normals[K + n_low :], uniforms[R + 1], burning)
        if self.hmc is not None:
            self._interweave_step(burning)
        if self.linear and (it + 1) % settings.refresh_every == 0:
            # Utilities from θ afresh (the increments' rounding cannot pile up).
            self._utilities(self.theta, self.V)
            self._loglike(self.V, self.ll)
        self.block_pos += 1
        self.iteration += 1
        self.last_accept = accept
        return accept.mean()

    def burn(self, n_iter: int, tick: Callable[[int], None] | None = None) -> ChainSegment:
        """Run ``n_iter`` adapting iterations; the segment holds their traces only."""
        segment = ChainSegment.empty(n_iter, 0, self)
        with np.errstate(over="ignore"):
            for i in range(n_iter):
                rate = self._iterate(burning=True)
                segment.record_trace(i, self, rate)
                self.burn_in_done += 1
                if tick is not None and (i + 1) % 100 == 0:
                    tick(i + 1)
        self.block_pos = self.block_len  # the next block uses the final proposal scales
        return segment

    def sample(
        self, n_draws: int, thin: int = 1, tick: Callable[[int], None] | None = None
    ) -> ChainSegment:
        """Run ``n_draws · thin`` iterations with the frozen kernel; return the segment."""
        segment = ChainSegment.empty(n_draws * thin, n_draws, self)
        with np.errstate(over="ignore"):
            for i in range(n_draws * thin):
                rate = self._iterate(burning=False)
                segment.record_trace(i, self, rate)
                if i % thin == thin - 1:
                    segment.record_draw(i // thin, self)
                if tick is not None and (i + 1) % 100 == 0:
                    tick(i + 1)
        return segment
