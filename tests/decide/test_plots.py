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


def test_the_van_westendorp_points_are_written_in_the_reports_numbers(tmp_path: Path) -> None:
    """'OPP 193.00' in a French report: the points take the caller's number format, the
    lower written left of its line and the higher right (apart, whichever is lower)."""
    import matplotlib.pyplot as plt

    from offerlab.report._texts import report_texts

    result = van_westendorp(VW)
    french = report_texts("fr")
    written: list[tuple[str, str]] = []
    real_text = plt.Axes.text

    def recording(self, x, y, s, *args, **kwargs):  # type: ignore[no-untyped-def]
        written.append((s.strip(), kwargs.get("ha", "")))
        return real_text(self, x, y, s, *args, **kwargs)

    plt.Axes.text = recording  # type: ignore[method-assign]
    try:
        plot_van_westendorp(result, tmp_path / "vw.png", number=lambda v: french.number(v, 2))
    finally:
        plt.Axes.text = real_text  # type: ignore[method-assign]
    points = sorted([(float(result.opp), "OPP"), (float(result.ipp), "IPP")])
    expected = [(f"{name} {french.number(v, 2)}", ha)
                for (v, name), ha in zip(points, ("right", "left"), strict=True)]  # fmt: skip
    assert [w for w in written if w[0].startswith(("OPP", "IPP"))] == expected
    assert all("," in text for text, _ in expected)
