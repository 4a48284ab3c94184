"""The study answers which level a value is, and what price range it studied — one rule
for answers, designs, model matrices and simulated respondents."""

from __future__ import annotations

import numpy as np
import pandas as pd

from offerlab.data import ChoiceData
from offerlab.design import Design, make_design
from offerlab.models import ConjointCoding
from offerlab.simulate import load_population, simulate_answers
from offerlab.study import LEVEL_TOLERANCE, example_path, load_study

STUDY = load_study(example_path())


def test_level_indices_by_name_and_by_value() -> None:
    classes = STUDY.level_indices("car_class", ["suv", "premium", "bus", None, np.nan])
    assert classes.tolist() == [1, 3, -1, -1, -1]
    assert classes.dtype == np.int64
    # Prices: the level's value within a tolerance relative to it, text and gaps match nothing.
    near = 490 * (1 + LEVEL_TOLERANCE / 2)
    far = 490 * (1 + 10 * LEVEL_TOLERANCE)
    prices = STUDY.level_indices("monthly_price", [390, "590", near, far, "cheap", None])
    assert prices.tolist() == [0, 2, 1, -1, -1, -1]
    # a pandas column keeps its own index out of the way
    column = pd.Series(["own", "included"], index=[10, 20])
    assert STUDY.level_indices("insurance", column).tolist() == [1, 0]


def test_price_range_is_the_studys_answer() -> None:
    assert STUDY.price_range == (390.0, 990.0)
    price = STUDY.price_attribute
    assert price is not None and price.studied_range == STUDY.price_range
    assert price.in_studied_range(990 * (1 + LEVEL_TOLERANCE / 2))
    assert not price.in_studied_range(991) and not price.in_studied_range(389)
    no_price = STUDY.model_copy(
        update={"attributes": [a for a in STUDY.attributes if a is not price]}
    )
    assert no_price.price_range is None


def _design_frame() -> pd.DataFrame:
    # A random design: any design of the study has the frame's columns and levels, and
    # the efficient search (the study's method, tested in tests/design) costs 6 CPU s.
    frame = make_design(STUDY, method="random", versions=2, seed=1).to_frame(include_holdouts=False)
    assert (frame["monthly_price"].astype(float) == 490).any()  # the level perturbed below
    # A price as a spreadsheet may store it: 490 off by a few units in the 10th digit,
    # within the one tolerance relative to the level.
    frame["monthly_price"] = frame["monthly_price"].astype(float)
    frame.loc[frame["monthly_price"] == 490, "monthly_price"] = 490 * (1 + 0.4 * LEVEL_TOLERANCE)
    return frame


def test_answers_designs_and_model_matrices_read_levels_alike() -> None:
    frame = _design_frame()
    design = Design.from_frame(STUDY, frame)
    from_design = design.to_frame(include_holdouts=False)
    assert (from_design["monthly_price"].astype(float) == 490).sum() == (
        (frame["monthly_price"] - 490).abs() < 1e-3
    ).sum()
    population = load_population(example_path("car_subscription_population"), STUDY)
    data = simulate_answers(STUDY, frame, population, n_respondents=8, rng=2).data
    assert isinstance(data, ChoiceData)
    answer_levels = data.level_indices(STUDY)
    matrix_levels = ConjointCoding.from_study(STUDY, "effects").level_indices(data.frame)
    np.testing.assert_array_equal(answer_levels, matrix_levels)
    price = STUDY.attribute_names.index("monthly_price")
    concepts = data.frame["none"].to_numpy() == 0
    assert (answer_levels[concepts, price] >= 0).all()


def test_concept_space_counts_alike_with_and_without_numpy(monkeypatch) -> None:
    # Small grids are enumerated in a loop (check starts without numpy), large ones with
    # numpy: both give the same count and the same levels that survive the prohibitions.
    from offerlab.study import _checks

    rng = np.random.default_rng(3)
    n_levels = [4, 5, 3, 6, 2]
    for _ in range(20):
        patterns = [
            {int(a): int(rng.integers(n_levels[a])) for a in rng.choice(5, 2, replace=False)}
            for _ in range(int(rng.integers(1, 6)))
        ]
        small = _checks._concept_space(n_levels, patterns)
        monkeypatch.setattr(_checks, "_SMALL_GRID", 0)
        large = _checks._concept_space(n_levels, patterns)
        monkeypatch.undo()
        assert small is not None and large is not None
        assert (small.count, small.involved, small.seen) == (
            large.count,
            large.involved,
            large.seen,
        )
