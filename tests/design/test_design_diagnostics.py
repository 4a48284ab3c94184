"""Diagnostics checked against hand computation on tiny designs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from offerlab.design import Design, diagnose, information_matrix, make_design
from offerlab.exceptions import DesignError
from offerlab.numerics import code_levels
from offerlab.study import Study


def two_by_two(order="none", prohibitions=(), prior=None) -> Study:
    return Study.model_validate(
        {
            "name": "tiny",
            "attributes": [
                {
                    "name": "a",
                    "label": "A",
                    "order": order,
                    "levels": [{"name": "a0", "label": "x"}, {"name": "a1", "label": "y"}],
                },
                {
                    "name": "b",
                    "label": "B",
                    "order": order,
                    "levels": [{"name": "b0", "label": "x"}, {"name": "b1", "label": "y"}],
                },
            ],
            "tasks": {"alternatives": 2, "per_respondent": 2},
            "prohibitions": list(prohibitions),
            "design": {"prior": prior},
        }
    )


# Task 1: (a0, b0) vs (a1, b1); task 2: (a0, b1) vs (a1, b0).
TINY = np.array([[[[0, 0], [1, 1]], [[0, 1], [1, 0]]]])


def test_hand_computed_design() -> None:
    study = two_by_two(order="increasing")
    diag = diagnose(Design(study, TINY, method="hand"), respondents=500, target_se=0.05)
    # Effects coding: x = ±1 per attribute. Each pair has p = 1/2 and column sums 0, so
    # M = Σ (1/2) X'X = [[1, 1], [1, 1]] + [[1, −1], [−1, 1]] = 2 I, D-error = det(M⁻¹)^(1/2).
    assert diag.d_error == pytest.approx(0.5)
    # Street–Burgess: S = 1, (2·1/(4·1))·2 = 1 per attribute, det M ≤ N^p = 4: D_min = 0.5.
    assert diag.optimum == pytest.approx(0.5)
    np.testing.assert_allclose(diag.d_efficiency, [1.0])
    # 500 respondents on one version: I = 500 · 2 I, SE = 1/√1000.
    np.testing.assert_allclose(diag.parameters["se"], [1 / math.sqrt(1000)] * 2)
    # SE² scales as 1/N: (1/1000)/0.05² · 500 = 200 respondents.
    assert diag.parameters["respondents_needed"].tolist() == [200, 200]
    assert diag.respondents_needed == 200
    assert diag.parameters["parameter"].tolist() == ["a[a0]", "b[b0]"]
    # Every level twice; no overlap within a task.
    assert diag.level_counts["count"].tolist() == [2, 2, 2, 2]
    np.testing.assert_allclose(diag.balance["ratio"], [1.0, 1.0])
    np.testing.assert_allclose(diag.overlap["overlap"], [0.0, 0.0])
    # With both attributes "increasing", (a1, b1) dominates (a0, b0) in task 1 only.
    assert (diag.n_dominated_tasks, diag.n_tasks_total) == (1, 2)


def test_overlap_and_balance_by_hand() -> None:
    study = two_by_two()
    # Task 1 repeats a0; task 2 repeats b1. Level counts: a0 3, a1 1; b0 1, b1 3.
    levels = np.array([[[[0, 0], [0, 1]], [[1, 1], [0, 1]]]])
    diag = diagnose(Design(study, levels, method="hand"))
    np.testing.assert_allclose(diag.overlap["overlap"], [0.5, 0.5])
    np.testing.assert_allclose(diag.balance["ratio"], [1 / 3, 1 / 3])
    assert diag.n_dominated_tasks == 0  # no ordered attributes


def test_dummy_coding_names_the_non_reference_levels() -> None:
    study = two_by_two()
    study = Study.model_validate(study.model_dump() | {"design": {"coding": "dummy"}})
    diag = diagnose(Design(study, TINY, method="hand"))
    assert diag.parameters["parameter"].tolist() == ["a[a1]", "b[b1]"]
    # Dummy coding 0/1: M = 2 I / 4, D-error = 2; efficiency is unchanged.
    assert diag.d_error == pytest.approx(2.0)
    np.testing.assert_allclose(diag.d_efficiency, [1.0])


def test_standard_errors_scale_with_one_over_root_n() -> None:
    study = Study.model_validate(
        {
            "name": "s",
            "attributes": [
                {
                    "name": f"x{q}",
                    "label": "x",
                    "levels": [{"name": f"l{i}", "label": "l"} for i in range(n)],
                }
                for q, n in enumerate((4, 3, 2))
            ],
            "tasks": {"alternatives": 3, "per_respondent": 6},
        }
    )
    design = make_design(study, method="balanced", versions=4, seed=2)
    small = diagnose(design, respondents=100, target_se=0.05)
    large = diagnose(design, respondents=400, target_se=0.05)
    np.testing.assert_allclose(large.parameters["se"], small.parameters["se"] / 2)
    # The respondents needed do not depend on where the test was run.
    assert small.respondents_needed == large.respondents_needed
    n = small.respondents_needed
    at_n = diagnose(design, respondents=n, target_se=0.05).parameters["se"]
    below = diagnose(design, respondents=n - 1, target_se=0.05).parameters["se"]
    assert (at_n <= 0.05 + 1e-12).all()
    assert (below > 0.05).any()
    # Respondents spread evenly over versions: I = (N/V) Σ_v M_v.
    X = code_levels(design.levels, study.n_levels)
    info = sum(information_matrix(x) for x in X) * 100 / 4
    np.testing.assert_allclose(small.parameters["se"], np.sqrt(np.diag(np.linalg.inv(info))))


def test_efficiency_is_withheld_with_prohibitions_or_a_prior() -> None:
    prohibited = two_by_two(prohibitions=[{"a": "a0", "b": "b0"}])
    levels = np.array([[[[0, 1], [1, 0]], [[1, 1], [0, 1]]]])
    diag = diagnose(Design(prohibited, levels, method="hand"))
    assert diag.d_efficiency is None and diag.optimum is None
    assert "prohibitions" in diag.efficiency_note
    prior = two_by_two(prior={"mean": {"a": [0.5, -0.5]}})
    diag = diagnose(Design(prior, TINY, method="hand"))
    assert diag.d_efficiency is None
    assert "zero prior" in diag.efficiency_note
    assert diag.d_errors_prior is not None and diag.d_errors_prior[0] > diag.d_errors[0]
    assert diag.se_note.startswith("at the prior mean, every attribute as part-worths")


def test_unidentified_design_is_reported() -> None:
    study = two_by_two()
    levels = np.array([[[[0, 0], [1, 0]], [[1, 0], [0, 0]]]])  # b never varies
    diag = diagnose(Design(study, levels, method="hand"))
    assert diag.respondents_needed is None
    assert np.isinf(diag.parameters["se"]).all()
    assert "not identified" in diag.summary()


def test_summary_and_table_are_data(capsys) -> None:
    diag = diagnose(Design(two_by_two(), TINY, method="hand", seed=3))
    text = diag.summary()
    assert capsys.readouterr().out == ""  # returned, not printed
    assert "D-error" in text and "100.00%" in text and "200 respondents" in text
    frame = diag.to_frame()
    assert list(frame.columns) == ["parameter", "attribute", "level", "se", "respondents_needed"]


def test_invalid_arguments() -> None:
    design = Design(two_by_two(), TINY, method="hand")
    with pytest.raises(DesignError, match="'respondents'"):
        diagnose(design, respondents=0)
    with pytest.raises(DesignError, match="'target_se'"):
        diagnose(design, target_se=0.0)


def test_versions_that_identify_only_together_get_a_finite_pooled_d_error() -> None:
    # Each version holds one task of TINY: M_1 = [[1, 1], [1, 1]] and M_2 = [[1, −1], [−1, 1]]
    # are singular, their average is I: the versions alone identify nothing, pooled they do.
    study = two_by_two().model_copy(
        update={"tasks": two_by_two().tasks.model_copy(update={"per_respondent": 1})}
    )
    diag = diagnose(Design(study, TINY.reshape(2, 1, 2, 2), method="hand"))
    assert np.isinf(diag.d_errors).all()
    assert diag.d_error_pooled == pytest.approx(1.0)
    assert diag.n_unidentified_versions == 2
    assert "2 of 2 versions alone do not identify" in diag.unidentified_note
    assert "the versions together identify every part-worth" in diag.summary()
    assert diag.respondents_needed is not None  # the design test pools the versions too
