"""Balanced (complete-enumeration) designs: level balance, minimal overlap, balanced overlap."""

from __future__ import annotations

import numpy as np
import pytest

from offerlab.design import d_error, diagnose, make_design
from offerlab.numerics import code_levels
from offerlab.study import Study


def study_with(n_levels, m=3, tasks=12, overlap="minimal") -> Study:
    return Study.model_validate(
        {
            "name": "bal",
            "attributes": [
                {
                    "name": f"a{q}",
                    "label": "x",
                    "levels": [{"name": f"l{i}", "label": "y"} for i in range(n)],
                }
                for q, n in enumerate(n_levels)
            ],
            "tasks": {"alternatives": m, "per_respondent": tasks},
            "design": {"overlap": overlap},
        }
    )


LEVELS = (5, 4, 3, 3, 2)


@pytest.mark.parametrize("seed", [1, 2])
def test_levels_are_balanced_within_every_version(seed) -> None:
    study = study_with(LEVELS)
    design = make_design(study, method="balanced", versions=6, seed=seed)
    for version in design.levels:  # (T, m, A)
        for a, n in enumerate(LEVELS):
            counts = np.bincount(version[..., a].ravel(), minlength=n)
            assert counts.max() - counts.min() <= 1
    assert (diagnose(design).balance["ratio"] >= 0.95).all()


def test_overlap_is_minimal() -> None:
    study = study_with(LEVELS)
    design = make_design(study, method="balanced", versions=4, seed=3)
    m = study.tasks.alternatives
    for task in design.levels.reshape(-1, m, len(LEVELS)):
        for a, n in enumerate(LEVELS):
            counts = np.bincount(task[:, a], minlength=n)
            # Levels spread as evenly as the task allows: all different when n >= m.
            assert counts.max() == -(-m // n)
    overlap = diagnose(design).overlap
    np.testing.assert_array_equal(overlap["overlap"], overlap["minimal"])


def test_two_way_balance_keeps_every_version_identified() -> None:
    study = study_with(LEVELS)
    design = make_design(study, method="balanced", versions=10, seed=4)
    X = code_levels(design.levels, LEVELS)
    assert all(np.isfinite(d_error(x)) for x in X)


def test_balanced_overlap_allows_some_overlap_but_less_than_random() -> None:
    minimal = make_design(study_with(LEVELS), method="balanced", versions=10, seed=5)
    some = make_design(
        study_with(LEVELS, overlap="balanced"), method="balanced", versions=10, seed=5
    )
    rand = make_design(study_with(LEVELS), method="random", versions=10, seed=5)

    def share(design) -> float:  # over the attributes with at least m levels
        return diagnose(design).overlap["overlap"].iloc[:4].mean()

    assert share(minimal) == 0
    assert 0.1 < share(some) < share(rand)
    assert (diagnose(some).balance["ratio"] >= 0.9).all()


def test_balanced_beats_random_on_d_efficiency() -> None:
    study = study_with((3, 3, 3, 3), tasks=9)
    bal = diagnose(make_design(study, method="balanced", versions=8, seed=6))
    rnd = diagnose(make_design(study, method="random", versions=8, seed=6))
    assert bal.mean_efficiency > rnd.mean_efficiency + 0.2


def test_balanced_is_reproducible() -> None:
    study = study_with(LEVELS)
    a = make_design(study, method="balanced", versions=3, seed=9)
    b = make_design(study, method="balanced", versions=3, seed=9)
    np.testing.assert_array_equal(a.levels, b.levels)
