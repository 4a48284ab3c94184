"""Recovery and coverage on simulated conjoint data with a known truth.

Coverage tolerances are 4 binomial standard deviations around the nominal 95%,
so a correct estimator fails by chance with probability below 1e-4, while a
halved (or 1.5×) standard error fails for certain (the checks below show it).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _mnl_sim import make_study, simulate, true_params

from offerlab.models import MultinomialLogit

Z95 = 1.959963984540054


def _coverage(estimates: np.ndarray, se: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Share of replications whose 95% interval covers the truth, per parameter."""
    return (np.abs(estimates - truth) <= Z95 * se).mean(axis=0)


def _bounds(n: int) -> tuple[float, float]:
    sd = np.sqrt(0.95 * 0.05 / n)
    return 0.95 - 4 * sd, 0.95 + 4 * sd


@pytest.fixture(scope="module")
def replications() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """200 fits of 8 coefficients on fresh data (150 respondents × 6 tasks × 3 concepts)."""
    rng = np.random.default_rng(20260101)
    study = make_study()
    truth = pd.Series(true_params())
    est, se = [], []
    for _ in range(200):
        res = MultinomialLogit().fit(simulate(rng, 150, 6, validate=False), study=study)
        est.append(res.params[truth.index].to_numpy())
        se.append(res.bse[truth.index].to_numpy())
    return np.array(est), np.array(se), truth.to_numpy()


def test_intervals_cover_the_truth_at_the_nominal_rate(replications) -> None:
    est, se, truth = replications
    per_param = _coverage(est, se, truth)
    lo, hi = _bounds(est.shape[0])
    assert ((per_param >= lo) & (per_param <= hi)).all(), per_param
    # Pooled over the 8 coefficients (1,600 intervals): a tighter check.
    pooled = per_param.mean()
    lo8, hi8 = _bounds(est.size)
    assert lo8 <= pooled <= hi8, pooled


def test_wrong_standard_errors_would_fail_the_coverage_check(replications) -> None:
    est, se, truth = replications
    lo8, hi8 = _bounds(est.size)
    assert _coverage(est, se / 2, truth).mean() < lo8
    assert _coverage(est, se * 1.5, truth).mean() > hi8


def test_estimates_are_unbiased_and_se_match_their_spread(replications) -> None:
    est, se, truth = replications
    n = est.shape[0]
    sd = est.std(axis=0, ddof=1)
    # Mean within 4 Monte Carlo SEs of the truth (MLE bias is O(1/N), far smaller).
    assert (np.abs(est.mean(axis=0) - truth) < 4 * sd / np.sqrt(n)).all()
    # Average SE within 20% of the empirical SD: 4 times the SD's own sampling error
    # (1/√(2·199) ≈ 5%).
    ratio = se.mean(axis=0) / sd
    assert ((ratio > 0.8) & (ratio < 1.2)).all(), ratio


def test_cluster_se_account_for_heterogeneous_respondents() -> None:
    """With tastes that vary between respondents, choices of one person are correlated.

    Classic SEs are then too small; the respondent-clustered sandwich matches the
    spread of the estimates across replications, and its intervals cover the
    pseudo-true value (the MNL limit, found from one very large sample).
    """
    rng = np.random.default_rng(7)
    study = make_study()
    spread = 1.2
    big = MultinomialLogit().fit(
        simulate(rng, 10_000, 12, spread=spread, validate=False), study=study
    )
    pseudo = big.params.to_numpy()
    est, se_c, se = [], [], []
    for _ in range(120):
        data = simulate(rng, 100, 12, spread=spread, validate=False)
        res = MultinomialLogit().fit(data, study=study)
        est.append(res.params.to_numpy())
        se_c.append(res.bse_cluster.to_numpy())
        se.append(res.bse.to_numpy())
    est, se_c, se = map(np.array, (est, se_c, se))
    sd = est.std(axis=0, ddof=1)
    assert (se.mean(axis=0) / sd).mean() < 0.85  # classic SE understate the spread
    ratio = se_c.mean(axis=0) / sd
    assert 0.85 < ratio.mean() < 1.15, ratio
    pooled = _coverage(est, se_c, pseudo).mean()
    lo, hi = _bounds(est.size)
    # The pseudo-truth is itself estimated (with SE ≈ se/14): allow a little extra room.
    assert lo - 0.02 <= pooled <= hi, pooled


@pytest.mark.parametrize("none", ["plain", "dual"])
def test_none_option_and_dual_response_recover_the_truth(none: str) -> None:
    rng = np.random.default_rng(11 if none == "plain" else 12)
    data = simulate(rng, 1500, 8, none=none)
    res = MultinomialLogit().fit(data, study=make_study(none))
    truth = pd.Series(true_params(none=True))
    assert list(res.params.index) == list(truth.index)
    z = (res.params - truth) / res.bse
    # 9 coefficients: |z| < 3.5 for all fails by chance with probability < 0.5%.
    assert (z.abs() < 3.5).all(), z.round(2).to_dict()
    if none == "dual":
        assert res.nobs == 2 * res.n_tasks
        # The binary stage carries the none information: its SE is smaller than a
        # plain-none fit of the same size would give.
        plain = MultinomialLogit().fit(
            simulate(np.random.default_rng(12), 1500, 8, none="plain"), study=make_study("plain")
        )
        assert res.bse["none"] < plain.bse["none"]


def test_dual_response_likelihood_is_forced_choice_plus_binary_stage() -> None:
    """ℓ = Σ_t log P(c_t | concepts) + log P(b_t | {c_t, none}), computed here by hand."""
    data = simulate(np.random.default_rng(3), 60, 6, none="dual")
    res = MultinomialLogit().fit(data, study=make_study("dual"))
    frame = data.frame
    V = res.coding.code_rows(frame) @ res.params.to_numpy()
    assert (res.coding.level_indices(frame) == data.level_indices(res.coding.study)).all()
    total = 0.0
    for _, task in frame.assign(V=V).groupby(["respondent", "task"]):
        concepts = task[task["none"] == 0]
        v_none = float(task.loc[task["none"] == 1, "V"].iloc[0])
        v_c = float(concepts.loc[concepts["chosen"] == 1, "V"].iloc[0])
        total += v_c - np.log(np.exp(concepts["V"]).sum())
        v_b = v_c if task["would_buy"].iloc[0] == 1 else v_none
        total += v_b - np.logaddexp(v_c, v_none)
    assert res.llf == pytest.approx(total, rel=1e-10)
    # At the optimum the gradient vanishes.
    assert np.abs(res.gradient).max() < 1e-4


def test_joint_dual_response_model_recovers_its_own_truth_and_differs_from_sawtooth() -> None:
    """Respondents who buy when the chosen concept (errors included) beats none.

    ``dual="joint"`` is the likelihood of that behaviour and recovers the truth;
    Sawtooth's extra binary task misreads it (the none constant is far off), and
    conversely on data from Sawtooth's model (checked above) the joint model fails.
    """
    data = simulate(np.random.default_rng(13), 1500, 8, none="dual_joint")
    truth = pd.Series(true_params(none=True))
    joint = MultinomialLogit(dual="joint").fit(data, study=make_study("dual"))
    z = (joint.params - truth) / joint.bse
    assert (z.abs() < 3.5).all(), z.round(2).to_dict()
    sawtooth = MultinomialLogit(dual="sawtooth").fit(data, study=make_study("dual"))
    assert abs(sawtooth.params["none"] - truth["none"]) > 8 * sawtooth.bse["none"]
    # Bought tasks give one observation, the others two.
    buys = int(data.frame.groupby(["respondent", "task"])["would_buy"].first().sum())
    assert joint.nobs == 2 * joint.n_tasks - buys
