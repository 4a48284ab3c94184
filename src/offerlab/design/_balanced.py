"""Balanced designs in the manner of Sawtooth's complete enumeration.

Concepts are built one attribute at a time (attributes in random order). For
each attribute the level is the first, among the levels that keep the concept
free of prohibited combinations, in the order of

1. times the level is already used in this task (minimal overlap);
2. times it is used in this respondent's version, then across all versions
   (one-way level balance);
3. times it has appeared together with the levels already chosen for this
   concept, summed over those levels, in this version, then across all
   versions (two-way balance);
4. a random number (ties at random).

``overlap="balanced"`` allows some overlap, in the spirit of Sawtooth's
balanced overlap: for every concept after the first of a task, each attribute
reverses rule 1 with probability 0.2, taking (by the other rules) a level
already shown in the task. With three concepts an attribute then repeats a
level in about a third of the tasks (random designs: about three quarters
for three levels), instead of never when it has at least as many levels as a
task has concepts.

When a concept would break a task rule (identical to another concept, or a
dominated concept when those are forbidden) or prohibitions leave an
attribute no level, the concept is built again with half of its attributes
taking a random allowed level; after 20 such tries a random allowed concept
that keeps the task valid is used, and a task that still cannot be completed
is started over.
"""

from __future__ import annotations

import numpy as np

from offerlab.design._rules import TaskRules, check_feasible, infeasible_error
from offerlab.study import Study

__all__ = ["balanced_design"]

_OVERLAP_REPEAT = 0.2
_CONCEPT_TRIES = 20
_TASK_TRIES = 50


class _Builder:
    """Level counts of a balanced design under construction."""

    def __init__(self, study: Study, overlap: str, rng: np.random.Generator) -> None:
        self.study = study
        self.rng = rng
        self.relax = _OVERLAP_REPEAT if overlap == "balanced" else 0.0
        self.n_levels = study.n_levels
        self.A = len(self.n_levels)
        self.offset = np.concatenate([[0], np.cumsum(self.n_levels)[:-1]]).astype(int)
        size = int(sum(self.n_levels))
        self.glob = np.zeros(size)  # level counts over all versions
        self.ver = np.zeros(size)  # level counts in the current version
        self.pair = np.zeros((size, size))  # two-way counts over all versions
        self.ver_pair = np.zeros((size, size))  # two-way counts in the current version
        self.rules = TaskRules(study)
        self.allowed = check_feasible(study)
        # For each attribute, the prohibitions it takes part in.
        self.patterns = [[p for p in study.prohibited_patterns if a in p] for a in range(self.A)]

    def _level(
        self, a: int, chosen: dict[int, int], in_task: np.ndarray, relax: bool, random: bool
    ) -> int | None:
        La = self.n_levels[a]
        feasible = np.ones(La, dtype=bool)
        for pattern in self.patterns[a]:
            if all(chosen.get(b) == lv for b, lv in pattern.items() if b != a):
                feasible[pattern[a]] = False
        if not feasible.any():
            return None
        options = np.nonzero(feasible)[0]
        if random:
            return int(self.rng.choice(options))
        idx = self.offset[a] + options
        # Rule 1, or under balanced overlap its reverse: prefer a level already shown.
        overlap = (in_task[idx] == 0).astype(float) if relax else in_task[idx]
        pairs, ver_pairs = np.zeros(options.size), np.zeros(options.size)
        for b, lb in chosen.items():
            pairs += self.pair[idx, self.offset[b] + lb]
            ver_pairs += self.ver_pair[idx, self.offset[b] + lb]
        keys = (self.rng.random(options.size), pairs, ver_pairs, self.glob[idx], self.ver[idx])
        order = np.lexsort((*keys, overlap))
        return int(options[order[0]])

    def _concept(self, in_task: np.ndarray, first: bool, noisy: bool) -> np.ndarray | None:
        chosen: dict[int, int] = {}
        for a in self.rng.permutation(self.A):
            relax = not first and self.rng.random() < self.relax
            random = noisy and self.rng.random() < 0.5
            lv = self._level(int(a), chosen, in_task, relax, random)
            if lv is None:
                return None
            chosen[int(a)] = lv
        return np.array([chosen[a] for a in range(self.A)], dtype=np.int64)

    def _ok(self, partial: list[np.ndarray], concept: np.ndarray) -> bool:
        return bool(self.rules.valid(np.stack([*partial, concept])))

    def _fallback(self, partial: list[np.ndarray]) -> np.ndarray | None:
        """A random allowed concept that keeps the partial task valid, if any."""
        cand = self.allowed[self.rng.permutation(len(self.allowed))[:2000]]
        trial = (
            np.concatenate(
                [
                    np.broadcast_to(np.stack(partial), (len(cand), len(partial), self.A)),
                    cand[:, None, :],
                ],
                axis=1,
            )
            if partial
            else cand[:, None, :]
        )
        ok = self.rules.valid(trial, check_allowed=False)
        return cand[np.argmax(ok)] if ok.any() else None

    def _count(self, concept: np.ndarray, sign: float) -> None:
        idx = self.offset + concept
        self.glob[idx] += sign
        self.ver[idx] += sign
        both = np.ix_(idx, idx)
        self.pair[both] += sign * (1 - np.eye(self.A))
        self.ver_pair[both] += sign * (1 - np.eye(self.A))

    def task(self, m: int) -> np.ndarray:
        for _ in range(_TASK_TRIES):
            partial: list[np.ndarray] = []
            in_task = np.zeros_like(self.glob)
            while len(partial) < m:
                concept = None
                for attempt in range(_CONCEPT_TRIES):
                    c = self._concept(in_task, first=not partial, noisy=attempt > 0)
                    if c is not None and self._ok(partial, c):
                        concept = c
                        break
                if concept is None:
                    concept = self._fallback(partial)
                if concept is None:
                    break
                partial.append(concept)
                in_task[self.offset + concept] += 1
                self._count(concept, 1.0)
            if len(partial) == m:
                return np.stack(partial)
            for c in partial:  # start the task over
                self._count(c, -1.0)
        raise infeasible_error(self.study, f"no valid task was found in {_TASK_TRIES} tries")


def balanced_design(study: Study, versions: int, rng: np.random.Generator) -> np.ndarray:
    """A level-balanced, minimal-overlap design (complete enumeration).

    Parameters
    ----------
    study : Study
        Attributes, prohibitions, task rules; ``design.overlap`` chooses minimal
        or balanced overlap.
    versions : int
        Number of versions (blocks).
    rng : numpy.random.Generator
        Breaks ties and orders attributes.

    Returns
    -------
    ndarray of int64, shape (versions, tasks, alternatives, attributes)
    """
    builder = _Builder(study, study.design.overlap, rng)
    T, m = study.tasks.per_respondent, study.tasks.alternatives
    out = np.empty((versions, T, m, builder.A), dtype=np.int64)
    for v in range(versions):
        builder.ver[:] = 0
        builder.ver_pair[:] = 0
        for t in range(T):
            out[v, t] = builder.task(m)
    return out
