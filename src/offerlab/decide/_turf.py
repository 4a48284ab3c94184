"""TURF: the bundle of k items (perks, claims, motives) that reaches the most people.

A person is *reached* by a bundle when at least one of its items appeals to them
(``reached[person, item]``: an anchored MaxDiff item above the anchor, one of a person's
top items, a "yes" on a yes/no question). Reach is the weighted share of people reached;
frequency the mean number of the bundle's items that appeal to a person. Bundles are
ranked by reach, then frequency — the usual TURF order.

Small problems are searched exhaustively. Large ones by greedy addition followed by
one-for-one swaps until no swap helps, with a certificate of how far from the optimum
the answer can be: coverage is monotone submodular, so for the found bundle S the
optimum reaches at most reach(S) plus the r largest gains that single items outside S
would add to S (r = the number of free places; Nemhauser, Wolsey & Fisher 1978).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from offerlab.exceptions import OfferlabError

__all__ = ["TurfBundle", "TurfResult", "reach_above_threshold", "reach_from_scores", "turf"]

MAX_EXACT = 2_000_000
_CHUNK_CELLS = 4_000_000  # people × bundles per exhaustive batch (about 4 MB of booleans)


@dataclass(frozen=True)
class TurfBundle:
    """A bundle of items with its reach (share of people, 0–1) and frequency."""

    items: tuple[str, ...]
    reach: float
    frequency: float


@dataclass(frozen=True)
class TurfResult:
    """The best bundle, how it was found, and how far from the optimum it can be.

    Attributes
    ----------
    best : TurfBundle
    method : "exact" or "greedy+swap"
    upper_bound : float
        No bundle of this size reaches more people (equal to ``best.reach`` when exact).
    ladder : list of TurfBundle
        The best bundle built up one item at a time, each step adding the item that
        adds most reach — the incremental-reach plot.
    ranking : list of TurfBundle
        The next best bundles found (exact search: the top ones by reach, frequency).
    evaluated : int
        Bundles whose reach was computed.
    """

    best: TurfBundle
    method: Literal["exact", "greedy+swap"]
    upper_bound: float
    ladder: list[TurfBundle]
    ranking: list[TurfBundle]
    evaluated: int

    @property
    def gap(self) -> float:
        """Reach the optimum might still add (share of people; 0 when exact)."""
        return max(self.upper_bound - self.best.reach, 0.0)

    def to_frame(self) -> pd.DataFrame:
        """The ladder: item added, reach and the reach it adds, frequency."""
        reach = [step.reach for step in self.ladder]
        return pd.DataFrame(
            {
                "item": [step.items[-1] for step in self.ladder],
                "reach": reach,
                "added_reach": np.diff([0.0, *reach]),
                "frequency": [step.frequency for step in self.ladder],
            }
        )


@dataclass(frozen=True)
class _Problem:
    reached: np.ndarray  # people × items, bool
    weights: np.ndarray  # people, summing to 1
    hits: np.ndarray  # items: weighted share of people each item appeals to
    labels: tuple[str, ...]

    def reach(self, bundle: Sequence[int]) -> float:
        if not bundle:
            return 0.0
        return float(self.weights @ self.reached[:, list(bundle)].any(axis=1))

    def bundle(self, items: Sequence[int]) -> TurfBundle:
        ordered = tuple(sorted(items))
        return TurfBundle(
            tuple(self.labels[i] for i in ordered),
            self.reach(ordered),
            float(self.hits[list(ordered)].sum()),
        )


def turf(
    reached: np.ndarray | pd.DataFrame,
    k: int,
    *,
    weights: np.ndarray | None = None,
    must_include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    method: Literal["auto", "exact", "greedy+swap"] = "auto",
    max_exact: int = MAX_EXACT,
) -> TurfResult:
    """Find the bundle of ``k`` items that reaches the most people.

    Parameters
    ----------
    reached : DataFrame or array, people × items, boolean
        Whether an item appeals to a person. A DataFrame's columns are the item names.
    k : int
        Items in the bundle, ``must_include`` counted.
    weights : array, optional
        Weight of each person (sample weights); equal by default.
    must_include, exclude : sequence of str
        Items every bundle holds / no bundle holds.
    method : {"auto", "exact", "greedy+swap"}
        "auto" searches exhaustively when at most ``max_exact`` bundles are possible.
    """
    problem = _problem(reached, weights)
    fixed, free = _split_items(problem.labels, k, must_include, exclude)
    places = k - len(fixed)
    count = math.comb(len(free), places)
    exact = method == "exact" or (method == "auto" and count <= max_exact)
    if exact:
        ranking, evaluated = _exhaustive(problem, fixed, free, places)
        best, bound = ranking[0], ranking[0].reach
    else:
        chosen, evaluated = _greedy_swap(problem, fixed, free, places)
        best = problem.bundle(chosen)
        bound = min(1.0, best.reach + _largest_gains(problem, chosen, free, places))
        ranking = [best]
    ladder = _ladder(problem, [problem.labels.index(item) for item in best.items], fixed)
    return TurfResult(
        best, "exact" if exact else "greedy+swap", bound, ladder, ranking[:10], evaluated
    )


def reach_above_threshold(utilities: pd.DataFrame) -> pd.DataFrame:
    """People × items: the item reaches the person when its utility is above the
    person's anchored threshold (utilities relative to it, so above 0) — TURF on anchored
    MaxDiff items (Orme, "Anchored Scaling in MaxDiff")."""
    values = utilities.to_numpy(dtype=float)
    if not np.isfinite(values).all():
        raise OfferlabError("anchored utilities must be finite numbers")
    return pd.DataFrame(values > 0, index=utilities.index, columns=utilities.columns)


def reach_from_scores(
    scores: pd.DataFrame, *, top: int | None = None, threshold: float | None = None
) -> pd.DataFrame:
    """Who each item reaches, from individual scores (people × items).

    ``top``: an item reaches a person when it is among their ``top`` best (ties at the
    boundary count). ``threshold``: when its score exceeds the threshold (an anchored
    MaxDiff's anchor, 0 on the anchored utility scale). Give exactly one.
    """
    if (top is None) == (threshold is None):
        raise OfferlabError("give either top or threshold")
    values = scores.to_numpy(dtype=float)
    if top is not None:
        if not 1 <= top <= values.shape[1]:
            raise OfferlabError(f"top must lie in 1…{values.shape[1]}; got {top}")
        cutoff = -np.sort(-values, axis=1)[:, top - 1 : top]
        return pd.DataFrame(values >= cutoff, index=scores.index, columns=scores.columns)
    return pd.DataFrame(values > threshold, index=scores.index, columns=scores.columns)


def _problem(reached: np.ndarray | pd.DataFrame, weights: np.ndarray | None) -> _Problem:
    if isinstance(reached, pd.DataFrame):
        labels = tuple(str(c) for c in reached.columns)
        matrix = reached.to_numpy()
    else:
        matrix = np.asarray(reached)
        labels = tuple(str(j) for j in range(matrix.shape[1]))
    if matrix.ndim != 2 or matrix.shape[0] == 0 or matrix.shape[1] == 0:
        raise OfferlabError("reached must be a non-empty people × items table")
    if len(set(labels)) != len(labels):
        raise OfferlabError("item names must be unique")
    matrix = matrix.astype(bool)
    w = np.ones(matrix.shape[0]) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != (matrix.shape[0],) or not np.all(np.isfinite(w)) or np.any(w < 0):
        raise OfferlabError("weights must be one finite, non-negative number per person")
    if w.sum() <= 0:
        raise OfferlabError("weights must not all be zero")
    w = w / w.sum()
    return _Problem(matrix, w, w @ matrix, labels)


def _split_items(
    labels: tuple[str, ...], k: int, must_include: Sequence[str], exclude: Sequence[str]
) -> tuple[list[int], list[int]]:
    unknown = sorted((set(must_include) | set(exclude)) - set(labels))
    if unknown:
        raise OfferlabError(f"unknown item(s): {', '.join(unknown)}")
    both = sorted(set(must_include) & set(exclude))
    if both:
        raise OfferlabError(f"item(s) both required and excluded: {', '.join(both)}")
    fixed = [labels.index(item) for item in dict.fromkeys(must_include)]
    free = [j for j, item in enumerate(labels) if item not in must_include and item not in exclude]
    if not len(fixed) <= k <= len(fixed) + len(free):
        raise OfferlabError(
            f"k = {k} must lie between {len(fixed)} required and "
            f"{len(fixed) + len(free)} available items"
        )
    return fixed, free


def _exhaustive(
    problem: _Problem, fixed: list[int], free: list[int], places: int
) -> tuple[list[TurfBundle], int]:
    """Every bundle; the best ten by (reach, frequency)."""
    base = problem.reached[:, fixed].any(axis=1)
    free_reached = problem.reached[:, free].T  # free items × people
    people = problem.reached.shape[0]
    batch = max(1, _CHUNK_CELLS // max(people * max(places, 1), 1))
    combos = itertools.combinations(range(len(free)), places)
    best: list[tuple[float, float, tuple[int, ...]]] = []
    evaluated = 0
    while chunk := list(itertools.islice(combos, batch)):
        index = np.array(chunk, dtype=np.intp).reshape(len(chunk), places)
        covered = free_reached[index].any(axis=1) | base if places else base[None, :]
        reach = covered @ problem.weights
        frequency = problem.hits[np.array(free)][index].sum(axis=1)
        keep = np.lexsort((-frequency, -reach))[:10]
        best.extend((float(reach[i]), float(frequency[i]), chunk[i]) for i in keep)
        best = sorted(best, key=lambda row: (-row[0], -row[1], row[2]))[:10]
        evaluated += len(chunk)
    ranking = [problem.bundle(fixed + [free[i] for i in combo]) for _, _, combo in best]
    return ranking, evaluated


def _greedy_swap(
    problem: _Problem, fixed: list[int], free: list[int], places: int
) -> tuple[list[int], int]:
    """Greedy addition then one-for-one swaps, from several starts; the best local optimum.

    The starts force each of the most popular free items in first (as well as plain
    greedy), because a greedy path's first choice is the one swaps undo least easily.
    """
    popular = sorted(free, key=lambda j: (-problem.hits[j], j))[: 2 * places]
    best: tuple[tuple[float, float], list[int]] | None = None
    evaluated = 0
    for start in [None, *popular] if places else [None]:
        seed = fixed if start is None else [*fixed, start]
        chosen, count = _greedy(problem, seed, free, fixed, places)
        chosen, current, swaps = _swap(problem, chosen, free, len(fixed))
        evaluated += count + swaps
        if best is None or current > best[0]:
            best = (current, chosen)
    assert best is not None
    return best[1], evaluated


def _greedy(
    problem: _Problem, seed: list[int], free: list[int], fixed: list[int], places: int
) -> tuple[list[int], int]:
    chosen = list(seed)
    evaluated = 0
    while len(chosen) < len(fixed) + places:
        candidates = [j for j in free if j not in chosen]
        scores = [(problem.reach([*chosen, j]), problem.hits[j], -j) for j in candidates]
        evaluated += len(candidates)
        chosen.append(-max(scores)[2])
    return chosen, evaluated


def _swap(
    problem: _Problem, chosen: list[int], free: list[int], first_free: int
) -> tuple[list[int], tuple[float, float], int]:
    current = (problem.reach(chosen), float(problem.hits[chosen].sum()))
    evaluated = 0
    improved = True
    while improved:
        improved = False
        for position in range(first_free, len(chosen)):
            for j in free:
                if j in chosen:
                    continue
                trial = [*chosen[:position], j, *chosen[position + 1 :]]
                score = (problem.reach(trial), float(problem.hits[trial].sum()))
                evaluated += 1
                if score > current:
                    chosen, current, improved = trial, score, True
    return chosen, current, evaluated


def _largest_gains(problem: _Problem, chosen: list[int], free: list[int], places: int) -> float:
    """Sum of the ``places`` largest reach gains single outside items add to ``chosen``."""
    uncovered = ~problem.reached[:, chosen].any(axis=1)
    outside = [j for j in free if j not in chosen]
    gains = (problem.reached[:, outside] & uncovered[:, None]).T @ problem.weights
    return float(np.sort(gains)[::-1][:places].sum())


def _ladder(problem: _Problem, items: list[int], fixed: list[int]) -> list[TurfBundle]:
    """The bundle's items in the order that adds most reach at each step (required first)."""
    order = list(fixed)
    rest = [j for j in items if j not in fixed]
    while rest:
        step = max(rest, key=lambda j: (problem.reach([*order, j]), problem.hits[j], -j))
        order.append(step)
        rest.remove(step)
    return [
        TurfBundle(
            tuple(problem.labels[j] for j in order[: n + 1]),
            problem.reach(order[: n + 1]),
            float(problem.hits[order[: n + 1]].sum()),
        )
        for n in range(len(order))
    ]
