"""The sampler on sparse designs of signed item pairs (MaxDiff).

Where every design column holds at most two nonzero entries, each ±1, the chains gather
±β_i ± β_j instead of multiplying by the design (HBChain._utilities). That is exact, so
the utilities and the whole chain must be bit for bit those of the product. The
gradient's product with a sparse design is a sparse matrix's: the same up to the
rounding of single precision.
"""

from __future__ import annotations

import numpy as np
import pytest
from _hb_sim import small_chain, small_chain_problem

from offerlab.design import make_maxdiff_design
from offerlab.models import maxdiff_answers
from offerlab.models._maxdiff import _stacked_choices
from offerlab.numerics._hb import HBPrior, HBSettings, hb_layout
from offerlab.numerics._hb_kernels import WORK_DTYPE, gather_utilities, signed_pair_indices
from offerlab.simulate import simulate_maxdiff

ITEMS = tuple(f"item_{k:02d}" for k in range(20))  # the MaxDiff bench's items and tasks


@pytest.fixture(scope="module")
def maxdiff_layout():
    """30 people's best–worst answers, 12 tasks of 5 of 20 items, as the sampler's layout."""
    respondents = 30
    design = make_maxdiff_design(ITEMS, 5, 12, versions=2, seed=3)
    rng = np.random.default_rng(4)
    truth = rng.normal(0.0, 1.0, size=(respondents, len(ITEMS)))
    answers = maxdiff_answers(simulate_maxdiff(design.sets, truth, ITEMS, seed=5), list(ITEMS))
    X, y, available, groups = _stacked_choices(answers)
    return hb_layout(X, y, available, groups)


def _gathered(beta: np.ndarray, layout) -> tuple[bool, np.ndarray]:
    R, K, n = layout.xd_work.shape
    rows = np.zeros((R, 2 * K + 1), WORK_DTYPE)
    out = np.full((R, n), 7.0, WORK_DTYPE)
    done = gather_utilities(beta, layout.xd_pairs, rows, np.empty_like(out), out)
    return done, out


def test_the_gathered_utilities_are_the_product_bit_for_bit(maxdiff_layout) -> None:
    layout = maxdiff_layout
    assert layout.xd_pairs is not None
    R, K, _ = layout.xd_work.shape
    rng = np.random.default_rng(1)
    for scale in (1e-3, 1.0, 40.0):
        beta = rng.normal(0.0, scale, size=(R, K))
        product = np.matmul(beta.astype(WORK_DTYPE)[:, None, :], layout.xd_work)[:, 0, :]
        done, gathered = _gathered(beta, layout)
        assert done
        np.testing.assert_array_equal(gathered, product)


def test_a_coefficient_that_is_not_finite_leaves_it_to_the_product(maxdiff_layout) -> None:
    layout = maxdiff_layout
    R, K, _ = layout.xd_work.shape
    beta = np.zeros((R, K))
    beta[3, 2] = -np.inf  # the product gives NaN for the whole respondent (0 · ∞)
    done, out = _gathered(beta, layout)
    assert not done
    assert np.all(out == 7.0)


def test_only_designs_of_signed_pairs_are_gathered() -> None:
    layout, _ = small_chain_problem(10, 3)  # normal attributes: a product
    assert layout.xd_pairs is None
    pairs = np.zeros((2, 3, 4), WORK_DTYPE)
    pairs[0, [0, 2], 1] = 1.0, -1.0
    assert signed_pair_indices(pairs) is not None
    assert signed_pair_indices(2.0 * pairs) is None  # not ±1
    triple = pairs.copy()
    triple[0, 1, 1] = 1.0  # three items in one column
    assert signed_pair_indices(triple) is None


def test_a_chain_that_gathers_is_the_chain_that_multiplies(maxdiff_layout) -> None:
    layout = maxdiff_layout
    R, K = layout.Xd.shape[0], layout.Xd.shape[3]
    settings = HBSettings(
        burn_in=20, draws=20, interweave=True, individual_leapfrog=3, shift_leapfrog=2,
        item_likelihood=False,  # the design's utilities (test_hb_items.py: the items')
    )  # fmt: skip
    prior = HBPrior(np.eye(K), K + 5.0)
    theta0 = np.random.default_rng(2).normal(0.0, 0.5, size=(R, K))
    chains = [small_chain(layout, prior, settings, theta0) for _ in range(2)]
    chains[1].likelihood.pairs = None  # the product
    for chain in chains:
        chain.burn(20)
        chain.sample(20)
    a, b = chains
    assert a.likelihood.pairs is not None and a.likelihood.sparse_gradient is not None
    for name in ("theta", "alpha", "M", "ll", "V", "hmc_eps"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


def test_the_sparse_gradient_is_the_dense_one_up_to_rounding(maxdiff_layout) -> None:
    layout = maxdiff_layout
    XT = layout.xd_work
    R, K, n = XT.shape
    assert layout.xd_sparse_gradient is not None
    P = np.random.default_rng(3).random((R, n)).astype(WORK_DTYPE)
    dense = np.matmul(XT, P[:, :, None])[:, :, 0]
    sparse = (layout.xd_sparse_gradient @ P.reshape(-1)).reshape(R, K)
    assert sparse.dtype == WORK_DTYPE
    np.testing.assert_allclose(sparse, dense, rtol=0, atol=1e-6 * np.abs(dense).max())
    small, _ = small_chain_problem(10, 3)  # every entry nonzero: dense
    assert small.xd_sparse_gradient is None
