"""The mixed logit's covariance choices on Electricity, offerlab alone (no peer, no
bench/.venv needed): BHHH (the default) against the numerical Hessian, 2 threads and 1.

Every side fits the same spec (six normal coefficients, 600 Halton draws per respondent)
``--repeat`` times; the script prints the median and best wall time, the log-likelihood
and the iterations, which must agree across sides (the choice only changes the SEs).

Run:  python bench/bench_mxl_hessian.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from offerlab.models import MixedLogit, parse_spec  # noqa: E402

DATA = ROOT / "tests" / "data" / "electricity.csv.gz"
VARIABLES = ("pf", "cl", "loc", "wk", "tod", "seas")
SIDES = {
    "default (bhhh)": {},
    "numerical": {"hessian": "numerical"},
    "bhhh, 1 thread": {"hessian": "bhhh", "n_threads": 1},
    "numerical, 1 thread": {"hessian": "numerical", "n_threads": 1},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    repeat = parser.parse_args().repeat
    lines = [f"  {v}: {{variable: {v}, distribution: normal}}" for v in VARIABLES]
    spec = parse_spec(
        f"data: {{path: {DATA}, format: long, respondent: id, task: chid, alternative: alt, "
        "choice: choice}\nutility:\n" + "\n".join(lines)
        + "\nmixed: {panel: true, draws: halton, n_draws: 600}\n",
        ROOT / "bench" / "electricity_mxl.yaml",
    )  # fmt: skip
    data = spec.load_data()
    for name, options in SIDES.items():
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            res = MixedLogit(**options).fit(data, spec=spec)
            times.append(time.perf_counter() - start)
        print(
            f"{name:20s} median {statistics.median(times):.2f} s  best {min(times):.2f} s  "
            f"LL {res.llf:.6f}  iterations {res.n_iter}",
            flush=True,
        )


if __name__ == "__main__":
    main()
