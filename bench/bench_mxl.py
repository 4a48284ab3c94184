"""Mixed logit estimation: offerlab against xlogit 0.2.7, side by side in one run.

Problem
-------
electricity  Revelt & Train's electricity-supplier panel (tests/data/electricity.csv.gz):
             361 respondents, 4,308 tasks, 4 alternatives; all six coefficients normal
             (pf, cl, loc, wk, tod, seas), 600 Halton draws per respondent. xlogit's
             example ``mixed_logit_model``; published LL −3888.465.

Same draws: offerlab's "halton" draws follow xlogit's convention (first primes as
bases, 100 points dropped, consecutive points per respondent, respondents in the order
of their sorted id, which is also their order in the file). The driver checks that the
two generators give bit-for-bit the same draws before any fit, so the two
log-likelihoods must agree to 1e-3 (``|ΔLL|`` column), not just within simulation noise.

Sides (each in its own child process, data read before the clock):
  xlogit            MixedLogit().fit(..., panels=id, n_draws=600) with its defaults
                    (its BFGS; SEs from the BHHH matrix, no extra evaluations).
  offerlab          MixedLogit().fit(data, spec=...) with its defaults: BHHH steps then
                    BFGS on the analytic gradient, SEs from the BHHH matrix (as xlogit's,
                    no extra evaluations); threads = cores.
  offerlab_numerical the same with hessian="numerical" (12 more gradient evaluations
                    for classic, robust and clustered SEs from the Hessian).
  offerlab_1thread  offerlab with n_threads=1.

Run:  bench/.venv/bin/python bench/bench_mxl.py [--repeat 3] [--sides offerlab xlogit]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as cm

ELECTRICITY = cm.ROOT / "tests" / "data" / "electricity.csv.gz"
VARIABLES = ["pf", "cl", "loc", "wk", "tod", "seas"]
N_DRAWS = 600
PUBLISHED_LL = -3888.465  # xlogit examples/mixed_logit_model, tests/data/README.md
LL_TOLERANCE = 1e-3


# ---------------------------------------------------------------------------------------
# Workers (bench/.venv: offerlab and xlogit share one numpy/OpenBLAS)
# ---------------------------------------------------------------------------------------


def fit_xlogit(repeat: int, n_draws: int) -> dict[str, Any]:
    from importlib.metadata import version

    import numpy as np
    import pandas as pd
    from xlogit import MixedLogit

    df = pd.read_csv(ELECTRICITY)
    X = df[VARIABLES].to_numpy(float)
    y = df["choice"].to_numpy()
    ids, panels, alts = df["chid"].to_numpy(), df["id"].to_numpy(), df["alt"].to_numpy()
    rss_before = cm.rss_now_kib()
    times, model = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        model = MixedLogit()
        model.fit(
            X=X,
            y=y,
            varnames=VARIABLES,
            ids=ids,
            panels=panels,
            alts=alts,
            n_draws=n_draws,
            randvars=dict.fromkeys(VARIABLES, "n"),
            verbose=0,
        )
        times.append(time.perf_counter() - t0)
    names = [str(n) for n in model.coeff_names]
    return {
        "side": "xlogit",
        "version": version("xlogit"),
        "times": times,
        "llf": float(model.loglikelihood),
        "params": dict(zip(names, map(float, model.coeff_), strict=True)),
        "se": dict(zip(names, map(float, model.stderr), strict=True)),
        "iterations": int(model.total_iter),
        "converged": bool(model.convergence),
        "rss_before_fit_mib": rss_before / 1024,
        "numpy": np.__version__,
    }


def _offerlab(repeat: int, n_draws: int, **options) -> dict[str, Any]:
    from importlib.metadata import version

    from offerlab.models._mxl import MixedLogit
    from offerlab.models._spec import parse_spec

    lines = [f"  {v}: {{variable: {v}, distribution: normal}}" for v in VARIABLES]
    spec = parse_spec(
        f"data: {{path: {ELECTRICITY}, format: long, respondent: id, task: chid, "
        "alternative: alt, choice: choice}\nutility:\n"
        + "\n".join(lines)
        + f"\nmixed: {{panel: true, draws: halton, n_draws: {n_draws}}}\n",
        cm.ROOT / "bench" / "electricity_mxl.yaml",
    )
    data = spec.load_data()
    rss_before = cm.rss_now_kib()
    times, res = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        res = MixedLogit(**options).fit(data, spec=spec)
        times.append(time.perf_counter() - t0)
    # Names as xlogit's: sd.NAME for the standard deviations.
    params = {str(k): float(v) for k, v in res.params.items()}
    return {
        "side": "offerlab",
        "version": version("offerlab"),
        "times": times,
        "llf": float(res.llf),
        "params": params,
        "se": {str(k): float(v) for k, v in res.bse.items()},
        "iterations": int(res.n_iter),
        "converged": bool(res.converged),
        "rss_before_fit_mib": rss_before / 1024,
        "options": {k: str(v) for k, v in options.items()},
    }


WORKERS = {
    "xlogit": fit_xlogit,
    "offerlab": lambda repeat, n_draws: _offerlab(repeat, n_draws),
    "offerlab_numerical": lambda repeat, n_draws: _offerlab(repeat, n_draws, hessian="numerical"),
    "offerlab_1thread": lambda repeat, n_draws: _offerlab(repeat, n_draws, n_threads=1),
}


def worker_main(argv: list[str]) -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--worker", choices=sorted(WORKERS), required=True)
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--draws", type=int, default=N_DRAWS)
    p.add_argument("--out", required=True)
    a = p.parse_args(argv)
    result = WORKERS[a.worker](a.repeat, a.draws)
    result["side"] = a.worker
    cm.write_worker_result(a.out, result)


# ---------------------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------------------


def same_draws(n_draws: int) -> str:
    """Do offerlab and xlogit generate the same Halton draws? (both importable here)"""
    try:
        import numpy as np
        import pandas as pd
        from xlogit import MixedLogit

        from offerlab.numerics._draws import uniform_draws
    except ImportError as exc:
        return f"not checked ({exc})"
    ids = pd.read_csv(ELECTRICITY)["id"].to_numpy()
    order = pd.unique(ids)
    n = len(order)
    theirs = MixedLogit()._generate_halton_draws(n, n_draws, len(VARIABLES))
    ours = uniform_draws(n, n_draws, len(VARIABLES), "halton")
    sorted_ids = bool(np.all(np.diff(order) > 0))
    same = np.array_equal(theirs, ours)
    return (
        f"{'bit-for-bit identical' if same else 'DIFFERENT'} "
        f"({n} respondents × {len(VARIABLES)} × {n_draws}; respondents in the file "
        f"{'are' if sorted_ids else 'are NOT'} in sorted-id order, the order xlogit uses)"
    )


COLUMNS = [
    ("side", "side"),
    ("time_s", "best s"),
    ("first_s", "1st s"),
    ("ratio", "xlogit/this"),
    ("llf", "log-lik"),
    ("dLL", "|ΔLL| vs xlogit"),
    ("iterations", "iter"),
    ("peak_mib", "peak MiB"),
    ("extra_mib", "fit +MiB"),
    ("cpu/wall", "cpu/wall"),
    ("converged", "conv"),
]


def main(argv: list[str]) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--sides",
        nargs="+",
        default=["offerlab", "offerlab_numerical", "offerlab_1thread", "xlogit"],
        choices=sorted(WORKERS),
    )
    p.add_argument("--repeat", type=int, default=3, help="fits per offerlab side (best of)")
    p.add_argument("--repeat-xlogit", type=int, default=1, help="fits of xlogit (best of)")
    p.add_argument("--draws", type=int, default=N_DRAWS, help="Halton draws per respondent")
    p.add_argument("--timeout", type=float, default=900.0, help="seconds allowed to one side")
    a = p.parse_args(argv)

    cm.exit_on_sigterm()
    machine = cm.machine()
    print(f"machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB")
    for note in (cm.blas_warning(), cm.load_note()):
        if note is not None:
            print(note)
    print(f"load average at start: {', '.join(f'{x:.2f}' for x in machine['load_average_start'])}")
    draws_note = same_draws(a.draws)
    print(f"Halton draws, offerlab vs xlogit: {draws_note}")

    python = cm.venv_python("driver")
    if python is None:
        cm.die("bench/.venv is missing: run bash bench/setup.sh")
    work = cm.run_dir("mxl")
    runs = []
    for side in a.sides:
        repeat = a.repeat_xlogit if side == "xlogit" else a.repeat
        print(f"  {side:<17} (repeat {repeat}, timeout {a.timeout:.0f} s) …", flush=True)
        res = cm.run_worker(
            python,
            Path(__file__),
            [side, "--repeat", str(repeat), "--draws", str(a.draws)],
            timeout=a.timeout,
            log=work / f"electricity-{side}.log",
        )
        res.setdefault("side", side)
        if res["status"] != "ok":
            print(f"    {res['status']}: {res.get('error', '')[-600:]}", flush=True)
        runs.append(res)

    peer = next((r for r in runs if r["side"] == "xlogit" and r["status"] == "ok"), None)
    rows = []
    for r in runs:
        ok = r["status"] == "ok"
        best = min(r["times"]) if ok else None
        row = {
            "side": f"{r['side']} {r.get('version', '')}".strip(),
            "time_s": cm.fmt(best, ".2f") if ok else r["status"],
            "first_s": cm.fmt(r["times"][0], ".2f") if ok else "—",
            "ratio": "—",
            "llf": cm.fmt(r.get("llf"), ".6f") if ok else "—",
            "dLL": "—",
            "iterations": str(r.get("iterations", "—")),
            "peak_mib": cm.fmt(r.get("peak_rss_mib"), ".0f"),
            "extra_mib": "—",
            "cpu/wall": "—",
            "converged": str(r.get("converged", "—")),
        }
        if ok:
            row["extra_mib"] = cm.fmt(r["peak_rss_mib"] - r["rss_before_fit_mib"], ".0f")
            row["cpu/wall"] = cm.fmt(r["cpu_s"] / r["wall_s"], ".2f")
            if peer is not None:
                row["ratio"] = cm.fmt(min(peer["times"]) / best, ".1f")
                d = abs(r["llf"] - peer["llf"])
                row["dLL"] = f"{d:.1e}" + ("" if d <= LL_TOLERANCE else " !")
        rows.append(row)
    print()
    print(cm.table(rows, COLUMNS))
    print(
        f"Electricity panel mixed logit, 6 normal coefficients, {a.draws} Halton draws "
        f"(published LL {PUBLISHED_LL}). xlogit/this = xlogit's best time / this side's "
        "best time (>1: faster than xlogit). |ΔLL| with the same draws must be ≤ 1e-3. "
        "peak = VmHWM of the side's process (interpreter + data + fit); fit +MiB = peak − "
        "RSS before the fit. cpu/wall > 1: more than one core busy."
    )
    ours = [r for r in runs if r["side"].startswith("offerlab") and r["status"] == "ok"]
    if peer is not None and ours:
        names = list(peer["params"])
        worst = max(
            abs(r["params"].get(n, float("nan")) / peer["params"][n] - 1)
            for r in ours
            for n in names
        )
        print(f"largest relative difference of an estimate vs xlogit: {worst:.1e}")
    path = cm.save_results(
        "mxl", {"machine": machine, "args": vars(a), "draws": draws_note, "runs": runs}
    )
    print(f"results: {path}")


if __name__ == "__main__":
    if "--worker" in sys.argv:
        worker_main(sys.argv[1:])
    else:
        main(sys.argv[1:])
