"""MaxDiff hierarchical Bayes: offerlab against NumPyro NUTS on the same best–worst model.

Problem
-------
1,000 respondents × 12 tasks × 5 of 20 items (offerlab's MaxDiff design, 4 versions);
individual utilities u_r ~ N(μ, Σ) with a non-diagonal Σ (three shared factors + 0.3 I);
answers by the sequential best–worst logit (best: Gumbel on u; worst among the rest:
Gumbel on −u); seed 20261206. Generated once by the driver.

Sides (each in its own child process; see _common.py)
-----------------------------------------------------
offerlab          MaxDiffHB: --chains chains (default 4) in 2 processes, --burn-in
                  iterations (default 1,000), then either --draws saved draws per chain
                  (default 1,000) or, with --until-converged, segments of 250 draws until
                  every population mean, covariance entry and individual mean passes
                  R-hat < 1.01 and bulk/tail ESS > 400, or --max-draws per chain.
offerlab_logit    the aggregate best–worst logit (one utility vector for everybody).
numpyro           NumPyro NUTS on the non-centred hierarchical model (μ ~ N(0, 5²),
                  Σ = diag(τ) Ω diag(τ), τ ~ half-normal(2), Ω ~ LKJ(2)), the best and
                  the worst choices as two categorical likelihoods; 2 chains in parallel,
                  --nuts-warmup + --nuts-draws iterations (default 500 + 500), bench/.venv-hb.
maxdiff_pypi      the PyPI package maxdiff 3.0.3, HierarchicalBayesMaxDiff: NumPyro NUTS on
                  its own model (one scalar spread σ for every item instead of a full Σ;
                  worst chosen from all shown items, not from those left after the best);
                  2 chains one after the other (as the package runs them), the same
                  --nuts-warmup + --nuts-draws; its fit() timed whole (its data preparation
                  included), bench/.venv-maxdiff.

Reported: wall and CPU time (user + system of the side's processes: on a shared machine
compare CPU, not wall), worst R-hat and lowest bulk ESS over the population parameters
and over the individual means, why the run stopped (offerlab), and recovery: the mean
over people of the correlation between each person's centred true utilities and their
posterior mean.

Run:  bench/.venv/bin/python bench/bench_maxdiff.py [--sides offerlab numpyro maxdiff_pypi]
      [--chains 4 --burn-in 1000 --draws 1000 | --until-converged --max-draws 6000] [--quick]
      [--hb-option interweave_leapfrog=4 ...]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as cm

cm.VENVS.setdefault("hb", cm.BENCH / ".venv-hb")
cm.VENVS.setdefault("maxdiff", cm.BENCH / ".venv-maxdiff")

SIDES = ("offerlab", "offerlab_logit", "numpyro", "maxdiff_pypi")
VENV_OF = {
    "offerlab": "driver",
    "offerlab_logit": "driver",
    "numpyro": "hb",
    "maxdiff_pypi": "maxdiff",
}
ITEMS = 20
PER_TASK = 5
TASKS = 12


def make_problem(path: Path, respondents: int) -> dict[str, Any]:
    """Design, true utilities and answers; saved as .npz for the workers."""
    import numpy as np

    from offerlab.design import make_maxdiff_design
    from offerlab.models import maxdiff_answers
    from offerlab.simulate import simulate_maxdiff

    rng = np.random.default_rng(20261206)
    items = tuple(f"item_{k:02d}" for k in range(ITEMS))
    design = make_maxdiff_design(items, PER_TASK, TASKS, versions=4, seed=1)
    loadings = rng.normal(0, 0.6, size=(ITEMS, 3))
    cov = loadings @ loadings.T + 0.3 * np.eye(ITEMS)
    truth = rng.multivariate_normal(np.linspace(-1.5, 1.5, ITEMS), cov, size=respondents)
    frame = simulate_maxdiff(design.sets, truth, items, seed=2)
    answers = maxdiff_answers(frame, list(items))
    np.savez(
        path,
        truth=truth,
        respondent=answers.respondent,
        shown=answers.shown,
        best=answers.best,
        worst=answers.worst,
        items=np.array(items),
    )
    return {"R": respondents, "tasks": len(answers.shown)}


def load(path: str) -> dict[str, Any]:
    import numpy as np

    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def _answers(problem: dict[str, Any]) -> Any:
    import numpy as np

    from offerlab.models import MaxDiffAnswers

    respondents = np.arange(problem["truth"].shape[0]).astype(object)
    return MaxDiffAnswers(
        tuple(str(i) for i in problem["items"]),
        respondents,
        problem["respondent"],
        problem["shown"],
        problem["best"],
        problem["worst"],
    )


def recovery(individual: Any, problem: dict[str, Any]) -> dict[str, float]:
    import numpy as np

    truth = problem["truth"] - problem["truth"].mean(axis=1, keepdims=True)
    est = np.atleast_2d(np.asarray(individual, dtype=float))
    est = np.broadcast_to(est - est.mean(axis=1, keepdims=True), truth.shape)
    corr = [np.corrcoef(t, e)[0, 1] for t, e in zip(truth, est, strict=True)]
    return {"corr_mean": float(np.mean(corr)), "corr_min": float(np.min(corr))}


def fit_offerlab(problem: dict[str, Any], aggregate: bool, args: argparse.Namespace) -> dict:
    import warnings
    from importlib.metadata import version

    from offerlab.models import HierarchicalBayes, MaxDiffHB, MaxDiffLogit

    answers = _answers(problem)
    rss_before = cm.rss_now_kib()
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if aggregate:
            result = MaxDiffLogit().fit(answers)
            individual, conv = result.utilities, None
        else:
            estimator = HierarchicalBayes(
                seed=args.seed,
                n_jobs=2,
                chains=args.chains,
                burn_in=args.burn_in,
                draws=args.draws,
                until_converged=args.until_converged,
                max_draws=args.max_draws,
                check_every=250,
                **_hb_options(args.hb_option),
            )
            result = MaxDiffHB(estimator).fit(answers)
            individual = result.individual.loc[answers.respondents].to_numpy()
            conv = result.hb.convergence
    elapsed = time.perf_counter() - t0
    out = {
        "side": "offerlab " + ("aggregate logit" if aggregate else "MaxDiff HB"),
        "version": version("offerlab"),
        "times": [elapsed],
        "rss_before_fit_mib": rss_before / 1024,
        "warnings": [str(w.message)[:200] for w in caught],
        **recovery(individual, problem),
    }
    if conv is not None:
        out["max_rhat"] = float(conv["rhat"].max())
        out["min_ess_bulk"] = float(conv["ess_bulk"].min())
        out["stop"] = result.hb.stop.describe()
        out["draws_per_chain"] = result.hb.stop.draws_per_chain
        people = result.hb.convergence_individual or {}
        out["individual"] = {k: v for k, v in people.items() if isinstance(v, int | float)}
    return out


def _hb_options(options: list[str]) -> dict[str, int]:
    """``NAME=INT`` pairs as keyword arguments (the sampler's move settings are whole numbers)."""
    pairs = [option.partition("=") for option in options]
    bad = [option for option, (_, eq, value) in zip(options, pairs, strict=True)
           if not eq or not value.lstrip("-").isdigit()]  # fmt: skip
    if bad:
        raise SystemExit(f"--hb-option takes NAME=INT; got {', '.join(bad)}")
    return {name: int(value) for name, _, value in pairs}


def _stages(problem: dict[str, Any]) -> tuple[Any, ...]:
    """Best stage (N, J, K) and worst stage (N, J−1, K) designs with the last item as 0."""
    import numpy as np

    K = len(problem["items"]) - 1
    dummies = np.eye(K + 1)[:, :K]  # the last item is the zero of the scale
    shown = problem["shown"]
    rows = np.arange(len(shown))
    X_best = dummies[shown]
    keep = np.ones_like(shown, dtype=bool)
    keep[rows, problem["best"]] = False
    rest = shown[keep].reshape(len(shown), -1)
    worst_pos = problem["worst"] - (problem["worst"] > problem["best"])
    return X_best, problem["best"], -dummies[rest], worst_pos


def _numpyro_model(X_best, y_best, X_worst, y_worst, groups, R, K):  # pragma: no cover
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist

    mu = numpyro.sample("mu", dist.Normal(0.0, 5.0).expand([K]).to_event(1))
    tau = numpyro.sample("tau", dist.HalfNormal(2.0).expand([K]).to_event(1))
    L_omega = numpyro.sample("L_omega", dist.LKJCholesky(K, 2.0))
    z = numpyro.sample("z", dist.Normal(0.0, 1.0).expand([R, K]).to_event(2))
    beta = mu + z @ (tau[:, None] * L_omega).T
    numpyro.deterministic("beta", beta)
    person = beta[groups]
    numpyro.sample(
        "best", dist.Categorical(logits=jnp.einsum("njk,nk->nj", X_best, person)), obs=y_best
    )
    numpyro.sample(
        "worst", dist.Categorical(logits=jnp.einsum("njk,nk->nj", X_worst, person)), obs=y_worst
    )


def fit_numpyro(problem: dict[str, Any], args: argparse.Namespace) -> dict:
    import os

    os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=2")
    import numpyro

    numpyro.set_host_device_count(2)
    from importlib.metadata import version

    import jax
    import numpy as np
    from numpyro.infer import MCMC, NUTS

    X_best, y_best, X_worst, y_worst = (jax.numpy.asarray(a) for a in _stages(problem))
    groups = jax.numpy.asarray(problem["respondent"])
    R, K = problem["truth"].shape[0], len(problem["items"]) - 1
    rss_before = cm.rss_now_kib()
    t0 = time.perf_counter()
    mcmc = MCMC(
        NUTS(_numpyro_model),
        num_warmup=args.nuts_warmup,
        num_samples=args.nuts_draws,
        num_chains=2,
        chain_method="parallel",
        progress_bar=False,
    )
    mcmc.run(jax.random.PRNGKey(args.seed), X_best, y_best, X_worst, y_worst, groups, R, K)
    beta = np.asarray(mcmc.get_samples()["beta"]).mean(axis=0)
    elapsed = time.perf_counter() - t0
    individual = np.concatenate([beta, np.zeros((R, 1))], axis=1)
    return {
        "side": "numpyro NUTS",
        "version": version("numpyro"),
        "times": [elapsed],
        "iterations": f"2×({args.nuts_warmup}+{args.nuts_draws})",
        "rss_before_fit_mib": rss_before / 1024,
        **recovery(individual, problem),
    }


def fit_maxdiff_pypi(problem: dict[str, Any], args: argparse.Namespace) -> dict:
    import os

    os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=2")
    from importlib.metadata import version

    import numpy as np
    import pandas as pd
    from maxdiff import HierarchicalBayesMaxDiff

    items = np.array([str(i) for i in problem["items"]])
    shown, rows = problem["shown"], np.arange(len(problem["shown"]))
    frame = pd.DataFrame(
        {"Response ID": problem["respondent"]}
        | {f"Attribute{p + 1}": items[shown[:, p]] for p in range(shown.shape[1])}
        | {
            "Best": items[shown[rows, problem["best"]]],
            "Worst": items[shown[rows, problem["worst"]]],
        }
    )
    columns = [f"Attribute{p + 1}" for p in range(shown.shape[1])]
    rss_before = cm.rss_now_kib()
    t0 = time.perf_counter()
    model = HierarchicalBayesMaxDiff(
        n_iterations=args.nuts_draws, n_warmup=args.nuts_warmup, n_chains=2
    )
    model.fit(frame, columns, "Best", "Worst")
    individual = model.get_individual_utilities()
    elapsed = time.perf_counter() - t0
    people = individual.loc[np.arange(problem["truth"].shape[0]), items].to_numpy()
    return {
        "side": "maxdiff (PyPI) HB, NUTS",
        "version": version("maxdiff"),
        "times": [elapsed],
        "iterations": f"2×({args.nuts_warmup}+{args.nuts_draws})",
        "rss_before_fit_mib": rss_before / 1024,
        **recovery(people, problem),
    }


def worker_main(argv: list[str]) -> None:
    args = parse(argv)
    problem = load(args.problem)
    if args.side == "numpyro":
        result = fit_numpyro(problem, args)
    elif args.side == "maxdiff_pypi":
        result = fit_maxdiff_pypi(problem, args)
    else:
        result = fit_offerlab(problem, aggregate=args.side == "offerlab_logit", args=args)
    cm.write_worker_result(args.out, result)


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--side", default="offerlab", help=argparse.SUPPRESS)
    p.add_argument("--problem", default="", help=argparse.SUPPRESS)
    p.add_argument("--out", default="", help=argparse.SUPPRESS)
    p.add_argument("--sides", nargs="+", default=list(SIDES), choices=SIDES)
    p.add_argument("--respondents", type=int, default=1000)
    p.add_argument("--nuts-warmup", type=int, default=500)
    p.add_argument("--nuts-draws", type=int, default=500)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--chains", type=int, default=4)
    p.add_argument("--burn-in", type=int, default=1000)
    p.add_argument("--draws", type=int, default=1000)
    p.add_argument("--until-converged", action="store_true")
    p.add_argument("--max-draws", type=int, default=6000)
    p.add_argument("--hb-option", action="append", default=[], metavar="NAME=INT",
                   help="another HierarchicalBayes option for offerlab's HB, e.g. "
                   "interweave_leapfrog=4 (repeatable)")  # fmt: skip
    p.add_argument("--quick", action="store_true", help="200 + 200 NUTS iterations")
    p.add_argument("--timeout", type=float, default=3600.0, help="seconds per side")
    a = p.parse_args(argv)
    if a.quick and not a.worker:
        a.nuts_warmup, a.nuts_draws = 200, 200
    return a


COLUMNS = [
    ("side", "side"),
    ("version", "version"),
    ("time", "time s"),
    ("cpu", "CPU s"),
    ("ratio", "ratio"),
    ("cpu_ratio", "CPU ratio"),
    ("corr", "corr(û,u)"),
    ("corr_min", "min corr"),
    ("conv", "R-hat / ESS"),
    ("peak", "peak MiB"),
    ("status", "status"),
]


def main(argv: list[str]) -> None:
    a = parse(argv)
    cm.exit_on_sigterm()
    machine = cm.machine()
    print(f"machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB")
    for note in (cm.blas_warning(), cm.load_note()):
        if note is not None:
            print(note)
    work = cm.run_dir("maxdiff")
    path = work / "problem.npz"
    info = make_problem(path, a.respondents)
    print(
        f"problem: {info['R']} respondents, {info['tasks']} tasks, "
        + f"{ITEMS} items, {PER_TASK} per task"
    )
    _hb_options(a.hb_option)  # a misspelt option stops here, before any side runs
    runs = []
    for side in a.sides:
        python = cm.venv_python("driver") if VENV_OF[side] == "driver" else None
        if VENV_OF[side] in ("hb", "maxdiff"):
            candidate = cm.VENVS[VENV_OF[side]] / "bin" / "python"
            python = candidate if candidate.exists() else None
        if python is None:
            print(f"{side}: SKIPPED (venv missing: run bash bench/setup.sh)")
            continue
        args = ["--side", side, "--problem", str(path), "--seed", str(a.seed),
                "--nuts-warmup", str(a.nuts_warmup), "--nuts-draws", str(a.nuts_draws),
                "--chains", str(a.chains), "--burn-in", str(a.burn_in),
                "--draws", str(a.draws), "--max-draws", str(a.max_draws)]  # fmt: skip
        if a.until_converged:
            args.append("--until-converged")
        for option in a.hb_option:
            args += ["--hb-option", option]
        print(f"running {side} …", flush=True)
        r = cm.run_worker(python, Path(__file__).resolve(), args, timeout=a.timeout,
                          log=work / f"{side}.log")  # fmt: skip
        r["side_key"] = side
        runs.append(r)
    base = next((r for r in runs if r["side_key"] == "offerlab" and r["status"] == "ok"), None)
    rows = []
    for r in runs:
        ok = r["status"] == "ok"
        t = min(r["times"]) if ok else None
        rows.append(
            {
                "side": r.get("side", r["side_key"]),
                "version": r.get("version", ""),
                "time": cm.fmt(t, ".1f"),
                "cpu": cm.fmt(r.get("cpu_s"), ".0f"),
                "ratio": cm.fmt(t / min(base["times"]), ".1f") if ok and base else "—",
                "cpu_ratio": cm.fmt(r["cpu_s"] / base["cpu_s"], ".1f") if ok and base else "—",
                "corr": cm.fmt(r.get("corr_mean"), ".4f"),
                "corr_min": cm.fmt(r.get("corr_min"), ".3f"),
                "conv": f"{r['max_rhat']:.3f} / {r['min_ess_bulk']:.0f}"
                if ok and "max_rhat" in r
                else "—",
                "peak": cm.fmt(r.get("peak_rss_mib"), ".0f"),
                "status": r["status"],
            }
        )
    print()
    print(cm.table(rows, COLUMNS))
    for r in runs:
        if "stop" in r:
            print(f"{r['side']}: {r['stop']}; individual means {r.get('individual')}")
    print(
        "ratio = side time / offerlab MaxDiff HB's time (>1: offerlab faster), CPU ratio the "
        "same on CPU seconds (the fair one on a shared machine); corr(û,u) = mean "
        "over people of the correlation of their centred true utilities with the estimate "
        "(the aggregate logit gives everybody the same vector); R-hat / ESS: worst over the "
        "population parameters (offerlab HB only)."
    )
    cm.save_results("maxdiff", {"machine": machine, "runs": runs})


if __name__ == "__main__":
    if "--worker" in sys.argv:
        worker_main(sys.argv[1:])
    else:
        main(sys.argv[1:])
