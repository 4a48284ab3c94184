"""Fixtures of the report tests: the example study, simulated answers, fits, a market."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from _example import make_example, report_in


@pytest.fixture(scope="session")
def example(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    return make_example(tmp_path_factory.mktemp("report"))


@pytest.fixture(scope="session")
def built(example: SimpleNamespace) -> SimpleNamespace:
    """The report content of the example (MNL, share of preference), and its market."""
    from offerlab.decide import load_market, simulator_for
    from offerlab.report._html import build_report

    spec = load_market(example.market_path, example.study)
    sim = simulator_for(example.results, "sop", n_draws=100, seed=0)
    market = spec.market(example.results.coding)
    content = build_report(
        example.results, example.data, example.study, model="mnl", sim=sim, market=market,
        objective="profit",
        optimise={"slots": spec.tiers, "costs": spec.costs, "base_cost": spec.file.base_cost,
                  "prices": spec.price_grid(), "pessimism": 0.1},
        pricing_offer=spec.pricing_offer, answers=example.survey,
        respondents=example.respondents,
    )  # fmt: skip
    return SimpleNamespace(content=content, sim=sim, market=market, spec=spec)


@pytest.fixture(scope="session")
def german(example: SimpleNamespace, built: SimpleNamespace) -> SimpleNamespace:
    """The example's report in German."""
    return report_in("de", example, built)


@pytest.fixture(scope="session")
def french(example: SimpleNamespace, built: SimpleNamespace) -> SimpleNamespace:
    """The example's report in French."""
    return report_in("fr", example, built)
