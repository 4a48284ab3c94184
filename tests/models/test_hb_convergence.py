"""Rank-normalised split R-hat and ESS (Vehtari et al. 2021), checked against ArviZ."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special, stats

from offerlab.numerics._convergence import (
    diagnose,
    ess_bulk,
    ess_tail,
    rank_normalize,
    rhat,
    split_chains,
)


def _ar1_chains() -> np.ndarray:
    """Four AR(1) chains (φ = 0.9), the first shifted by 0.3: slightly unmixed."""
    rng = np.random.default_rng(0)
    x = np.zeros((4, 1000))
    for c in range(4):
        e = rng.standard_normal(1000)
        for t in range(1, 1000):
            x[c, t] = 0.9 * x[c, t - 1] + e[t]
    x[0] += 0.3
    return x


def test_matches_arviz_on_autocorrelated_and_heavy_tailed_draws() -> None:
    # Reference values: arviz 0.23.4 (az.rhat, az.ess(method="bulk"/"tail")) on the very
    # same arrays, computed once in bench/.venv-hb.
    x = _ar1_chains()
    assert rhat(x) == pytest.approx(1.0224865755366122, rel=1e-12)
    assert ess_bulk(x) == pytest.approx(194.2369286063966, rel=1e-10)
    assert ess_tail(x) == pytest.approx(340.0344989185472, rel=1e-10)
    t3 = _t3_chains()
    assert rhat(t3) == pytest.approx(0.999668093255058, rel=1e-12)
    assert ess_bulk(t3) == pytest.approx(3792.576564269559, rel=1e-10)
    assert ess_tail(t3) == pytest.approx(3786.735662271849, rel=1e-10)


def test_independent_draws_have_full_ess_and_rhat_one() -> None:
    draws = np.random.default_rng(3).standard_normal((4, 2000, 3))
    assert np.all(np.abs(rhat(draws) - 1) < 0.005)
    assert np.all(ess_bulk(draws) > 6000) and np.all(ess_tail(draws) > 5000)


def test_a_chain_stuck_elsewhere_or_trending_fails_rhat() -> None:
    rng = np.random.default_rng(4)
    stuck = rng.standard_normal((4, 500))
    stuck[1] += 1.0
    assert rhat(stuck) > 1.05  # far past the 1.01 alarm
    trend = rng.standard_normal((2, 500)) + np.linspace(0, 3, 500)  # both chains drift
    assert rhat(trend) > 1.05  # only splitting the chains can see this
    wide = rng.standard_normal((4, 500))
    wide[2] *= 4  # same centre, other scale: the folded R-hat catches it
    assert rhat(wide) > 1.05


def test_helpers_shapes() -> None:
    x = np.arange(2 * 7 * 3, dtype=float).reshape(2, 7, 3)
    assert split_chains(x).shape == (4, 3, 3)
    z = rank_normalize(x)
    assert z.shape == x.shape and np.isclose(z.mean(), 0.0)
    with pytest.raises(ValueError):
        rhat(np.zeros((2, 3)))


def _t3_chains() -> np.ndarray:
    """Student-t(3) draws from the generator state after :func:`_ar1_chains`."""
    rng = np.random.default_rng(0)
    for _ in range(4):
        rng.standard_normal(1000)
    return rng.standard_t(3, size=(4, 1000))


def test_diagnose_gives_every_parameter_the_single_parameter_values() -> None:
    # HB's convergence table diagnoses all parameters in one call: the ArviZ values for
    # the AR(1) and t(3) columns, and the same as the one-parameter functions for a
    # Metropolis-like column (runs of repeated values) and a constant one.
    rng = np.random.default_rng(5)
    sticky = np.repeat(rng.standard_normal((4, 250)), 4, axis=1)
    draws = np.stack([_ar1_chains(), _t3_chains(), sticky, np.full((4, 1000), 2.0)], axis=2)
    r_hat, bulk, tail = diagnose(draws)
    assert r_hat[0] == pytest.approx(1.0224865755366122, rel=1e-12)
    assert bulk[0] == pytest.approx(194.2369286063966, rel=1e-10)
    assert tail[0] == pytest.approx(340.0344989185472, rel=1e-10)
    assert bulk[1] == pytest.approx(3792.576564269559, rel=1e-10)
    for p in range(4):
        assert r_hat[p] == pytest.approx(rhat(draws[:, :, p]), rel=1e-12)
        assert bulk[p] == pytest.approx(ess_bulk(draws[:, :, p]), rel=1e-12)
        assert tail[p] == pytest.approx(ess_tail(draws[:, :, p]), rel=1e-12)
    assert bulk[2] < 0.5 * bulk[1]  # runs of 4 repeated values cost about 3/4 of the ESS
    assert bulk[3] == 4000 and r_hat[3] == 1.0


def test_tied_draws_get_average_ranks() -> None:
    # Rejected Metropolis proposals repeat a value: Vehtari et al. rank ties by their
    # average rank (eq. 14), as scipy's rankdata(method="average") does.
    x = np.random.default_rng(6).integers(0, 5, size=(2, 50, 3)).astype(float)
    n = x.shape[0] * x.shape[1]
    expected = special.ndtri(
        (stats.rankdata(x.reshape(n, 3), method="average", axis=0) - 0.375) / (n + 0.25)
    )
    assert np.allclose(rank_normalize(x).reshape(n, 3), expected, rtol=0, atol=1e-14)


def test_average_ranks_of_many_columns_with_and_without_ties() -> None:
    # The ties of all columns are ranked at once: runs must not leak from one column into
    # the next (a tie at the end of one column and the start of the next), and columns
    # without ties keep their plain ranks.
    rng = np.random.default_rng(7)
    x = rng.standard_normal((4, 30, 40))
    x[:, :, ::2] = np.round(x[:, :, ::2])  # every other column heavily tied
    x[:, :, 5] = 1.0  # a constant column: one run, all ranks (n + 1) / 2
    n = x.shape[0] * x.shape[1]
    expected = special.ndtri(
        (stats.rankdata(x.reshape(n, 40), method="average", axis=0) - 0.375) / (n + 0.25)
    )
    assert np.allclose(rank_normalize(x).reshape(n, 40), expected, rtol=0, atol=1e-14)


def test_single_precision_draws_give_the_double_precision_diagnostics() -> None:
    # The sampler stores the respondents' draws in single precision and they are
    # diagnosed so (a quarter of the cost); the verdict must be the one their exact
    # values give in double: R-hat to 1e-8 (the folded draws |x − median| are formed in
    # double, else rounding ties draws that differ), the ESS to 1e-5.
    rng = np.random.default_rng(8)
    x = (rng.standard_normal((4, 300, 60)).cumsum(axis=1) * 0.2).astype(np.float32)
    x += rng.standard_normal((4, 300, 60)).astype(np.float32)
    x[:, 1::3] = x[:, 0:-2:3]  # unmoved draws: ties
    x[1] += 0.2  # one chain apart: R-hat well above 1
    single = diagnose(x)
    double = diagnose(x.astype(float))
    assert np.allclose(single[0], double[0], rtol=0, atol=1e-8)
    assert single[0].max() > 1.01
    for got, expected in zip(single[1:], double[1:], strict=True):
        assert np.allclose(got, expected, rtol=1e-5, atol=0)


def test_the_individual_check_gives_the_same_verdict_on_two_threads() -> None:
    from offerlab.models._hb_run import individual_diagnostics

    rng = np.random.default_rng(9)
    draws = rng.standard_normal((4, 250, 40, 3)).astype(np.float32)  # (C, R, m, K)
    draws[2, 137] += 1.0  # one respondent's chain sits apart, in the second block
    serial = individual_diagnostics(draws, every=5, threads=1)
    threaded = individual_diagnostics(draws, every=5, threads=2)
    assert threaded == serial
    assert serial["rhat"] > 1.1
    expected = diagnose(draws[:, 137].astype(float))[0].max()
    assert serial["rhat"] == pytest.approx(expected, rel=1e-8)


def test_a_check_during_the_run_stops_at_the_first_failing_block_of_respondents() -> None:
    from offerlab.models._hb_run import StopRule, _diagnose_individuals, _RespondentRows

    rng = np.random.default_rng(10)
    draws = rng.standard_normal((4, 300, 40, 2)).astype(np.float32)  # 3 blocks of 100
    draws[1, 250] += 2.0  # respondent 250's chains disagree: block 2 fails
    read: list[int] = []

    def rows_from(start: int, stop: int) -> np.ndarray:
        read.append(start)
        return draws[:, start:stop]

    rows = _RespondentRows(rows_from, 300, 5)
    rule = StopRule(until_converged=True, rhat_max=1.15, ess_min=10.0)  # iid blocks pass
    full = _diagnose_individuals(rows, threads=1)
    assert full.complete and full.worst_block == 2 and full.summary["rhat"] > 1.15
    # Screening from where the last check found the worst: that block alone, and it fails.
    read.clear()
    screened = _diagnose_individuals(rows, threads=1, screen=(rule, 2))
    assert not screened.complete and screened.worst_block == 2 and 100 not in read
    assert screened.summary["rhat"] == full.summary["rhat"]
    # Screening from a block that passes goes on to the others and finds the failure.
    from_first = _diagnose_individuals(rows, threads=1, screen=(rule, 0))
    assert not from_first.complete and from_first.summary["rhat"] == full.summary["rhat"]
    # With no block failing, the screened verdict is the full one, on two threads too.
    draws[1, 250] -= 2.0
    calm = _diagnose_individuals(rows, threads=1)
    assert _diagnose_individuals(rows, threads=2, screen=(rule, 1)) == calm


def _classic_rhat(x: np.ndarray) -> np.ndarray:
    """Gelman–Rubin's potential scale reduction of (M, N, P) chains, as the paper writes it."""
    N = x.shape[1]
    W = x.var(axis=1, ddof=1).mean(axis=0)
    B = N * x.mean(axis=1).var(axis=0, ddof=1)
    return np.sqrt(((N - 1) / N * W + B / N) / W)


def test_the_folded_rhat_is_that_of_the_draws_folded_about_their_median() -> None:
    # The folded draws' order comes from merging the sorted draws below and above the
    # median, not from sorting |x − median| afresh: it must give the paper's value, with
    # ties (unmoved draws, and values the same distance either side of the median) and
    # chains that differ in scale only, where the folded R-hat is the larger.
    rng = np.random.default_rng(9)
    x = np.round(rng.standard_normal((4, 400, 6)) * 4) / 4  # heavy ties on a grid
    x[:, 1::2, 3] = x[:, 0::2, 3]
    x[2, :, :4] *= 3.0  # one chain wider: only folding sees it
    # one column without ties, of values single precision holds exactly
    x[:, :, 5] = rng.standard_normal((4, 400)).astype(np.float32)
    split = split_chains(x)
    median = np.median(split.reshape(-1, 6), axis=0)
    bulk = _classic_rhat(rank_normalize(split))
    folded = _classic_rhat(rank_normalize(np.abs(split - median)))
    assert np.all(folded[:4] > bulk[:4]) and np.all(folded[:4] > 1.05)
    expected = np.maximum(bulk, folded)
    assert np.allclose(rhat(x), expected, rtol=1e-12, atol=0)
    assert np.allclose(diagnose(x)[0], expected, rtol=1e-12, atol=0)
    assert np.allclose(diagnose(x.astype(np.float32))[0], expected, rtol=0, atol=1e-8)
