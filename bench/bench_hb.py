"""Hierarchical Bayes MNL: offerlab against the Python HB peers that install here.

Problem
-------
The simulated conjoint study of tests/models/_hb_sim.py: 1,000 respondents × 12 tasks
× (3 concepts + none), six effects-coded attributes (14 columns) + none = 15
parameters; individual part-worths β_r ~ N(μ, Σ) with a non-diagonal Σ (three shared
taste factors); Gumbel errors; seed 20261128. Generated once by the driver.

Sides (each in its own child process and interpreter; see _common.py)
---------------------------------------------------------------------
offerlab      HierarchicalBayes until converged: 4 chains in 2 processes, --burn-in
              iterations each (default 1,000), then saved draws in segments of 250 per
              chain until R-hat < 1.01 and bulk/tail ESS > 400 hold for every population
              mean and covariance entry (the respondents' coefficients are diagnosed and
              reported, not waited for), at most --iterations draws per chain
              (bench/.venv).
offerlab_1    the fixed-length run of before: 1 chain, --iterations/2 burn-in + saved.
offerlab_v01  as offerlab with prior variance 0.1 instead of Sawtooth's 1: the inverse-
              Wishart prior then centres each variance (mean 5v) inside the true range
              0.2–1.6 instead of at 5 (see tests/models/test_hb_recovery.py).
offerlab_hw   as offerlab with the Huang–Wand (2013) covariance prior
              (covariance_prior="huang-wand": uniform marginal correlations, half-t(2)
              SDs with scale --hw-scale, default 2.5) instead of CBC/HB's inverse-Wishart.
numpyro       NumPyro NUTS on the standard non-centred hierarchical MNL (μ ~ N(0, 5²),
              Σ = diag(τ) Ω diag(τ), τ ~ half-normal(2), Ω ~ LKJ(2), β_r = μ + L z_r):
              2 chains (parallel, one XLA host device each), --nuts-warmup + --nuts-draws
              iterations (default 500 + 500), bench/.venv-hb.
pymc          PyMC NUTS on the same model, 2 chains on 2 cores, same iterations.

NUTS draws are far more expensive and far less autocorrelated than random-walk
Metropolis draws, so equal iteration counts mean nothing across the two kinds of
sampler. The comparison is effective samples per second at a recovery: every side
reports the bulk ESS of its worst population mean and worst covariance entry (the same
rank-normalised estimator, offerlab.numerics._convergence, on every side's draws),
divided by the side's wall time and by its CPU time; and the correlation of its
individual posterior means with the true β_r (mean over the 15 parameters) and the
relative error of its population covariance against the sample covariance of the true
β_r.

Run:  bench/.venv/bin/python bench/bench_hb.py [--sides offerlab offerlab_hw numpyro] [--quick]
      (--quick: 2,000 + 2,000 offerlab iterations and 200 + 200 NUTS iterations)
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

SIDES = ("offerlab", "offerlab_1", "offerlab_v01", "offerlab_hw", "numpyro", "pymc")
VENV_OF = {
    "offerlab": "driver",
    "offerlab_1": "driver",
    "offerlab_v01": "driver",
    "offerlab_hw": "driver",
    "numpyro": "hb",
    "pymc": "hb",
}


# ---------------------------------------------------------------------------------------
# Driver side
# ---------------------------------------------------------------------------------------


def make_problem(path: Path) -> dict[str, Any]:
    import numpy as np

    sys.path.insert(0, str(cm.ROOT / "tests" / "models"))
    from _hb_sim import simulate_study

    sim = simulate_study()
    np.savez(
        path,
        X=sim.X,
        y=sim.y,
        groups=sim.groups,
        beta=sim.beta,
        mean=sim.mean,
        cov=sim.cov,
        names=np.array(sim.names),
    )
    return {"R": int(sim.beta.shape[0]), "N": int(sim.X.shape[0]), "K": int(sim.X.shape[2])}


def recovery(individual: Any, cov: Any, problem: dict[str, Any]) -> dict[str, Any]:
    """Correlation of individual estimates with the truth; covariance error."""
    import numpy as np

    beta = problem["beta"]
    K = beta.shape[1]
    corr = [float(np.corrcoef(individual[:, k], beta[:, k])[0, 1]) for k in range(K)]
    S = np.cov(beta.T)
    return {
        "corr_mean": float(np.mean(corr)),
        "corr_min": float(np.min(corr)),
        "corr": corr,
        "cov_rel_error": float(np.linalg.norm(cov - S) / np.linalg.norm(S)),
        "var_ratio_mean": float(np.mean(np.diag(cov) / np.diag(S))),
    }


# ---------------------------------------------------------------------------------------
# Workers
# ---------------------------------------------------------------------------------------


def load(path: str) -> dict[str, Any]:
    import numpy as np

    with np.load(path) as z:
        return {k: z[k] for k in z.files}


def fit_offerlab(
    problem: dict[str, Any],
    args: argparse.Namespace,
    chains: int,
    prior_variance: float = 1.0,
    huang_wand: bool = False,
) -> dict:
    import resource
    import warnings
    from importlib.metadata import version

    from offerlab.models._hb import HierarchicalBayes

    until = chains > 1
    total = args.iterations
    burn = args.burn_in if until else total // 2
    draws = total if until else total - burn
    rss_before = cm.rss_now_kib()
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = HierarchicalBayes(
            burn_in=burn,
            draws=draws,
            chains=chains,
            n_jobs=min(chains, 2),
            seed=args.seed,
            prior_variance=prior_variance,
            until_converged=until,
            max_draws=draws,
            check_every=250,
            # The bar is on the population; the individual diagnostics are reported.
            stop_on_individual=False,
            **(
                {"covariance_prior": "huang-wand", "prior_sd_scale": args.hw_scale}
                if huang_wand
                else {}
            ),
        ).fit_arrays(
            problem["X"],
            problem["y"],
            groups=problem["groups"],
            names=[str(n) for n in problem["names"]],
        )
    elapsed = time.perf_counter() - t0
    conv = res.convergence
    K = len(res.names)
    return {
        "side": "offerlab"
        + ("" if chains > 1 else " (1 chain)")
        + ("" if prior_variance == 1.0 else f" (v={prior_variance:g})")
        + (f" (Huang-Wand, A={args.hw_scale:g})" if huang_wand else ""),
        "version": version("offerlab"),
        "times": [elapsed],
        "sampler_s": res.elapsed,
        "iterations": f"{chains}×({burn}+{res.n_draws})",
        "stopped_by": res.stop.reason,
        "shortfalls": res.stop.shortfalls,
        "rss_before_fit_mib": rss_before / 1024,
        # The chains run in forked children: their own high-water RSS (which counts the
        # pages they share with this parent) is the larger of the two processes' peaks.
        "children_peak_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "max_rhat": float(conv["rhat"].max()),
        "min_ess_bulk": float(conv["ess_bulk"].min()),
        "ess_mean": float(conv["ess_bulk"].iloc[:K].min()),
        "ess_cov": float(conv["ess_bulk"].iloc[K:].min()),
        "ess_tail_min": float(conv["ess_tail"].min()),
        "individual": res.convergence_individual,
        "warnings": [str(w.message)[:300] for w in caught],
        **recovery(res.individual.to_numpy(), res.population_cov.to_numpy(), problem),
    }


def _numpyro_model(X, y, groups, R, K):  # pragma: no cover - runs in the peer venv
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist

    mu = numpyro.sample("mu", dist.Normal(0.0, 5.0).expand([K]).to_event(1))
    tau = numpyro.sample("tau", dist.HalfNormal(2.0).expand([K]).to_event(1))
    L_omega = numpyro.sample("L_omega", dist.LKJCholesky(K, 2.0))
    L = tau[:, None] * L_omega
    z = numpyro.sample("z", dist.Normal(0.0, 1.0).expand([R, K]).to_event(2))
    beta = mu + z @ L.T
    numpyro.deterministic("beta", beta)
    V = jnp.einsum("njk,nk->nj", X, beta[groups])
    numpyro.sample("y", dist.Categorical(logits=V), obs=y)


def fit_numpyro(problem: dict[str, Any], args: argparse.Namespace) -> dict:
    import os

    os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=2")
    import numpyro

    numpyro.set_host_device_count(2)
    from importlib.metadata import version

    import jax
    import numpy as np
    from numpyro.infer import MCMC, NUTS

    X = jax.numpy.asarray(problem["X"])
    y = jax.numpy.asarray(problem["y"])
    groups = jax.numpy.asarray(problem["groups"])
    R, K = problem["beta"].shape
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
    mcmc.run(
        jax.random.PRNGKey(args.seed), X, y, groups, R, K, extra_fields=("diverging", "num_steps")
    )

    def posterior_means(draws: dict[str, Any]) -> tuple[Any, Any]:
        """Individual β and Σ = diag(τ) Ω diag(τ) averaged over the draws."""
        L = np.asarray(draws["tau"])[:, :, None] * np.asarray(draws["L_omega"])
        cov = np.einsum("skl,sml->skm", L, L).mean(axis=0)
        return np.asarray(draws["beta"]).mean(axis=0), cov

    pooled = posterior_means(mcmc.get_samples())
    elapsed = time.perf_counter() - t0
    grouped = mcmc.get_samples(group_by_chain=True)
    L_by_chain = np.asarray(grouped["tau"])[..., :, None] * np.asarray(grouped["L_omega"])
    cov_draws = np.einsum("cskl,csml->cskm", L_by_chain, L_by_chain)
    low = np.tril_indices(K)
    np.savez(
        args.out + ".draws.npz", mean=np.asarray(grouped["mu"]), cov=cov_draws[:, :, low[0], low[1]]
    )
    # Per chain: a chain that fails to adapt (tiny steps, long trajectories, poor
    # recovery) would otherwise be averaged into the pooled figures unseen.
    by_chain = mcmc.get_samples(group_by_chain=True)
    extra = mcmc.get_extra_fields(group_by_chain=True)
    chains = []
    for c in range(np.asarray(by_chain["beta"]).shape[0]):
        rec = recovery(*posterior_means({k: v[c] for k, v in by_chain.items()}), problem)
        chains.append(
            {
                "corr_mean": rec["corr_mean"],
                "cov_rel_error": rec["cov_rel_error"],
                "divergences": int(np.asarray(extra["diverging"][c]).sum()),
                "mean_leapfrog_steps": float(np.asarray(extra["num_steps"][c]).mean()),
            }
        )
    return {
        "side": "numpyro NUTS",
        "version": version("numpyro"),
        "times": [elapsed],
        "iterations": f"2×({args.nuts_warmup}+{args.nuts_draws})",
        "rss_before_fit_mib": rss_before / 1024,
        "chains": chains,
        **recovery(*pooled, problem),
    }


def fit_pymc(problem: dict[str, Any], args: argparse.Namespace) -> dict:
    from importlib.metadata import version

    import numpy as np
    import pymc as pm
    import pytensor.tensor as pt

    X, y, groups = problem["X"], problem["y"], problem["groups"]
    R, K = problem["beta"].shape
    rss_before = cm.rss_now_kib()
    t0 = time.perf_counter()
    with pm.Model():
        mu = pm.Normal("mu", 0.0, 5.0, shape=K)
        chol, _, _ = pm.LKJCholeskyCov(
            "chol", n=K, eta=2.0, sd_dist=pm.HalfNormal.dist(2.0, shape=K), compute_corr=True
        )
        z = pm.Normal("z", 0.0, 1.0, shape=(R, K))
        beta = pm.Deterministic("beta", mu + pt.dot(z, chol.T))
        V = (X * beta[groups][:, None, :]).sum(axis=2)
        pm.Categorical("y", logit_p=V, observed=y)
        trace = pm.sample(
            draws=args.nuts_draws,
            tune=args.nuts_warmup,
            chains=2,
            cores=2,
            random_seed=args.seed,
            progressbar=False,
            compute_convergence_checks=False,
        )
    post = trace.posterior
    individual = post["beta"].mean(dim=("chain", "draw")).to_numpy()
    chol_draws = post["chol"].to_numpy().reshape(-1, K * (K + 1) // 2)
    idx = np.tril_indices(K)
    covs = []
    for row in chol_draws:
        L = np.zeros((K, K))
        L[idx] = row
        covs.append(L @ L.T)
    elapsed = time.perf_counter() - t0
    return {
        "side": "pymc NUTS",
        "version": version("pymc"),
        "times": [elapsed],
        "iterations": f"2×({args.nuts_warmup}+{args.nuts_draws})",
        "rss_before_fit_mib": rss_before / 1024,
        **recovery(individual, np.mean(covs, axis=0), problem),
    }


def worker_main(argv: list[str]) -> None:
    args = parse(argv)
    problem = load(args.problem)
    if args.side == "offerlab":
        result = fit_offerlab(problem, args, chains=args.chains)
    elif args.side == "offerlab_1":
        result = fit_offerlab(problem, args, chains=1)
    elif args.side == "offerlab_v01":
        result = fit_offerlab(problem, args, chains=args.chains, prior_variance=0.1)
    elif args.side == "offerlab_hw":
        result = fit_offerlab(problem, args, chains=args.chains, huang_wand=True)
    elif args.side == "numpyro":
        result = fit_numpyro(problem, args)
    else:
        result = fit_pymc(problem, args)
    cm.write_worker_result(args.out, result)


# ---------------------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------------------


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--side", default="offerlab", help=argparse.SUPPRESS)
    p.add_argument("--problem", default="", help=argparse.SUPPRESS)
    p.add_argument("--out", default="", help=argparse.SUPPRESS)
    p.add_argument("--sides", nargs="+", default=list(SIDES), choices=SIDES)
    p.add_argument(
        "--iterations",
        type=int,
        default=10_000,
        help="offerlab: the most saved draws per chain (until converged); offerlab_1: "
        "burn-in + saved iterations",
    )
    p.add_argument("--burn-in", type=int, default=1_000, help="offerlab burn-in per chain")
    p.add_argument("--chains", type=int, default=4, help="offerlab chains (2 processes)")
    p.add_argument("--nuts-warmup", type=int, default=500)
    p.add_argument("--nuts-draws", type=int, default=500)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--hw-scale", type=float, default=2.5, help="Huang-Wand SD scale A (offerlab_hw)"
    )
    p.add_argument("--quick", action="store_true")
    p.add_argument("--timeout", type=float, default=3600.0, help="seconds per side")
    a = p.parse_args(argv)
    if a.quick and not a.worker:
        a.iterations, a.nuts_warmup, a.nuts_draws = 4_000, 200, 200
    return a


COLUMNS = [
    ("side", "side"),
    ("version", "version"),
    ("iterations", "iterations"),
    ("time", "time s"),
    ("cpu", "CPU s"),
    ("ratio", "ratio"),
    ("corr", "corr(β̂,β)"),
    ("corr_min", "min corr"),
    ("cov_err", "Σ rel.err"),
    ("var_ratio", "var ratio"),
    ("peak", "peak MiB"),
    ("extra", "fit +MiB"),
    ("conv", "R-hat / ESS"),
    ("ess_mean_s", "ESS mean/s"),
    ("ess_cov_s", "ESS cov/s"),
    ("ess_cov_cpu", "ESS cov/CPU s"),
    ("status", "status"),
]


def nuts_diagnostics(path: Path) -> dict[str, float]:
    """The same R-hat and bulk ESS as offerlab's, on a NUTS side's saved draws."""
    import numpy as np

    from offerlab.numerics._convergence import diagnose

    with np.load(path) as z:
        mean, cov = z["mean"], z["cov"]
    r_mean, ess_mean, tail_mean = diagnose(mean)
    r_cov, ess_cov, tail_cov = diagnose(cov)
    return {
        "max_rhat": float(max(r_mean.max(), r_cov.max())),
        "min_ess_bulk": float(min(ess_mean.min(), ess_cov.min())),
        "ess_mean": float(ess_mean.min()),
        "ess_cov": float(ess_cov.min()),
        "ess_tail_min": float(min(tail_mean.min(), tail_cov.min())),
    }


def ess_per_second(r: dict[str, Any], key: str, clock: str) -> float | None:
    seconds = min(r["times"]) if clock == "wall" else r.get("cpu_s")
    if r.get(key) is None or not seconds:
        return None
    return r[key] / seconds


def main(argv: list[str]) -> None:
    a = parse(argv)
    cm.exit_on_sigterm()
    machine = cm.machine()
    print(f"machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB")
    for note in (cm.blas_warning(), cm.load_note()):
        if note is not None:
            print(note)
    work = cm.run_dir("hb")
    path = work / "problem.npz"
    info = make_problem(path)
    print(f"problem: {info['R']} respondents, {info['N']} tasks, K = {info['K']}")
    script = Path(__file__).resolve()
    runs = []
    for side in a.sides:
        python = cm.venv_python(VENV_OF[side]) if VENV_OF[side] != "hb" else None
        if VENV_OF[side] == "hb":
            candidate = cm.VENVS["hb"] / "bin" / "python"
            python = candidate if candidate.exists() else None
        if python is None:
            print(f"{side}: SKIPPED (venv missing: run bash bench/setup.sh)")
            continue
        args = [
            "--side",
            side,
            "--problem",
            str(path),
            "--iterations",
            str(a.iterations),
            "--burn-in",
            str(a.burn_in),
            "--chains",
            str(a.chains),
            "--nuts-warmup",
            str(a.nuts_warmup),
            "--nuts-draws",
            str(a.nuts_draws),
            "--seed",
            str(a.seed),
            "--hw-scale",
            str(a.hw_scale),
        ]
        print(f"running {side} …", flush=True)
        r = cm.run_worker(python, script, args, timeout=a.timeout, log=work / f"{side}.log")
        r["side_key"] = side
        draws = work / f"{side}.json.draws.npz"
        if r["status"] == "ok" and draws.exists():
            r.update(nuts_diagnostics(draws))
        runs.append(r)
    base = next(
        (r for r in runs if r["side_key"].startswith("offerlab") and r["status"] == "ok"),
        None,
    )
    rows = []
    for r in runs:
        ok = r["status"] == "ok"
        t = min(r["times"]) if ok else None
        conv = f"{r['max_rhat']:.3f} / {r['min_ess_bulk']:.0f}" if ok and "max_rhat" in r else "—"
        rows.append(
            {
                "side": r.get("side", r["side_key"]),
                "version": r.get("version", ""),
                "iterations": r.get("iterations", ""),
                "time": cm.fmt(t, ".1f"),
                "cpu": cm.fmt(r.get("cpu_s"), ".0f"),
                "ratio": cm.fmt(t / min(base["times"]), ".1f") if ok and base else "—",
                "corr": cm.fmt(r.get("corr_mean"), ".4f"),
                "corr_min": cm.fmt(r.get("corr_min"), ".3f"),
                "cov_err": cm.fmt(r.get("cov_rel_error"), ".3f"),
                "var_ratio": cm.fmt(r.get("var_ratio_mean"), ".2f"),
                "peak": cm.fmt(
                    max(r.get("peak_rss_mib") or 0, r.get("children_peak_mib") or 0) or None, ".0f"
                ),
                "extra": cm.fmt(r["peak_rss_mib"] - r["rss_before_fit_mib"] if ok else None, ".0f"),
                "conv": conv,
                "ess_mean_s": cm.fmt(ess_per_second(r, "ess_mean", "wall") if ok else None, ".1f"),
                "ess_cov_s": cm.fmt(ess_per_second(r, "ess_cov", "wall") if ok else None, ".2f"),
                "ess_cov_cpu": cm.fmt(ess_per_second(r, "ess_cov", "cpu") if ok else None, ".2f"),
                "status": r["status"],
            }
        )
    print()
    print(cm.table(rows, COLUMNS))
    for r in runs:
        for c, chain in enumerate(r.get("chains", [])):
            print(
                f"{r.get('side', r['side_key'])}, chain {c + 1}: corr {chain['corr_mean']:.4f}, "
                f"Σ rel.err {chain['cov_rel_error']:.3f}, {chain['divergences']} divergences, "
                f"{chain['mean_leapfrog_steps']:.0f} leapfrog steps per draw"
            )
    print(
        "ratio = side time / the first offerlab side's time (>1: offerlab faster); CPU s = "
        "user + system time of the side's processes (less sensitive to other load). "
        "corr(β̂,β) = mean "
        "over the 15 parameters of the correlation between individual posterior means and "
        "the true β_r; Σ rel.err = ‖Σ̂ − S‖_F / ‖S‖_F, S the sample covariance of the true "
        "β_r; var ratio = mean of Σ̂_kk / S_kk. peak = VmHWM of the side's process (for "
        "offerlab: the larger of the parent's and the chain processes' peaks); R-hat / ESS: "
        "worst over all 135 population parameters (NUTS: on its draws of μ and Σ). ESS "
        "mean/s, ESS cov/s: bulk ESS of the worst population mean and of the worst "
        "covariance entry per wall second; ESS cov/CPU s per CPU second."
    )
    nuts = next((r for r in runs if r["side_key"] == "numpyro" and r["status"] == "ok"), None)
    for r in runs:
        if nuts is None or not r["side_key"].startswith("offerlab") or r["status"] != "ok":
            continue
        ratios = []
        for key in ("ess_cov", "ess_mean"):
            for clock in ("wall", "cpu"):
                ours, theirs = ess_per_second(r, key, clock), ess_per_second(nuts, key, clock)
                if ours is not None and theirs:
                    ratios.append(f"{key} per {clock} s {ours / theirs:.1f}x")
        print(f"{r.get('side', r['side_key'])} vs NUTS: " + ", ".join(ratios))
    for r in runs:
        if r.get("shortfalls"):
            print(f"{r.get('side', r['side_key'])}: short of the targets: {r['shortfalls']}")
    for r in runs:
        if r["status"] != "ok":
            print(f"{r['side_key']}: {r['status']}\n{r.get('error', '')}")
    out = cm.save_results("hb", {"machine": machine, "args": vars(a), "runs": runs})
    print(f"results: {out}")


if __name__ == "__main__":
    if "--worker" in sys.argv:
        worker_main(sys.argv[1:])
    else:
        main(sys.argv[1:])
