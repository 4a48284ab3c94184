"""Money on the example market: every one of our offers counts, at its own cost."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "report"))

from _example import MARKET, make_example

from offerlab.decide import load_market, optimise_market, simulator_for


@pytest.fixture(scope="module")
def one_tier(tmp_path_factory: pytest.TempPathFactory):
    """The example with only the Flex Electric as a tier: City Compact stays on sale at
    CHF 490, below its cost of 540 (the issue's demo case)."""
    tmp = tmp_path_factory.mktemp("money")
    ex = make_example(tmp)
    raw = yaml.safe_load(MARKET.read_text(encoding="utf-8"))
    raw["optimise"] = {"tiers": ["Our Flex Electric"]}
    path = tmp / "one_tier.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return ex, load_market(path, ex.study)


def test_costs_per_offer_come_from_the_market_file(one_tier) -> None:
    _, spec = one_tier
    costs = spec.offer_costs()
    # City Compact: 120 base + compact 260 + 1500 km 35 + insurance 60 + maintenance 40
    # + dealer 0 + 12 months 10 + monthly notice 15; Flex: electric 330, home 25, 3 months 45
    assert costs == {"Our Flex Electric": 670.0, "Our City Compact": 540.0}
    assert "Rival SUV Abo" in spec.offer_costs(which="all")


def test_profit_counts_the_offer_sold_below_cost(one_tier) -> None:
    ex, spec = one_tier
    sim = simulator_for(ex.results, "sop", n_draws=0)
    market = spec.market(ex.results.coding)
    result = optimise_market(sim, market, spec, "profit")
    rows = result.shares.set_index("alternative")
    assert rows.loc["Our City Compact", "price"] == 490
    assert rows.loc["Our City Compact", "profit"] < 0  # sold below cost, and counted
    ours = rows[rows["ours"]]
    assert result.expected == pytest.approx(float(ours["profit"].sum()), rel=1e-9)
    # The simulator's own table gives the same profit for the same market.
    costs = spec.offer_costs(result.market)
    assert costs["Our City Compact"] == 540.0
    table = sim.shares(result.market, costs=costs).set_index("alternative")
    assert table.loc[ours.index, "profit"].sum() == pytest.approx(result.expected, rel=1e-9)
