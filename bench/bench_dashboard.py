"""The live field dashboard on a big study: the time of one refresh of its figures.

The example study with N respondents (default 100,000: 62 % complete over 30 days,
16 % screened out, 4 % over quota, 18 % in the middle of the survey or gone, 1 % test
respondents), written straight into SQLite and a throwaway PostgreSQL cluster. Times
``live_figures`` (the aggregate queries of a refresh): from scratch, and as the console's
polls run it (the pages where respondents dropped out kept while their number holds);
for reference, what the console did before: every respondent row loaded into Python.

    .venv/bin/python bench/bench_dashboard.py [--respondents N] [--repeat R] [--sqlite-only]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from offerlab.design import make_design
from offerlab.field import Fielding
from offerlab.field._dashboard import LeftPages, live_figures
from offerlab.store import Respondent, make_engine
from offerlab.store._pgcluster import temporary_postgres
from offerlab.study import example_path, load_study

STATUSES = ["complete", "screenout", "overquota", "active"]


def fill(url: str, n: int, seed: int = 14) -> Fielding:
    study = load_study(example_path("car_subscription"))
    text = Path(example_path("car_subscription")).read_text(encoding="utf-8")
    fielding = Fielding.open(
        make_engine(url), study, text, make_design(study, method="random", versions=4, seed=1)
    )
    rng = np.random.default_rng(seed)
    now = time.time()
    sequences = [fielding.survey.sequence(s) for s in range(50)]  # a few page orders
    rows = []
    for i in range(n):
        sequence = sequences[i % len(sequences)]
        status = STATUSES[rng.choice(4, p=[0.62, 0.16, 0.04, 0.18])]
        started = now - rng.uniform(0, 30 * 86400)
        finished = None if status == "active" else started + rng.lognormal(np.log(660), 0.35)
        rows.append(
            {
                "study_id": fielding.study_id,
                "token": f"t{i:09d}",
                "version": 1 + i % 4,
                "seed": i,
                "language": "de",
                "status": status,
                "sequence": sequence,
                "position": int(rng.integers(1, len(sequence)))
                if status == "active"
                else len(sequence),
                "nonce": "n",
                "panel": {},
                "panel_id": "",
                "fingerprint": "",
                "flags": {"test": True} if i % 100 == 0 else {},
                "is_test": i % 100 == 0,
                "started_at": started,
                "finished_at": finished,
                "shown_at": finished or started + 120,
            }
        )
    with Session(fielding.engine) as s, s.begin():
        for start in range(0, n, 5000):
            s.execute(insert(Respondent), rows[start : start + 5000])
    # what autovacuum does after a bulk load: statistics, and the visibility map that
    # lets PostgreSQL answer from the index alone
    with fielding.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.exec_driver_sql("VACUUM ANALYZE respondents" if c.dialect.name != "sqlite" else "ANALYZE")
    return fielding


def old_way(fielding: Fielding) -> dict[str, int]:
    """What the console's figures did before: every respondent row into Python."""
    with Session(fielding.engine) as session:
        rows = session.execute(
            select(
                Respondent.id,
                Respondent.status,
                Respondent.sequence,
                Respondent.position,
                Respondent.flags,
                Respondent.started_at,
                Respondent.finished_at,
            ).where(Respondent.study_id == fielding.study_id)
        ).all()
    real = [r for r in rows if not (r.flags or {}).get("test")]
    seconds = [r.finished_at - r.started_at for r in real if r.status == "complete"]
    float(np.median(seconds))
    return dict(Counter(r.status for r in real))


def timed(fn, fielding: Fielding, repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn(fielding)
        times.append(time.perf_counter() - began)
    return statistics.median(times), max(times)


def run(name: str, url: str, n: int, repeat: int) -> None:
    began = time.perf_counter()
    fielding = fill(url, n)
    filled = time.perf_counter() - began
    figures = live_figures(fielding)
    assert figures.started + figures.tests == n, (figures.started, figures.tests, n)
    cold = timed(live_figures, fielding, repeat)
    kept = LeftPages()  # as the console polls: dropped-out pages kept while their number holds
    warm = timed(lambda f: live_figures(f, left_pages=kept), fielding, repeat)
    old = timed(old_way, fielding, repeat)
    print(
        f"{name:<10} {n:>8,} respondents (written in {filled:5.1f} s): live_figures "
        f"{cold[0] * 1000:.0f} ms (max {cold[1] * 1000:.0f}), as polled "
        f"{warm[0] * 1000:.0f} ms (max {warm[1] * 1000:.0f}); "
        f"loading every row {old[0] * 1000:.0f} ms (max {old[1] * 1000:.0f}); "
        f"{figures.complete:,} completes, {len(figures.per_day)} days, "
        f"{len(figures.dropoff)} pages with drop-off"
    )
    fielding.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--respondents", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        run("SQLite", f"sqlite:///{folder}/bench.db", args.respondents, args.repeat)
    if not args.sqlite_only:
        with temporary_postgres() as url:
            run("PostgreSQL", url, args.respondents, args.repeat)


if __name__ == "__main__":
    main()
