"""Plots draw intervals whose resampled bounds leave the point just outside them."""

from __future__ import annotations

import pandas as pd

from offerlab.report import plot_importance, plot_partworths


def test_a_point_just_outside_its_resampled_interval_still_draws(tmp_path) -> None:
    # percentile intervals of resampled respondents can miss the full-sample point
    partworths = pd.DataFrame(
        {
            "attribute": ["term", "term", "km"],
            "level": ["6 months", "24 months", "1000 km"],
            "utility": [0.30, -0.30, 0.0],
            "lower": [0.31, -0.50, -0.1],
            "upper": [0.60, -0.10, 0.1],
        }
    )
    importance = pd.DataFrame(
        {"attribute": ["term", "km"], "importance": [60.0, 40.0], "lower": [61.0, 30.0],
         "upper": [70.0, 39.5]}
    )  # fmt: skip
    assert plot_partworths(partworths, tmp_path / "pw.png").stat().st_size > 0
    assert plot_importance(importance, tmp_path / "imp.png").stat().st_size > 0
