"""CPU seconds to convergence of the HB sampler on the bench study, one fit per process.

The model call of ``bench_hb.py``'s offerlab worker on ``simulate_study()``; prints one
JSON line: saved draws per chain at the stop, CPU seconds of this process and its chain
processes (``getrusage``), worst R-hat and bulk ESS, the worst entries, and recovery
(correlation of the individual means with the true β, relative error of Σ).

    OPENBLAS_NUM_THREADS=1 PYTHONPATH=src python bench/hb_stop_cpu.py {iw|hw} SEED [OUT.json]
"""

from __future__ import annotations

import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "models"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import cpu_seconds_with_children
from _hb_sim import simulate_study

from offerlab.models._hb import HierarchicalBayes


def main(prior: str, seed: int) -> dict:
    sim = simulate_study()
    kw = {"covariance_prior": "huang-wand", "prior_sd_scale": 2.5} if prior == "hw" else {}
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = HierarchicalBayes(
            burn_in=1000,
            draws=6000,
            chains=4,
            n_jobs=2,
            seed=seed,
            until_converged=True,
            max_draws=6000,
            check_every=250,
            stop_on_individual=False,
            **kw,
        ).fit_arrays(sim.X, sim.y, groups=sim.groups, names=list(sim.names))
    wall = time.perf_counter() - t0
    conv = res.convergence
    K = len(res.names)
    individual = res.individual.to_numpy()
    corr = np.mean([np.corrcoef(individual[:, k], sim.beta[:, k])[0, 1] for k in range(K)])
    S = np.cov(sim.beta.T)
    cov = res.population_cov.to_numpy()
    worst = conv.sort_values("ess_bulk").head(4)
    return {
        "prior": prior,
        "seed": seed,
        "draws_per_chain": int(res.n_draws),
        "stopped_by": str(res.stop.reason),
        "cpu_s": cpu_seconds_with_children(),
        "wall_s": wall,
        "max_rhat": float(conv["rhat"].max()),
        "worst_mean_ess": float(conv["ess_bulk"].iloc[:K].min()),
        "worst_cov_ess": float(conv["ess_bulk"].iloc[K:].min()),
        "worst": [(str(i), round(float(r.ess_bulk))) for i, r in worst.iterrows()],
        "corr_with_truth": float(corr),
        "cov_rel_error": float(np.linalg.norm(cov - S) / np.linalg.norm(S)),
        "load": os.getloadavg(),
    }


if __name__ == "__main__":
    out = main(sys.argv[1], int(sys.argv[2]))
    print(json.dumps(out))
    if len(sys.argv) > 3:
        Path(sys.argv[3]).write_text(json.dumps(out))
