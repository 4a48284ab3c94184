"""How fast the command line answers: ``offerlab --help`` and ``offerlab check``.

Each command runs ``--repeat`` times (default 5) as a fresh ``python -m offerlab`` process
with this checkout's ``src`` first on the path; the script prints the wall time of every
run and the median, and exits 1 when a median is over the bar (0.5 s). It prints the
median CPU time (user + system) of the runs too: on a shared, busy machine the wall time
mostly measures the wait for a core, the CPU time what the command itself costs.

Run:  python bench/bench_cli_start.py [--repeat 5] [--python /path/to/python]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BAR_SECONDS = 0.5
COMMANDS = {
    "--help": ["--help"],
    "check": ["check", str(ROOT / "examples" / "car_subscription.yaml")],
}


def run_times(python: str, args: list[str], repeat: int) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of ``repeat`` fresh runs of ``python -m offerlab ARGS``."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    walls, cpus = [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(
            [python, "-m", "offerlab", *args],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return walls, cpus


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--python", default=sys.executable)
    options = parser.parse_args()
    slow = []
    for name, args in COMMANDS.items():
        times, cpus = run_times(options.python, args, options.repeat)
        median = statistics.median(times)
        runs = " ".join(f"{t:.3f}" for t in times)
        cpu = statistics.median(cpus)
        print(f"offerlab {name:7s} median {median:.3f} s  (runs: {runs})  CPU median {cpu:.3f} s")
        if median > BAR_SECONDS:
            slow.append(name)
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if slow:
        print(f"over the {BAR_SECONDS} s bar: {', '.join(slow)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
