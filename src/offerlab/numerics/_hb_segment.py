"""What a stretch of a hierarchical Bayes chain leaves behind: traces and saved draws."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from offerlab.numerics._hb_kernels import transform_coefficients

__all__ = ["ChainSegment"]


@dataclass
class ChainSegment:
    """Traces of every iteration and the draws saved in one call of a chain.

    ``individual`` holds every ``individual_every``-th saved draw of every respondent
    (β scale, single precision, shape (R, m, K)): the draws the decisions resample and
    the individual convergence diagnostics read.
    """

    alpha_trace: np.ndarray  # (I, K)
    sd_trace: np.ndarray  # (I, K)
    acceptance: np.ndarray  # (I,)
    loglike: np.ndarray  # (I,)
    alpha: np.ndarray  # (S, K)
    D: np.ndarray  # (S, K, K)
    hw_a: np.ndarray | None  # (S, K)
    beta_sum: np.ndarray  # (R, K)
    beta_sq: np.ndarray  # (R, K)
    theta_sum: np.ndarray  # (R, K)
    individual: np.ndarray  # (R, m, K)
    accepted: np.ndarray  # (R,) accepted individual steps
    individual_every: int
    sampled_iterations: int = 0

    @classmethod
    def empty(cls, n_iter: int, n_draws: int, chain) -> ChainSegment:
        R, K = chain.R, chain.K
        every = max(1, chain.setup.settings.individual_every)
        return cls(
            alpha_trace=np.empty((n_iter, K)),
            sd_trace=np.empty((n_iter, K)),
            acceptance=np.empty(n_iter),
            loglike=np.empty(n_iter),
            alpha=np.empty((n_draws, K)),
            D=np.empty((n_draws, K, K)),
            hw_a=np.empty((n_draws, K)) if chain.huang_wand else None,
            beta_sum=np.zeros((R, K)),
            beta_sq=np.zeros((R, K)),
            theta_sum=np.zeros((R, K)),
            individual=np.empty((R, -(-n_draws // every), K), np.float32),
            accepted=np.zeros(R),
            individual_every=every,
            sampled_iterations=n_iter if n_draws else 0,
        )

    @property
    def n_draws(self) -> int:
        return self.alpha.shape[0]

    def record_trace(self, i: int, chain, rate: float) -> None:
        self.alpha_trace[i] = chain.alpha
        self.sd_trace[i] = np.sqrt(np.square(chain.Minv).sum(axis=0))  # diag(Minv' Minv)
        self.acceptance[i] = rate
        self.loglike[i] = chain.ll.sum()
        self.accepted += chain.last_accept

    def record_draw(self, s: int, chain) -> None:
        self.alpha[s] = chain.alpha
        np.matmul(chain.Minv.T, chain.Minv, out=self.D[s])
        if self.hw_a is not None:
            self.hw_a[s] = chain.a_hw
        beta = transform_coefficients(chain.theta, chain.signs)
        self.beta_sum += beta
        self.beta_sq += np.square(beta)
        self.theta_sum += chain.theta
        if s % self.individual_every == 0:
            self.individual[:, s // self.individual_every] = beta

    @classmethod
    def concat(cls, parts: list[ChainSegment]) -> ChainSegment:
        """One segment from consecutive ones (burn-in traces first)."""
        with_draws = [p for p in parts if p.n_draws]
        first = with_draws[0] if with_draws else parts[0]
        return cls(
            alpha_trace=np.concatenate([p.alpha_trace for p in parts]),
            sd_trace=np.concatenate([p.sd_trace for p in parts]),
            acceptance=np.concatenate([p.acceptance for p in parts]),
            loglike=np.concatenate([p.loglike for p in parts]),
            alpha=np.concatenate([p.alpha for p in parts]),
            D=np.concatenate([p.D for p in parts]),
            hw_a=None if first.hw_a is None else np.concatenate([p.hw_a for p in parts]),
            beta_sum=sum(p.beta_sum for p in with_draws) if with_draws else first.beta_sum,
            beta_sq=sum(p.beta_sq for p in with_draws) if with_draws else first.beta_sq,
            theta_sum=sum(p.theta_sum for p in with_draws) if with_draws else first.theta_sum,
            individual=np.concatenate([p.individual for p in parts], axis=1),
            accepted=sum(p.accepted for p in with_draws) if with_draws else first.accepted,
            individual_every=first.individual_every,
            sampled_iterations=sum(p.sampled_iterations for p in parts),
        )

    def as_dict(self, keep_individual: int, scale: np.ndarray) -> dict[str, np.ndarray]:
        """The chain's output in :func:`run_hb_chain`'s layout (saved draws after burn-in)."""
        n = max(self.n_draws, 1)
        stored = self.individual.shape[1]
        keep = max(0, min(keep_individual, stored))
        pick = np.linspace(0, stored - 1, keep).round().astype(int) if keep else []
        out = {
            "alpha": self.alpha,
            "D": self.D,
            "beta_mean": self.beta_sum / n,
            "beta_sq": self.beta_sq / n,
            "theta_mean": self.theta_sum / n,
            "beta_draws": self.individual[:, pick].astype(float),
            "alpha_trace": self.alpha_trace,
            "sd_trace": self.sd_trace,
            "acceptance": self.acceptance,
            "loglike": self.loglike,
            "scale": scale,
            "acceptance_saved": self.accepted / max(self.sampled_iterations, 1),
        }
        if self.hw_a is not None:
            out["hw_a"] = self.hw_a
        return out
