"""The logit likelihood of choices among items (MaxDiff), from each item's exp(±β) once.

In a best–worst design every alternative is one item: its utility is s β_rk (s = +1 in
a best stage, −1 in a worst stage) or 0 (the reference item, the anchor's threshold).
A stage's log-likelihood is then

    ℓ_rt = s β_rc − log S_rt,   S_rt = Σ_(j in the stage) exp(s β_rj),

so the exponentials are those of ±β_r, 2K per respondent, instead of one per
alternative and stage (on the MaxDiff bench 38 instead of 96 per respondent and
task pair), and the stage sums and the gradient are two sparse products with a 0/1
membership matrix:

    ∂ℓ_r/∂β_rk = Σ_t s_t [c_rt = k] − e^{β_rk} Σ_(t: s=+1, k in t) 1/S_rt
                 + e^{−β_rk} Σ_(t: s=−1, k in t) 1/S_rt.

The stages are read back from the layout's x_other − x_chosen (any reading consistent
with them gives the same likelihood) and checked by rebuilding those differences
exactly; a design that is not of this kind gets None and the general path.

Single precision, as the general path's utilities. Where some |β_rk| exceeds
:data:`BETA_LIMIT`, exp(±β) would near the ends of single precision's range: ℓ_r is
then −∞ (a proposal there is rejected). At that size a logit utility says that an item
is chosen e^60 times as often as the reference; no posterior puts mass there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

__all__ = ["BETA_LIMIT", "ItemChoices", "item_choices"]

WORK_DTYPE = np.float32
BETA_LIMIT = 60.0  # exp(60) ≈ 1e26: five of them sum well inside single precision


@dataclass(frozen=True, eq=False)
class ItemChoices:
    """Best–worst stages as item memberships (built once per layout, read by every chain).

    The exponentials are one vector [e^{β} (R·K), e^{−β} (R·K), 1]: the last entry is
    the reference item's (utility 0).

    Attributes
    ----------
    stage_sums : csr_array, shape (R·T, 2·R·K + 1)
        1 where a stage holds that entry's item with that sign: S = stage_sums @ e.
    member_of : csr_array, shape (2·R·K + 1, R·T)
        Its transpose, for the gradient's Σ_t 1/S_rt.
    chosen : ndarray, shape (R, K)
        Σ_t s_t e_(c_rt): the linear part of ℓ_r.
    """

    stage_sums: sparse.csr_array
    member_of: sparse.csr_array
    chosen: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return self.chosen.shape  # type: ignore[return-value]

    # -- the chain's likelihood (DesignLikelihood's interface): its state is β itself ----
    def state(self) -> np.ndarray:
        """An empty (R, K) array for β."""
        return np.empty(self.shape)

    def utilities(self, beta: np.ndarray, out: np.ndarray) -> np.ndarray:
        out[...] = beta
        return out

    def loglike(self, beta: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Every ℓ_r at β (R, K), into ``out`` (R,)."""
        beta, outside = self._within_limit(beta)
        self._loglike_from(beta, self._exponentials(beta), outside, out)
        return out

    def loglike_gradient(self, beta: np.ndarray, V: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every ℓ_r and ∂ℓ_r/∂β_r (R, K) at β, which is written into V."""
        self.utilities(beta, V)
        beta, outside = self._within_limit(beta)
        R, K = self.shape
        e = self._exponentials(beta)
        ll = np.empty(R)
        S = self._loglike_from(beta, e, outside, ll)
        weights = self.member_of @ np.reciprocal(S, out=S)
        n = R * K
        grad = self.chosen - (e[:n] * weights[:n]).reshape(R, K)
        grad += (e[n : 2 * n] * weights[n : 2 * n]).reshape(R, K)
        if outside is not None:
            grad[outside] = 0.0
        return ll, grad

    def _within_limit(self, beta: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """β, or β with the rows beyond :data:`BETA_LIMIT` (or not finite) set to 0 and
        those rows; one reduction when none is (every proposal but absurd ones)."""
        if np.abs(beta).max(initial=0.0) <= BETA_LIMIT:  # False for NaN
            return beta, None
        outside = ~(np.abs(beta).max(axis=1) <= BETA_LIMIT)
        return np.where(outside[:, None], 0.0, beta), outside

    def _exponentials(self, beta: np.ndarray) -> np.ndarray:
        n = beta.size
        e = np.empty(2 * n + 1, WORK_DTYPE)
        plus, minus = e[:n].reshape(beta.shape), e[n : 2 * n].reshape(beta.shape)
        plus[...] = beta  # the cast to single precision
        np.negative(plus, out=minus)
        np.exp(e[: 2 * n], out=e[: 2 * n])
        e[2 * n] = 1.0
        return e

    def _loglike_from(
        self, beta: np.ndarray, e: np.ndarray, outside: np.ndarray | None, out: np.ndarray
    ) -> np.ndarray:
        """ℓ_r into ``out``; returns the stage sums S (R·T,)."""
        S = self.stage_sums @ e
        log_s = np.log(S).reshape(self.shape[0], -1)
        np.einsum("rk,rk->r", self.chosen, beta, out=out)
        out -= log_s.sum(axis=1)
        if outside is not None:
            out[outside] = -np.inf
        return S


def item_choices(Xd: np.ndarray, base: np.ndarray | None) -> ItemChoices | None:
    """The stages of an (R, T, A, K) layout as item memberships, or None.

    None unless every available slot's x_other − x_chosen is s(e_o − e_c) for one sign s
    and one chosen item c per stage (either item may be the reference, a zero row), and
    ``base`` marks availability only (0 or −∞, no offsets).
    """
    R, T, A, K = Xd.shape
    if base is None:
        available = np.ones((R, T, A), dtype=bool)
    elif np.all((base == 0) | (base == -np.inf)):
        available = base == 0
    else:
        return None
    read = _read_stages(Xd, available)
    if read is None:
        return None
    sign, chosen, other = read
    rebuilt = sign[..., None, None] * (_unit(other, K) - _unit(chosen, K)[:, :, None, :])
    if not np.array_equal(np.where(available[..., None], rebuilt, 0.0),
                          np.where(available[..., None], Xd, 0.0)):  # fmt: skip
        return None
    return _memberships(sign, chosen, other, available, K)


def _read_stages(
    Xd: np.ndarray, available: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Sign (R, T), chosen item (R, T; K for the reference) and every slot's other item
    (R, T, A; K for the reference) that would give ``Xd``; None where no reading fits."""
    R, T, _, K = Xd.shape
    if not np.isin(Xd[available], (-1.0, 0.0, 1.0)).all():
        return None
    seen = available[..., None]
    sign = np.zeros((R, T))
    chosen = np.full((R, T), K)
    for s in (-1.0, 1.0):  # +1 read last: it wins where both fit
        # item k is chosen where every available slot holds −s at k
        common = np.all(np.where(seen, Xd == -s, True), axis=2) & available.any(axis=2)[..., None]
        found = common.any(axis=2)
        sign = np.where(found, s, sign)
        chosen = np.where(found, common.argmax(axis=2), chosen)
    # the reference chosen: every available slot holds one +s (its other item)
    unread = sign == 0
    nonzero = Xd.sum(axis=3)  # ±1 per slot when its only entry is the other item's
    positive = np.all(np.where(available, nonzero == 1, True), axis=2)
    sign = np.where(unread & positive, 1.0, sign)
    sign = np.where(unread & ~positive, -1.0, sign)
    # the other item: where the slot holds +s; the reference where it holds none
    is_other = Xd == sign[..., None, None]
    other = np.where(is_other.any(axis=3), is_other.argmax(axis=3), K)
    return sign, chosen, other


def _unit(items: np.ndarray, K: int) -> np.ndarray:
    """One-hot rows of ``items`` (K: the reference, a zero row)."""
    return np.eye(K + 1)[items][..., :K]


def _memberships(
    sign: np.ndarray, chosen: np.ndarray, other: np.ndarray, available: np.ndarray, K: int
) -> ItemChoices:
    R, T, _ = other.shape
    n = R * K
    person = np.arange(R)[:, None, None] * K

    def column(items: np.ndarray, s: np.ndarray) -> np.ndarray:
        """Entry of e: r·K + k (best), R·K + r·K + k (worst), 2·R·K (the reference)."""
        return np.where(items == K, 2 * n, person + items + np.where(s > 0, 0, n))

    present = available.any(axis=2)  # padded stages hold only the reference: S = 1
    members = np.concatenate(
        [column(chosen[..., None], sign[..., None]), column(other, sign[..., None])], axis=2
    )
    keep = np.concatenate([np.ones_like(present)[..., None], available], axis=2)
    members[..., 0] = np.where(present, members[..., 0], 2 * n)
    stage = np.broadcast_to(np.arange(R * T).reshape(R, T, 1), members.shape)
    index = np.int32 if 2 * n + 1 < np.iinfo(np.int32).max else np.int64
    stage_sums = sparse.csr_array(
        sparse.coo_array(
            (np.ones(int(keep.sum()), WORK_DTYPE), (stage[keep], members[keep])),
            shape=(R * T, 2 * n + 1),
        )
    )
    stage_sums.sum_duplicates()
    stage_sums.indices = stage_sums.indices.astype(index)
    stage_sums.indptr = stage_sums.indptr.astype(index)
    member_of = sparse.csr_array(stage_sums.T)
    counts = np.zeros((R, K))
    rr, tt = np.nonzero(present & (chosen < K))
    np.add.at(counts, (rr, chosen[rr, tt]), sign[rr, tt])
    return ItemChoices(stage_sums, member_of, counts)
