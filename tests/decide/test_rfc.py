"""Randomized first choice on the example market: a real RFC, which splits the share of
near copies instead of adding to it, tuned on the holdout tasks."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "report"))

from _example import make_example

from offerlab.decide import Market, calibrate_scale, load_market, simulator_for


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory):
    ex = make_example(tmp_path_factory.mktemp("rfc"))
    spec = load_market(ex.market_path, ex.study)
    return ex, spec


def _with_copy(ex, spec, name: str) -> Market:
    offers = spec.offers
    copy = {**next(o for o in offers if o["name"] == name), "name": f"{name} (copy)"}
    return Market.from_offers(
        ex.results.coding, [*offers, copy], status_quo=spec.status_quo, none=spec.file.none
    )


def _ours(sim, market: Market) -> float:
    shares = sim.shares(market)
    return float(shares.loc[shares["ours"], "share"].sum())


def test_rfc_is_not_share_of_preference(example) -> None:
    ex, spec = example
    market = spec.market(ex.results.coding)
    sop = simulator_for(ex.results, "sop", n_draws=0).shares(market)["share"].to_numpy()
    rfc = simulator_for(ex.results, "rfc", n_draws=0).shares(market)["share"].to_numpy()
    assert rfc.sum() == pytest.approx(1.0, abs=1e-12)
    assert np.abs(rfc - sop).max() > 0.01


@pytest.mark.parametrize("name", ["Our Flex Electric", "Our City Compact"])
def test_an_exact_copy_adds_at_most_two_points_under_rfc(example, name: str) -> None:
    """Share of preference counts the copy as a new product (IIA): our line-up's share
    jumps by about the offer's own share; RFC lets the copy split its twin's share."""
    ex, spec = example
    market, copied = spec.market(ex.results.coding), _with_copy(ex, spec, name)
    sop = simulator_for(ex.results, "sop", n_draws=0)
    own = float(sop.shares(market).set_index("alternative").loc[name, "share"])
    sop_gain = _ours(sop, copied) - _ours(sop, market)
    assert sop_gain > 0.6 * own and sop_gain > 0.04  # the copy's share is nearly doubled
    rfc = simulator_for(ex.results, "rfc", n_draws=0)
    rfc_gain = _ours(rfc, copied) - _ours(rfc, market)
    assert -0.005 <= rfc_gain <= 0.02


def test_rfc_scale_is_tuned_on_the_holdouts_with_rfc_probabilities(example) -> None:
    ex, _ = example
    sop = calibrate_scale(ex.results, ex.data)
    rfc = calibrate_scale(ex.results, ex.data, rule="rfc")
    assert rfc.rule == "rfc" and "randomized first choice" in rfc.describe()
    assert rfc.loglik >= rfc.loglik_at_one
    assert rfc.scale != pytest.approx(sop.scale, abs=1e-3)
