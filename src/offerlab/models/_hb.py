"""Hierarchical Bayes multinomial logit (CBC/HB, bayesm): the estimator.

The sampler itself is :func:`offerlab.numerics._hb.run_hb_chain`; this module
builds the data (conjoint, spec or arrays), the prior and the start values, runs
the chains (in parallel processes when there are cores for them), and turns the
draws into an :class:`~offerlab.models._hb_results.HBResults`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np

from offerlab.exceptions import OfferlabError, OfferlabWarning
from offerlab.models._constraints import (
    FIT_CONSTRAINTS,
    POSITIVE,
    Constraint,
    one_of,
    optional,
    whole,
)
from offerlab.models._estimator import ChoiceEstimator, FitRun, Progress, free_coefficients
from offerlab.models._fit_input import FitInput
from offerlab.models._hb_fit import (
    chain_jobs,
    coded_blocks,
    pooled_start,
    theta_scale_map,
)
from offerlab.models._hb_fit import coded_blocks as _coded_blocks  # noqa: F401  (tests)
from offerlab.models._hb_results import HBResults, HBStop
from offerlab.models._hb_run import StopRule, run_chains
from offerlab.models._matrix import ModelMatrix, arrays_matrix
from offerlab.numerics import (
    HBPrior,
    HBSettings,
    InterweaveCoordinates,
    hb_layout,
    hb_prior_covariance,
)

__all__ = ["HBResults", "HBStop", "HierarchicalBayes"]

# Sawtooth CBC/HB defaults (Lighthouse Studio manual, "CBC/HB Advanced Settings"; CBC/HB
# v5 Technical Paper, 2009): prior variance 1 for every parameter, prior degrees of
# freedom 5 on top of the number of parameters, 10,000 burn-in iterations and 10,000
# used draws, a jump size tuned to a 30% acceptance rate.
DEFAULT_PRIOR_VARIANCE = 1.0
DEFAULT_PRIOR_DF = 5
DEFAULT_BURN_IN = 10_000
# Huang & Wand (2013): ν = 2 makes every marginal correlation uniform on (−1, 1); the
# population SDs are then half-t(2) with scale A. A = 2.5 (on coded columns and on
# numeric columns divided by their SD, see _column_scales) is the weakly informative
# scale of Gelman et al. (2008, Annals of Applied Statistics 2(4)) for coefficients of
# unit-scale inputs: SDs up to ~7 keep 10% prior mass, unlike CBC/HB's default
# inverse-Wishart, which centres every variance at 5v.
HUANG_WAND_DF = 2.0
DEFAULT_PRIOR_SD_SCALE = 2.5
DEFAULT_PRIOR_SD_SHAPE = 0.5
MAX_PRIOR_SD_SHAPE = 100.0
DEFAULT_DRAWS = 10_000
TARGET_ACCEPTANCE = 0.3
# Random-walk steps of every respondent per iteration and the stopping rule's defaults
# (bench/README.md, "Hierarchical Bayes until converged", has the measurements).
DEFAULT_INDIVIDUAL_STEPS = 15
# Leapfrog steps of every respondent's HMC move per iteration (0: the random-walk steps).
DEFAULT_INDIVIDUAL_LEAPFROG = 4
# Leapfrog steps of the joint shift's HMC beside it (0: a random-walk shift).
DEFAULT_SHIFT_LEAPFROG = 2
# Leapfrog steps of the interweaving move (non-centred HMC on α and D's Cholesky factor).
DEFAULT_INTERWEAVE_LEAPFROG = 6
DEFAULT_MAX_DRAWS = 10_000
DEFAULT_CHECK_EVERY = 500


@dataclass(kw_only=True, eq=False)
class HierarchicalBayes(ChoiceEstimator[HBResults]):
    """Hierarchical Bayes MNL: individual part-worths drawn from a normal population.

    Parameters
    ----------
    burn_in : int, default 10,000
        Iterations before draws are saved (the proposal scales adapt during them).
    draws : int, default 10,000
        Saved draws per chain (after thinning).
    thin : int, default 1
        Save every ``thin``-th iteration after burn-in.
    chains : int, default 2
        Independent chains (different start values and random streams); R-hat
        compares them.
    n_jobs : int, optional
        Processes running the chains (default: one per chain, at most one per core).
    prior_variance : float, default 1
        v: the prior covariance of the part-worths' population covariance is centred
        on v I (CBC/HB's proper prior for coded attributes, see
        :func:`~offerlab.numerics._hb.hb_prior_covariance`).
    prior_df : int, default 5
        Degrees of freedom of the inverse-Wishart prior in addition to the number of
        parameters K (ν = K + prior_df), as CBC/HB.
    signs : mapping of str to int, optional
        Sign constraints: ``{"price": -1}`` makes the price coefficient negative for
        every respondent (a negative log-normal coefficient, see Notes).
    target_acceptance : float, default 0.3
        Acceptance rate the per-respondent jump sizes aim at during burn-in.
    keep_draws : int, default 100
        Individual draws saved per respondent and chain (evenly spaced).
    shift_moves : bool, default True
        Add a joint shift of α and all θ_r each iteration (see Notes). False gives
        exactly the CBC/HB / bayesm sampler.
    level_coding : {"effects", "dummy"}, default "effects"
    dual : {"sawtooth", "joint"}, default "sawtooth"
        Likelihood of dual-response answers (see MultinomialLogit).
    covariance : {"full", "diagonal"}, default "full"
        Population covariance: full (inverse-Wishart prior, CBC/HB) or diagonal
        (independent coefficients, each variance inverse-gamma with ν = 1 + prior_df),
        the counterpart of a mixed logit with uncorrelated random coefficients.
    covariance_prior : {"inverse-wishart", "huang-wand"}, default "inverse-wishart"
        Prior of the full population covariance D. "inverse-wishart" is CBC/HB's
        (``prior_variance``, ``prior_df``). "huang-wand" is Huang & Wand's (2013)
        hierarchical inverse-Wishart: D | a ~ IW(ν + K − 1, 2ν diag(1/a)),
        a_k ~ IG(1/2, 1/A²), ν = 2: every population correlation uniform on (−1, 1)
        and every population SD half-t(2, A) a priori, so the data rather than the
        prior decide the scale of D (see Notes). Still Gibbs: one more conjugate step
        per iteration. ``prior_variance`` then only sets where the chains start and
        ``prior_df`` is not used.
    prior_sd_scale : float, default 2.5
        A, the scale of the half-t prior of every population SD under
        ``covariance_prior="huang-wand"``, per level step of a coded attribute and per
        SD of a numeric column (log scale for sign-constrained coefficients).
    prior_sd_shape : float in (0, 100], default 0.5
        η, the shape of the Huang–Wand scales' prior a_k ~ IG(η, 1/A²). ½ is Huang &
        Wand's: half-t SDs, whose density is positive at 0. With η every variance is
        a priori 2ηA² times an F(2η, ν) variable, whose SD has density ∝ σ^(2η−1) near
        0: η = 1 makes it vanish there linearly, as the boundary-avoiding gamma(2, ·)
        prior of Chung et al. (2013, Psychometrika 78(4)) does (see Notes).
    seed : int, optional
        Seed of the random streams; the same seed gives the same draws whatever
        ``n_jobs`` is. Default: fresh entropy, recorded in ``results.seed``.
    interweave : bool, default True
        Add the interweaving move: α and the Cholesky factor of D moved by HMC with
        the respondents' standardised deviations held fixed (non-centred), which mixes
        the population covariance where the Gibbs steps crawl (see
        :mod:`offerlab.numerics._hb_chain`).
    interweave_leapfrog : int, default 6
        Leapfrog steps of the interweaving move per iteration.
    interweave_coordinates : {"entries", "row-ratios"}, default "entries"
        How the interweaving move sees the Cholesky factor Λ of D: its own entries, or
        each row as its diagonal times ratios (Λ_kj / Λ_kk). Row ratios suit studies
        where some population variances are near zero (attributes that people value
        alike): there the posterior is a funnel whose neck the whole row of Λ enters,
        and entries mix it slowly (see Notes).
    individual_leapfrog : int, default 4
        Every respondent's θ_r moves once per iteration by Hamiltonian Monte Carlo with
        this many leapfrog steps (mass matrix H_r + D⁻¹, the analytic logit gradient,
        all respondents at once); 0 gives the random-walk steps below instead.
    shift_leapfrog : int, default 2
        With the respondents' HMC, the joint shift of α and all θ_r (``shift_moves``)
        moves by an HMC transition of this many leapfrog steps, mass matrix Σ_r H_r;
        0 gives a random-walk shift.
    individual_steps : int, default 15
        Random-walk Metropolis steps of every respondent per iteration (used when
        ``individual_leapfrog`` is 0).
    until_converged : bool, default False
        Save draws in segments of ``check_every`` per chain until R-hat < 1.01 and
        bulk and tail ESS > 400 hold for every population mean, covariance entry and
        every respondent's coefficients, or until ``max_draws`` per chain or
        ``max_seconds`` have passed; ``draws`` is then not used. ``results.stop``
        says why the run stopped and what fell short.
    max_draws, max_seconds, check_every :
        The caps and the segment length of ``until_converged``.
    stop_on_individual : bool, default True
        Whether the respondents' coefficients must pass too (they are diagnosed and
        reported either way).

    Notes
    -----
    Each iteration is a Gibbs sweep: population mean α | θ, D; covariance D | θ, α
    (inverse-Wishart, flat prior on α as CBC/HB); then every respondent's θ_r, all
    at once (vectorised): by default one HMC transition of ``individual_leapfrog``
    leapfrog steps (mass matrix H_r + D⁻¹, the analytic logit gradient, step sizes
    adapted in burn-in towards 65% acceptance, then frozen); with
    ``individual_leapfrog=0`` by random-walk Metropolis steps with proposal
    covariance s_r² (H_r + D⁻¹)⁻¹ as bayesm's ``rhierMnlRwMixture``, s_r adapted in
    burn-in towards ``target_acceptance`` and then frozen.

    With ``shift_moves`` every iteration also proposes (θ_r, α) → (θ_r + δ, α + δ)
    for all r: the population density of θ_r − α and the flat prior of α are
    unchanged, so the move is accepted on the likelihood ratio alone. It leaves the
    posterior unchanged and speeds up the slowest part of the Allenby–Rossi
    sampler, the drift of α, which otherwise waits for every θ_r to move. Beside the
    respondents' HMC, δ is drawn by an HMC transition on the likelihood Π_r L_r(θ_r + δ)
    (gradient Σ_r ∂ℓ_r/∂θ_r, mass Σ_r H_r), which carries α about a posterior SD per
    iteration where a random-walk δ in K dimensions moves it ~1/K of the way.

    With 12 tasks for 15 coefficients the data pin the scale of D down weakly, so
    the prior decides much of it: CBC/HB's inverse-Wishart with its defaults centres
    every variance at 5 and inflated the variances of a simulated study by 1.7x;
    the Huang–Wand prior lets them follow the data (see bench/README.md).

    Where a population variance is near zero, Huang & Wand's half-t SD prior
    (``prior_sd_shape=0.5``) keeps positive density at σ = 0, so log σ has a long left
    tail: the posterior is a funnel whose neck the chains enter and leave slowly, and
    R-hat and ESS of the covariance entries involving that coefficient lag behind
    the rest. ``prior_sd_shape=1`` makes the SD's prior density vanish linearly at 0
    (Chung et al. 2013's argument for a gamma(2, ·) prior on an SD): the tail in log σ
    then falls off twice as fast, at the price of pulling a near-zero SD up by a
    fraction of its posterior spread. ``interweave_coordinates="row-ratios"`` moves such
    a variance as one coordinate, log Λ_kk, with its row's off-diagonals as ratios to
    it: on the demo's answers (4 chains, η = 1) every seed tried then passed every check
    within 3,500-6,000 draws per chain, where with entries one seed's maintenance
    variance (about 0.003) was still short after 8,000. On the 1,000-respondent bench,
    with no variance near zero, row ratios needed about 50% more draws under the
    Huang–Wand prior and about the same under the inverse-Wishart.

    Sign constraints use the log-normal transform (Allenby & Rossi; Train 2009,
    ch. 12): β_rk = s_k exp(θ_rk) with θ_rk normal in the population, so every
    respondent's coefficient has the sign s_k. The population mean and SD reported
    for such a coefficient are those of β (−exp(μ + σ²/2) …); ``theta_mean`` keeps
    the normal scale. Unlike CBC/HB's constraints by "tying", this is a proper
    model whose draws are draws of its posterior. It applies to single-column
    coefficients (linear price, spec coefficients); part-worth levels cannot be
    ordered this way.
    """

    _parameter_constraints: ClassVar[dict[str, Constraint]] = {
        "burn_in": whole(0),
        "draws": whole(4),
        "thin": whole(1),
        "chains": whole(1),
        "n_jobs": optional(whole(1)),
        "prior_variance": POSITIVE,
        "prior_df": POSITIVE,
        "target_acceptance": Constraint(
            "a float in (0, 1)", lambda v: isinstance(v, float) and 0 < v < 1
        ),
        "keep_draws": whole(1),
        **FIT_CONSTRAINTS,
        "covariance": one_of("full", "diagonal"),
        "covariance_prior": one_of("inverse-wishart", "huang-wand"),
        "prior_sd_scale": POSITIVE,
        # Beyond ~100 the scales' prior is all but a point mass; at 1e308 the draws of a
        # underflow and the chains fail.
        "prior_sd_shape": Constraint(
            "a number in (0, 100]", lambda v: POSITIVE.holds(v) and v <= MAX_PRIOR_SD_SHAPE
        ),
        "interweave_leapfrog": whole(1),
        "interweave_coordinates": one_of("entries", "row-ratios"),
        "interweave": Constraint("True or False", lambda v: isinstance(v, bool)),
        "individual_steps": whole(1),
        "individual_leapfrog": whole(0),
        "shift_leapfrog": whole(0),
        "until_converged": Constraint("True or False", lambda v: isinstance(v, bool)),
        "max_draws": whole(8),
        "max_seconds": optional(POSITIVE),
        "check_every": whole(8),
        "stop_on_individual": Constraint("True or False", lambda v: isinstance(v, bool)),
    }

    burn_in: int = DEFAULT_BURN_IN
    draws: int = DEFAULT_DRAWS
    thin: int = 1
    chains: int = 2
    n_jobs: int | None = None
    prior_variance: float = DEFAULT_PRIOR_VARIANCE
    prior_df: int = DEFAULT_PRIOR_DF
    signs: Mapping[str, int] | None = None
    target_acceptance: float = TARGET_ACCEPTANCE
    keep_draws: int = 100
    shift_moves: bool = True
    seed: int | None = None
    covariance: Literal["full", "diagonal"] = "full"
    covariance_prior: Literal["inverse-wishart", "huang-wand"] = "inverse-wishart"
    prior_sd_scale: float = DEFAULT_PRIOR_SD_SCALE
    prior_sd_shape: float = DEFAULT_PRIOR_SD_SHAPE
    interweave: bool = True
    interweave_leapfrog: int = DEFAULT_INTERWEAVE_LEAPFROG
    interweave_coordinates: InterweaveCoordinates = "entries"
    individual_steps: int = DEFAULT_INDIVIDUAL_STEPS
    individual_leapfrog: int = DEFAULT_INDIVIDUAL_LEAPFROG
    shift_leapfrog: int = DEFAULT_SHIFT_LEAPFROG
    until_converged: bool = False
    max_draws: int = DEFAULT_MAX_DRAWS
    max_seconds: float | None = None
    check_every: int = DEFAULT_CHECK_EVERY
    stop_on_individual: bool = True

    def __post_init__(self) -> None:
        self.signs = dict(self.signs or {})

    def check(self) -> None:
        """Raise :class:`OfferlabError` for a parameter out of its constraint."""
        super().check()
        if self.covariance_prior == "huang-wand" and self.covariance != "full":
            raise OfferlabError(
                "covariance_prior='huang-wand' is a prior of a full covariance matrix; "
                "use it with covariance='full' (got covariance='diagonal')"
            )
        for name, sign in self.signs.items():
            if sign not in (-1, 1):
                raise OfferlabError(f"signs[{name!r}] must be -1 or +1; got {sign!r}")

    # -- fitting ----------------------------------------------------------------------------
    def _fit_given(self, given: FitInput, run: FitRun) -> HBResults:
        """The conjoint attributes' blocks shape the prior; the holdouts' hit rate is
        reported."""
        if run.start is not None:
            raise OfferlabError(
                "HierarchicalBayes starts every chain from the pooled MNL; it takes no start"
            )
        blocks = None if given.coding is None else coded_blocks(given.coding)
        results = self._fit_matrix(given.design, run.progress, blocks=blocks)
        results.source = given.source  # the sampler builds the results; the front labels them
        holdouts = given.data.holdouts()
        if not holdouts.frame.empty:
            results.holdout_hit_rate, results.holdout_probability = results.hit_rate(holdouts)
        return results

    def fit_arrays(  # type: ignore[override]  # respondents are required, weights are not used
        self,
        X: np.ndarray,
        y: np.ndarray,
        *,
        groups: np.ndarray,
        available: np.ndarray | None = None,
        names: Sequence[str] | None = None,
        offset: np.ndarray | None = None,
        progress: Progress | None = None,
    ) -> HBResults:
        """Estimate from arrays: X (N, J, K), y (N,), groups (N,) = respondent of each row."""
        self.check()
        X = np.asarray(X, dtype=float)
        design = arrays_matrix(X, y, available=available, groups=groups, names=names, offset=offset)
        return self._fit_matrix(design, progress, blocks=None)

    # -- the work ---------------------------------------------------------------------------
    def _fit_matrix(
        self,
        design: ModelMatrix,
        progress: Callable[[float], None] | None,
        blocks: list[tuple[int, int, np.ndarray]] | None,
    ) -> HBResults:
        free_coefficients(design)
        names = list(design.names)
        if design.weights is not None:
            message = (
                "hierarchical Bayes ignores the weights (each respondent's likelihood is "
                "their own; weight the respondents in the share simulator instead)"
            )
            warnings.warn(OfferlabWarning.because("weights_ignored", message), stacklevel=3)
        signs = self._sign_vector(names)
        start = pooled_start(design, blocks, signs)
        prior = self._prior(len(names), blocks)
        settings = self._settings()
        seed = self.seed
        if seed is None:
            seed = int(np.random.SeedSequence().entropy % (2**63))
        jobs = chain_jobs(start, prior, settings, signs, seed, self.chains)
        run = run_chains(jobs, names, self._stop_rule(), n_jobs=self.n_jobs, progress=progress)
        chains, layout = run.chains, start.layout
        if start.sampled_x is not design.X:
            chains = [theta_scale_map(signs, start.scales).unscale(c) for c in chains]
            layout = hb_layout(design.X, design.y, design.available, design.groups, design.offset)
        return HBResults._from_chains(
            chains,
            design=design,
            layout=layout,
            names=names,
            signs=signs,
            prior=prior,
            settings=settings,
            seed=seed,
            elapsed=run.seconds,
            prior_variance=float(self.prior_variance),
            prior_df=float(self.prior_df),
            run=run,
        )

    def _sign_vector(self, names: list[str]) -> np.ndarray:
        signs = np.zeros(len(names))
        for name, sign in self.signs.items():
            if name not in names:
                raise OfferlabError(
                    f"signs: no coefficient named {name!r}; sign constraints apply to single "
                    f"coefficients (a linear price, a spec coefficient): {names}"
                )
            signs[names.index(name)] = sign
        return signs

    def _prior(self, K: int, blocks: list[tuple[int, int, np.ndarray]] | None) -> HBPrior:
        V0 = hb_prior_covariance(K, float(self.prior_variance), blocks)
        diagonal = self.covariance == "diagonal"
        if diagonal:
            V0 = np.diag(np.diag(V0))
        if self.covariance_prior == "huang-wand":
            return HBPrior(
                V0=V0,
                df=HUANG_WAND_DF,
                kind="huang-wand",
                scale=np.full(K, float(self.prior_sd_scale)),
                scale_shape=float(self.prior_sd_shape),
            )
        return HBPrior(V0=V0, df=(1 if diagonal else K) + float(self.prior_df), diagonal=diagonal)

    def _settings(self) -> HBSettings:
        cap = self.max_draws if self.until_converged else self.draws
        return HBSettings(
            burn_in=int(self.burn_in),
            draws=int(self.draws),
            thin=int(self.thin),
            target_acceptance=float(self.target_acceptance),
            keep_individual=int(self.keep_draws),
            shift_moves=bool(self.shift_moves),
            interweave=bool(self.interweave),
            individual_steps=int(self.individual_steps),
            individual_leapfrog=int(self.individual_leapfrog),
            shift_leapfrog=int(self.shift_leapfrog),
            interweave_leapfrog=int(self.interweave_leapfrog),
            interweave_coordinates=self.interweave_coordinates,
            # about 1,000 stored individual draws per chain at most (memory: R·K each)
            individual_every=max(1, -(-int(cap) // 1000)),
        )

    def _stop_rule(self) -> StopRule:
        return StopRule(
            until_converged=bool(self.until_converged),
            check_every=int(self.check_every),
            max_draws=int(self.max_draws),
            max_seconds=self.max_seconds,
            individual=bool(self.stop_on_individual),
        )
