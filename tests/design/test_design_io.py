"""The tidy design table: columns, holdouts, CSV and Parquet round trips, clear errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from offerlab.design import Design, make_design
from offerlab.exceptions import DesignError
from offerlab.study import Study

HOLDOUT_A = [
    {"colour": "red", "size": "s", "price": 9.5},
    {"colour": "blue", "size": "l", "price": 19},
]
HOLDOUT_B = [
    {"colour": "green", "size": "m", "price": 19},
    {"colour": "red", "size": "l", "price": 29},
]


def shop_study(holdouts=None) -> Study:
    return Study.model_validate(
        {
            "name": "shop",
            "attributes": [
                {
                    "name": "colour",
                    "label": "Colour",
                    "levels": [{"name": c, "label": c} for c in ("red", "blue", "green")],
                },
                {
                    "name": "size",
                    "label": "Size",
                    "type": "numeric",
                    "values": [1, 2, 3],
                    "coding": "partworth",
                },
                {"name": "price", "label": "Price", "type": "price", "values": [9.5, 19, 29]},
            ],
            "tasks": {
                "alternatives": 2,
                "per_respondent": 4,
                "holdouts": holdouts
                if holdouts is not None
                else [
                    {"name": "first", "concepts": HOLDOUT_A, "position": 2},
                    {"name": "last", "concepts": HOLDOUT_B},
                ],
            },
        }
    )


def fix_sizes(holdout):
    # the size attribute is numeric: holdouts give it by value
    return [{**c, "size": {"s": 1, "m": 2, "l": 3}[c["size"]]} for c in holdout]


@pytest.fixture
def study() -> Study:
    return shop_study(
        [
            {"name": "first", "concepts": fix_sizes(HOLDOUT_A), "position": 2},
            {"name": "last", "concepts": fix_sizes(HOLDOUT_B)},
        ]
    )


@pytest.fixture
def design(study: Study) -> Design:
    return make_design(study, method="balanced", versions=3, seed=1)


def test_tidy_table_layout(design: Design, study: Study) -> None:
    frame = design.to_frame()
    assert list(frame.columns) == [
        "version",
        "task",
        "alternative",
        "colour",
        "size",
        "price",
        "holdout",
    ]
    assert len(frame) == 3 * (4 + 2) * 2
    assert frame["holdout"].dtype == bool
    one = frame[frame["version"] == 2]
    assert one["task"].unique().tolist() == [1, 2, 3, 4, 5, 6]
    # Holdout 'first' sits at position 2, 'last' after the design tasks.
    assert one.loc[one["holdout"], "task"].unique().tolist() == [2, 6]
    first = one[one["task"] == 2]
    assert first["colour"].tolist() == ["red", "blue"]
    assert first["price"].tolist() == [9.5, 19.0]
    # Level values: names for categorical attributes, numbers otherwise.
    assert set(frame["colour"]) <= {"red", "blue", "green"}
    assert set(frame["size"]) <= {1.0, 2.0, 3.0}
    # Design tasks keep their order around the holdout.
    design_rows = one[~one["holdout"]]
    got = [
        [study.level_index(a, v) for a in ("colour", "size", "price") for v in [row[a]]]
        for _, row in design_rows.iterrows()
    ]
    np.testing.assert_array_equal(np.array(got).reshape(4, 2, 3), design.levels[1])


def test_without_holdouts(design: Design) -> None:
    frame = design.to_frame(include_holdouts=False)
    assert not frame["holdout"].any()
    assert frame["task"].max() == 4


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_round_trip(design: Design, study: Study, tmp_path, suffix) -> None:
    path = design.write(tmp_path / f"design{suffix}")
    back = Design.read(study, path)
    np.testing.assert_array_equal(back.levels, design.levels)
    assert (back.n_versions, back.n_tasks, back.n_alternatives) == (3, 4, 2)
    pd.testing.assert_frame_equal(back.to_frame(), design.to_frame(), check_dtype=False)


def test_from_frame_ignores_row_order(design: Design, study: Study) -> None:
    shuffled = design.to_frame().sample(frac=1.0, random_state=0)
    np.testing.assert_array_equal(Design.from_frame(study, shuffled).levels, design.levels)


def test_unknown_levels_name_the_rows(design: Design, study: Study) -> None:
    frame = design.to_frame()
    rows = frame.index[~frame["holdout"]]  # holdout rows are dropped on reading
    frame.loc[rows[[1, 5]], "colour"] = "purple"
    frame.loc[rows[6], "price"] = 11.0
    one_based = [int(i) + 1 for i in rows[[1, 5]]]
    with pytest.raises(
        DesignError,
        match=rf"rows {one_based[0]}, {one_based[1]}: attribute 'colour' has no level 'purple'",
    ):
        Design.from_frame(study, frame)
    frame.loc[rows[[1, 5]], "colour"] = "red"
    with pytest.raises(
        DesignError, match=rf"row {int(rows[6]) + 1}: attribute 'price' has no level '11.0'"
    ):
        Design.from_frame(study, frame)


def test_structural_problems_are_reported(design: Design, study: Study, tmp_path) -> None:
    frame = design.to_frame(include_holdouts=False)
    with pytest.raises(DesignError, match=r"lacks the columns \['price'\]"):
        Design.from_frame(study, frame.drop(columns="price"))
    with pytest.raises(DesignError, match="more than once"):
        Design.from_frame(study, pd.concat([frame, frame.iloc[:1]]))
    with pytest.raises(DesignError, match="same number of design tasks"):
        Design.from_frame(study, frame.iloc[:-2])
    with pytest.raises(DesignError, match=r"must end in \.csv or \.parquet"):
        design.write(tmp_path / "design.xlsx")


def test_holdout_position_beyond_the_tasks_is_an_error() -> None:
    study = shop_study([{"name": "far", "concepts": fix_sizes(HOLDOUT_A), "position": 9}])
    design = make_design(study, method="random", versions=1, seed=0)
    with pytest.raises(DesignError, match="position 9"):
        design.to_frame()


def test_design_checks_its_array(study: Study) -> None:
    with pytest.raises(DesignError, match="shape"):
        Design(study=study, levels=np.zeros((2, 3, 2), int), method="x")
    with pytest.raises(DesignError, match="n_levels"):
        Design(study=study, levels=np.full((1, 1, 2, 3), 3), method="x")
