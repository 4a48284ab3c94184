"""The demo's hierarchical Bayes against the people the demo simulates (issue 13): its
part-worths must have the truth's scale, or every decision on them is off by as much."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from offerlab.decide import TrueMarket, calibrate_scale, coded_truth, load_market
from offerlab.study import example_path, load_study


@pytest.fixture(scope="module")
def demo_fit(demo_run, demo_out):
    """The hierarchical Bayes fit `offerlab demo` made (tests/cli/conftest.py), its choice
    data and the part-worths of the people it simulated (true_partworths.csv), coded as
    the fit is."""
    hb, data = demo_run.hb, demo_run.data
    assert hb is not None, "the demo fitted no hierarchical Bayes through demo_model()"
    study = load_study(example_path("car_subscription"))
    truth = pd.read_csv(demo_out / "true_partworths.csv")
    spec = load_market(example_path("car_subscription_market"), study)
    space = TrueMarket.from_market(
        spec.market(hb.coding), truth, slots=spec.tiers, prices=spec.price_grid()
    ).space
    return hb, data, coded_truth(space, truth, hb.coding.none_index)


def test_the_demos_part_worths_have_the_truths_scale(demo_fit) -> None:
    """Under CBC/HB's inverse-Wishart prior the posterior means came out 1.4 times the
    truth's (slope over the coefficients) and the price coefficient's spread over people
    1.6 times; the demo's profit claims were 8-19% low."""
    hb, _, truth = demo_fit
    keep = [k for k in range(truth.shape[1]) if k != hb.coding.none_index]
    draws = np.asarray(hb.individual_draws)
    posterior, true_mean = draws.mean(axis=(0, 1))[keep], truth.mean(axis=0)[keep]
    slope = float(posterior @ true_mean / (true_mean @ true_mean))
    assert 0.8 <= slope <= 1.2, slope
    price = list(hb.coding.names).index("monthly_price")
    spread = draws[:, :, price].std() / truth[:, price].std()
    assert 0.7 <= spread <= 1.3, spread


def test_the_demos_chains_converge(demo_fit) -> None:
    """Issue 17: the demo's decision rests on converged chains. R-hat < 1.01 and bulk and
    tail ESS > 400 hold for every population mean, covariance entry and respondent before
    the draw cap (300 people, seed 2026: after 3,500 of at most 8,000 draws per chain)."""
    hb, _, _ = demo_fit
    assert hb.converged, hb.stop.describe()
    assert hb.convergence["rhat"].max() < 1.01
    assert hb.convergence[["ess_bulk", "ess_tail"]].min().min() > 400
    assert hb.stop.reason == "diagnostics", hb.stop.describe()  # not the draw cap


def test_the_holdouts_ask_for_no_rescaling_of_the_demos_posterior(demo_fit) -> None:
    """The holdout-tuned scale was 0.40 under the inverse-Wishart prior: it undid the
    prior's inflation of the part-worths for the holdout's forced choices, and shrank the
    price coefficient with it (the old demo claimed twice its true profit)."""
    hb, data, _ = demo_fit
    tuned = calibrate_scale(hb, data)
    assert 0.75 <= tuned.scale <= 1.3, tuned.describe()


def test_the_demos_design_has_no_wall_clock_cap(monkeypatch, tmp_path) -> None:
    """The demo's design is the seed's on any machine (issue 15: the same seed gives the same
    recommendation): a wall-clock cap would end the search early under load."""
    import offerlab.cli.demo as demo_module

    asked: dict = {}

    class RecordedError(Exception):
        pass

    def stop_after_recording(study, **kwargs):
        asked.update(kwargs)
        raise RecordedError  # nothing after the design is needed

    monkeypatch.setattr(demo_module, "make_design", stop_after_recording)
    with pytest.raises(RecordedError):
        demo_module.demo(out=tmp_path, respondents=50, seed=1)
    assert asked["seconds"] == math.inf
