"""Running hierarchical Bayes chains: in worker processes, until the diagnostics pass.

The chains (:class:`offerlab.numerics._hb_chain.HBChain`) live in forked worker
processes, a few per core, and run in segments. After each segment the parent pools the
saved draws of all chains and, while the chains run the next segment, computes the
rank-normalised split R-hat and the bulk and tail ESS (Vehtari et al. 2021) of

* every population mean α_k and covariance entry D_kl (l ≤ k),
* every respondent's coefficients β_rk, from the stored individual draws (the draws the
  decisions resample, and whose means are the individual part-worths),

and stops when all pass (:class:`StopRule`), or at its iteration or time cap, naming
what fell short. The run's draws are those checked: a segment under way when the check
passes is dropped.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from multiprocessing.connection import wait
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from offerlab.numerics import (
    ESS_MIN,
    RHAT_MAX,
    ChainSegment,
    HBChain,
    HBChainSetup,
    HBSettings,
    chain_likelihood,
    diagnose,
)

__all__ = [
    "ChainJob",
    "ConvergenceCheck",
    "PooledDraws",
    "StopRule",
    "convergence_table",
    "individual_diagnostics",
    "run_chains",
]


@dataclass(frozen=True)
class StopRule:
    """When a hierarchical Bayes run may stop.

    With ``until_converged``, saved draws come in segments of ``check_every`` per chain
    until every diagnosed quantity has R-hat < ``rhat_max`` and bulk and tail ESS >
    ``ess_min`` -- or ``max_draws`` saved draws per chain or ``max_seconds`` of sampling
    have passed. Without it, exactly ``settings.draws`` draws are saved.
    """

    until_converged: bool = False
    rhat_max: float = RHAT_MAX
    ess_min: float = ESS_MIN
    check_every: int = 500
    max_draws: int = 20_000
    max_seconds: float | None = None
    individual: bool = True


@dataclass(frozen=True)
class ChainJob:
    """One chain to run: its fixed parts, start values and random stream."""

    setup: HBChainSetup
    theta0: np.ndarray
    alpha0: np.ndarray
    rng: np.random.Generator


@dataclass
class ConvergenceCheck:
    """The verdict of one check: the population table and the individual summary."""

    population: pd.DataFrame
    individual: dict[str, float] | None
    rule: StopRule
    shortfalls: list[str] = field(default_factory=list)
    # where the respondents were worst, and whether all of them were diagnosed (a check
    # during the run stops at the first block of respondents that fails)
    individual_block: int = 0
    individual_complete: bool = True

    @property
    def passed(self) -> bool:
        return not self.shortfalls


def convergence_table(alpha: np.ndarray, D: np.ndarray, names: list[str]) -> pd.DataFrame:
    """R-hat and ESS of α_k and D_kl (l ≤ k) from (C, S, K) and (C, S, K, K) draws."""
    K = len(names)
    low_k, low_l = np.tril_indices(K)
    params = np.concatenate([alpha, D[:, :, low_k, low_l]], axis=2)
    labels = [f"mean[{n}]" for n in names] + [
        f"cov[{names[k]},{names[j]}]" for k, j in zip(low_k, low_l, strict=True)
    ]
    r_hat, bulk, tail = diagnose(params)
    return pd.DataFrame(
        {"rhat": r_hat, "ess_bulk": bulk, "ess_tail": tail},
        index=pd.Index(labels, name="parameter"),
    )


_RESPONDENTS_PER_CHUNK = 100


def individual_diagnostics(
    draws: np.ndarray, every: int, threads: int = 1
) -> dict[str, float] | None:
    """Worst R-hat and smallest bulk/tail ESS over all respondents' coefficients.

    ``draws`` (C, R, m, K) are every ``every``-th saved draw, diagnosed in their own
    precision (the sampler stores them in single); the ESS is that of these stored
    draws, a lower bound for all saved draws (thinning only loses information).
    ``threads`` diagnose blocks of respondents side by side (numpy's sorts and scipy's
    FFTs release the GIL): the final check runs when the chain processes have stopped.
    """
    rows = _RespondentRows(lambda start, stop: draws[:, start:stop], draws.shape[1], every)
    return _diagnose_individuals(rows, threads).summary


@dataclass(frozen=True)
class _RespondentRows:
    """The stored individual draws (C, R, m, K), read a block of respondents at a time."""

    read: Callable[[int, int], np.ndarray]  # (start, stop) -> (C, stop - start, m, K)
    respondents: int
    every: int


@dataclass(frozen=True)
class _IndividualVerdict:
    summary: dict[str, float] | None
    worst_block: int = 0  # the block of respondents with the highest R-hat
    complete: bool = True  # False: stopped at a failing block, the others not diagnosed


def _diagnose_individuals(
    rows: _RespondentRows, threads: int, screen: tuple[StopRule, int] | None = None
) -> _IndividualVerdict:
    """:func:`individual_diagnostics`, a block of 100 respondents at a time.

    With ``screen`` = (rule, block), a check during the run that only has to say pass or
    fail: blocks in turn from that one (where the last check found its worst), ``threads``
    at a time, stopping at the first round with a failing block. At every segment after
    the population passed, checking all 15,000 coefficients of the 1,000-respondent bench
    took 4-6 CPU s, longer than the chains' segment they waited for.
    """
    n_blocks = -(-rows.respondents // _RESPONDENTS_PER_CHUNK)
    first = rows.read(0, 1)
    C, m = first.shape[0], first.shape[2]
    if m < 8:
        return _IndividualVerdict(None)

    def block(b: int) -> tuple[float, float, float]:
        start = b * _RESPONDENTS_PER_CHUNK
        x = rows.read(start, start + _RESPONDENTS_PER_CHUNK).transpose(0, 2, 1, 3)
        r_hat, bulk, tail = diagnose(x.reshape(C, m, -1))
        return float(np.nanmax(r_hat)), float(np.nanmin(bulk)), float(np.nanmin(tail))

    def summary(worst: list[tuple[float, float, float]]) -> dict[str, float]:
        r_hats, bulks, tails = zip(*worst, strict=True)
        return {
            "rhat": max(r_hats),
            "ess_bulk": min(bulks),
            "ess_tail": min(tails),
            "stored_draws": float(C * m),
            "every": float(rows.every),
        }

    start = 0 if screen is None else screen[1] % n_blocks
    order = [(start + b) % n_blocks for b in range(n_blocks)]
    # a round of `threads` blocks at a time when screening, all at once otherwise
    size = max(1, threads) if screen is not None else n_blocks
    worst: dict[int, tuple[float, float, float]] = {}
    with ThreadPoolExecutor(max(1, threads)) as pool:
        for at in range(0, n_blocks, size):
            batch = order[at : at + size]
            worst.update(zip(batch, pool.map(block, batch), strict=True))
            if screen is not None and any(_fails(worst[b], screen[0]) for b in batch):
                failed = [worst[b] for b in batch if _fails(worst[b], screen[0])]
                worst_block = max(batch, key=lambda b: worst[b][0])
                return _IndividualVerdict(summary(failed), worst_block, complete=False)
    return _IndividualVerdict(summary(list(worst.values())), max(worst, key=lambda b: worst[b][0]))


def _fails(worst: tuple[float, float, float], rule: StopRule) -> bool:
    r_hat, bulk, tail = worst
    return r_hat >= rule.rhat_max or min(bulk, tail) <= rule.ess_min


@dataclass
class PooledDraws:
    """The saved draws of every chain, joined only when a check reads them.

    A check needs the population draws every time and the respondents' stored draws
    (22 MB a chain on the 1,000-respondent bench) only once the population passes:
    joining every segment's arrays at every check took up to 1.5 s a check there.
    """

    parts: list[list[ChainSegment]]  # per chain, its segments of saved draws

    def _joined(self, name: str) -> np.ndarray:
        return np.stack([np.concatenate([getattr(s, name) for s in p]) for p in self.parts])

    @cached_property
    def alpha(self) -> np.ndarray:
        return self._joined("alpha")  # (C, S, K)

    @cached_property
    def D(self) -> np.ndarray:  # noqa: N802  (the covariance draws, D as in all of HB)
        return self._joined("D")  # (C, S, K, K)

    def individual_rows(self, start: int, stop: int) -> np.ndarray:
        """Respondents start:stop's stored draws, (C, stop - start, m, K): a block is
        joined from the segments when it is diagnosed, not all 22 MB a chain at once."""
        return np.stack(
            [np.concatenate([s.individual[start:stop] for s in p], axis=1) for p in self.parts]
        )

    @property
    def respondent_rows(self) -> _RespondentRows:
        first = self.parts[0][0]
        return _RespondentRows(
            self.individual_rows, first.individual.shape[0], first.individual_every
        )


def check_convergence(
    draws: PooledDraws,
    names: list[str],
    rule: StopRule,
    *,
    final: bool = False,
    threads: int = 1,
    first_block: int = 0,
) -> ConvergenceCheck:
    """Diagnose the pooled draws of all chains against ``rule``.

    The respondents' coefficients (R·K of them, the dearest part: ~1 s for 15,000
    against milliseconds for the population) are diagnosed only when they can decide:
    once the population passes and the rule asks for them, and at the end (``final``)
    for the report. During the run (not ``final``) the respondents are screened: the
    block ``first_block`` first, the rest only if it passes.
    """
    table = convergence_table(draws.alpha, draws.D, names)
    check = ConvergenceCheck(table, None, rule)
    K = len(names)
    groups = {"population means": table.iloc[:K], "covariance entries": table.iloc[K:]}
    for label, rows in groups.items():
        worst_rhat = float(rows["rhat"].max())
        worst_ess = float(rows[["ess_bulk", "ess_tail"]].min().min())
        bad = rows[
            (rows["rhat"] >= rule.rhat_max)
            | (rows["ess_bulk"] <= rule.ess_min)
            | (rows["ess_tail"] <= rule.ess_min)
        ]
        if len(bad):
            check.shortfalls.append(
                f"{len(bad)} of {len(rows)} {label} (worst R-hat {worst_rhat:.3f}, "
                f"smallest ESS {worst_ess:.0f}; e.g. {', '.join(bad.index[:3])})"
            )
    if final or (rule.individual and not check.shortfalls):
        screen = None if final else (rule, first_block)
        verdict = _diagnose_individuals(draws.respondent_rows, threads, screen)
        check.individual = verdict.summary
        check.individual_block, check.individual_complete = verdict.worst_block, verdict.complete
    if rule.individual:
        ind = check.individual
        if ind is None and not final and check.shortfalls:
            check.shortfalls.append("individual means (not yet diagnosed)")
        elif ind is None:
            check.shortfalls.append("individual means (too few stored draws to diagnose)")
        elif ind["rhat"] >= rule.rhat_max or min(ind["ess_bulk"], ind["ess_tail"]) <= rule.ess_min:
            where = (
                "over every respondent's coefficients"
                if check.individual_complete
                else "in the first block of respondents that failed"
            )
            check.shortfalls.append(
                f"individual means (worst R-hat {ind['rhat']:.3f}, smallest ESS "
                f"{min(ind['ess_bulk'], ind['ess_tail']):.0f} {where})"
            )
    return check


# -- workers -----------------------------------------------------------------------------------

_JOBS: list[ChainJob] = []


def _new_chain(job: ChainJob) -> HBChain:
    return HBChain(job.setup, job.theta0, job.alpha0, job.rng)


def _worker(indices: list[int], conn: Any, counter: Any) -> None:
    """A worker process: owns the chains ``indices``, runs segments on command."""
    # The workers already fill the cores. A BLAS that threads its larger products (the
    # proposal roots times the factor of D, the shift move's utilities) would have each
    # worker's threads spin against the other workers': on the 1,000-respondent bench
    # twice the CPU seconds for the same wall time.
    threadpool_limits(limits=1)
    chains = [
        HBChain(_JOBS[c].setup, _JOBS[c].theta0, _JOBS[c].alpha0, _JOBS[c].rng) for c in indices
    ]
    done = dict.fromkeys(indices, 0)
    try:
        while True:
            command, n = conn.recv()
            if command == "stop":
                break
            out = []
            for c, chain in zip(indices, chains, strict=True):

                def tick(k: int, c: int = c) -> None:
                    counter[c] = done[c] + k

                if command == "burn":
                    out.append(chain.burn(n, tick))
                    done[c] += n
                else:
                    out.append(chain.sample(n, chain.setup.settings.thin, tick))
                    out[-1].scale = chain.scale  # type: ignore[attr-defined]
                    done[c] += n * chain.setup.settings.thin
            conn.send(("ok", out))
    except BaseException as exc:
        conn.send(("error", repr(exc)))
    finally:
        conn.close()


class _Pool:
    """Chains spread over forked worker processes (or run here when there is one core)."""

    def __init__(self, jobs: list[ChainJob], n_jobs: int | None) -> None:
        global _JOBS
        self.jobs = jobs
        workers = min(len(jobs), n_jobs or os.cpu_count() or 1)
        self.local = workers <= 1 or "fork" not in mp.get_all_start_methods()
        self.workers = 1 if self.local else workers
        self.done = np.zeros(len(jobs), dtype=np.int64)
        self.command: tuple[str, int] | None = None  # sent and not yet collected
        if self.local:
            self.chains = [_new_chain(j) for j in jobs]
            return
        # What the chains' likelihood reads (the single-precision design, or the items'
        # memberships), built here on the layout: the forked workers then share its pages
        # (and the cache lines holding them) instead of building a copy each.
        for job in jobs:
            chain_likelihood(job.setup.layout, job.setup.settings)
        ctx = mp.get_context("fork")
        self.counter = ctx.Array("q", len(jobs), lock=False)
        _JOBS = jobs  # inherited by the forked workers: no pickling of the data
        self.conns, self.procs = [], []
        try:
            for w in range(workers):
                parent, child = ctx.Pipe()
                indices = list(range(w, len(jobs), workers))
                proc = ctx.Process(target=_worker, args=(indices, child, self.counter))
                proc.start()
                child.close()
                self.conns.append((parent, indices))
                self.procs.append(proc)
        finally:
            _JOBS = []

    def progress_iterations(self) -> int:
        return int(self.done.sum()) if self.local else int(sum(self.counter))

    def send(self, command: str, n: int) -> None:
        """Start ``burn`` or ``sample`` of n iterations (draws) on every chain."""
        self.command = (command, n)
        if not self.local:
            for parent, _ in self.conns:
                parent.send(self.command)

    def collect(self, tick: Callable[[int], None] | None) -> list[ChainSegment]:
        """The segments of the command sent last, in chain order (here: run it now)."""
        command, n = self.command
        self.command = None
        if self.local:
            return [self._run_here(c, command, n, tick) for c in range(len(self.chains))]
        segments: list[ChainSegment | None] = [None] * len(self.jobs)
        pending = dict(self.conns)
        while pending:
            # whichever worker answers first, at once (polling each in turn for 0.25 s
            # let a finished worker's answer wait while the other was polled)
            for parent in wait(list(pending), timeout=0.25):
                status, payload = parent.recv()
                if status != "ok":
                    raise RuntimeError(f"a chain failed: {payload}")
                for c, seg in zip(pending.pop(parent), payload, strict=True):
                    segments[c] = seg
            if tick is not None:
                tick(self.progress_iterations())
        return segments  # type: ignore[return-value]

    def _run_here(
        self, c: int, command: str, n: int, tick: Callable[[int], None] | None
    ) -> ChainSegment:
        chain, base = self.chains[c], int(self.done[c])

        def local_tick(k: int) -> None:
            self.done[c] = base + k
            if tick is not None:
                tick(self.progress_iterations())

        if command == "burn":
            seg = chain.burn(n, local_tick)
        else:
            seg = chain.sample(n, chain.setup.settings.thin, local_tick)
            seg.scale = chain.scale  # type: ignore[attr-defined]
        self.done[c] = base + n * (1 if command == "burn" else chain.setup.settings.thin)
        return seg

    def close(self, *, abort: bool = False) -> None:
        """Stop the workers (``abort``: at once, dropping a segment they are running)."""
        if self.local:
            return
        conns, self.conns = self.conns, []  # closing twice (on an error after) is a no-op
        for (parent, _), proc in zip(conns, self.procs, strict=True):
            if abort:
                proc.terminate()
            else:
                try:
                    parent.send(("stop", 0))
                except (BrokenPipeError, OSError):
                    proc.terminate()
            proc.join()
            parent.close()


@dataclass
class ChainRun:
    """What :func:`run_chains` returns: every chain's output and the last check."""

    chains: list[dict[str, np.ndarray]]
    check: ConvergenceCheck
    stopped_by: str  # "diagnostics", "draws", "time" or "fixed"
    draws_per_chain: int
    seconds: float


def run_chains(
    jobs: list[ChainJob],
    names: list[str],
    rule: StopRule,
    *,
    n_jobs: int | None = None,
    progress: Callable[[float], None] | None = None,
) -> ChainRun:
    """Burn in every chain, then save draws until ``rule`` says stop."""
    settings: HBSettings = jobs[0].setup.settings
    t0 = time.perf_counter()
    cap = rule.max_draws if rule.until_converged else settings.draws
    total = len(jobs) * (settings.burn_in + cap * settings.thin)

    def tick(done: int) -> None:
        if progress is not None:
            progress(min(done / max(total, 1), 1.0))

    pool = _Pool(jobs, n_jobs)
    try:
        pool.send("burn", settings.burn_in)
        parts = [[seg] for seg in pool.collect(tick)]
        saved, check = 0, None
        n = min(rule.check_every if rule.until_converged else cap, cap)
        pool.send("sample", n)
        while True:
            for chain_parts, seg in zip(parts, pool.collect(tick), strict=True):
                chain_parts.append(seg)
            saved += n
            if not rule.until_converged:
                stopped_by = "fixed"  # one segment of all the draws
                break
            if saved < cap:
                # The next segment runs while this one is checked (the chains would wait
                # for every check); when the check stops the run, it is dropped.
                n = min(rule.check_every, cap - saved)
                pool.send("sample", n)
            check = check_convergence(
                PooledDraws([p[1:] for p in parts]),
                names,
                rule,
                threads=pool.workers,
                first_block=check.individual_block if check is not None else 0,
            )
            if check.passed:
                stopped_by = "diagnostics"
                break
            if saved >= cap:
                stopped_by = "draws"
                break
            if rule.max_seconds is not None and time.perf_counter() - t0 >= rule.max_seconds:
                stopped_by = "time"
                break
        # before the final check: its threads need the cores a dropped segment holds
        pool.close(abort=pool.command is not None)
        if check is None or check.individual is None or not check.individual_complete:
            pooled = PooledDraws([p[1:] for p in parts])
            check = check_convergence(pooled, names, rule, final=True, threads=pool.workers)
        if stopped_by == "draws" and check.passed:
            stopped_by = "diagnostics"
    except BaseException:
        pool.close(abort=True)
        raise
    if progress is not None:
        progress(1.0)
    chains = [
        ChainSegment.concat(p).as_dict(settings.keep_individual, p[-1].scale)  # type: ignore[attr-defined]
        for p in parts
    ]
    return ChainRun(chains, check, stopped_by, saved, time.perf_counter() - t0)
