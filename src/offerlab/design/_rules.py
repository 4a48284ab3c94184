"""Task rules on arrays of level indices: prohibitions, identical and dominated concepts.

Tasks are arrays of level indices with shape (..., m, A): any leading axes, m
concepts, A attributes. The batched checks here agree with
:meth:`Study.allowed` and :meth:`Study.dominated`, which :func:`check_levels`
applies once more, task by task, to every finished design.
"""

from __future__ import annotations

import numpy as np

from offerlab.exceptions import DesignError
from offerlab.study import Study

__all__ = [
    "TaskRules",
    "check_feasible",
    "check_levels",
    "infeasible_error",
    "random_tasks",
]

# Draws of one concept before a partly built task is thrown away, and of whole
# tasks before the study is declared impossible.
_CONCEPT_TRIES = 200
_TASK_TRIES = 200


class TaskRules:
    """The study's rules for one task, vectorised over leading axes.

    Parameters
    ----------
    study : Study
        Supplies prohibitions (``study.allowed``), ordered attributes and
        ``tasks.rules.dominated_concepts``.
    """

    def __init__(self, study: Study) -> None:
        self.study = study
        self.has_prohibitions = bool(study.prohibitions)
        self.forbid_dominated = study.tasks.rules.dominated_concepts == "forbid" and bool(
            study.ordered_attributes
        )
        ordered = study.ordered_attributes
        self._ord_idx = np.array([i for i, _ in ordered], dtype=np.int64)
        self._ord_sign = np.array([s for _, s in ordered], dtype=np.int64)
        self._unordered = np.setdiff1d(np.arange(len(study.attributes)), self._ord_idx)
        # Mixed-radix ids of the unordered part of a concept (None if too many combinations).
        n_un = [study.n_levels[i] for i in self._unordered]
        self._rest_radix = (
            np.cumprod([1, *n_un[::-1]])[:-1][::-1].astype(np.int64)
            if np.prod([float(n) for n in n_un]) < 2**62
            else None
        )

    def allowed(self, concepts: np.ndarray) -> np.ndarray:
        """Whether each concept (..., A) avoids every prohibition; shape (...)."""
        if not self.has_prohibitions:
            return np.ones(concepts.shape[:-1], dtype=bool)
        return self.study.allowed(concepts)

    @staticmethod
    def has_duplicates(tasks: np.ndarray) -> np.ndarray:
        """Whether a task (..., m, A) holds two identical concepts; shape (...)."""
        same = (tasks[..., :, None, :] == tasks[..., None, :, :]).all(axis=-1)  # (..., m, m)
        m = tasks.shape[-2]
        return (same & ~np.eye(m, dtype=bool)).any(axis=(-1, -2))

    def has_dominated(self, tasks: np.ndarray) -> np.ndarray:
        """Whether a task (..., m, A) holds a dominated concept (as ``Study.dominated``)."""
        if self._ord_idx.size == 0:
            return np.zeros(tasks.shape[:-2], dtype=bool)
        score = tasks[..., self._ord_idx] * self._ord_sign  # (..., m, O), higher is better
        ge = (score[..., :, None, :] >= score[..., None, :, :]).all(axis=-1)  # [k, j]: k ≥ j
        dom = ge & ~np.swapaxes(ge, -1, -2)  # k ≥ j everywhere, and strictly somewhere
        if self._unordered.size:
            rest = tasks[..., self._unordered]
            if self._rest_radix is not None:
                rid = rest @ self._rest_radix
                dom &= rid[..., :, None] == rid[..., None, :]
            else:
                dom &= (rest[..., :, None, :] == rest[..., None, :, :]).all(axis=-1)
        return dom.any(axis=(-1, -2))

    def valid(self, tasks: np.ndarray, check_allowed: bool = True) -> np.ndarray:
        """Whether each task (..., m, A) satisfies every rule; shape (...)."""
        ok = ~self.has_duplicates(tasks)
        if check_allowed and self.has_prohibitions:
            ok &= self.allowed(tasks).all(axis=-1)
        if self.forbid_dominated:
            ok &= ~self.has_dominated(tasks)
        return ok


def infeasible_error(study: Study, reason: str) -> DesignError:
    m = study.tasks.alternatives
    return DesignError(
        f"cannot build tasks of {m} concepts for study {study.name!r}: {reason}. "
        "Relax the prohibitions, allow dominated concepts (tasks.rules.dominated_concepts: "
        "allow) or lower tasks.alternatives."
    )


def check_feasible(study: Study) -> np.ndarray:
    """The allowed concepts (n, A), after checking there are enough for one task."""
    allowed = study.allowed_concepts
    m = study.tasks.alternatives
    if len(allowed) < m:
        raise infeasible_error(
            study, f"the prohibitions leave only {len(allowed)} allowed concepts, fewer than {m}"
        )
    return allowed


def random_tasks(study: Study, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` tasks whose concepts are drawn uniformly from the allowed concepts.

    Concepts are drawn one at a time; a concept that breaks a task rule (a
    duplicate, or one that makes the partial task contain a dominated concept)
    is drawn again, and a task that cannot be completed is started over.

    Returns
    -------
    ndarray of int64, shape (n, m, A)

    Raises
    ------
    DesignError
        When no valid task is found after many tries.
    """
    allowed = check_feasible(study)
    rules = TaskRules(study)
    m, A = study.tasks.alternatives, len(study.attributes)
    out = np.empty((n, m, A), dtype=np.int64)
    # Fast path: draw whole tasks at once and redraw only the invalid ones.
    pending = np.arange(n)
    for _ in range(20):
        if pending.size == 0:
            return out
        pick = rng.integers(len(allowed), size=(pending.size, m))
        cand = allowed[pick]
        ok = rules.valid(cand, check_allowed=False)
        out[pending[ok]] = cand[ok]
        pending = pending[~ok]
    # Slow path (rare: strict rules): build the remaining tasks concept by concept.
    for i in pending:
        out[i] = _one_task(allowed, rules, m, rng, study)
    return out


def _one_task(
    allowed: np.ndarray, rules: TaskRules, m: int, rng: np.random.Generator, study: Study
) -> np.ndarray:
    for _ in range(_TASK_TRIES):
        task: list[np.ndarray] = []
        while len(task) < m:
            cand = allowed[rng.integers(len(allowed), size=_CONCEPT_TRIES)]
            partial = np.stack(task) if task else np.empty((0, allowed.shape[1]), np.int64)
            trial = np.concatenate(
                [np.broadcast_to(partial, (len(cand), *partial.shape)), cand[:, None, :]], axis=1
            )
            ok = rules.valid(trial, check_allowed=False)
            if not ok.any():
                break
            task.append(cand[np.argmax(ok)])
        if len(task) == m:
            return np.stack(task)
    raise infeasible_error(
        study, f"no task satisfying the task rules was found in {_TASK_TRIES} random tries"
    )


def check_levels(study: Study, levels: np.ndarray) -> None:
    """Check a design (V, T, m, A) against the study with its own methods.

    Raises
    ------
    DesignError
        Naming the first version and task that breaks a prohibition or a task rule.
    """
    forbid = study.tasks.rules.dominated_concepts == "forbid"
    V, T = levels.shape[:2]
    for v in range(V):
        for t in range(T):
            task = levels[v, t]
            where = f"version {v + 1}, task {t + 1}"
            if not study.allowed(task).all():
                raise DesignError(f"{where} shows a prohibited concept")
            if TaskRules.has_duplicates(task):
                raise DesignError(f"{where} shows two identical concepts")
            if forbid and study.dominated(task).any():
                raise DesignError(f"{where} shows a dominated concept")
