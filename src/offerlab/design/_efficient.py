"""D-efficient designs: multi-start coordinate exchange with iterated local search.

The search minimises the MNL D-error of generic main effects, every attribute
coded as part-worths with ``study.design.coding``: the zero-prior D-error, or
with ``study.design.prior`` the Bayesian D-error D_B (mean over prior draws).

1. *Starts.* A fixed number of valid random designs, half of them with the
   levels of each attribute spread over a task as evenly as possible (minimal
   overlap), are improved by coordinate exchange
   (:mod:`offerlab.design._exchange`) to local optima. With a prior the
   starts are instead the best distinct designs of a zero-prior search.
2. *Iterated local search.* In each of at most a fixed number of rounds the
   best distinct designs found so far are perturbed (one to T/6 of their
   tasks replaced by random valid tasks) and improved again; the results join
   the pool. The rounds end early after six rounds without improvement.
3. *Versions.* Every version is its own design of ``tasks.per_respondent``
   tasks: the versions are the best *distinct* designs of the pool (distinct
   up to the order of tasks and of concepts), so each respondent sees an
   efficient design and the versions differ.

The amount of search (starts, rounds, designs per round) is fixed by the
size of the study (:func:`plan_for`), so the design is a function of the study
and the seed alone. The time budget
(``seconds``) only caps the search: if it runs out first the search stops
early, a warning says so, and the result then depends on the machine's speed.
Under the zero prior the search also stops early, deterministically, once
enough distinct designs reach the Street–Burgess optimum, which no design can
beat.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from offerlab.design._bounds import street_burgess_bound
from offerlab.design._exchange import Clock, exchange_bayes, exchange_zero
from offerlab.design._prior import prior_draws
from offerlab.design._rules import TaskRules, random_tasks
from offerlab.design._space import DesignSpace
from offerlab.exceptions import OfferlabWarning
from offerlab.study import Study

__all__ = ["SearchPlan", "SearchReport", "efficient_design", "plan_for"]

Progress = Callable[[float], None]


@dataclass(frozen=True)
class SearchPlan:
    """The fixed amount of search of the efficient method.

    Attributes
    ----------
    starts : int
        Random starting designs (at least twice the number of versions are used).
    rounds : int
        Rounds of iterated local search.
    elite : int
        Best distinct designs perturbed in each round.
    children : int
        Perturbed copies of each of them.
    patience : int
        Stop after this many rounds without improving the designs to be returned.
    max_passes : int
        Upper limit on coordinate-exchange passes of one design.
    """

    starts: int = 256
    rounds: int = 8
    elite: int = 16
    children: int = 8
    patience: int = 3
    max_passes: int = 100


# Work the zero-prior plan may take, in the units of :func:`plan_for` (about 3 s
# of this package's test machine, a 2-core virtual machine).
_ZERO_WORK = 2.5e8


def plan_for(space: DesignSpace, tasks: int, versions: int, bayes: bool) -> SearchPlan:
    """The default amount of search for a study: a function of its size only.

    One coordinate-exchange run costs about cells^1.5 · (K̄·P + 32) units:
    cells = tasks · m · A are visited in every pass and the passes grow with
    the design; a cell has K̄ = mean(L_a) + m − 1 moves costing about P each;
    building candidate tasks level by level (dominance checks) costs 1.5 times
    more. The zero-prior plan spends about ``_ZERO_WORK`` units: up to 256
    starts, then up to 16 rounds of half as many perturbed designs. The
    Bayesian search costs about D (draws) times more per run; its plan is small
    and usually ends at the time cap for large studies.
    """
    m, A, P = space.m, space.A, space.P
    if bayes:
        return SearchPlan(starts=4, rounds=2, elite=2, children=2, patience=1)
    cells = tasks * m * A
    k_bar = float(np.mean(space.n_levels)) + m - 1
    unit = cells**1.5 * (k_bar * P + 32) * (1.5 if space.need_levels else 1.0)
    total = max(1, int(_ZERO_WORK / unit))
    starts = int(np.clip(total // 3, 32, 256))
    per_round = int(np.clip(starts // 2, 16, 128))
    rounds = int(np.clip((total - starts) // per_round, 1, 16))
    elite = max(2, per_round // 8)
    return SearchPlan(
        starts=starts, rounds=rounds, elite=elite, children=per_round // elite, patience=6
    )


@dataclass
class SearchReport:
    """What the efficient search did (stored in ``Design.info``)."""

    objective: str
    designs_searched: int = 0
    rounds_done: int = 0
    seconds: float = 0.0
    stopped_at_optimum: bool = False
    timed_out: bool = False
    d_errors: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def _spread_tasks(study: Study, n: int, rng: np.random.Generator) -> np.ndarray:
    """Random tasks (n, m, A) whose levels spread over each task as evenly as possible.

    Tasks that break a rule are replaced by plain random tasks.
    """
    m = study.tasks.alternatives
    cols = []
    for L in study.n_levels:
        reps = -(-m // L)
        perm = np.argsort(rng.random((n, L)), axis=1)  # a random order of the levels
        spread = np.tile(perm, reps)[:, :m]  # the first m of it, cycling
        shuffle = np.argsort(rng.random((n, m)), axis=1)
        cols.append(np.take_along_axis(spread, shuffle, axis=1))
    tasks = np.stack(cols, axis=-1)
    bad = ~TaskRules(study).valid(tasks)
    if bad.any():
        tasks[bad] = random_tasks(study, int(bad.sum()), rng)
    return tasks


def _starts(study: Study, n: int, rng: np.random.Generator) -> np.ndarray:
    T, m, A = study.tasks.per_respondent, study.tasks.alternatives, len(study.attributes)
    half = n // 2
    spread = _spread_tasks(study, half * T, rng).reshape(half, T, m, A)
    plain = random_tasks(study, (n - half) * T, rng).reshape(n - half, T, m, A)
    return np.concatenate([spread, plain])


class _Pool:
    """Designs found so far with their D-errors, and which of them are distinct."""

    def __init__(self, space: DesignSpace) -> None:
        self.space = space
        self.levels: list[np.ndarray] = []
        self.errors: list[float] = []
        self.keys: list[bytes] = []

    def key(self, design: np.ndarray) -> bytes:
        """Identity of a design up to the order of its tasks and of their concepts."""
        if self.space.use_ids:
            ids = np.sort(self.space.ids(design), axis=1)  # (T, m)
        else:
            ids = np.stack([t[np.lexsort(t.T[::-1])].ravel() for t in design])
        return ids[np.lexsort(ids.T[::-1])].tobytes()

    def add(self, levels: np.ndarray, errors: np.ndarray) -> None:
        for lv, err in zip(levels, errors, strict=True):
            self.levels.append(lv)
            self.errors.append(float(err))
            self.keys.append(self.key(lv))

    def best(self, n: int) -> list[int]:
        """Indices of the n best distinct designs (ties: the earlier found)."""
        order = np.argsort(np.asarray(self.errors), kind="stable")
        out, seen = [], set()
        for i in order:
            if self.keys[i] in seen:
                continue
            seen.add(self.keys[i])
            out.append(int(i))
            if len(out) == n:
                break
        return out


def _perturb(study: Study, designs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Copies of designs (B, T, m, A), each with 1 to ⌈T/6⌉ tasks replaced by random valid tasks."""
    out = designs.copy()
    B, T = out.shape[:2]
    k_max = max(1, round(T / 6))
    for b in range(B):
        tasks = rng.choice(T, size=int(rng.integers(1, k_max + 1)), replace=False)
        out[b, tasks] = random_tasks(study, len(tasks), rng)
    return out


def _warm(
    starts: np.ndarray, study: Study, space: DesignSpace, rng: np.random.Generator, clock: Clock
) -> None:
    """Replace the first starts by the best distinct designs of a zero-prior search."""
    n_starts = len(starts)
    warm = _Pool(space)
    z, logdet = exchange_zero(space, _starts(study, max(64, 2 * n_starts), rng), rng, clock=clock)
    warm.add(z, np.exp(-logdet / space.P))
    best = warm.best(n_starts)
    starts[: len(best)] = np.stack([warm.levels[i] for i in best])


def _time_report(report: SearchReport, clock: Clock, seconds: float, rounds: int) -> None:
    """Record the search's time; warn when the budget, not the plan, ended it."""
    report.seconds = clock.elapsed()
    report.timed_out = clock.expired
    if not report.timed_out:
        return
    message = (
        f"the efficient search reached its time budget of {seconds:g} s before finishing "
        f"its fixed plan ({report.rounds_done} of {rounds} rounds); the design is "
        "valid but depends on this machine's speed. Raise design.seconds for a result "
        "that depends on the seed alone."
    )
    warnings.warn(OfferlabWarning.because("design_time_budget", message), stacklevel=4)


def efficient_design(
    study: Study,
    versions: int,
    rng: np.random.Generator,
    *,
    seconds: float,
    progress: Progress | None = None,
    plan: SearchPlan | None = None,
) -> tuple[np.ndarray, SearchReport]:
    """A D-efficient design of ``versions`` versions.

    Parameters
    ----------
    study : Study
        Attributes, prohibitions, task rules, ``design.coding`` and ``design.prior``.
    versions : int
        Number of versions; each is a design of ``tasks.per_respondent`` tasks.
    rng : numpy.random.Generator
        The only source of randomness.
    seconds : float
        Upper limit on the search time (see the module notes).
    progress : callable, optional
        Called with the fraction of the search done, in [0, 1].
    plan : SearchPlan, optional
        Amount of search; default :func:`plan_for` the study.

    Returns
    -------
    levels : ndarray of int64, shape (versions, tasks, alternatives, attributes)
    report : SearchReport
    """
    clock = Clock(seconds)
    coding = study.design.coding
    space = DesignSpace(study, coding)
    betas = prior_draws(study, coding, rng)
    bayes = betas is not None
    if plan is None:
        plan = plan_for(space, study.tasks.per_respondent, versions, bayes)
    report = SearchReport(objective="Bayesian D-error" if bayes else "D-error (zero prior)")
    T, m = study.tasks.per_respondent, study.tasks.alternatives
    bound = None if bayes else street_burgess_bound(study.n_levels, m, T, coding)
    n_starts = max(plan.starts, versions if bayes else 2 * versions)
    # Work shares for the progress callback: warm-up, starts, then equal rounds.
    warm_share = 0.1 if bayes else 0.0
    share = (1.0 - warm_share) / (1 + plan.rounds)
    done = 0.0

    def tick(fraction: float) -> None:
        nonlocal done
        done = max(done, min(1.0, fraction))
        if progress is not None:
            progress(done)

    def improve(levels: np.ndarray, work: float) -> tuple[np.ndarray, np.ndarray]:
        base, n = done, len(levels)
        report.designs_searched += n
        if not bayes:
            out, logdet = exchange_zero(
                space,
                levels,
                rng,
                max_passes=plan.max_passes,
                clock=clock,
                progress=lambda share: tick(base + work * share),
            )
            tick(base + work)
            return out, np.exp(-logdet / space.P)
        finished = [0]

        def step(k: int) -> None:
            finished[0] += k
            tick(base + work * finished[0] / n)

        out, err = exchange_bayes(
            space, levels, betas, rng, max_passes=plan.max_passes, clock=clock, progress=step
        )
        tick(base + work)
        return out, err

    starts = _starts(study, n_starts, rng)
    if bayes:
        # Warm starts: the best distinct designs of a zero-prior search, which the
        # (far costlier) Bayesian exchange then only has to adapt to the prior.
        _warm(starts, study, space, rng, clock)
        tick(warm_share)
    pool = _Pool(space)
    pool.add(*improve(starts, share))

    def at_optimum() -> bool:
        if bound is None:
            return False
        best = pool.best(versions)
        return len(best) == versions and all(pool.errors[i] <= bound * (1 + 1e-9) for i in best)

    def target() -> float:  # mean D-error of the designs that would be returned
        return float(np.mean([pool.errors[i] for i in pool.best(versions)]))

    stale, current = 0, target()
    for _ in range(plan.rounds):
        if at_optimum():
            report.stopped_at_optimum = True
            break
        if stale >= plan.patience or clock.out():
            break
        elite = np.stack([pool.levels[i] for i in pool.best(plan.elite)])
        children = _perturb(study, np.repeat(elite, plan.children, axis=0), rng)
        pool.add(*improve(children, share))
        report.rounds_done += 1
        previous, current = current, target()
        stale = stale + 1 if current >= previous * (1 - 1e-9) else 0
    else:
        report.stopped_at_optimum = at_optimum()

    _time_report(report, clock, seconds, plan.rounds)
    # Fewer distinct designs than versions (a tiny design space): repeat the best ones.
    best = pool.best(versions)
    chosen = [best[i % len(best)] for i in range(versions)]
    report.d_errors = [pool.errors[i] for i in chosen]
    tick(1.0)
    return np.stack([pool.levels[i] for i in chosen]), report
