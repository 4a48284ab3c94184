"""Prohibitions and task rules hold for every method; impossible studies fail clearly."""

from __future__ import annotations

import numpy as np
import pytest

from offerlab.design import METHODS, make_design
from offerlab.design._rules import TaskRules
from offerlab.exceptions import DesignError
from offerlab.study import Study


def levels(*names: str) -> list[dict[str, str]]:
    return [{"name": n, "label": n} for n in names]


def strict_study(dominated: str = "forbid", **design) -> Study:
    """Prohibitions, ordered attributes with dominated concepts forbidden, several versions."""
    return Study.model_validate(
        {
            "name": "strict",
            "attributes": [
                {"name": "brand", "label": "Brand", "levels": levels("a", "b", "c", "d")},
                {
                    "name": "size",
                    "label": "Size",
                    "levels": levels("s", "m", "l"),
                    "order": "increasing",
                },
                {
                    "name": "km",
                    "label": "km",
                    "type": "numeric",
                    "values": [500, 1000, 2000],
                    "order": "increasing",
                },
                {"name": "price", "label": "Price", "type": "price", "values": [290, 390, 490]},
                {"name": "eco", "label": "Eco", "levels": levels("no", "yes")},
            ],
            "tasks": {
                "alternatives": 3,
                "per_respondent": 6,
                "rules": {"dominated_concepts": dominated},
            },
            "prohibitions": [
                {"brand": "d", "size": "l"},
                {"brand": "b", "price": 290},
                {"size": "s", "km": 2000, "price": 490},
            ],
            "design": {"versions": 3, "seed": 8, **design},
        }
    )


@pytest.mark.parametrize("method", METHODS)
def test_every_method_respects_prohibitions_and_task_rules(method) -> None:
    study = strict_study()
    design = make_design(study, method=method)
    assert design.levels.shape == (3, 6, 3, 5)
    concepts = design.levels.reshape(-1, 5)
    assert study.allowed(concepts).all()
    for task in design.levels.reshape(-1, 3, 5):
        assert len({tuple(c) for c in task}) == 3  # no identical concepts
        assert not study.dominated(task).any()


def test_balanced_overlap_also_respects_the_rules() -> None:
    study = strict_study(overlap="balanced")
    design = make_design(study, method="balanced", versions=6)
    assert study.allowed(design.levels.reshape(-1, 5)).all()
    for task in design.levels.reshape(-1, 3, 5):
        assert len({tuple(c) for c in task}) == 3
        assert not study.dominated(task).any()


def test_dominated_concepts_appear_when_allowed() -> None:
    # Sanity check of the test above: without the rule, random designs do show them.
    study = strict_study(dominated="allow")
    design = make_design(study, method="random", versions=20)
    assert any(study.dominated(t).any() for t in design.levels.reshape(-1, 3, 5))


def test_batched_dominance_agrees_with_the_study() -> None:
    study = strict_study()
    rng = np.random.default_rng(0)
    tasks = np.stack([rng.integers(n, size=(5000, 3)) for n in study.n_levels], axis=-1)
    ours = TaskRules(study).has_dominated(tasks)
    theirs = np.array([study.dominated(t).any() for t in tasks])
    np.testing.assert_array_equal(ours, theirs)
    assert 0 < theirs.mean() < 1


def tiny_study(n_levels, m, prohibitions=(), ordered=False) -> Study:
    return Study.model_validate(
        {
            "name": "tiny",
            "attributes": [
                {
                    "name": f"a{q}",
                    "label": "x",
                    "levels": levels(*[f"l{i}" for i in range(n)]),
                    "order": "increasing" if ordered else "none",
                }
                for q, n in enumerate(n_levels)
            ],
            "tasks": {
                "alternatives": m,
                "per_respondent": 2,
                "rules": {"dominated_concepts": "forbid" if ordered else "allow"},
            },
            "prohibitions": list(prohibitions),
        }
    )


@pytest.mark.parametrize("method", METHODS)
def test_too_few_allowed_concepts_is_a_clear_error(method) -> None:
    study = tiny_study((2, 2), 4, prohibitions=[{"a0": "l0", "a1": "l1"}])
    with pytest.raises(DesignError, match=r"only 3 allowed concepts, fewer than 4"):
        make_design(study, method=method, seed=1)


@pytest.mark.parametrize("method", METHODS)
def test_tasks_without_dominated_concepts_may_be_impossible(method) -> None:
    # Two ordered 2-level attributes: (1, 1) dominates every other concept.
    study = tiny_study((2, 2), 3, ordered=True)
    with pytest.raises(DesignError, match="dominated_concepts"):
        make_design(study, method=method, seed=1, seconds=2)


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"method": "orthogonal"}, "'method' parameter"),
        ({"versions": 0}, "'versions' parameter"),
        ({"seconds": -1.0}, "'seconds' parameter"),
    ],
)
def test_invalid_arguments_name_the_parameter(kwargs, needle) -> None:
    with pytest.raises(DesignError, match=needle):
        make_design(tiny_study((2, 3), 2), **kwargs)
