"""Fitting by name (market, report, console simulator) runs HB by the estimate command's rule.

``offerlab estimate --model hb`` runs until R-hat < 1.01 and bulk/tail ESS > 400 hold, or
until its cap; the fits the decisions rest on must come from the same rule, not from a
fixed number of draws.
"""

from __future__ import annotations

import numpy as np
import pytest
from _mnl_sim import make_study, simulate

from offerlab.cli.estimate import CommonOptions, HBOptions, hb_estimator
from offerlab.exceptions import ConvergenceWarning
from offerlab.models import DecisionFit, converging_hb, decision_model_title, fit_decision_model


def test_hb_by_name_runs_until_converged_and_stops_at_its_cap() -> None:
    data = simulate(np.random.default_rng(2), 40, 6)
    with pytest.warns(ConvergenceWarning, match="NOT converged: stopped at the draw cap"):
        fit = DecisionFit(burn_in=40, iterations=24, chains=2, n_jobs=1, seed=1)
        res = fit_decision_model("hb", data, make_study(), fit)
    # Stopped by the convergence rule's cap, which names what fell short; a fixed-length
    # run would say "fixed" and name nothing.
    assert res.stop.reason == "draws" and res.n_draws == 24 and not res.converged
    assert res.stop.shortfalls
    assert res.fit_frame().loc["stopped by", "value"] == "draws"


@pytest.mark.parametrize("coordinates", ["entries", "row-ratios"])
def test_hb_by_name_is_the_estimate_commands_sampler(coordinates: str) -> None:
    options = HBOptions(
        burn_in=500,
        iterations=3000,
        chains=3,
        max_minutes=2.0,
        fixed=False,
        prior_variance=1.0,
        prior_df=5,
        sign=[],
        covariance_prior="inverse-wishart",
        prior_sd_scale=2.5,
        interweave_coordinates=coordinates,
    )
    common = CommonOptions(
        coding="effects", cov="classic", dual="sawtooth", seed=7, cross_section=False
    )
    command = hb_estimator(common, options)
    by_name = converging_hb(
        burn_in=500, max_draws=3000, chains=3, max_seconds=120.0, seed=7,
        interweave_coordinates=coordinates,  # type: ignore[arg-type]
    )  # fmt: skip
    assert by_name._stop_rule() == command._stop_rule()
    assert by_name._settings() == command._settings()
    assert command._settings().interweave_coordinates == coordinates
    assert decision_model_title("hb", DecisionFit(burn_in=500, iterations=3000, chains=3)) == (
        "hierarchical Bayes: 3 chains x 500 burn-in, until converged (at most 3,000 draws)"
    )
