"""Needs, motives and obstacles on a small tidy answers frame."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from offerlab.decide._needs import (
    group_open_text,
    none_choosers,
    option_frequencies,
    scale_means,
    segments_from,
    top_obstacles,
    wilson_interval,
)
from offerlab.exceptions import OfferlabError


def _answers() -> pd.DataFrame:
    rows = []
    region = {1: "german", 2: "german", 3: "french", 4: "french", 5: "german"}
    obstacles = {1: ["price", "km_limit"], 2: ["ownership"], 3: ["price"], 4: ["nothing"],
                 5: ["price", "other"]}  # fmt: skip
    motives = {1: (5, 3), 2: (4, 2), 3: (2, 5), 4: (3, 4), 5: (5, 1)}
    for r in range(1, 6):
        rows.append((r, "region", None, region[r]))
        rows += [(r, "obstacles", None, o) for o in obstacles[r]]
        rows.append((r, "motives", "flexibility", motives[r][0]))
        rows.append((r, "motives", "new_car", motives[r][1]))
    rows.append((5, "obstacles", "other", "Zu TEUER und kein Vertrauen"))
    rows += [
        (1, "comments", None, "Much too expensive for me"),
        (2, "comments", None, "The km limit is too low"),
        (3, "comments", "", "  "),
        (4, "comments", None, "inexpensive would be nice, and more kilometres"),
    ]
    return pd.DataFrame(rows, columns=["respondent", "question", "item", "answer"])


def test_wilson_interval_matches_the_formula() -> None:
    lo, hi = wilson_interval(3, 10)
    z = stats.norm.ppf(0.975)
    p, n = 0.3, 10
    c = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    h = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    assert (lo, hi) == pytest.approx((c - h, c + h))
    assert wilson_interval(0, 10)[0] == pytest.approx(0, abs=1e-15)


def test_option_frequencies_by_segment() -> None:
    answers = _answers()
    seg = segments_from(answers, "region")
    freq = option_frequencies(answers, "obstacles", segments=seg).set_index(["segment", "option"])
    assert freq.loc[("german", "price"), "n"] == 2 and freq.loc[("german", "price"), "base"] == 3
    assert freq.loc[("french", "price"), "share"] == 0.5
    assert freq.loc[("french", "ownership"), "n"] == 0  # listed although nobody chose it
    total = option_frequencies(answers, "obstacles").set_index("option")
    assert total.loc["price", "share"] == pytest.approx(3 / 5)
    assert (total["lower"] <= total["share"]).all() and (total["share"] <= total["upper"]).all()


def test_scale_means_with_t_intervals() -> None:
    means = scale_means(_answers(), "motives").set_index("item")
    x = np.array([5, 4, 2, 3, 5])
    assert means.loc["flexibility", "mean"] == pytest.approx(x.mean())
    half = stats.t.ppf(0.975, 4) * x.std(ddof=1) / np.sqrt(5)
    assert means.loc["flexibility", "lower"] == pytest.approx(x.mean() - half)
    with pytest.raises(OfferlabError, match="not numbers"):
        scale_means(_answers(), "region")


def test_top_obstacles_among_none_choosers() -> None:
    choices = pd.DataFrame(
        {
            "respondent": [1, 1, 1, 1, 3, 3, 4, 4],
            "task": [1, 1, 2, 2, 1, 1, 1, 1],
            "alternative": [1, 2, 1, 2, 1, 2, 1, 2],
            "none": [0, 1, 0, 1, 0, 1, 0, 1],
            "chosen": [0, 1, 1, 0, 0, 1, 1, 0],
        }
    )
    who = none_choosers(choices)
    assert sorted(who) == [1, 3]  # 1 chose none in half of its tasks, 3 in all, 4 never
    top = top_obstacles(_answers(), "obstacles", who, top=2)
    assert list(top["option"]) == ["price", "km_limit"] and top["share"].iloc[0] == 1.0


def test_open_text_grouped_by_keyword_rules() -> None:
    rules = {"price": ["expens", "teuer", "cheap"], "mileage": ["km", "kilomet"]}
    summary, assigned = group_open_text(_answers(), "comments", rules)
    s = summary.set_index("group")
    assert s.loc["price", "n"] == 1  # "inexpensive" does not start a word with "expens"
    assert s.loc["mileage", "n"] == 2 and s.loc["other", "n"] == 0
    assert s.loc["price", "examples"] == ["Much too expensive for me"]
    assert len(assigned) == 3  # the blank answer is left out
    other_text, _ = group_open_text(_answers(), "obstacles", rules, item="other")
    assert other_text.set_index("group").loc["price", "n"] == 1  # "Zu TEUER …"
