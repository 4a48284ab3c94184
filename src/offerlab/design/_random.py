"""Random designs: every concept drawn uniformly from the allowed concepts."""

from __future__ import annotations

import numpy as np

from offerlab.design._rules import random_tasks
from offerlab.study import Study

__all__ = ["random_design"]


def random_design(study: Study, versions: int, rng: np.random.Generator) -> np.ndarray:
    """A random design: concepts uniform over ``study.allowed_concepts``.

    A concept that would break a task rule (identical concepts, a dominated
    concept when those are forbidden) is drawn again.

    Returns
    -------
    ndarray of int64, shape (versions, tasks, alternatives, attributes)
    """
    T, m, A = study.tasks.per_respondent, study.tasks.alternatives, len(study.attributes)
    return random_tasks(study, versions * T, rng).reshape(versions, T, m, A)
