"""The demo's advice against the demo's own truth.

``offerlab demo`` simulates its respondents from ``examples/car_subscription_population.yaml``
and knows each one's true part-worths. This bench runs the demo's decision path (the same
design, answers, hierarchical Bayes settings, holdout-tuned scale factor and optimiser
options on ``examples/car_subscription_market.yaml``) and scores the recommended line-up
under those true people buying in the market file's market (its rival and status quo),
where a person's random error belongs to the product, not to its price tag
(:class:`offerlab.decide.TrueMarket`, the rule of ``bench_decisions.py``).

Rows: the demo's old path (HB, scale tuned on the holdout tasks), the demo's path today
(the same without the tuning: scale 1), and the true optimum (coordinate ascent over the
same offer space and price grid under the truth, started from the best single offers and
both recommendations). Per row: true profit per person in the market, regret (true profit /
the true optimum's), the claimed expected profit and 95% interval, and whether the
interval covers the true profit. Then what three calibrations of the HB posterior claim
for the true optimum's line-up: scale 1, the holdout-tuned scale, and shrinking each
person's deviation from the mean (β̄ + κ(βᵢ − β̄), κ tuned on the same holdout choices).

Run:  PYTHONPATH=src python bench/bench_demo_truth.py [--respondents 500] [--seed 2026]
      [--burn-in 2000] [--draws 1000] [--demo-fit]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


@dataclass
class Scored:
    path: str
    lineup: str
    true_profit: float
    claimed: float = float("nan")
    lower: float = float("nan")
    upper: float = float("nan")

    @property
    def covers(self) -> bool:
        return bool(self.lower <= self.true_profit <= self.upper)


def demo_decisions(args) -> tuple[list, object, object]:
    """The demo's fit and its optimiser runs: ([(path, result)], true market, fit)."""
    from offerlab.cli.demo import demo_model
    from offerlab.decide import (
        TrueMarket,
        calibrate_scale,
        load_market,
        optimise_offers,
        simulator_for,
    )
    from offerlab.design import make_design
    from offerlab.exceptions import ConvergenceWarning
    from offerlab.models import HierarchicalBayes
    from offerlab.simulate import load_population, simulate_answers
    from offerlab.study import example_path, load_study

    study = load_study(example_path("car_subscription"))
    population = load_population(example_path("car_subscription_population"), study)
    design = make_design(study, seed=args.seed)
    answers = simulate_answers(
        study, design.to_frame(), population, args.respondents, rng=args.seed
    )
    spec = load_market(example_path("car_subscription_market"), study)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if args.demo_fit:
            estimator = demo_model(args.seed)
        else:
            estimator = HierarchicalBayes(
                burn_in=args.burn_in, draws=args.draws, chains=2, keep_draws=args.keep_draws,
                seed=args.seed, covariance_prior=args.covariance_prior,
                prior_sd_shape=args.prior_sd_shape,
                interweave_leapfrog=args.interweave_leapfrog,
            )  # fmt: skip
        hb = estimator.fit(answers.data, study=study)
    print(f"HB ({hb.stop.describe()}): {time.perf_counter() - t0:.0f} s")
    tuned = calibrate_scale(hb, answers.data)
    print(tuned.describe())
    market = spec.market(hb.coding)
    options = {
        "slots": spec.tiers, "costs": spec.costs or None, "base_cost": spec.file.base_cost,
        "prices": spec.price_grid(), "fixed": dict(spec.file.optimise.fixed),
        "pessimism": spec.file.optimise.pessimism, "rng": args.seed, "restarts": args.restarts,
    }  # fmt: skip
    runs = []
    paths = (("HB, tuned scale (old demo)", tuned.scale), ("HB, scale 1 (demo)", 1.0))
    for path, scale in paths:
        sim = simulator_for(hb, "sop", scale, n_draws=args.uncertainty, seed=args.seed)
        runs.append((path, optimise_offers(sim, market, objective="profit", **options)))
    truth = TrueMarket.from_market(
        market, answers.truth, slots=spec.tiers, prices=spec.price_grid(),
        costs=spec.costs or None, base_cost=spec.file.base_cost,
        fixed=dict(spec.file.optimise.fixed),
    )  # fmt: skip
    fit = {
        "hb": hb, "data": answers.data, "scale": tuned.scale, "market": market,
        "truth": answers.truth,
    }  # fmt: skip
    return runs, truth, fit


def holdout_shrinkage(hb, data) -> float:
    """κ maximising the holdout log-likelihood when each person's draws are shrunk toward
    the mean of all draws, β̄ + κ(βᵢ − β̄) (the mean kept; an alternative to the scale)."""
    from scipy.optimize import minimize_scalar

    from offerlab.data import ChoiceData
    from offerlab.models._matrix import build_model_matrix

    hold = data.holdouts()
    if hold.dual_response:  # the forced choice among the concepts, as calibrate_scale
        forced = hold.frame[hold.frame["none"] == 0].reset_index(drop=True)
        hold = ChoiceData(forced, hold.variables)
    coding = hb.coding
    design = build_model_matrix(hold, coding.n_params, list(coding.names), coding.code_rows)
    draws = np.asarray(hb.individual_draws)
    mean = draws.mean(axis=(0, 1))
    rows = hb.individual.index.get_indexer(design.groups)

    def loglik(kappa: float) -> float:
        V = np.einsum("njk,nmk->nmj", design.X, mean + kappa * (draws[rows] - mean))
        P = np.exp(V - V.max(axis=2, keepdims=True))
        P /= P.sum(axis=2, keepdims=True)
        return float(np.log(P.mean(axis=1)[np.arange(len(design.y)), design.y]).mean())

    return float(minimize_scalar(lambda k: -loglik(k), bounds=(0.05, 2.0), method="bounded").x)


def print_scale_of_estimates(fit, truth) -> None:
    """How large the posterior's part-worths are against the truth's: the mean over people
    (and draws) of each coefficient, and the least-squares slope of the posterior's means
    on the truth's over all coefficients but the none constant (1: the right scale)."""
    from offerlab.decide import coded_truth

    hb = fit["hb"]
    coding = hb.coding
    true_b = coded_truth(truth.space, fit["truth"], coding.none_index)
    true_mean = true_b.mean(axis=0)
    draws = np.asarray(hb.individual_draws)
    post_mean = draws.mean(axis=(0, 1))
    keep = [k for k in range(len(coding.names)) if k != coding.none_index]
    slope = float(post_mean[keep] @ true_mean[keep] / (true_mean[keep] @ true_mean[keep]))
    spread_truth = true_b.std(axis=0)
    spread_post = draws.reshape(-1, draws.shape[-1]).std(axis=0)
    spread_means = draws.mean(axis=1).std(axis=0)
    print("\nPart-worths, posterior against truth (mean over people; SD over people):")
    print(f"  {'coefficient':<28} {'truth':>9} {'posterior':>9}   {'SD truth':>9} "
          f"{'SD draws':>9} {'SD means':>9}")  # fmt: skip
    for k, name in enumerate(coding.names):
        print(
            f"  {name:<28} {true_mean[k]:9.4f} {post_mean[k]:9.4f}   {spread_truth[k]:9.4f} "
            f"{spread_post[k]:9.4f} {spread_means[k]:9.4f}"
        )
    print(f"  slope of posterior means on true means (none left out): {slope:.2f}")


def claimed_profit(fit, truth, lineup, transform) -> float:
    """Expected profit of ``lineup`` under the fit's posterior rows (all draws of every
    person) after ``transform``, by the simulator's logit rule."""
    from offerlab.decide import TrueMarket

    market = fit["market"]
    draws = transform(np.asarray(fit["hb"].individual_draws))
    rest = [j for j, n in enumerate(market.names) if not market.ours[j]]
    model = TrueMarket(
        truth.space, draws.reshape(-1, draws.shape[-1]), market.X[rest], market.offset[rest]
    )
    return float(model.profit(np.array([lineup]))[0])


def main() -> None:
    from offerlab.cli.demo import demo_model

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--respondents", type=int, default=500)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--burn-in", type=int, default=2000)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--keep-draws", type=int, default=5)
    parser.add_argument("--uncertainty", type=int, default=200)
    parser.add_argument("--restarts", type=int, default=2)
    parser.add_argument(
        "--covariance-prior",
        default="huang-wand",
        choices=["inverse-wishart", "huang-wand"],
        help="the population covariance's prior (the demo's: huang-wand)",
    )
    parser.add_argument(
        "--prior-sd-shape", type=float, default=demo_model(0).prior_sd_shape,
        help="Huang-Wand: shape of the SDs' scale prior (default: the demo's)",
    )  # fmt: skip
    parser.add_argument(
        "--interweave-leapfrog", type=int, default=demo_model(0).interweave_leapfrog,
        help="leapfrog steps of the interweaving move (default: the demo's)",
    )  # fmt: skip
    parser.add_argument(
        "--demo-fit", action="store_true",
        help="the demo's own HB (4 chains until converged, row-ratio coordinates; "
        "the options above are then ignored)",
    )  # fmt: skip
    args = parser.parse_args()
    start = time.perf_counter()
    runs, truth, fit = demo_decisions(args)
    space = truth.space
    rows = []
    recommended = []
    for path, result in runs:
        lineup = truth.index(result.best)
        recommended.append(lineup)
        top = result.table.iloc[0]
        rows.append(
            Scored(
                path, " | ".join(space.describe(c) for c in lineup),
                float(truth.profit(np.array([lineup]))[0]), float(top["expected"]),
                float(top["lower"]), float(top["upper"]),
            )
        )  # fmt: skip
    # Starts of the true search: the best single offers (each with the runner-up product)
    # and the recommendations.
    alone = truth.profit(np.column_stack([np.arange(len(space.index))] * 2))
    order = np.argsort(-alone)
    starts = [tuple(r) for r in recommended]
    for c in order[:10]:
        other = next(d for d in order if truth.product[d] != truth.product[c])
        starts.append((int(c), int(other)))
    best, optimum = truth.best(starts)
    rows.append(Scored("true optimum", " | ".join(space.describe(c) for c in best), optimum))
    print(f"\n{'path':<28} {'true':>7} {'regret':>7} {'claimed':>8} {'95% interval':>17} covers")
    for r in rows:
        interval = "" if np.isnan(r.lower) else f"[{r.lower:6.2f}, {r.upper:6.2f}]"
        covers = "" if np.isnan(r.lower) else ("yes" if r.covers else "NO")
        print(
            f"{r.path:<28} {r.true_profit:7.2f} {100 * r.true_profit / optimum:6.1f}% "
            f"{r.claimed:8.2f} {interval:>17} {covers}"
        )
    for r in rows:
        print(f"  {r.path}: {r.lineup}")
    # What each calibration claims for the true optimum's line-up (distinct products, so
    # the logit rule is the truth's rule): which one the truth rewards.
    print_scale_of_estimates(fit, truth)
    kappa = holdout_shrinkage(fit["hb"], fit["data"])
    mean = np.asarray(fit["hb"].individual_draws).mean(axis=(0, 1))
    calibrations = {
        "scale 1": lambda d: d,
        f"tuned scale {fit['scale']:.2f}": lambda d: fit["scale"] * d,
        f"deviations shrunk, kappa {kappa:.2f}": lambda d: mean + kappa * (d - mean),
    }
    print(f"\nThe true optimum's line-up: true profit {optimum:.2f}; claimed (all posterior rows)")
    for name, transform in calibrations.items():
        print(f"  {name:<32} {claimed_profit(fit, truth, best, transform):7.2f}")
    # The scale at which the posterior would claim the true profit (bisection; the claim
    # falls as the scale rises here): what a calibration would have to find.
    low, high = 0.2, 2.0
    for _ in range(30):
        mid = (low + high) / 2
        if claimed_profit(fit, truth, best, lambda d, m=mid: m * d) > optimum:
            low = mid
        else:
            high = mid
    print(f"  the scale that claims the true profit: {(low + high) / 2:.2f}")
    print(f"total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
