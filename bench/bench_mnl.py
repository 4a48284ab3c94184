"""MNL estimation: offerlab against biogeme and xlogit, side by side in one run.

Problems
--------
swissmetro  biogeme's example b01a_logit on the Swissmetro data (tests/data): 6,768 tasks,
            3 labelled alternatives with availability, ASC_TRAIN, ASC_CAR, B_TIME, B_COST.
            Published LL −5331.252007.
simulated   50,000 respondents × 12 tasks × 4 unlabelled alternatives = 600,000 tasks
            (2.4 M rows), 20 parameters: 19 effects-coded part-worth columns of nine
            categorical attributes and a linear price. Generated once, fixed seed.

Each side runs in its own child process under its own interpreter (biogeme in
bench/.venv-biogeme, xlogit and offerlab in bench/.venv), reads the same arrays, builds
its native input before the clock starts, then fits ``--repeat`` times; the best wall
time is reported. Peak memory is the child's ru_maxrss (see _common.py), so it covers
the interpreter, the data and the fit; "fit extra" subtracts the resident set just
before the first fit. "X size" is the float64 design matrix N × J × K × 8 bytes.

Run:  bench/.venv/bin/python bench/bench_mnl.py [--quick] [--problems swissmetro simulated]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as cm

SWISSMETRO_LL = -5331.252007  # biogeme b01a_logit, /work/shared/data/README.md
LL_TOLERANCE = 1e-6
SIM_SEED = 20261128

# Simulated study: nine categorical attributes (levels) and a price (CHF per month).
SIM_LEVELS = (5, 4, 4, 3, 3, 3, 2, 2, 2)  # Σ(L−1) = 19 effects-coded columns
SIM_PRICES = (19.0, 24.0, 29.0, 34.0, 39.0)
SIM_PRICE_BETA = -0.08  # per CHF: the 20 CHF range moves utility by 1.6


# ---------------------------------------------------------------------------------------
# Problems (driver side: bench/.venv)
# ---------------------------------------------------------------------------------------


def swissmetro_problem() -> dict[str, Any]:
    """b01a_logit's data preparation, as arrays X (N, 3, 4), chosen index, availability."""
    import numpy as np
    import pandas as pd

    df = pd.read_csv(cm.ROOT / "tests" / "data" / "swissmetro.csv.gz")
    df = df[df["PURPOSE"].isin([1, 3]) & (df["CHOICE"] != 0)].reset_index(drop=True)
    ga = (df["GA"] == 0).to_numpy(float)
    sp = (df["SP"] != 0).to_numpy(float)
    n = len(df)
    # columns: ASC_TRAIN, ASC_CAR, B_TIME, B_COST (Swissmetro is the reference alternative)
    X = np.zeros((n, 3, 4))
    X[:, 0, 0] = 1.0
    X[:, 2, 1] = 1.0
    X[:, 0, 2] = df["TRAIN_TT"] / 100
    X[:, 1, 2] = df["SM_TT"] / 100
    X[:, 2, 2] = df["CAR_TT"] / 100
    X[:, 0, 3] = df["TRAIN_CO"] * ga / 100
    X[:, 1, 3] = df["SM_CO"] * ga / 100
    X[:, 2, 3] = df["CAR_CO"] / 100
    avail = np.column_stack([df["TRAIN_AV"] * sp, df["SM_AV"], df["CAR_AV"] * sp]) != 0
    respondent = df["ID"].to_numpy(np.int64)
    task = df.groupby("ID").cumcount().to_numpy(np.int64) + 1
    return {
        "kind": "swissmetro",
        "X": X,
        "y": df["CHOICE"].to_numpy(np.int64) - 1,
        "avail": avail,
        "respondent": respondent,
        "task": task,
        "names": np.array(["ASC_TRAIN", "ASC_CAR", "B_TIME", "B_COST"]),
        "alts": np.array(["train", "swissmetro", "car"]),
    }


def simulated_problem(respondents: int, tasks: int = 12, alternatives: int = 4) -> dict[str, Any]:
    """Random-design conjoint answers from a fixed MNL (seed SIM_SEED).

    Part-worths are drawn once per level (sd 0.6, centred within each attribute, so the
    effects-coded truth is the first L−1 of them); utility adds the price term; choices
    follow Gumbel errors. Realistic magnitudes: the MNL converges in a few iterations.
    """
    import numpy as np

    from offerlab.numerics import code_levels

    rng = np.random.default_rng(SIM_SEED)
    partworths = []
    for n_lv in SIM_LEVELS:
        pw = rng.normal(0.0, 0.6, n_lv)
        partworths.append(pw - pw.mean())
    beta = np.concatenate([pw[:-1] for pw in partworths] + [np.array([SIM_PRICE_BETA])])
    n = respondents * tasks
    levels = np.stack(
        [rng.integers(0, n_lv, size=(n, alternatives), dtype=np.int8) for n_lv in SIM_LEVELS],
        axis=-1,
    )  # (N, J, A)
    price_idx = rng.integers(0, len(SIM_PRICES), size=(n, alternatives), dtype=np.int8)
    price = np.asarray(SIM_PRICES)[price_idx]
    K = len(beta)
    X = np.empty((n, alternatives, K))
    X[..., : K - 1] = code_levels(levels, SIM_LEVELS, "effects")
    X[..., K - 1] = price
    V = X @ beta
    y = np.argmax(V + rng.gumbel(size=V.shape), axis=1).astype(np.int64)
    names = [f"a{a}[l{lv}]" for a, n_lv in enumerate(SIM_LEVELS) for lv in range(n_lv - 1)]
    return {
        "kind": "simulated",
        "X": X,
        "y": y,
        "avail": np.ones((n, alternatives), dtype=bool),
        "respondent": np.repeat(np.arange(1, respondents + 1), tasks),
        "task": np.tile(np.arange(1, tasks + 1), respondents),
        "names": np.array([*names, "price"]),
        "alts": np.array([str(j + 1) for j in range(alternatives)]),
        "levels": levels,
        "price_idx": price_idx,
        "true_beta": beta,
    }


def subsample(problem: dict[str, Any], respondents: int) -> dict[str, Any]:
    """The first ``respondents`` respondents of a problem (all their tasks)."""
    import numpy as np

    keep = problem["respondent"] <= respondents
    out = {}
    for key, value in problem.items():
        is_row_array = isinstance(value, np.ndarray) and value.shape[:1] == keep.shape
        out[key] = value[keep] if is_row_array else value
    return out


def save_problem(problem: dict[str, Any], path: Path) -> Path:
    import numpy as np

    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **problem)
    return path


def load_problem(path: str) -> dict[str, Any]:
    import numpy as np

    with np.load(path, allow_pickle=False) as z:
        problem = {k: z[k] for k in z.files}
    problem["kind"] = str(problem["kind"])
    return problem


# ---------------------------------------------------------------------------------------
# Workers: one per side, each run in a child process under its own interpreter
# ---------------------------------------------------------------------------------------


def fit_biogeme(problem: dict[str, Any], repeat: int) -> dict[str, Any]:
    """biogeme: wide DataFrame (one row per task), V_j = Σ_k β_k x_jk, models.loglogit.

    Columns that are identically 0 for an alternative are left out of its utility and
    identically-1 columns enter as the bare Beta (the ASCs), so on Swissmetro the
    expressions are exactly b01a_logit's. biogeme 3.3 evaluates them with JAX (XLA),
    which uses all cores; its ``number_of_threads`` parameter is not read by 3.3.2.
    Default estimation settings (algorithm 'automatic', analytical second derivatives
    for the statistics); no HTML/YAML/iteration files.
    """
    import logging

    import numpy as np
    import pandas as pd
    from biogeme.biogeme import BIOGEME
    from biogeme.database import Database
    from biogeme.expressions import Beta, Variable
    from biogeme.models import loglogit
    from biogeme.version import get_version

    logging.getLogger("biogeme").setLevel(logging.WARNING)
    X, names = problem["X"], [str(s) for s in problem["names"]]
    _, J, K = X.shape
    cols: dict[str, np.ndarray] = {}
    terms: list[list[tuple[int, str | None]]] = []
    for j in range(J):
        tj = []
        for k in range(K):
            col = X[:, j, k]
            if not col.any():
                continue
            if np.all(col == 1.0):
                tj.append((k, None))
            else:
                cols[f"x{j}_{k}"] = col
                tj.append((k, f"x{j}_{k}"))
        terms.append(tj)
    for j in range(J):
        cols[f"av{j}"] = problem["avail"][:, j].astype(float)
    cols["CHOICE"] = problem["y"].astype(float) + 1
    frame = pd.DataFrame(cols)
    del cols

    def once():
        database = Database("bench", frame)
        betas = {k: Beta(names[k], 0, None, None, 0) for k in range(K)}
        V = {}
        for j in range(J):
            expr = None
            for k, var in terms[j]:
                term = betas[k] if var is None else betas[k] * Variable(var)
                expr = term if expr is None else expr + term
            V[j + 1] = expr
        av = {j + 1: Variable(f"av{j}") for j in range(J)}
        logprob = loglogit(V, av, Variable("CHOICE"))
        model = BIOGEME(
            database,
            logprob,
            generate_html=False,
            generate_yaml=False,
            save_iterations=False,
        )
        model.model_name = "bench"
        return model.estimate()

    rss_before = cm.rss_now_kib()
    times, results = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        results = once()
        times.append(time.perf_counter() - t0)
    params = results.get_beta_values()
    return {
        "side": "biogeme",
        "version": get_version(),
        "times": times,
        "llf": float(results.final_loglikelihood),
        "params": {k: float(v) for k, v in params.items()},
        "converged": bool(results.algorithm_has_converged),
        "rss_before_fit_mib": rss_before / 1024,
    }


def fit_xlogit(problem: dict[str, Any], repeat: int) -> dict[str, Any]:
    """xlogit MultinomialLogit on long arrays (N·J, K), default settings (its BFGS,
    ftol 1e-10, numerical Hessian for the standard errors)."""
    from importlib.metadata import version

    import numpy as np
    from xlogit import MultinomialLogit

    X, names = problem["X"], [str(s) for s in problem["names"]]
    N, J, K = X.shape
    X_long = X.reshape(N * J, K)
    alts = np.tile(np.arange(J), N)
    ids = np.repeat(np.arange(N), J)
    y_long = alts == np.repeat(problem["y"], J)
    avail = problem["avail"].reshape(N * J).astype(int)
    avail_arg = None if avail.all() else avail

    rss_before = cm.rss_now_kib()
    times, model = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        model = MultinomialLogit()
        model.fit(
            X=X_long, y=y_long, varnames=names, alts=alts, ids=ids, avail=avail_arg, verbose=0
        )
        times.append(time.perf_counter() - t0)
    return {
        "side": "xlogit",
        "version": version("xlogit"),
        "times": times,
        "llf": float(model.loglikelihood),
        "params": {str(k): float(v) for k, v in zip(model.coeff_names, model.coeff_, strict=True)},
        "converged": bool(model.convergence),
        "rss_before_fit_mib": rss_before / 1024,
    }


def _offerlab_input(problem: dict[str, Any]):
    """offerlab's native input: validated long ChoiceData (+ study or spec)."""
    import numpy as np
    import pandas as pd

    from offerlab.data import ChoiceData

    X, y = problem["X"], problem["y"]
    N, J, _ = X.shape
    base = {
        "respondent": np.repeat(problem["respondent"], J),
        "task": np.repeat(problem["task"], J),
        "alternative": np.tile(problem["alts"], N),
        "chosen": (np.tile(np.arange(J), N) == np.repeat(y, J)).astype(np.int8),
        "available": problem["avail"].reshape(N * J).astype(np.int8),
    }
    if problem["kind"] == "simulated":
        from offerlab.study import Study

        study = Study.model_validate(
            {
                "name": "bench_simulated",
                "attributes": [
                    {
                        "name": f"a{a}",
                        "label": f"a{a}",
                        "levels": [{"name": f"l{lv}", "label": f"l{lv}"} for lv in range(n_lv)],
                    }
                    for a, n_lv in enumerate(SIM_LEVELS)
                ]
                + [
                    {"name": "price", "label": "price", "type": "price", "values": list(SIM_PRICES)}
                ],
                "tasks": {"alternatives": J, "per_respondent": int(problem["task"].max())},
            }
        )
        levels = problem["levels"].reshape(N * J, -1)
        for a, n_lv in enumerate(SIM_LEVELS):
            names = np.array([f"l{lv}" for lv in range(n_lv)])
            base[f"a{a}"] = pd.Categorical.from_codes(levels[:, a], categories=names)
        base["price"] = np.asarray(SIM_PRICES)[problem["price_idx"].reshape(N * J)]
        data = ChoiceData.from_frame(pd.DataFrame(base), study)
        return data, {"study": study}
    # Swissmetro: long variables time and cost, b01a's utility as an offerlab spec.
    from offerlab.models import ModelSpec

    base["time"] = X[:, :, 2].reshape(N * J)
    base["cost"] = X[:, :, 3].reshape(N * J)
    data = ChoiceData.from_frame(pd.DataFrame(base))
    spec = ModelSpec.model_validate(
        {
            "utility": {
                "ASC_TRAIN": {"alternatives": ["train"]},
                "ASC_CAR": {"alternatives": ["car"]},
                "B_TIME": {"variable": "time"},
                "B_COST": {"variable": "cost"},
            }
        }
    )
    return data, {"spec": spec}


def fit_offerlab(problem: dict[str, Any], repeat: int) -> dict[str, Any]:
    """offerlab MultinomialLogit().fit(ChoiceData, study=… or spec=…)."""
    from importlib.metadata import version

    from offerlab.models import MultinomialLogit

    data, how = _offerlab_input(problem)
    rss_before = cm.rss_now_kib()
    times, results = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        results = MultinomialLogit().fit(data, **how)
        times.append(time.perf_counter() - t0)
    params = results.params
    params = params.to_dict() if hasattr(params, "to_dict") else dict(params)
    return {
        "side": "offerlab",
        "version": version("offerlab"),
        "times": times,
        "llf": float(results.llf),
        "params": {str(k): float(v) for k, v in params.items()},
        "converged": bool(getattr(results, "converged", True)),
        "rss_before_fit_mib": rss_before / 1024,
    }


def fit_offerlab_arrays(problem: dict[str, Any], repeat: int) -> dict[str, Any]:
    """offerlab MultinomialLogit().fit_arrays(X, y, available=…): the same arrays the
    peers get, no long-format frame (the estimator alone)."""
    from importlib.metadata import version

    from offerlab.models import MultinomialLogit

    X, y, avail = problem["X"], problem["y"], problem["avail"]
    names = [str(s) for s in problem["names"]]
    rss_before = cm.rss_now_kib()
    times, results = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        results = MultinomialLogit().fit_arrays(
            X, y, available=avail, groups=problem["respondent"], names=names
        )
        times.append(time.perf_counter() - t0)
    return {
        "side": "offerlab.fit_arrays",
        "version": version("offerlab"),
        "times": times,
        "llf": float(results.llf),
        "params": {str(k): float(v) for k, v in results.params.to_dict().items()},
        "converged": bool(getattr(results, "converged", True)),
        "rss_before_fit_mib": rss_before / 1024,
    }


WORKERS = {
    "biogeme": fit_biogeme,
    "biogeme_py312": fit_biogeme,
    "xlogit": fit_xlogit,
    "offerlab": fit_offerlab,
    "offerlab_arrays": fit_offerlab_arrays,
}
INTERPRETER = {
    "biogeme": "biogeme",
    "biogeme_py312": "py312",
    "xlogit": "driver",
    "offerlab": "driver",
    "offerlab_arrays": "driver",
}


def worker_main(argv: list[str]) -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--worker", choices=sorted(WORKERS), required=True)
    p.add_argument("--problem", required=True)
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--out", required=True)
    a = p.parse_args(argv)
    problem = load_problem(a.problem)
    cm.write_worker_result(a.out, WORKERS[a.worker](problem, a.repeat))


# ---------------------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------------------


def offerlab_available() -> str | None:
    """None when offerlab's MNL can be imported, else why not."""
    try:
        from offerlab.models import MultinomialLogit  # noqa: F401
    except ImportError as exc:
        return f"offerlab.models.MultinomialLogit not importable yet ({exc})"
    return None


def run_side(side: str, problem_path: Path, label: str, repeat: int, timeout: float):
    python = cm.venv_python(INTERPRETER[side])
    if python is None:
        return {"side": side, "status": "skipped", "error": "venv missing: run bench/setup.sh"}
    log = cm.run_dir("mnl") / f"{label}-{side}.log"
    print(f"  {side:<9} on {label} (repeat {repeat}, timeout {timeout:.0f} s) …", flush=True)
    res = cm.run_worker(
        python,
        Path(__file__),
        [side, "--problem", str(problem_path), "--repeat", str(repeat)],
        timeout=timeout,
        log=log,
    )
    res.setdefault("side", side)
    if res["status"] != "ok":
        print(f"    {res['status']}: {res.get('error', '')[-600:]}", flush=True)
    return res


def summarize(label: str, problem: dict[str, Any], runs: list[dict[str, Any]], note: str):
    """Rows of the table for one problem, ratios against offerlab's row."""
    N, J, K = problem["X"].shape
    x_mib = N * J * K * 8 / 2**20
    ours = next((r for r in runs if r["side"] == "offerlab" and r["status"] == "ok"), None)
    rows = []
    for r in runs:
        ok = r["status"] == "ok"
        best = min(r["times"]) if ok else None
        row = {
            "problem": label,
            "side": f"{r['side']} {r.get('version', '')}".strip(),
            "N×J×K": f"{N}×{J}×{K}",
            "time_s": cm.fmt(best, ".3f") if ok else r["status"],
            "first_s": cm.fmt(r["times"][0], ".3f") if ok else "—",
            "ratio": "—",
            "llf": cm.fmt(r.get("llf"), ".6f") if ok else "—",
            "dLL": "—",
            "peak_mib": cm.fmt(r.get("peak_rss_mib"), ".0f"),
            "extra_mib": "—",
            "peak/X": cm.fmt(r["peak_rss_mib"] / x_mib, ".2f") if ok else "—",
            "cpu/wall": "—",
            "converged": str(r.get("converged", "—")),
        }
        if ok:
            row["extra_mib"] = cm.fmt(r["peak_rss_mib"] - r["rss_before_fit_mib"], ".0f")
            row["cpu/wall"] = cm.fmt(r["cpu_s"] / r["wall_s"], ".2f")
            if ours is not None:
                row["ratio"] = cm.fmt(best / min(ours["times"]), ".2f")
                d = abs(r["llf"] - ours["llf"])
                row["dLL"] = f"{d:.1e}" + ("" if d <= LL_TOLERANCE else " !")
        rows.append(row)
    return {
        "label": label,
        "note": note,
        "n_obs": N,
        "alternatives": J,
        "params": K,
        "x_float64_mib": x_mib,
        "runs": runs,
        "rows": rows,
    }


COLUMNS = [
    ("problem", "problem"),
    ("side", "side"),
    ("N×J×K", "N×J×K"),
    ("time_s", "best s"),
    ("first_s", "1st s"),
    ("ratio", "peer/ours"),
    ("llf", "log-lik"),
    ("dLL", "|ΔLL| vs ours"),
    ("peak_mib", "peak MiB"),
    ("extra_mib", "fit +MiB"),
    ("peak/X", "peak/X"),
    ("cpu/wall", "cpu/wall"),
    ("converged", "conv"),
]


def main(argv: list[str]) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--problems",
        nargs="+",
        default=["swissmetro", "simulated"],
        choices=["swissmetro", "simulated"],
    )
    p.add_argument(
        "--sides",
        nargs="+",
        default=["offerlab", "offerlab_arrays", "biogeme", "biogeme_py312", "xlogit"],
        choices=sorted(WORKERS),
        help="offerlab = fit(ChoiceData, study=/spec=); offerlab_arrays = fit_arrays(X, y); "
        "biogeme = 3.3.2 (Python 3.11), biogeme_py312 = 3.3.5 (Python 3.12)",
    )
    p.add_argument(
        "--respondents",
        type=int,
        default=50_000,
        help="simulated respondents (12 tasks × 4 alternatives each)",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="biogeme fits only the first --quick-respondents respondents of the "
        "simulated study (offerlab fits that subsample too, for the ratio)",
    )
    p.add_argument("--quick-respondents", type=int, default=1_000)
    p.add_argument("--repeat", type=int, default=20, help="runs per side on Swissmetro (best of)")
    p.add_argument(
        "--repeat-large",
        type=int,
        default=3,
        help="runs of offerlab and xlogit on the simulated study (best of)",
    )
    p.add_argument("--repeat-biogeme-large", type=int, default=1)
    p.add_argument(
        "--timeout", type=float, default=1800.0, help="seconds allowed to one side on one problem"
    )
    a = p.parse_args(argv)

    cm.exit_on_sigterm()
    machine = cm.machine()
    print(f"machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB")
    for note in (cm.blas_warning(), cm.load_note()):
        if note is not None:
            print(note)
    sides = list(a.sides)
    why = offerlab_available()
    ours = [s for s in ("offerlab", "offerlab_arrays") if s in sides]
    if ours and why is not None:
        print(f"offerlab side SKIPPED: {why}. Peers run alone; no ratios.")
        sides = [s for s in sides if s not in ours]
        ours = []
    sides = ours + [s for s in sides if s not in ours]

    work = cm.run_dir("mnl")
    problems = []
    if "swissmetro" in a.problems:
        problems.append(("swissmetro", swissmetro_problem(), sides, a.repeat, "b01a_logit"))
    if "simulated" in a.problems:
        t0 = time.perf_counter()
        sim = simulated_problem(a.respondents)
        print(f"simulated study generated in {time.perf_counter() - t0:.1f} s")
        label = f"simulated {a.respondents // 1000}k"
        slow = [s for s in sides if s.startswith("biogeme")]
        if a.quick and slow:
            big_sides = [s for s in sides if s not in slow]
            problems.append((label, sim, big_sides, a.repeat_large, "biogeme left out (--quick)"))
            sub = subsample(sim, a.quick_respondents)
            sub_sides = [s for s in sides if s in ("offerlab", "offerlab_arrays", *slow)]
            problems.append(
                (
                    f"simulated {a.quick_respondents // 1000}k",
                    sub,
                    sub_sides,
                    a.repeat_large,
                    "--quick: biogeme on a subsample",
                )
            )
        else:
            problems.append((label, sim, sides, a.repeat_large, ""))

    report = []
    for label, problem, run_sides, repeat, note in problems:
        path = save_problem(problem, work / f"{label.replace(' ', '-')}.npz")
        print(f"{label}: X {problem['X'].shape} = {problem['X'].nbytes / 2**20:.0f} MiB float64")
        runs = []
        for side in run_sides:
            rep = (
                a.repeat_biogeme_large
                if (side.startswith("biogeme") and label != "swissmetro")
                else repeat
            )
            runs.append(run_side(side, path, label.replace(" ", "-"), rep, a.timeout))
        report.append(summarize(label, problem, runs, note))
        path.unlink()
        for r in runs:
            if label == "swissmetro" and r["status"] == "ok":
                r["dLL_published"] = abs(r["llf"] - SWISSMETRO_LL)

    rows = [row for rep in report for row in rep["rows"]]
    print()
    print(cm.table(rows, COLUMNS))
    for rep in report:
        if rep["note"]:
            print(f"  {rep['label']}: {rep['note']}")
        for r in rep["runs"]:
            if "dLL_published" in r:
                print(
                    f"  {rep['label']} {r['side']} {r.get('version', '')}: "
                    f"|LL − published −5331.252007| = {r['dLL_published']:.1e}"
                )
    print(
        "ratio = peer best time / offerlab best time (>1: offerlab faster); 1st s = the first "
        "fit in a fresh process (JIT compilation, caches). peak = VmHWM (high-water RSS) of "
        "the side's process (interpreter + data + fit); fit +MiB = peak − RSS before the fit; "
        "peak/X = peak / float64 X size."
    )
    path = cm.save_results("mnl", {"machine": machine, "args": vars(a), "problems": report})
    print(f"results: {path}")


if __name__ == "__main__":
    if "--worker" in sys.argv:
        worker_main(sys.argv[1:])
    else:
        main(sys.argv[1:])
