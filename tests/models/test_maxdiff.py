"""MaxDiff: counts by hand; the best–worst logit recovers a known truth with honest errors."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from offerlab.design import make_maxdiff_design
from offerlab.exceptions import ConvergenceWarning, OfferlabError
from offerlab.models import (
    HierarchicalBayes,
    MaxDiffHB,
    MaxDiffLogit,
    maxdiff_answers,
    maxdiff_counts,
)
from offerlab.simulate import simulate_maxdiff

ITEMS = tuple(f"motive_{k:02d}" for k in range(15))


def test_counts_by_hand() -> None:
    # person 1, task 1 shows A B C D: best A, worst D; task 2 shows A B C E: best B, worst A
    # person 2, task 1 shows A B C D: best A, worst C
    frame = pd.DataFrame(
        [
            (1, 1, "A", 1, 0), (1, 1, "B", 0, 0), (1, 1, "C", 0, 0), (1, 1, "D", 0, 1),
            (1, 2, "A", 0, 1), (1, 2, "B", 1, 0), (1, 2, "C", 0, 0), (1, 2, "E", 0, 0),
            (2, 1, "A", 1, 0), (2, 1, "B", 0, 0), (2, 1, "C", 0, 1), (2, 1, "D", 0, 0),
        ],
        columns=["respondent", "task", "item", "best", "worst"],
    )  # fmt: skip
    counts = maxdiff_counts(maxdiff_answers(frame))
    assert counts["shown"].to_dict() == {"A": 3, "B": 3, "C": 3, "D": 2, "E": 1}
    assert counts["best"].to_dict() == {"A": 2, "B": 1, "C": 0, "D": 0, "E": 0}
    assert counts["worst"].to_dict() == {"A": 1, "B": 0, "C": 1, "D": 1, "E": 0}
    # (B − W) / shown: A (2 − 1)/3, B 1/3, C −1/3, D −1/2, E 0
    assert counts["bw_score"].to_numpy() == pytest.approx([1 / 3, 1 / 3, -1 / 3, -0.5, 0])
    # √(B/W) with ½ added where B or W is 0: A √2, B √3, C √(1/3), D √(1/3), E 1; max √3
    expected = np.sqrt([2, 3, 1 / 3, 1 / 3, 1]) / np.sqrt(3)
    assert counts["sqrt_bw"].to_numpy() == pytest.approx(expected)


def test_the_logit_recovers_the_truth_and_its_errors_match_the_spread() -> None:
    design = make_maxdiff_design(ITEMS, 5, 12, versions=4, seed=1)
    rng = np.random.default_rng(0)
    truth = np.sort(rng.normal(0, 1, size=15))
    truth -= truth.mean()
    estimates, errors = [], []
    for rep in range(12):
        # people differ around the truth: errors must be robust to that
        people = truth + rng.normal(0, 0.5, size=(300, 15))
        answers = maxdiff_answers(simulate_maxdiff(design.sets, people, ITEMS, seed=rep))
        result = MaxDiffLogit().fit(answers)
        estimates.append(result.utilities)
        errors.append(result.std_errors)
    estimates, errors = np.array(estimates), np.array(errors)
    assert np.allclose(estimates.sum(axis=1), 0, atol=1e-9)
    # heterogeneity shrinks the aggregate scale; the ordering and shape stay
    assert np.corrcoef(estimates.mean(axis=0), truth)[0, 1] > 0.995
    # the robust standard errors match the spread over replications within a third
    ratio = errors.mean(axis=0) / estimates.std(axis=0, ddof=1)
    assert 0.67 < np.median(ratio) < 1.5


def test_scores_sum_to_100_and_follow_the_utilities() -> None:
    design = make_maxdiff_design(ITEMS, 5, 12, seed=2)
    truth = np.linspace(-1, 1, 15)
    answers = maxdiff_answers(
        simulate_maxdiff(design.sets, np.tile(truth, (200, 1)), ITEMS, seed=1)
    )
    result = MaxDiffLogit().fit(answers)
    scores = result.scores()
    assert scores["score"].sum() == pytest.approx(100)
    assert (scores["low"] <= scores["score"]).all() and (scores["score"] <= scores["high"]).all()
    order = np.argsort(result.utilities)
    assert np.all(np.diff(scores["score"].to_numpy()[order]) > 0)
    assert "MaxDiff best–worst logit" in result.summary()


def test_answers_with_two_bests_are_refused_with_the_task_named() -> None:
    frame = pd.DataFrame(
        [(7, 3, "A", 1, 0), (7, 3, "B", 1, 0), (7, 3, "C", 0, 1)],
        columns=["respondent", "task", "item", "best", "worst"],
    )
    with pytest.raises(OfferlabError, match="respondent 7, task 3"):
        maxdiff_answers(frame)


def test_hierarchical_bayes_recovers_individual_utilities_better_than_the_aggregate_logit(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # 500 people × 12 tasks × 4 of 15 items, correlated individual utilities
    design = make_maxdiff_design(ITEMS, 4, 12, versions=4, seed=1)
    rng = np.random.default_rng(0)
    loadings = rng.normal(size=(15, 15)) * 0.3
    truth = rng.multivariate_normal(
        np.linspace(-1.5, 1.5, 15), loadings @ loadings.T + 0.5 * np.eye(15), size=500
    )
    answers = maxdiff_answers(simulate_maxdiff(design.sets, truth, ITEMS, seed=2))
    # 1,000 + 500 iterations recover the people as well as 3,000 + 2,000 did (measured
    # with 15 random-walk steps per iteration; the respondents' HMC move mixes faster)
    estimator = HierarchicalBayes(burn_in=1000, draws=500, seed=1)
    with warnings.catch_warnings():
        # 500 draws do not pass the stopping rule (R-hat and ESS are printed below): this
        # bar is the recovery of the people, as the comment above says
        warnings.simplefilter("ignore", ConvergenceWarning)
        hb = MaxDiffHB(estimator).fit(answers)
    aggregate = MaxDiffLogit().fit(answers).utilities
    centred = truth - truth.mean(axis=1, keepdims=True)
    people = hb.individual.loc[answers.respondents].to_numpy()
    r_hb = np.mean([np.corrcoef(t, e)[0, 1] for t, e in zip(centred, people, strict=True)])
    r_agg = np.mean([np.corrcoef(t, aggregate)[0, 1] for t in centred])
    convergence = hb.hb.convergence
    with capsys.disabled():
        print(
            f"\nMaxDiff recovery, mean correlation with each person's truth: HB {r_hb:.3f}, "
            f"aggregate logit {r_agg:.3f}; worst R-hat {convergence['rhat'].max():.3f}, "
            f"lowest bulk ESS {convergence['ess_bulk'].min():.0f}"
        )
    assert r_hb > r_agg + 0.15
    assert {"rhat", "ess_bulk", "ess_tail"} <= set(convergence.columns)
    assert hb.scores()["score"].sum() == pytest.approx(100)
    assert np.allclose(hb.individual_scores.sum(axis=1), 100)
