"""Decisions use the heterogeneity a model estimated, say where their numbers come from,
and stream individual-level draws through the optimiser in bounded memory."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from _study import BETA, coding, market

from offerlab.decide import decision_population, optimise_offers, simulator_for


class _IndividualDraws:
    """What the decisions read of HBResults: a coding and saved individual draws."""

    def __init__(self, R: int, m: int, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        own = BETA + 0.8 * rng.normal(size=(R, BETA.size))
        own[:, 5] = -np.exp(np.log(0.08) + 0.5 * rng.normal(size=R))
        self.individual_draws = own[:, None, :] + 0.1 * rng.normal(size=(R, m, BETA.size))
        self.coding = coding()

    def population_coefficients(self, n: int = 1000, rng=None):
        R, m, _ = self.individual_draws.shape
        pick = np.random.default_rng(rng).integers(0, m, size=R)
        return self.individual_draws[np.arange(R), pick], np.full(R, 1.0 / R)


def test_individual_results_are_used_unless_the_aggregate_is_asked_for() -> None:
    hb = _IndividualDraws(300, 20)
    pop = decision_population(hb)
    assert pop.n_rows == 300 and pop.level == "individual" and pop.model == "hierarchical Bayes"
    agg = decision_population(hb, aggregate=True)
    assert agg.n_rows == 1 and agg.level == "aggregate"
    np.testing.assert_allclose(agg.B[0], pop.w @ pop.B, atol=1e-12)
    individual = simulator_for(hb, n_draws=20)
    aggregate = simulator_for(hb, n_draws=20, aggregate=True)
    a = individual.shares(market())["share"].to_numpy()
    b = aggregate.shares(market())["share"].to_numpy()
    assert np.abs(a - b).max() > 0.01  # heterogeneity changes the shares
    prov = individual.provenance
    assert (prov.model, prov.level, prov.rule, prov.n_draws) == (
        "hierarchical Bayes", "individual", "share of preference", 20,
    )  # fmt: skip
    assert "hierarchical Bayes (individual level, 300 rows)" in prov.describe()
    assert aggregate.provenance.level == "aggregate"
    assert simulator_for(hb, "rfc", n_draws=0).provenance.rule == "randomized first choice"


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_the_optimiser_streams_individual_draws_in_bounded_memory() -> None:
    """1,000 respondents x 200 uncertainty draws = 200,000 coefficient rows: the optimiser
    must not build arrays of draws x rows (here 200 x 200,000 doubles = 320 MB)."""
    hb = _IndividualDraws(1000, 50)
    sim = simulator_for(hb, n_draws=200)
    D = sim.uncertainty_draws()  # drawn before measuring: the input, not the work
    assert D.shape == (200, 1000, BETA.size)
    costs = {"brand": {"alpha": 6.0, "beta": 3.0, "gamma": 1.0}}
    tracemalloc.start()
    try:
        res = optimise_offers(sim, market(), costs=costs, keep=5)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 120 * 2**20, f"{peak / 2**20:.0f} MiB"
    assert res.provenance.n_draws == 200
    assert res.table["lower"].iloc[0] < res.expected < res.table["upper"].iloc[0]
