"""MaxDiff (best–worst scaling) designs: near-balanced incomplete blocks.

Each task shows ``per_task`` of the ``items``; a person answers ``tasks`` tasks of one
version. A good design shows every item equally often (within one when the slots do not
divide), in every position equally often, and every pair of items together as equally
often as the numbers allow, and never shows a prohibited pair together.

The search starts from items dealt round-robin into the tasks and improves by swapping
two items between tasks, which keeps every item's frequency. It minimises the squared
deviation of pair counts from their mean (duplicates in a task and prohibited pairs count
as infinitely bad), then orders each task's items to balance positions. The diagnostics
say how close it came and, when a bar cannot be met by any design, why.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import Bounds, LinearConstraint, milp

from offerlab.exceptions import OfferlabError

__all__ = ["MaxDiffDesign", "MaxDiffDiagnostics", "make_maxdiff_design", "maxdiff_d_error"]

_HARD = 1_000_000.0  # cost of a duplicate or a prohibited pair in one task


@dataclass(frozen=True)
class MaxDiffDiagnostics:
    """How balanced a MaxDiff design is.

    ``frequency``: (min, max) times an item is shown per version. ``position``: (min, max)
    times an item appears in one position, over all versions, and the mean. ``pairs``:
    (min, max) times two items appear together per version, and the mean. ``d_error``:
    of the sequential best–worst logit at zero utilities, per respondent (lower is better).
    ``problems``: bars no design can meet with these numbers, in words.
    """

    frequency: tuple[int, int]
    position: tuple[int, int, float]
    pairs: tuple[int, int, float]
    d_error: float
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        lines = [
            f"items shown per version: {self.frequency[0]}–{self.frequency[1]} times",
            f"item in one position: {self.position[0]}–{self.position[1]} times "
            f"(mean {self.position[2]:.2f})",
            f"pairs shown together: {self.pairs[0]}–{self.pairs[1]} times "
            f"(mean {self.pairs[2]:.2f})",
            f"D-error of the best–worst logit: {self.d_error:.4f}",
        ]
        return "\n".join(lines + [f"note: {p}" for p in self.problems])


@dataclass(frozen=True)
class MaxDiffDesign:
    """Versions × tasks × per_task item indices, with the item names and diagnostics."""

    items: tuple[str, ...]
    sets: np.ndarray
    diagnostics: MaxDiffDiagnostics

    def to_frame(self) -> pd.DataFrame:
        """Long format: version, task, position, item (1-based version/task/position)."""
        v, t, p = np.indices(self.sets.shape)
        return pd.DataFrame(
            {
                "version": v.ravel() + 1,
                "task": t.ravel() + 1,
                "position": p.ravel() + 1,
                "item": [self.items[j] for j in self.sets.ravel()],
            }
        )


def make_maxdiff_design(
    items: Sequence[str],
    per_task: int,
    tasks: int,
    *,
    versions: int = 1,
    prohibited: Sequence[tuple[str, str]] = (),
    seed: int | None = None,
    steps: int = 30_000,
) -> MaxDiffDesign:
    """Make a near-balanced MaxDiff design (see the module's description)."""
    names = tuple(items)
    n = _check(names, per_task, tasks, versions)
    banned = _banned_pairs(names, prohibited)
    rng = np.random.default_rng(seed)
    sets = np.empty((versions, tasks, per_task), dtype=np.intp)
    for version in range(versions):
        deal = _deal(n, per_task, tasks, version, rng)
        sets[version] = _improve_pairs(deal, n, banned, rng, steps)
    sets = _balance_positions(sets, n, rng, steps)
    return MaxDiffDesign(names, sets, _diagnose(sets, n, banned))


def maxdiff_d_error(sets: np.ndarray, n_items: int) -> float:
    """D-error per respondent of the sequential best–worst logit at zero utilities.

    ``sets`` is tasks × per_task (one version). Item utilities are coded against the last
    item. At zero utilities the best pick is uniform over the task's J items and the worst
    uniform over the J − 1 left, so the expected information of a task is
    X'(I/J − 11'/J²)X + mean over the best item b of X_b'(I/(J−1) − 11'/(J−1)²)X_b.
    """
    p = n_items - 1
    information = np.zeros((p, p))
    eye = np.eye(n_items)[:, :p]
    for task in sets:
        j = len(task)
        x = eye[task]
        information += _logit_information(x)
        for b in range(j):
            information += _logit_information(np.delete(x, b, axis=0)) / j
    sign, logdet = np.linalg.slogdet(information)
    return float(np.exp(-logdet / p)) if sign > 0 else float("inf")


def _logit_information(x: np.ndarray) -> np.ndarray:
    j = x.shape[0]
    centred = x - x.mean(axis=0)
    return centred.T @ centred / j


def _check(names: tuple[str, ...], per_task: int, tasks: int, versions: int) -> int:
    n = len(names)
    if len(set(names)) != n:
        raise OfferlabError("MaxDiff item names must be unique")
    if not 3 <= per_task <= n:
        raise OfferlabError(f"items per task must lie in 3 … {n} (the number of items)")
    if tasks < 1 or versions < 1:
        raise OfferlabError("tasks and versions must be at least 1")
    if tasks * per_task < n:
        raise OfferlabError(
            f"{tasks} tasks × {per_task} items show fewer than the {n} items once: "
            f"use at least {math.ceil(n / per_task)} tasks"
        )
    return n


def _banned_pairs(names: tuple[str, ...], prohibited: Sequence[tuple[str, str]]) -> set:
    banned = set()
    for a, b in prohibited:
        unknown = [x for x in (a, b) if x not in names]
        if unknown:
            raise OfferlabError(f"prohibited pair names unknown item(s): {', '.join(unknown)}")
        i, j = names.index(a), names.index(b)
        banned.add((min(i, j), max(i, j)))
    return banned


def _deal(n: int, per_task: int, tasks: int, version: int, rng: np.random.Generator) -> np.ndarray:
    """Items dealt round-robin; the items shown once more rotate across versions."""
    slots = tasks * per_task
    start = (version * slots) % n
    order = np.array([(start + k) % n for k in range(slots)])
    # consecutive items of a round-robin never repeat within a task (per_task <= n)
    return rng.permutation(n)[order].reshape(tasks, per_task)


def _pair_counts(sets: np.ndarray, n: int) -> np.ndarray:
    counts = np.zeros((n, n), dtype=np.int64)
    for task in sets:
        for a, b in itertools.combinations(task, 2):
            counts[a, b] += 1
            counts[b, a] += 1
    return counts


class _PairCost:
    """Cost of one pair's count: 0 inside [floor(mean), ceil(mean)], squared distance
    outside it, and a prohibited pair costs _HARD for every time it is shown."""

    def __init__(self, n: int, per_task: int, tasks: int, banned: set) -> None:
        mean = tasks * math.comb(per_task, 2) / math.comb(n, 2)
        low, high = math.floor(mean), math.ceil(mean)
        counts = np.arange(tasks + 2)
        self.table = (np.maximum(low - counts, 0) + np.maximum(counts - high, 0)) ** 2.0
        self.banned = np.zeros((n, n), dtype=bool)
        for a, b in banned:
            self.banned[a, b] = self.banned[b, a] = True

    def of(self, a: int, b: int, count: int) -> float:
        return _HARD * count if self.banned[a, b] else float(self.table[count])

    def total(self, counts: np.ndarray) -> float:
        return sum(
            self.of(a, b, counts[a, b])
            for a, b in zip(*np.triu_indices(len(counts), 1), strict=True)
        )


def _improve_pairs(
    deal: np.ndarray, n: int, banned: set, rng: np.random.Generator, steps: int
) -> np.ndarray:
    """Simulated annealing over swaps of two items between tasks; the best design seen.

    Swaps keep every item's frequency; a swap that would show an item twice in a task
    is never made.
    """
    sets = deal.copy()
    tasks, per_task = sets.shape
    if tasks < 2:
        return sets
    pair_cost = _PairCost(n, per_task, tasks, banned)
    counts = _pair_counts(sets, n)
    cost = pair_cost.total(counts)
    best_cost, best = cost, sets.copy()
    first = rng.integers(tasks, size=steps)
    second = (first + rng.integers(1, tasks, size=steps)) % tasks
    slots = rng.integers(per_task, size=(steps, 2))
    accept = rng.random(steps)
    temperature, cooling = 1.0, 0.001 ** (1 / steps)
    for step in range(steps):
        temperature *= cooling
        t1, t2, (p1, p2) = first[step], second[step], slots[step]
        a, b = sets[t1, p1], sets[t2, p2]
        if a in sets[t2] or b in sets[t1]:
            continue
        change = _swap_changes(sets[t1], sets[t2], p1, p2)
        delta = sum(
            pair_cost.of(i, j, counts[i, j] + d) - pair_cost.of(i, j, counts[i, j])
            for (i, j), d in change.items()
        )
        if delta <= 0 or accept[step] < math.exp(-delta / temperature):
            for (i, j), d in change.items():
                counts[i, j] += d
                counts[j, i] += d
            sets[t1, p1], sets[t2, p2] = b, a
            cost += delta
            if cost < best_cost:
                best_cost, best = cost, sets.copy()
                if best_cost == 0:
                    break
    return best


def _swap_changes(
    task1: np.ndarray, task2: np.ndarray, p1: int, p2: int
) -> dict[tuple[int, int], int]:
    """Pair count changes when task1[p1] and task2[p2] trade places."""
    a, b = int(task1[p1]), int(task2[p2])
    change: dict[tuple[int, int], int] = {}
    for k, x in enumerate(task1):
        if k != p1:
            _bump(change, a, int(x), -1)
            _bump(change, b, int(x), +1)
    for k, x in enumerate(task2):
        if k != p2:
            _bump(change, b, int(x), -1)
            _bump(change, a, int(x), +1)
    return {key: d for key, d in change.items() if d}


def _bump(change: dict[tuple[int, int], int], i: int, j: int, by: int) -> None:
    key = (min(i, j), max(i, j))
    change[key] = change.get(key, 0) + by


def _balance_positions(
    sets: np.ndarray, n: int, rng: np.random.Generator, steps: int
) -> np.ndarray:
    """Reorder items within tasks so each item sits in each position about equally often.

    Annealing over swaps of two positions within a task; an item shown f times costs
    the squared distance of each position count from [floor(f/k), ceil(f/k)].
    """
    sets = sets.copy()
    versions, tasks, per_task = sets.shape
    shown = np.bincount(sets.ravel(), minlength=n)
    low, high = shown // per_task, -(-shown // per_task)
    positions = np.zeros((n, per_task), dtype=np.int64)
    for p in range(per_task):
        np.add.at(positions[:, p], sets[:, :, p].ravel(), 1)

    def cost(item: int, count: int) -> int:
        return (max(low[item] - count, 0) + max(count - high[item], 0)) ** 2

    total = sum(cost(i, c) for i in range(n) for c in positions[i])
    where = rng.integers(versions * tasks, size=steps)
    slots = rng.integers(per_task, size=(steps, 2))
    accept = rng.random(steps)
    temperature, cooling = 1.0, 0.001 ** (1 / steps)
    for step in range(steps):
        if total == 0:
            break
        temperature *= cooling
        v, t = divmod(int(where[step]), tasks)
        p1, p2 = slots[step]
        if p1 == p2:
            continue
        a, b = sets[v, t, p1], sets[v, t, p2]
        moves = ((a, p1, -1), (a, p2, +1), (b, p2, -1), (b, p1, +1))
        delta = _position_delta(positions, moves, cost)
        if delta <= 0 or accept[step] < math.exp(-delta / temperature):
            for item, p, d in moves:
                positions[item, p] += d
            sets[v, t, p1], sets[v, t, p2] = b, a
            total += delta
    return sets


def _position_delta(positions: np.ndarray, moves: tuple, cost) -> int:
    trial = {}
    for item, p, d in moves:
        trial[(item, p)] = trial.get((item, p), positions[item, p]) + d
    return sum(cost(item, c) - cost(item, positions[item, p]) for (item, p), c in trial.items())


def _diagnose(sets: np.ndarray, n: int, banned: set) -> MaxDiffDiagnostics:
    _, tasks, per_task = sets.shape
    shown = [np.bincount(version.ravel(), minlength=n) for version in sets]
    positions = np.stack([np.bincount(sets[:, :, p].ravel(), minlength=n) for p in range(per_task)])
    upper = np.triu_indices(n, 1)
    allowed = np.array([(a, b) not in banned for a, b in zip(*upper, strict=True)])
    pairs = np.stack([_pair_counts(version, n)[upper][allowed] for version in sets])
    mean_pairs = tasks * math.comb(per_task, 2) / math.comb(n, 2)
    together = [
        f"{count} task(s) of version {v + 1} still show a prohibited pair"
        for v, version in enumerate(sets)
        if (count := sum(_shows_banned(task, banned) for task in version))
    ]
    return MaxDiffDiagnostics(
        frequency=(int(min(s.min() for s in shown)), int(max(s.max() for s in shown))),
        position=(int(positions.min()), int(positions.max()), float(positions.mean())),
        pairs=(int(pairs.min()), int(pairs.max()), float(mean_pairs)),
        d_error=float(np.mean([maxdiff_d_error(version, n) for version in sets])),
        problems=_shortfalls(n, per_task, tasks, pairs, mean_pairs, shown[0], len(banned))
        + together,
    )


def _shows_banned(task: np.ndarray, banned: set) -> bool:
    return any((min(a, b), max(a, b)) in banned for a, b in itertools.combinations(task, 2))


def _shortfalls(
    n: int,
    per_task: int,
    tasks: int,
    pairs: np.ndarray,
    mean_pairs: float,
    frequencies: np.ndarray,
    n_banned: int,
) -> list[str]:
    """Bars the design misses, and why where a bound proves no design can meet them."""
    problems = []
    if (tasks * per_task) % n:
        problems.append(
            f"{tasks} × {per_task} = {tasks * per_task} slots do not divide among {n} items: "
            "some items are shown once more than others"
        )
    if pairs.min() >= mean_pairs - 1 and pairs.max() <= mean_pairs + 1:
        return problems
    never = int((pairs == 0).sum(axis=1).max())
    outside = int((np.abs(pairs - mean_pairs) > 1).sum(axis=1).max())
    text = (
        f"pair counts {pairs.min()}–{pairs.max()} are not all within ±1 of their mean "
        f"{mean_pairs:.2f}: {outside} pair(s) per version fall outside, up to {never} of "
        "them never shown together. "
    )
    bound = _fewest_pairs_outside(n, per_task, tasks, frequencies)
    needed = math.ceil(n / per_task * math.ceil((n - 1) / (per_task - 1)))
    if bound.outside - n_banned > 0:
        text += (
            f"No design showing the items this often can meet this bar: its "
            f"{math.comb(tasks, 2)} pairs of tasks share {bound.shared} item places "
            f"(Σ C(frequency, 2)), so the item pairs' repeated showings, Σ C(count, 2), "
            f"add up to at least {bound.repeats}, which leaves at least "
            f"{bound.outside - n_banned} pair(s) outside ±1 in any such design; "
            "add tasks or items per task."
        )
    elif never and tasks < needed:
        text += (
            f"Showing every pair together needs at least {needed} tasks of {per_task} "
            f"(Schönheim's bound); this design has {tasks}."
        )
    elif never:
        text += (
            f"Schönheim's bound ({needed} tasks) does not rule it out, but the smallest design "
            f"showing every pair of {n} items together in tasks of {per_task} may need more "
            f"than {tasks}; add tasks or items per task."
        )
    problems.append(text)
    return problems


@dataclass(frozen=True)
class _PairBound:
    shared: int  # Σ over pairs of tasks of the items they share
    repeats: int  # fewest Σ over item pairs of C(count, 2) those shared items force
    outside: int  # fewest item pairs whose count is more than 1 from the mean


def _fewest_pairs_outside(n: int, per_task: int, tasks: int, frequencies: np.ndarray) -> _PairBound:
    """A lower bound on the pairs shown together more than ±1 from the mean.

    Two counts hold in every design with these item frequencies f: the pairs of tasks
    share Σ C(f, 2) items (each item shown f times puts itself in C(f, 2) pairs of tasks),
    and Σ over pairs of tasks of C(shared, 2) equals Σ over item pairs of C(count, 2)
    (both count an item pair together with two tasks that show it). Spreading the shared
    items as evenly as the integers allow gives the least Σ C(shared, 2). The fewest item
    pairs outside ±1 then follows from a small integer programme over how many pairs are
    shown c times: they number C(n, 2), show tasks · C(per_task, 2) pairs in all, and
    reach at least that Σ C(c, 2).
    """
    n_pairs, slots = math.comb(n, 2), tasks * math.comb(per_task, 2)
    mean = slots / n_pairs
    shared = int(sum(math.comb(int(f), 2) for f in frequencies))
    task_pairs = math.comb(tasks, 2)
    q, r = divmod(shared, task_pairs)
    repeats = (task_pairs - r) * math.comb(q, 2) + r * math.comb(q + 1, 2)
    counts = np.arange(int(np.max(frequencies)) + 1, dtype=float)
    rows = np.vstack([np.ones_like(counts), counts, counts * (counts - 1) / 2])
    result = milp(
        (np.abs(counts - mean) > 1).astype(float),
        constraints=LinearConstraint(rows, [n_pairs, slots, repeats], [n_pairs, slots, np.inf]),
        integrality=np.ones_like(counts),
        bounds=Bounds(0, n_pairs),
    )
    outside = round(result.fun) if result.success else 0
    return _PairBound(shared, repeats, outside)
