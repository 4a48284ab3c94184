"""Decision calibration: recommendations scored against a known truth (issue 13's bar).

For each of ``--studies`` simulated studies with a known heterogeneous truth:

* **truth**: correlated normal part-worths (effects-coded, random means, SDs and
  correlations), a price coefficient that varies across people (−exp(N(m, s²))),
  a none constant that varies too; two competitors' offers and a status quo (the none
  alternative: "keep what I have"); costs per level.
* **fielding**: ``--respondents`` simulated people answer the study's own design
  (12 tasks of 3 concepts + none, 10 versions) by the logit rule.
* **decisions**: hierarchical Bayes (individual level; share of preference; under
  CBC/HB's inverse-Wishart prior and under the Huang-Wand prior, the demo's) and the
  aggregate multinomial logit each recommend a two-tier line-up for profit on a
  CHF 5 price grid, with tiers that must differ in more than the price (the engine's
  default); the aggregate logit is also run with price-only tiers allowed (the old
  behaviour) to show what the rule prevents.
* **scoring**: the recommendation's profit under the true population buying in a
  market (``--truth`` people drawn from the true distribution), where a person's
  random error belongs to the product, not to its price tag: two offers that differ
  only in price are perfect substitutes (the cheaper takes the product's share);
  distinct products have independent (logit) errors. The true optimum is found by
  exhaustive search over every line-up under that truth.

Per study and path: regret (true profit of the recommendation / the true optimum's),
whether the reported 90% interval of profit covers the recommendation's true profit,
and whether the recommendation holds two offers that differ only in price. Bars:
regret >= 95% in every study and >= 98% at the median; coverage in >= 16 of 20; no
price-only line-up unless the truth's best is one.

Run:  PYTHONPATH=src python bench/bench_decisions.py [--studies 20] [--respondents 500]
      [--burn-in 2000] [--draws 2000] [--truth 20000] [--seed 0]
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

STUDY = {
    "name": "calibration",
    "attributes": [
        {"name": "brand", "label": "Brand",
         "levels": [{"name": n, "label": n} for n in ("alpha", "beta", "gamma")]},
        {"name": "feature", "label": "Feature",
         "levels": [{"name": n, "label": n} for n in ("basic", "plus", "pro")]},
        {"name": "service", "label": "Service",
         "levels": [{"name": n, "label": n} for n in ("none", "included")]},
        {"name": "price", "type": "price", "label": "Price", "values": [20, 30, 40, 50, 60]},
    ],
    "tasks": {"per_respondent": 12, "alternatives": 3, "none": {"type": "plain"}},
}  # fmt: skip
COSTS = {
    "brand": {"alpha": 9.0, "beta": 6.0, "gamma": 3.0},
    "feature": {"basic": 0.0, "plus": 4.0, "pro": 9.0},
    "service": {"none": 0.0, "included": 4.0},
}
BASE_COST = 4.0
PRICES = [float(p) for p in range(20, 61, 5)]
INTERVAL = 0.90
#: HB under CBC/HB's inverse-Wishart prior and under the Huang-Wand prior (the demo's),
#: the aggregate logit, and the aggregate logit with price-only tiers allowed.
PATHS = ("HB", "HB, Huang-Wand", "aggregate", "aggregate, price-only allowed")


@dataclass
class Truth:
    mean: np.ndarray  # (K,) effects-coded means; the price and none columns included
    chol: np.ndarray  # (K, K) Cholesky factor of the non-price covariance
    price_col: int
    price_log_mean: float
    price_log_sd: float

    def draw(self, n: int, rng: np.random.Generator) -> np.ndarray:
        B = self.mean + rng.standard_normal((n, len(self.mean))) @ self.chol.T
        B[:, self.price_col] = -np.exp(
            self.price_log_mean + self.price_log_sd * rng.standard_normal(n)
        )
        return B


def make_truth(names: list[str], rng: np.random.Generator) -> Truth:
    K = len(names)
    price = names.index("price")
    none = names.index("none")
    mean = rng.normal(0.0, 0.6, size=K)
    mean[none] = rng.uniform(-4.0, -2.5)
    sd = rng.uniform(0.3, 1.0, size=K)
    sd[price] = 0.0
    A = rng.normal(size=(K, K))
    corr = np.corrcoef(A @ A.T + K * np.eye(K))  # a random, well-conditioned correlation
    cov = corr * np.outer(sd, sd) + 1e-9 * np.eye(K)
    return Truth(mean, np.linalg.cholesky(cov), price, np.log(rng.uniform(0.06, 0.1)), 0.35)


def field(study, design, coding, B: np.ndarray, rng: np.random.Generator):
    """Answers of len(B) people to the design by the logit rule (their own part-worths)."""
    from offerlab.data import ChoiceData
    from offerlab.simulate import SimulatedPopulation, simulate_answers

    blank = SimulatedPopulation.model_validate(
        {"segments": [{"partworths": {"brand": [0, 0, 0], "feature": [0, 0, 0],
                                      "service": [0, 0], "price": 0.0}}]}
    )  # fmt: skip
    shell = simulate_answers(study, design.to_frame(), blank, len(B), rng=rng).data.frame.copy()
    X = np.zeros((len(shell), coding.n_params))
    coding.code_rows(shell, X)
    none = shell["none"].to_numpy() == 1
    X[none] = 0.0
    X[none, coding.none_index] = 1.0
    person = shell["respondent"].to_numpy() - 1
    U = np.einsum("nk,nk->n", X, B[person]) + rng.gumbel(size=len(shell))
    per_task = shell.groupby(["respondent", "task"], sort=False).ngroup().to_numpy()
    J = int(np.bincount(per_task).max())
    assert (np.bincount(per_task) == J).all()
    U = U.reshape(-1, J)
    chosen = np.zeros_like(U, dtype=np.int8)
    chosen[np.arange(len(U)), U.argmax(axis=1)] = 1
    shell["chosen"] = chosen.ravel()
    return ChoiceData.from_frame(shell, study, source="bench_decisions")


def lineup_index(space, best: list[dict]) -> tuple[int, int]:
    found = []
    for offer in best:
        for c in range(len(space.index)):
            if space.offer(c) == offer:
                found.append(c)
                break
    return tuple(found)  # type: ignore[return-value]


def one_study(seed: int, args) -> list[dict]:
    import offerlab as ol
    from offerlab.decide import Market, TrueMarket, optimise_offers, simulator_for
    from offerlab.decide._offer_space import offer_space
    from offerlab.models import HierarchicalBayes, MultinomialLogit
    from offerlab.models._matrix import ConjointCoding
    from offerlab.study import Study

    rng = np.random.default_rng([args.seed, seed])
    study = Study.model_validate(STUDY)
    coding = ConjointCoding.from_study(study, "effects", none=True)
    names = list(coding.names)
    truth = make_truth(names, rng)
    design = ol.make_design(study, method="random", versions=10, seed=seed)
    people = truth.draw(args.respondents, rng)
    data = field(study, design, coding, people, rng)
    fits, t_hb = {}, {}
    for path, prior in (("HB", "inverse-wishart"), ("HB, Huang-Wand", "huang-wand")):
        if path not in args.paths:
            continue
        t0 = time.perf_counter()
        fits[path] = HierarchicalBayes(
            burn_in=args.burn_in, draws=args.draws, chains=2, n_jobs=1, seed=seed,
            covariance_prior=prior,
        ).fit(data, study=study)  # fmt: skip
        t_hb[path] = time.perf_counter() - t0
    mnl = MultinomialLogit().fit(data, study=study)
    # The market: our two tiers, two competitors (random products at mid prices).
    levels = {a.name: a.level_names for a in study.attributes if a.name != "price"}
    rivals = []
    for r in range(2):
        offer = {a: str(rng.choice(v)) for a, v in levels.items()}
        rivals.append({"name": f"rival {r + 1}", **offer, "price": float(rng.choice([35, 40, 45]))})
    base = {"brand": "alpha", "feature": "basic", "service": "none", "price": 40.0}
    offers = [{"name": "tier 1", "ours": True, **base}, {"name": "tier 2", "ours": True, **base},
              *rivals]  # fmt: skip
    status_quo = [{"name": "keep what I have", "constant": "none"}]
    rows = []
    true_market = None
    paths = [
        ("HB", fits.get("HB"), False),
        ("HB, Huang-Wand", fits.get("HB, Huang-Wand"), False),
        ("aggregate", mnl, False),
        ("aggregate, price-only allowed", mnl, True),
    ]
    for path, results, price_only in [p for p in paths if p[0] in args.paths]:
        market = Market.from_offers(results.coding, offers, status_quo=status_quo, none=False)
        if true_market is None:
            space = offer_space(market, PRICES, COSTS, BASE_COST, {})
            truth_people = truth.draw(args.truth, np.random.default_rng([args.seed, seed, 99]))
            rest = [market.index(n) for n in ("rival 1", "rival 2", "keep what I have")]
            true_market = TrueMarket(space, truth_people, market.X[rest], market.offset[rest])
            all_pairs = np.array(list(itertools.combinations(range(len(space.index)), 2)))
            true_profit = true_market.profit(all_pairs)
            best_true = all_pairs[int(true_profit.argmax())]
            optimum = float(true_profit.max())
            truth_price_only = bool(
                space.product_id[best_true[0]] == space.product_id[best_true[1]]
            )
        sim = simulator_for(results, "sop", n_draws=args.uncertainty, seed=seed)
        sim.interval = INTERVAL
        t0 = time.perf_counter()
        res = optimise_offers(
            sim, market, objective="profit", costs=COSTS, base_cost=BASE_COST, prices=PRICES,
            price_only_tiers=price_only, rng=seed,
        )  # fmt: skip
        t_opt = time.perf_counter() - t0
        rec = np.array([lineup_index(space, res.best)])
        true_rec = float(true_market.profit(np.sort(rec, axis=1))[0])
        top = res.table.iloc[0]
        rows.append(
            {
                "study": seed,
                "path": path,
                "regret": true_rec / optimum,
                "true profit": true_rec,
                "optimum": optimum,
                "claimed": float(top["expected"]),
                "lower": float(top["lower"]),
                "upper": float(top["upper"]),
                "covers": bool(top["lower"] <= true_rec <= top["upper"]),
                "price-only": bool(space.product_id[rec[0, 0]] == space.product_id[rec[0, 1]]),
                "truth price-only": truth_price_only,
                "hb s": t_hb.get(path, 0.0),
                "opt s": t_opt,
                "lineup": str(top["lineup"]),
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--studies", type=int, default=20)
    parser.add_argument("--respondents", type=int, default=500)
    parser.add_argument("--burn-in", type=int, default=2000)
    parser.add_argument("--draws", type=int, default=2000)
    parser.add_argument("--uncertainty", type=int, default=200)
    parser.add_argument("--truth", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--first", type=int, default=0, help="First study (to run in parts).")
    parser.add_argument(
        "--paths",
        nargs="+",
        default=list(PATHS),
        choices=list(PATHS),
        help="decision paths to run (default: all)",
    )
    args = parser.parse_args()
    pd.set_option("display.width", 200)
    rows = []
    start = time.perf_counter()
    for s in range(args.first, args.first + args.studies):
        study_rows = one_study(s, args)
        rows += study_rows
        for r in study_rows:
            print(
                f"study {s:2d} {r['path']:<30} regret {100 * r['regret']:6.2f}%  true "
                f"{r['true profit']:6.3f} / opt {r['optimum']:6.3f}  claimed {r['claimed']:6.3f} "
                f"[{r['lower']:6.3f}, {r['upper']:6.3f}] covers {'yes' if r['covers'] else 'NO '}"
                f"  price-only {'YES' if r['price-only'] else 'no'}"
                f"  (HB {r['hb s']:.0f} s, optimiser {r['opt s']:.1f} s)",
                flush=True,
            )
        print(
            f"  [{s + 1}/{args.studies} studies, {time.perf_counter() - start:.0f} s]", flush=True
        )
    frame = pd.DataFrame(rows)
    print("\nSummary")
    for path, g in frame.groupby("path", sort=False):
        bad_price_only = int((g["price-only"] & ~g["truth price-only"]).sum())
        print(
            f"  {path:<30} regret min {100 * g['regret'].min():6.2f}%  median "
            f"{100 * g['regret'].median():6.2f}%  (bars >= 95%, >= 98%)  90% interval covers "
            f"{int(g['covers'].sum())}/{len(g)} (bar >= {int(np.ceil(0.8 * len(g)))})  "
            f"price-only line-ups the truth does not prefer: {bad_price_only}"
        )
    print(f"total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
