"""The HB fit's final check of every respondent's coefficients, at the MaxDiff bench's size.

R-hat and bulk/tail ESS (Vehtari et al. 2021) of 1,000 respondents × 19 coefficients from
4 chains × 1,000 stored draws in single precision, as ``HierarchicalBayes`` diagnoses
them after a fixed-length run (``models/_hb_run.py``, two threads).
The draws are synthetic with what the sampler's have: autocorrelation (AR(1), 0.5), and a
respondent who did not move repeating their previous draw (ties, one draw in five). Printed: seconds
of each of ``--rounds`` checks, their median, the verdict (the same at every commit that
computes the same values) and the process's peak memory.

To compare two versions, run the script at each (e.g. from a ``git worktree`` of the
older commit, with its ``src`` first on ``PYTHONPATH``) in the same minutes.

Run:  OPENBLAS_NUM_THREADS=1 PYTHONPATH=src python bench/hb_check.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np


def stored_draws(chains: int, respondents: int, draws: int, K: int) -> np.ndarray:
    """(C, R, m, K) single-precision draws: AR(1) with 0.5, 20% of the draws unmoved."""
    rng = np.random.default_rng(0)
    shape = (chains, respondents, draws, K)
    x = rng.standard_normal(shape, dtype=np.float32)
    moved = rng.random(shape[:3]) < 0.8
    for s in range(1, draws):  # an unmoved respondent keeps the previous draw
        step = 0.5 * x[:, :, s - 1] + np.float32(0.75**0.5) * x[:, :, s]
        x[:, :, s] = np.where(moved[:, :, s, None], step, x[:, :, s - 1])
    return x


def main() -> None:
    from offerlab.models._hb_run import individual_diagnostics  # the fit calls it so

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    draws = stored_draws(4, 1000, 1000, 19)
    seconds = []
    for _ in range(args.rounds):
        start = time.perf_counter()
        verdict = individual_diagnostics(draws, every=1, threads=2)
        seconds.append(time.perf_counter() - start)
        print(f"{seconds[-1]:.2f} s", flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"median {np.median(seconds):.2f} s; verdict {verdict}; peak {peak:.0f} MiB")


if __name__ == "__main__":
    main()
