"""The market filtered to the people who gave one answer (age band, region) on an
individual-level fit: shares by hand on four respondents, and the intervals a bootstrap of
the segment."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from offerlab.decide import (
    Market,
    MarketSimulator,
    decision_population,
    filtered_shares,
    profile_filters,
)


class FourPeople:
    """Individual-level results of four respondents (ids 11..14), one posterior draw each,
    two coefficients: a taste for A and a taste for B (none is 0)."""

    coding = None
    coefficient_names = ("a", "b")

    def __init__(self, draws: np.ndarray) -> None:
        self.individual_draws = draws  # (R, m, K)
        self.individual = pd.DataFrame(index=pd.Index([11, 12, 13, 14], name="respondent"))

    def population_coefficients(self, n, rng):
        R, m, K = self.individual_draws.shape
        return self.individual_draws.reshape(R * m, K), np.full(R * m, 1 / (R * m))


TASTES = np.array([[1.0, 0.0], [0.0, 2.0], [2.0, 1.0], [-1.0, 0.5]])
# Alternatives: A (x = [1, 0]), B (x = [0, 1]), none (x = 0).
MARKET = Market(
    names=("A", "B", "none"), X=np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]),
    offset=np.zeros(3), kinds=("offer", "offer", "none"), ours=(True, False, False),
    prices=np.array([10.0, 12.0, np.nan]), offers=({}, {}, None),
)  # fmt: skip
ANSWERS = pd.DataFrame(
    {"respondent": [11, 12, 13, 14, 11, 12, 13], "page": ["age_band"] * 4 + ["region"] * 3,
     "item": [""] * 7,
     "value": ["age_18_34", "age_55_plus", "age_18_34", "age_55_plus", "german", "french",
               "german"]}
)  # fmt: skip
QUESTIONS = {
    "age_band": ["age_18_34", "age_35_54", "age_55_plus"],
    "region": ["german", "french", "italian"],
}


def _by_hand(tastes: list[list[float]]) -> dict[str, float]:
    """Share of preference averaged over the given people, written out."""
    total = {"A": 0.0, "B": 0.0, "none": 0.0}
    for a, b in tastes:
        denominator = math.exp(a) + math.exp(b) + math.exp(0.0)
        total["A"] += math.exp(a) / denominator / len(tastes)
        total["B"] += math.exp(b) / denominator / len(tastes)
        total["none"] += 1 / denominator / len(tastes)
    return total


@pytest.fixture(scope="module")
def filtered():
    results = FourPeople(TASTES[:, None, :])
    sim = MarketSimulator(decision_population(results), n_draws=400, seed=3)
    return sim, {f.question: f for f in profile_filters(sim, results, ANSWERS, QUESTIONS)}


def test_the_shares_of_an_age_band_are_those_of_its_people_by_hand(filtered) -> None:
    sim, filters = filtered
    age = filters["age_band"]
    assert age.options == ("age_18_34", "age_55_plus")  # nobody is 35-54: no such filter
    assert age.rows.tolist() == [0, 1, 0, 1]
    young = filtered_shares(sim, MARKET, age, "age_18_34").set_index("alternative")["share"]
    old = filtered_shares(sim, MARKET, age, "age_55_plus").set_index("alternative")["share"]
    for got, people in ((young, [[1.0, 0.0], [2.0, 1.0]]), (old, [[0.0, 2.0], [-1.0, 0.5]])):
        expected = _by_hand(people)
        for name in ("A", "B", "none"):
            assert got[name] == pytest.approx(expected[name], abs=1e-12)
        assert got.sum() == pytest.approx(1.0, abs=1e-12)
    assert age.mass(sim.population.w).tolist() == pytest.approx([0.5, 0.5])


def test_a_question_not_everyone_answered_leaves_the_others_out(filtered) -> None:
    sim, filters = filtered
    region = filters["region"]
    assert region.options == ("german", "french") and region.rows.tolist() == [0, 1, 0, -1]
    german = filtered_shares(sim, MARKET, region, "german").set_index("alternative")["share"]
    expected = _by_hand([[1.0, 0.0], [2.0, 1.0]])
    assert german.to_dict() == pytest.approx(expected, abs=1e-12)


def test_the_intervals_are_a_bootstrap_of_the_segment(filtered) -> None:
    """Each uncertainty draw is a bootstrap sample of the respondents: its rows of the
    segment are the segment's bootstrap; the respondents are the simulator's own."""
    sim, filters = filtered
    age = filters["age_band"]
    who = sim.draw_respondents()
    D = sim.uncertainty_draws()
    assert who.shape == (400, 4) and np.array_equal(D, TASTES[who])  # one draw each
    assert np.array_equal(age.draw_rows, np.array([0, 1, 0, 1])[who])
    young = filtered_shares(sim, MARKET, age, "age_18_34").set_index("alternative")
    by_draw = []
    for s in range(400):
        people = [TASTES[r].tolist() for r in who[s] if r in (0, 2)]
        if people:
            by_draw.append(_by_hand(people)["A"])
    assert young.loc["A", "lower"] == pytest.approx(np.quantile(by_draw, 0.025), abs=1e-12)
    assert young.loc["A", "upper"] == pytest.approx(np.quantile(by_draw, 0.975), abs=1e-12)
    assert young.loc["A", "lower"] < young.loc["A", "share"] < young.loc["A", "upper"]


def test_a_fit_without_respondents_has_no_profile_filter() -> None:
    from offerlab.decide import Population

    sim = MarketSimulator(Population(TASTES[:1], np.ones(1), ("a", "b")), n_draws=0)
    assert profile_filters(sim, object(), ANSWERS, QUESTIONS) == []


# -- multi-select questions and latent classes ---------------------------------------------

TICKED = pd.DataFrame(
    {"respondent": [11, 11, 12, 13, 14], "page": ["motives"] * 5,
     "item": ["flexibility", "new_car", "new_car", "flexibility", "nothing"],
     "value": ["1"] * 5}
)  # fmt: skip
MOTIVES = {"motives": ["flexibility", "price", "new_car", "nothing"]}


def test_a_multi_select_segment_is_everyone_who_ticked_the_option() -> None:
    """Respondent 11 ticked two motives: they are in both segments."""
    results = FourPeople(TASTES[:, None, :])
    sim = MarketSimulator(decision_population(results), n_draws=200, seed=3)
    (motives,) = profile_filters(sim, results, TICKED, {}, MOTIVES)
    assert motives.multi and motives.options == ("flexibility", "new_car", "nothing")
    assert motives.mass(sim.population.w).tolist() == pytest.approx([0.5, 0.5, 0.25])
    for option, people in (("flexibility", [0, 2]), ("new_car", [0, 1]), ("nothing", [3])):
        got = filtered_shares(sim, MARKET, motives, option).set_index("alternative")["share"]
        expected = _by_hand([TASTES[r].tolist() for r in people])
        assert got.to_dict() == pytest.approx(expected, abs=1e-12), option
    # the tidy form names the option in the answer: the same segments
    tidy = TICKED.assign(item="", value=TICKED["item"])
    (same,) = profile_filters(sim, results, tidy, {}, MOTIVES)
    assert same.rows.tolist() == motives.rows.tolist()
    # the intervals: per draw, the people of the segment in that draw's bootstrap sample
    who = sim.draw_respondents()
    flexible = filtered_shares(sim, MARKET, motives, "flexibility").set_index("alternative")
    by_draw = [
        _by_hand([TASTES[r].tolist() for r in who[s] if r in (0, 2)])["A"]
        for s in range(200)
        if np.isin(who[s], (0, 2)).any()
    ]
    assert flexible.loc["A", "lower"] == pytest.approx(np.quantile(by_draw, 0.025), abs=1e-12)


class TwoClasses:
    """A panel latent-class fit of the four respondents: two classes, each person's
    posterior class probabilities."""

    cmap = object()
    panel = True
    unit_ids = np.array([11, 12, 13, 14])
    posterior = np.array([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3], [0.0, 1.0]])


CLASSES = np.array([[2.0, 0.0], [0.0, 1.5]])


def test_a_latent_class_segment_is_the_class_mix_of_its_people() -> None:
    """Young (11, 13): class mix (0.8, 0.2), the mean of their posteriors; the shares are
    the classes' shares in that mix. The intervals keep the mix and draw the classes."""
    from offerlab.decide import Population, filterable

    shifts = np.random.default_rng(0).normal(0, 0.1, size=(300, 2, 2))
    pop = Population(
        CLASSES, np.array([0.45, 0.55]), ("a", "b"),
        uncertainty=lambda S, rng: CLASSES[None] + shifts[:S],
        uncertainty_weights=np.array([0.45, 0.55]),
    )  # fmt: skip
    sim = MarketSimulator(pop, n_draws=300, seed=1)
    results = TwoClasses()
    assert filterable(results)
    filters = {f.question: f for f in profile_filters(sim, results, ANSWERS, QUESTIONS)}
    age = filters["age_band"]
    assert age.class_weights.ravel().tolist() == pytest.approx([0.8, 0.2, 0.1, 0.9])
    assert age.mass(sim.population.w).tolist() == pytest.approx([0.5, 0.5])
    young = filtered_shares(sim, MARKET, age, "age_18_34").set_index("alternative")
    class_shares = [_by_hand([c.tolist()]) for c in CLASSES]
    for name in ("A", "B", "none"):
        expected = 0.8 * class_shares[0][name] + 0.2 * class_shares[1][name]
        assert young.loc[name, "share"] == pytest.approx(expected, abs=1e-12)
    by_draw = [
        0.8 * _by_hand([D[0].tolist()])["A"] + 0.2 * _by_hand([D[1].tolist()])["A"]
        for D in sim.uncertainty_draws()
    ]
    assert young.loc["A", "lower"] == pytest.approx(np.quantile(by_draw, 0.025), abs=1e-12)
    assert young.loc["A", "upper"] == pytest.approx(np.quantile(by_draw, 0.975), abs=1e-12)


def test_a_mixed_logit_is_not_filterable() -> None:
    """Its rows are draws from the distribution, not anyone's: the page says so."""
    from offerlab.decide import filterable

    class MixedLogit:
        coefficient_names = ("a", "b")

    assert not filterable(MixedLogit())
    assert not filterable(type("CrossSection", (TwoClasses,), {"panel": False})())
