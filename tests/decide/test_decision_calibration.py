"""A small version of ``bench/bench_decisions.py``: recommendations from hierarchical
Bayes, scored against the known truth they were simulated from."""

from __future__ import annotations

import sys
from argparse import Namespace
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from bench_decisions import one_study


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("seed", [1, 2])
def test_hb_recommendations_keep_most_of_the_true_optimum(seed: int) -> None:
    args = Namespace(
        seed=0, respondents=200, burn_in=200, draws=200, truth=3000, uncertainty=30,
        paths=("HB",),
    )  # fmt: skip
    (hb,) = one_study(seed, args)
    assert hb["regret"] >= 0.95, hb
    assert not hb["price-only"]
    assert hb["lower"] < hb["claimed"] < hb["upper"]
