"""The decide plots write PNGs from the decide tables (smoke test)."""

from __future__ import annotations

from pathlib import Path

from _study import market, population
from test_pricing import GG, VW

from offerlab.decide import (
    MarketSimulator,
    demand_curve,
    gabor_granger,
    sensitivity,
    tornado,
    van_westendorp,
)
from offerlab.report._decide_plots import (
    plot_demand,
    plot_gabor_granger,
    plot_tornado,
    plot_van_westendorp,
)


def test_plots_are_written(tmp_path: Path) -> None:
    import pandas as pd

    sim = MarketSimulator(population(sd=0.1), n_draws=30)
    m = market()
    paths = [
        plot_tornado(tornado(sensitivity(sim, m, "ours")), tmp_path / "tornado.png"),
        plot_demand(demand_curve(sim, m, "ours"), tmp_path / "demand.png"),
        plot_van_westendorp(van_westendorp(VW), tmp_path / "vw.png"),
        plot_gabor_granger(
            gabor_granger(
                pd.DataFrame(
                    [
                        {"respondent": r, "price": p, "answer": a}
                        for r, asked in GG.items()
                        for p, a in asked.items()
                    ]
                )
            ),
            tmp_path / "gg.png",
        ),
    ]
    for p in paths:
        assert p.exists() and p.stat().st_size > 5000
