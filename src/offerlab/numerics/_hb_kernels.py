"""Small kernels of the hierarchical Bayes sampler: likelihood buffers and matrix draws."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
from scipy.linalg.lapack import dpotrf as _dpotrf
from scipy.linalg.lapack import dtrtri as _dtrtri

if TYPE_CHECKING:  # _hb imports this module
    from offerlab.numerics._hb import HBLayout

# The dtype of the sampler's utilities and likelihoods (see run_hb_chain's Notes).
WORK_DTYPE = np.float32

# The gradient's product with the design is sparse when at most this share of the
# design's entries is nonzero (HBLayout.xd_sparse_gradient). On the MaxDiff bench (a
# tenth nonzero) the sparse product took 0.27 ms against BLAS's 0.45 with the design in
# cache, 0.4-0.5 against 1.2 ms out of it; on random designs the two were even at 0.3.
SPARSE_GRADIENT = 0.15

__all__ = [
    "SPARSE_GRADIENT",
    "WORK_DTYPE",
    "DesignLikelihood",
    "LoglikeBuffers",
    "gather_utilities",
    "huang_wand_log_marginal",
    "huang_wand_scales",
    "inverse_root_lower",
    "lower_inverse",
    "proposal_roots",
    "signed_pair_indices",
    "transform_coefficients",
    "wishart_precision_root",
]


@dataclass
class LoglikeBuffers:
    """Work buffers for ℓ_r from utilities V (R, A·T), alternatives first."""

    E: np.ndarray  # (A, R, T)
    s: np.ndarray  # (R, T)
    neg_ones: np.ndarray  # (T,) of −1

    @classmethod
    def empty(cls, R: int, A: int, T: int) -> LoglikeBuffers:
        return cls(
            np.empty((A, R, T), WORK_DTYPE),
            np.empty((R, T), WORK_DTYPE),
            -np.ones(T, WORK_DTYPE),
        )

    def loglike(self, V: np.ndarray, out: np.ndarray) -> np.ndarray:
        """ℓ_r = −Σ_t log(1 + Σ_a exp(V_rat)).

        The exponentials are written alternative-major so that the sum over
        alternatives adds contiguous (R, T) slabs. log(1 + s) rather than log1p:
        numpy's log is vectorised, and the absolute error (what a Metropolis ratio
        sees) is a rounding error either way. exp overflows only for absurd proposals:
        their ℓ = −inf and they are rejected (the caller silences the warning).
        """
        s = self._denominators(V)
        np.log(s, out=s)
        return np.matmul(s, self.neg_ones, out=out)

    def _denominators(self, V: np.ndarray) -> np.ndarray:
        """exp(V) into ``E`` (alternative-major) and 1 + Σ_a exp(V_rat) into ``s``."""
        E, s = self.E, self.s
        A, R, T = E.shape
        np.exp(V.reshape(R, A, T), out=E.transpose(1, 0, 2))
        np.add(E[0], 1.0, out=s)
        for a in range(1, A):
            s += E[a]
        return s

    def probabilities(self, V: np.ndarray, ll: np.ndarray) -> np.ndarray:
        """ℓ_r into ``ll`` and the choice probabilities of the non-chosen alternatives.

        Returns P (R, A·T) in V's layout: exp(V) / (1 + Σ_a exp(V)) per task.
        """
        s = self._denominators(V)
        E = self.E
        A, R, T = E.shape
        # Divided straight into V's layout (no transposed copy of the quotient).
        P = np.empty((R, A * T), E.dtype)
        np.divide(E, s[None], out=P.reshape(R, A, T).transpose(1, 0, 2))
        np.log(s, out=s)
        np.matmul(s, self.neg_ones, out=ll)
        return P


class DesignLikelihood:
    """ℓ_r and ∂ℓ_r/∂β_r from the utilities x̃'β_r of every slot of an HBLayout.

    The chain's utilities V (R, A·T) are this likelihood's state: the random-walk moves
    update them by increments. Single precision (see run_hb_chain's Notes); the design
    is read only, shared with the fit's other chains (HBLayout.xd_work).
    """

    def __init__(self, layout: HBLayout) -> None:
        R, T, A, K = layout.Xd.shape
        self.R, self.K, self.AT = R, K, A * T
        self.XT = layout.xd_work
        self.base = layout.base_work
        # Designs of signed item pairs (MaxDiff): utilities by a gather, bit for bit the
        # product's (gather_utilities). On the MaxDiff bench 0.27 → 0.19 ms an evaluation
        # with the design in cache, 1.1 → 0.45 ms out of it (two chains running).
        self.pairs = layout.xd_pairs
        # Sparse designs (MaxDiff): the gradient's product by a sparse matrix. Its sums
        # run in another order than BLAS's, so the gradient differs in the last bits of
        # single precision (relative 2e-7 on the bench): the same target, other draws.
        self.sparse_gradient = layout.xd_sparse_gradient
        if self.pairs is not None:
            self._pair_rows = np.zeros((R, 2 * K + 1), WORK_DTYPE)
            self._pair_second = np.empty((R, A * T), WORK_DTYPE)
        self.buffers = LoglikeBuffers.empty(R, A, T)

    def state(self) -> np.ndarray:
        """An empty (R, A·T) array of utilities."""
        return np.empty((self.R, self.AT), WORK_DTYPE)

    def utilities(self, beta: np.ndarray, out: np.ndarray) -> np.ndarray:
        if self.pairs is None or not gather_utilities(
            beta, self.pairs, self._pair_rows, self._pair_second, out
        ):
            np.matmul(beta.astype(WORK_DTYPE)[:, None, :], self.XT, out=out[:, None, :])
        if self.base is not None:
            out += self.base
        return out

    def loglike(self, V: np.ndarray, out: np.ndarray) -> np.ndarray:
        return self.buffers.loglike(V, out)

    def loglike_gradient(self, beta: np.ndarray, V: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every ℓ_r and ∂ℓ_r/∂β_r (R, K) at β; the utilities are written into V."""
        self.utilities(beta, V)
        ll = np.empty(self.R)
        P = self.buffers.probabilities(V, ll)  # (R, A·T), alternatives first
        if self.sparse_gradient is not None:
            grad = (self.sparse_gradient @ P.reshape(-1)).reshape(self.R, self.K).astype(float)
        else:
            grad = np.matmul(self.XT, P[:, :, None])[:, :, 0].astype(float)
        np.negative(grad, out=grad)
        return ll, grad


def signed_pair_indices(XT: np.ndarray) -> np.ndarray | None:
    """Utilities as sums of two gathered coefficients, where the design allows it exactly.

    When every column of XT (R, K, n) holds at most two nonzero entries, each −1 or +1
    (item dummies of best–worst and paired-comparison tasks: x_other − x_chosen), the
    utility β_r'x is ±β_ri ± β_rj. Returns indices (2, R, n) into the flattened
    (R, 2K + 1) rows [β_r, −β_r, 0] (see :func:`gather_utilities`); None for any other
    design. The products are exact and the one sum is rounded once, in any order, and
    adding the zero terms changes nothing: the gathered utilities are bit for bit those
    of the single-precision product β_r' XT_r, without reading the (R, K, n) design
    (7.3 MB on the 1,000-respondent MaxDiff bench, 19 in 20 of its entries zero).
    """
    R, K, n = XT.shape
    nonzero = XT != 0
    count = nonzero.sum(axis=1)  # (R, n)
    if count.max(initial=0) > 2 or not np.all(np.abs(XT[nonzero]) == 1):
        return None
    k = np.arange(K)[None, :, None]
    column = np.where(XT > 0, k, K + k)  # β_k or −β_k
    first = nonzero.argmax(axis=1)
    last = K - 1 - nonzero[:, ::-1].argmax(axis=1)
    rows, slots = np.arange(R)[:, None], np.arange(n)[None, :]
    zero = 2 * K  # the row's 0
    i0 = np.where(count >= 1, column[rows, first, slots], zero)
    i1 = np.where(count == 2, column[rows, last, slots], zero)
    out = np.stack([i0, i1]).astype(np.intp) + (np.arange(R) * (2 * K + 1))[None, :, None]
    out.flags.writeable = False
    return out


def gather_utilities(
    beta: np.ndarray, index: np.ndarray, rows: np.ndarray, second: np.ndarray, out: np.ndarray
) -> bool:
    """β_r'x of every column by :func:`signed_pair_indices`' ``index``, into ``out`` (R, n).

    ``rows`` (R, 2K + 1) and ``second`` (R, n) are single-precision work buffers, the
    last column of ``rows`` 0. Returns False, writing nothing into ``out``, when a
    coefficient is not finite (or their sum overflows): the product gives NaN wherever
    0 · ∞ enters, which a gather would not, so the caller then computes the product and
    every proposal is judged as before.
    """
    K = beta.shape[1]
    rows[:, :K] = beta  # the same cast to single precision as β.astype(float32)
    if not np.isfinite(np.add.reduce(rows[:, :K], axis=None)):
        return False
    np.negative(rows[:, :K], out=rows[:, K : 2 * K])
    flat = rows.reshape(-1)
    # mode="wrap" skips the bounds check (the indices are in range by construction)
    np.take(flat, index[0], out=out, mode="wrap")
    np.take(flat, index[1], out=second, mode="wrap")
    out += second
    return True


def lower_inverse(L: np.ndarray) -> np.ndarray:
    """L⁻¹ of a lower-triangular matrix (LAPACK trtri)."""
    inv, info = _dtrtri(L, lower=1)
    if info != 0:
        raise np.linalg.LinAlgError(f"singular triangular matrix (trtri info {info})")
    return inv


def inverse_root_lower(S: np.ndarray) -> np.ndarray:
    """C lower-triangular with C C' = S⁻¹, S symmetric positive definite.

    With J the reversal permutation and J S J = L L' (Cholesky), S⁻¹ = C C' for
    C = J L'⁻¹ J, which is lower-triangular: one Cholesky factor and one triangular
    inverse instead of a full inverse followed by a second factorisation.
    """
    L, info = _dpotrf(S[::-1, ::-1], lower=1, clean=1)
    if info != 0:
        raise np.linalg.LinAlgError(f"matrix not positive definite (potrf info {info})")
    return np.ascontiguousarray(lower_inverse(L).T[::-1, ::-1])


@lru_cache(maxsize=8)
def _triangle_indices(
    K: int,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Below-diagonal and diagonal indices of a K × K matrix (cached: built once per K)."""
    return np.tril_indices(K, -1), np.diag_indices(K)


def wishart_precision_root(
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
    return inverse_root_lower(S) @ work


def huang_wand_scales(
    M: np.ndarray, nu: float, inv_A2: np.ndarray, rng: np.random.Generator, shape: float = 0.5
) -> np.ndarray:
    """Draw a | D of the Huang–Wand prior, D⁻¹ = M M'.

    Prior: D | a ~ IW(ν + K − 1, 2ν diag(1/a)), a_k ~ IG(η, 1/A_k²) independently
    (Huang & Wand: η = ½). The a_k-dependent part of the IW density is
    a_k^(−(ν+K−1)/2) exp(−ν (D⁻¹)_kk / a_k) (from |2ν diag(1/a)|^((ν+K−1)/2) and
    exp(−½ tr(2ν diag(1/a) D⁻¹))); times the prior a_k^(−η−1) exp(−1/(A_k² a_k)) the
    full conditional is a_k | D ~ IG(η + (ν + K − 1)/2, ν (D⁻¹)_kk + 1/A_k²) (for η = ½
    Huang & Wand 2013, section 4), drawn as scale / Gamma(shape, 1).
    """
    K = M.shape[0]
    precision_diag = np.square(M).sum(axis=1)  # (M M')_kk
    posterior_shape = _scales_posterior_shape(shape, nu, K)
    return (nu * precision_diag + inv_A2) / rng.standard_gamma(posterior_shape, size=K)


def _scales_posterior_shape(shape: float, nu: float, K: int) -> float:
    """c = η + (ν + K − 1)/2: the shape of a_k | D, and the power of the integral over a_k
    in the marginal p(D) (the draw and the marginal must agree on it)."""
    return shape + 0.5 * (nu + K - 1)


def huang_wand_log_marginal(
    precision_diag: np.ndarray, nu: float, inv_A2: np.ndarray, shape: float
) -> tuple[float, np.ndarray]:
    """log p(D) with the Huang–Wand scales a integrated out, but for the |D| power; and
    the diagonal S whose −½ tr(S D⁻¹) has the same gradient in D⁻¹'s diagonal.

    Each a_k enters the IW(ν + K − 1, 2ν diag(1/a)) density as
    a_k^(−(ν+K−1)/2) exp(−ν (D⁻¹)_kk / a_k); times its IG(η, 1/A_k²) prior the integral
    over a_k is Γ(c) (ν (D⁻¹)_kk + 1/A_k²)^(−c), c = η + (ν + K − 1)/2 (Huang & Wand
    2013, eq. 2 for η = ½: c = (ν + K)/2). The |D|^(−(ν+2K)/2) factor is the
    conditional IW's. The second factor depends on D⁻¹ only through its diagonal, like
    −½ tr(S D⁻¹) with S = diag(2cν / (ν (D⁻¹)_kk + 1/A_k²)).
    """
    base = nu * precision_diag + inv_A2
    power = _scales_posterior_shape(shape, nu, precision_diag.size)
    return -power * float(np.log(base).sum()), np.diag(2.0 * power * nu / base)


def proposal_roots(information: np.ndarray, M: np.ndarray) -> np.ndarray:
    """L_r' for every respondent, L_r L_r' = (H_r + D⁻¹)⁻¹, D⁻¹ = M M'.

    Returned transposed, (R, K, K): a step is the row z_r' L_r'.
    """
    precision = information + (M @ M.T)[None]
    chol = np.linalg.cholesky(precision)  # P = C C' → P⁻¹ = C'⁻¹ C⁻¹
    K = M.shape[0]
    eye = np.broadcast_to(np.eye(K), precision.shape)
    return np.linalg.solve(chol, eye)  # C⁻¹ = L_r'


def transform_coefficients(theta: np.ndarray, signs: np.ndarray | None) -> np.ndarray:
    """β = g(θ): identity, except β_k = s_k exp(θ_k) where ``signs[k]`` = s_k ≠ 0."""
    if signs is None or not np.any(signs):
        return theta
    beta = theta.copy()
    k = np.flatnonzero(signs)
    beta[..., k] = signs[k] * np.exp(theta[..., k])
    return beta
