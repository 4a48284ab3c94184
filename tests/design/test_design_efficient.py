"""The efficient method: quality against the Street–Burgess optimum, priors, versions, seeds."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest

from offerlab.design import d_error, make_design, street_burgess_bound
from offerlab.design._exchange import exchange_bayes, exchange_zero
from offerlab.design._prior import prior_draws
from offerlab.design._rules import random_tasks
from offerlab.design._space import DesignSpace
from offerlab.exceptions import OfferlabWarning
from offerlab.numerics import code_levels
from offerlab.study import Study


def categorical_study(levels, m, tasks, *, versions=1, prior=None, coding="effects") -> Study:
    return Study.model_validate(
        {
            "name": "s",
            "attributes": [
                {
                    "name": f"a{q}",
                    "label": f"a{q}",
                    "levels": [{"name": f"l{i}", "label": f"l{i}"} for i in range(n)],
                }
                for q, n in enumerate(levels)
            ],
            "tasks": {"alternatives": m, "per_respondent": tasks},
            "design": {"versions": versions, "coding": coding, "prior": prior},
        }
    )


def efficiency(study: Study, levels: np.ndarray) -> np.ndarray:
    """D_min / D-error of every version, computed from scratch."""
    n, m, T, c = study.n_levels, study.tasks.alternatives, study.tasks.per_respondent, "effects"
    bound = street_burgess_bound(n, m, T, c)
    return np.array([bound / d_error(code_levels(v, n, c)) for v in levels])


QUALITY_BAR = [
    # levels, alternatives, tasks, a 100%-efficient design exists
    ((3, 3, 3, 3), 3, 9, True),
    ((4, 3, 3, 2), 3, 12, False),
    ((2, 2, 2), 2, 4, True),
]


@pytest.mark.parametrize(("levels", "m", "tasks", "exact"), QUALITY_BAR)
def test_quality_bar(levels, m, tasks, exact) -> None:
    """≥ 99.5% of the Street–Burgess optimum, and exactly 100% where a 100% design exists."""
    study = categorical_study(levels, m, tasks)
    with warnings.catch_warnings():
        warnings.simplefilter("error", OfferlabWarning)  # the plan finishes within the budget
        design = make_design(study, method="efficient", seed=11)
    eff = efficiency(study, design.levels)[0]
    assert eff >= 0.995
    assert eff <= 1 + 1e-9  # the bound is a bound
    if exact:
        assert eff == pytest.approx(1.0, abs=1e-9)


def test_random_designs_fall_well_short_of_the_optimum() -> None:
    study = categorical_study((3, 3, 3, 3), 3, 9)
    design = make_design(study, method="random", versions=20, seed=1)
    assert efficiency(study, design.levels).mean() < 0.8


def test_dummy_coding_search_reaches_the_same_optimum() -> None:
    study = categorical_study((2, 2, 2), 2, 4, coding="dummy")
    design = make_design(study, method="efficient", seed=2)
    X = code_levels(design.levels[0], study.n_levels, "dummy")
    assert d_error(X) == pytest.approx(street_burgess_bound((2, 2, 2), 2, 4, "dummy"), rel=1e-9)


def test_same_seed_same_design_other_seed_other_design() -> None:
    study = categorical_study((3, 3, 2), 3, 6, versions=2)
    a = make_design(study, method="efficient", seed=5)
    b = make_design(study, method="efficient", seed=5)
    c = make_design(study, method="efficient", seed=6)
    np.testing.assert_array_equal(a.levels, b.levels)
    assert not np.array_equal(a.levels, c.levels)
    assert a.seed == 5


def test_seed_defaults_to_the_study_and_is_recorded_when_fresh() -> None:
    study = categorical_study((3, 2), 2, 4)
    fresh = make_design(study, method="random")
    assert isinstance(fresh.seed, int)
    again = make_design(study, method="random", seed=fresh.seed)
    np.testing.assert_array_equal(fresh.levels, again.levels)


def test_versions_are_distinct_and_each_efficient() -> None:
    study = categorical_study((3, 3, 3, 3), 3, 9, versions=5)
    design = make_design(study, method="efficient", seed=3)
    assert design.levels.shape == (5, 9, 3, 4)
    keys = set()
    for version in design.levels:
        ids = np.sort(version @ np.array([27, 9, 3, 1]), axis=1)
        keys.add(ids[np.lexsort(ids.T[::-1])].tobytes())
    assert len(keys) == 5  # different even up to the order of tasks and concepts
    assert efficiency(study, design.levels).min() == pytest.approx(1.0, abs=1e-9)


def test_a_tiny_time_budget_still_gives_a_valid_design_and_says_so() -> None:
    study = categorical_study((4, 3, 3, 2), 3, 12)
    with pytest.warns(OfferlabWarning, match="time budget"):
        design = make_design(study, method="efficient", seed=1, seconds=1e-4)
    assert design.levels.shape == (1, 12, 3, 4)
    assert np.isfinite(efficiency(study, design.levels)).all()


def test_no_cap_gives_the_seeds_design_however_slow_the_machine(monkeypatch) -> None:
    """``seconds=math.inf`` (the demo's): a clock racing 1,000 s a reading, as a starved
    process sees it, neither ends the search early nor changes the design."""
    study = categorical_study((4, 3, 3, 2), 3, 12)
    calm = make_design(study, method="efficient", seed=1, seconds=math.inf)
    readings = itertools.count(step=1000.0)
    monkeypatch.setattr("offerlab.design._exchange.time.perf_counter", lambda: next(readings))
    with warnings.catch_warnings():
        warnings.simplefilter("error", OfferlabWarning)
        racing = make_design(study, method="efficient", seed=1, seconds=math.inf)
    np.testing.assert_array_equal(calm.levels, racing.levels)
    with pytest.warns(OfferlabWarning, match="time budget"):
        make_design(study, method="efficient", seed=1, seconds=40.0)


PRIOR = {
    "mean": {"a0": [-0.8, 0.0, 0.8], "a1": [0.6, 0.0, -0.6], "a2": [0.5, -0.5]},
    "sd": {"a0": 0.2, "a1": 0.2},
    "draws": 8,
}


def test_bayesian_prior_runs_and_beats_the_zero_prior_design_on_its_own_criterion() -> None:
    study = categorical_study((3, 3, 2), 3, 6, prior=PRIOR)
    zero = categorical_study((3, 3, 2), 3, 6)
    with warnings.catch_warnings():
        warnings.simplefilter("error", OfferlabWarning)
        bayes = make_design(study, method="efficient", seed=4)
    plain = make_design(zero, method="efficient", seed=4)
    assert not np.array_equal(bayes.levels, plain.levels)
    draws = prior_draws(study, "effects", np.random.default_rng(0))
    assert draws.shape == (8, 5)

    def db(levels: np.ndarray) -> float:
        return d_error(code_levels(levels[0], study.n_levels), draws)

    assert db(bayes.levels) < db(plain.levels)
    assert bayes.info["objective"] == "Bayesian D-error"


def test_point_prior_and_zero_prior_give_consistent_objectives() -> None:
    # With every coefficient zero the Bayesian exchange optimises the zero-prior D-error.
    study = categorical_study((3, 2, 2), 3, 5)
    space = DesignSpace(study, "effects")
    rng = np.random.default_rng(0)
    starts = random_tasks(study, 4 * 5, rng).reshape(4, 5, 3, 3)
    _, logdet = exchange_zero(space, starts, np.random.default_rng(1), max_passes=0)
    _, db = exchange_bayes(
        space, starts, np.zeros((1, space.P)), np.random.default_rng(1), max_passes=0
    )
    np.testing.assert_allclose(np.exp(-logdet / space.P), db, rtol=1e-10)


def test_exchange_reports_the_d_error_of_the_designs_it_returns() -> None:
    study = categorical_study((4, 3, 2), 3, 6, prior=PRIOR | {"mean": {"a2": [0.4, -0.4]}})
    space = DesignSpace(study, "effects")
    rng = np.random.default_rng(2)
    starts = random_tasks(study, 3 * 6, rng).reshape(3, 6, 3, 3)
    draws = prior_draws(study, "effects", rng)
    out, db = exchange_bayes(space, starts, draws, rng, max_passes=2)
    for design, value in zip(out, db, strict=True):
        assert d_error(space.code(design), draws) == pytest.approx(value, rel=1e-9)
    before = [d_error(space.code(s), draws) for s in starts]
    assert (db <= np.array(before) + 1e-12).all()
    out0, logdet = exchange_zero(space, starts, rng)
    for design, value in zip(out0, logdet, strict=True):
        assert d_error(space.code(design)) == pytest.approx(np.exp(-value / space.P), rel=1e-9)


def test_prior_on_numeric_attributes_is_per_unit() -> None:
    study = Study.model_validate(
        {
            "name": "p",
            "attributes": [
                {"name": "price", "label": "Price", "type": "price", "values": [10, 20, 40]},
                {
                    "name": "c",
                    "label": "C",
                    "levels": [{"name": "x", "label": "x"}, {"name": "y", "label": "y"}],
                },
            ],
            "tasks": {"alternatives": 2, "per_respondent": 4},
            "design": {"prior": {"mean": {"price": -0.1}, "sd": {"price": 0.05}, "draws": 16}},
        }
    )
    draws = prior_draws(study, "dummy", np.random.default_rng(0))
    # Dummy coding, reference 10: β = coef · (20 − 10, 40 − 10), so β₂ = 3 β₁ in every draw.
    np.testing.assert_allclose(draws[:, 1], 3 * draws[:, 0])
    assert draws[:, 0].mean() == pytest.approx(-1.0, abs=0.2)
    assert draws[:, 0].std() > 0
    np.testing.assert_allclose(draws[:, 2], 0.0)


@pytest.mark.parametrize("method", ["efficient", "balanced", "random"])
def test_progress_is_reported_from_zero_to_one(method) -> None:
    seen: list[float] = []
    make_design(categorical_study((3, 3, 2), 3, 6), method=method, seed=1, progress=seen.append)
    assert seen[0] == 0.0 and seen[-1] == 1.0
    assert all(a <= b for a, b in itertools.pairwise(seen))
