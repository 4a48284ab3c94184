"""Optimiser on hierarchical-Bayes-sized draws: time and peak memory (issue 13's bar).

The bar: the example market (``examples/car_subscription_market.yaml``: two tiers,
CHF 50 price steps, every attribute free) optimised for profit on 1,000 respondents ×
1,000 posterior draws in under 2 GB peak and under 60 s on 2 cores.

The posterior is synthetic but HB-shaped: an MNL fit on 300 simulated respondents of the
example study gives the coding and the mean part-worths; each of 1,000 respondents gets
own part-worths (mean + correlated heterogeneity, a log-normal price coefficient) and
1,000 posterior draws around them. Fitting HB on 1,000 respondents to 1,000 kept draws
is a separate cost (``bench_hb.py``); this measures what the optimiser adds. The result
object has what the decisions use of ``HBResults``: ``coding``, ``individual_draws``,
``population_coefficients``. The simulator takes all 1,000 draws as its uncertainty
draws (1,000,000 coefficient rows); the search runs on a random sample of rows, the best
line-ups are scored on every row in streamed chunks.

Peak memory: the process's own high-water resident set (``VmHWM``), which includes the
interpreter, imports, the MNL fit and the 1,000 × 1,000 × K posterior (112 MB).

Run:  PYTHONPATH=src python bench/bench_optimise_memory.py [--respondents 1000]
      [--draws 1000] [--rule sop]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def vm(field: str) -> float:
    """A /proc/self/status memory field in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


class SyntheticHB:
    """What the decisions read of HBResults, for a posterior made up around a fit."""

    def __init__(self, coding, individual_draws: np.ndarray) -> None:
        self.coding = coding
        self.individual_draws = individual_draws

    def population_coefficients(self, n: int = 1000, rng=None):
        rng = np.random.default_rng(rng)
        R, saved, K = self.individual_draws.shape
        m = max(1, round(n / R))
        pick = rng.integers(0, saved, size=(R, m))
        B = self.individual_draws[np.arange(R)[:, None], pick].reshape(R * m, K)
        return B, np.full(R * m, 1.0 / (R * m))


def synthetic_posterior(beta: np.ndarray, price: int, R: int, m: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    K = beta.size
    L = rng.normal(0, 0.25, size=(K, K)) / np.sqrt(K) + np.diag(np.full(K, 0.4))
    own = beta + rng.normal(size=(R, K)) @ L.T
    own[:, price] = beta[price] * np.exp(0.4 * rng.normal(size=R) - 0.08)
    draws = own[:, None, :] + 0.15 * rng.normal(size=(R, m, K))
    draws[:, :, price] = own[:, None, price] * np.exp(0.1 * rng.normal(size=(R, m)))
    return draws


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--respondents", type=int, default=1000)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--rule", default="sop", choices=["sop", "rfc"])
    parser.add_argument(
        "--rfc-accuracy",
        type=int,
        default=0,
        metavar="S",
        help="after an RFC run: the recommended market's profit and interval on S "
        "uncertainty draws with the default RFC error draws and with rfc_draws per row "
        "(the old way), side by side",
    )
    args = parser.parse_args()

    import offerlab as ol
    from offerlab.decide import load_market, optimise_market, simulator_for
    from offerlab.simulate import load_population, simulate_answers
    from offerlab.study import example_path, load_study

    study = load_study(ROOT / "examples" / "car_subscription.yaml")
    design = ol.make_design(study, method="random", versions=4, seed=1)
    population = load_population(example_path("car_subscription_population"), study)
    answers = simulate_answers(study, design.to_frame(), population, 300, rng=7)
    mnl = ol.MultinomialLogit().fit(answers.data, study=study)
    beta = mnl.params.to_numpy(dtype=float)
    price = list(mnl.coding.names).index(study.price_attribute.name)
    draws = synthetic_posterior(beta, price, args.respondents, args.draws, seed=1)
    hb = SyntheticHB(mnl.coding, draws)
    spec = load_market(ROOT / "examples" / "car_subscription_market.yaml", study)
    market = spec.market(mnl.coding)
    print(
        f"posterior {draws.shape} ({draws.nbytes / 2**20:.0f} MiB); "
        f"RSS before the optimiser {vm('VmRSS'):.0f} MiB; cores {os.cpu_count()}; "
        f"load {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    start, cpu = time.perf_counter(), time.process_time()
    sim = simulator_for(hb, args.rule, n_draws=args.draws, seed=0)
    result = optimise_market(sim, market, spec, "profit", seed=0)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(f"provenance: {result.provenance.describe()}")
    print(f"{result.method} over {result.n_candidates:,} line-ups, {result.n_evaluated:,} scored")
    for i, offer in enumerate(result.best, 1):
        print(f"  tier {i}: " + ", ".join(f"{a}={v}" for a, v in offer.items()))
    row = result.table.iloc[0]
    print(
        f"  expected profit {row['expected']:.2f} per person "
        f"(95% {row['lower']:.2f}-{row['upper']:.2f})"
    )
    print(
        f"wall {elapsed:.1f} s, CPU {cpu:.1f} s over all threads (bar < 60 s wall on 2 "
        f"cores); peak RSS {vm('VmHWM'):.0f} MiB (bar < 2048 MiB); load now "
        f"{os.getloadavg()[0]:.1f}",
        flush=True,
    )
    if args.rule == "rfc" and args.rfc_accuracy:
        rfc_accuracy(hb, sim, result, spec, args.rfc_accuracy)


def rfc_accuracy(hb, sim, result, spec, n_draws: int) -> None:
    """Our offers' profit in the recommended market, each uncertainty draw's RFC errors
    spread as the simulator does (rfc_draw_errors in all) against rfc_draws per row."""
    from offerlab.decide import MarketSimulator

    market = result.market
    costs = spec.offer_costs(market)
    ours = np.array(market.ours)
    margin = (market.prices - np.array([costs.get(n, 0.0) for n in market.names]))[ours]
    R = hb.individual_draws.shape[0]
    print(f"\nRFC error draws per uncertainty draw, {n_draws} draws of {R:,} respondents:")
    reference = None
    for label, errors in (
        (f"{sim.rfc_draws} per row (old)", sim.rfc_draws * R),
        (f"{sim.rfc_draw_errors:,} per draw (default)", sim.rfc_draw_errors),
    ):
        other = MarketSimulator(
            sim.population, rule="rfc", attribute_error=sim.attribute_error,
            product_error=sim.product_error, rfc_draws=sim.rfc_draws, rfc_draw_errors=errors,
            n_draws=n_draws, seed=sim.seed,
        )  # fmt: skip
        start = time.perf_counter()
        _, draws = other.whole_market(market)
        profit = draws[:, ours] @ margin
        lo, hi = np.quantile(profit, [0.025, 0.975])
        line = (
            f"  {label:<26} profit {profit.mean():7.3f}  95% [{lo:7.3f}, {hi:7.3f}]  "
            f"SD over draws {profit.std(ddof=1):.3f}  ({time.perf_counter() - start:.1f} s)"
        )
        if reference is not None:
            diff = profit - reference
            line += f"  per-draw difference: mean {diff.mean():+.3f}, SD {diff.std(ddof=1):.3f}"
        reference = profit
        print(line, flush=True)


if __name__ == "__main__":
    main()
