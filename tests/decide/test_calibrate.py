"""The simulator's scale factor tuned on holdout tasks (Sawtooth's "exponent")."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import yaml

from offerlab.decide import calibrate_scale
from offerlab.design import make_design
from offerlab.exceptions import OfferlabError
from offerlab.models import ARRAYS, MultinomialLogit
from offerlab.simulate import SimulatedPopulation as Respondents
from offerlab.simulate import simulate_answers
from offerlab.study import example_path, load_study


@pytest.fixture(scope="module")
def homogeneous():
    """1,500 respondents of one segment without spread: the MNL is the true model."""
    study = load_study(example_path("car_subscription"))
    doc = yaml.safe_load(example_path("car_subscription_population").read_text("utf-8"))
    segment = {k: v for k, v in doc["segments"][0].items() if k not in ("spread", "none_spread")}
    people = Respondents.model_validate({"segments": [{**segment, "share": 1.0}]})
    design = make_design(study, method="random", seed=3)
    answers = simulate_answers(study, design.to_frame(), people, 1500, rng=4)
    return study, answers.data, MultinomialLogit().fit(answers.data, study=study)


def test_the_true_model_needs_no_rescaling(homogeneous) -> None:
    """Choices made by the logit rule with the fitted part-worths' truth: λ ≈ 1."""
    _, data, mnl = homogeneous
    tuned = calibrate_scale(mnl, data)
    assert tuned.n_tasks == 1500 * 2 and tuned.n_respondents == 1500  # two holdouts each
    assert 0 < tuned.se < 0.2
    assert abs(tuned.scale - 1) < 3 * tuned.se
    assert tuned.loglik >= tuned.loglik_at_one
    assert tuned.loglik == pytest.approx(tuned.curve["loglik"].max(), abs=5e-3)


def test_doubled_part_worths_are_halved_back(homogeneous) -> None:
    _, data, mnl = homogeneous
    doubled = copy.copy(mnl)
    doubled.params = mnl.params * 2
    once, twice = calibrate_scale(mnl, data), calibrate_scale(doubled, data)
    assert twice.scale == pytest.approx(once.scale / 2, rel=1e-3)
    assert twice.loglik == pytest.approx(once.loglik, abs=1e-9)
    assert twice.hit_rate == once.hit_rate


def test_without_holdouts_or_a_conjoint_fit_it_says_what_is_missing(homogeneous) -> None:
    _, data, mnl = homogeneous
    frame = data.frame[data.frame["holdout"] == 0].reset_index(drop=True)
    no_holdouts = type(data)(frame, data.variables)
    with pytest.raises(OfferlabError, match="no holdout tasks"):
        calibrate_scale(mnl, no_holdouts)
    bare = copy.copy(mnl)
    bare.source = ARRAYS  # the same fit, as if made from bare arrays
    with pytest.raises(OfferlabError, match="conjoint fit"):
        calibrate_scale(bare, data)
    assert np.isfinite(calibrate_scale(mnl, data).se)
