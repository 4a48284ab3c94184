"""Latent class logit: offerlab against biogeme on Swissmetro, side by side in one run.

Problem
-------
b07         biogeme's example b07_discrete_mixture on the Swissmetro data (tests/data):
            6,768 tasks, 3 labelled alternatives with availability. Two classes; class 1
            ignores travel time (B_TIME = 0), class 2 estimates it; ASC_TRAIN, ASC_CAR and
            B_COST are common to both. Cross-sectional: the class is drawn per task,
            P_n = π₁ P_n(β₁) + π₂ P_n(β₂). Published LL −5208.498030.
b07-panel   the same utilities with the class constant over a respondent's 9 tasks
            (biogeme: PanelLikelihoodTrajectory); no published figure, both sides must agree.

Sides, each in its own child process under its own interpreter, each given the same
arrays and building its native input before the clock starts:

* biogeme 3.3.2 (bench/.venv-biogeme, Python 3.11) and 3.3.5 (bench/.venv-py312, side
  ``biogeme_py312``): b07's expressions, ``models.logit`` per class, PROB_CLASS1 a Beta
  bounded to [0, 1] starting at 0.5 (as the example), default estimation settings, no
  output files. One start. Timed: Database + expressions + BIOGEME + estimate().
* offerlab: ``LatentClassLogit(2, panel=…, shared=[…], restrictions={1: {"B_TIME": 0}})
  .fit(ChoiceData, spec=…)`` with its default 10 random starts, and the same with
  ``n_starts=1`` (side ``offerlab_1start``; one random start can stop at a local
  optimum, which the LL column then shows). Timed: the whole fit, including building X
  from the long frame, the MNL start values and the standard errors.

Reported: best wall time of ``--repeat`` fits in one process and the first fit's time
(biogeme's includes JAX compilation); ratio = side best / offerlab (default) best;
log-likelihood and |ΔLL| against offerlab's (must be ≤ 1e-6); peak memory (VmHWM of the
side's process) and the resident set added by the fits; cpu/wall of the child.

Run:  bench/.venv/bin/python bench/bench_lc.py [--problems b07 b07-panel] [--sides …]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as cm
from bench_mnl import load_problem, save_problem, swissmetro_problem

B07_LL = -5208.498030  # biogeme b07_discrete_mixture, /work/shared/data/README.md
LL_TOLERANCE = 1e-6
SHARED = ["ASC_TRAIN", "ASC_CAR", "B_COST"]


# ---------------------------------------------------------------------------------------
# Workers
# ---------------------------------------------------------------------------------------


def fit_biogeme(problem: dict[str, Any], repeat: int, panel: bool) -> dict[str, Any]:
    """biogeme: b07_discrete_mixture's expressions on a wide frame (one row per task)."""
    import logging

    import numpy as np
    import pandas as pd
    from biogeme.biogeme import BIOGEME
    from biogeme.database import Database
    from biogeme.expressions import Beta, PanelLikelihoodTrajectory, Variable, log
    from biogeme.models import logit
    from biogeme.version import get_version

    logging.getLogger("biogeme").setLevel(logging.WARNING)
    X = problem["X"]
    # columns of X: ASC_TRAIN, ASC_CAR, B_TIME, B_COST; alternatives train, SM, car
    frame = pd.DataFrame(
        {
            "ID": problem["respondent"].astype(np.int64),
            "CHOICE": problem["y"].astype(float) + 1,
            "TRAIN_AV_SP": problem["avail"][:, 0].astype(float),
            "SM_AV": problem["avail"][:, 1].astype(float),
            "CAR_AV_SP": problem["avail"][:, 2].astype(float),
            "TRAIN_TT_SCALED": X[:, 0, 2],
            "SM_TT_SCALED": X[:, 1, 2],
            "CAR_TT_SCALED": X[:, 2, 2],
            "TRAIN_COST_SCALED": X[:, 0, 3],
            "SM_COST_SCALED": X[:, 1, 3],
            "CAR_CO_SCALED": X[:, 2, 3],
        }
    )

    def once():
        database = Database("swissmetro", frame)
        if panel:
            database.panel("ID")
        v = {name: Variable(name) for name in frame.columns}
        asc_car = Beta("ASC_CAR", 0, None, None, 0)
        asc_train = Beta("ASC_TRAIN", 0, None, None, 0)
        asc_sm = Beta("ASC_SM", 0, None, None, 1)
        b_time = Beta("B_TIME", 0, None, None, 0)
        b_cost = Beta("B_COST", 0, None, None, 0)
        prob_class1 = Beta("PROB_CLASS1", 0.5, 0, 1, 0)
        V1 = {
            1: asc_train + b_cost * v["TRAIN_COST_SCALED"],
            2: asc_sm + b_cost * v["SM_COST_SCALED"],
            3: asc_car + b_cost * v["CAR_CO_SCALED"],
        }
        V2 = {
            1: asc_train + b_time * v["TRAIN_TT_SCALED"] + b_cost * v["TRAIN_COST_SCALED"],
            2: asc_sm + b_time * v["SM_TT_SCALED"] + b_cost * v["SM_COST_SCALED"],
            3: asc_car + b_time * v["CAR_TT_SCALED"] + b_cost * v["CAR_CO_SCALED"],
        }
        av = {1: v["TRAIN_AV_SP"], 2: v["SM_AV"], 3: v["CAR_AV_SP"]}
        p1 = logit(V1, av, v["CHOICE"])
        p2 = logit(V2, av, v["CHOICE"])
        if panel:
            p1, p2 = PanelLikelihoodTrajectory(p1), PanelLikelihoodTrajectory(p2)
        logprob = log(prob_class1 * p1 + (1 - prob_class1) * p2)
        model = BIOGEME(
            database, logprob, generate_html=False, generate_yaml=False, save_iterations=False
        )
        model.model_name = "b07_panel" if panel else "b07"
        return model.estimate()

    rss_before = cm.rss_now_kib()
    times, results = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        results = once()
        times.append(time.perf_counter() - t0)
    params = {k: float(v) for k, v in results.get_beta_values().items()}
    return {
        "side": "biogeme",
        "version": get_version(),
        "times": times,
        "llf": float(results.final_loglikelihood),
        "params": params,
        "prob_class1": params.get("PROB_CLASS1"),
        "converged": bool(results.algorithm_has_converged),
        "rss_before_fit_mib": rss_before / 1024,
    }


def fit_offerlab(
    problem: dict[str, Any], repeat: int, panel: bool, n_starts: int = 1
) -> dict[str, Any]:
    """offerlab LatentClassLogit(...).fit(ChoiceData, spec=...)."""
    from importlib.metadata import version

    from bench_mnl import _offerlab_input

    from offerlab.models._latent_class import LatentClassLogit

    data, how = _offerlab_input(problem)
    rss_before = cm.rss_now_kib()
    times, results = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        model = LatentClassLogit(
            2,
            panel=panel,
            shared=SHARED,
            restrictions={1: {"B_TIME": 0.0}},
            n_starts=n_starts,
        )
        results = model.fit(data, **how)
        times.append(time.perf_counter() - t0)
    return {
        "side": f"offerlab ({n_starts} start{'s' if n_starts > 1 else ''})",
        "version": version("offerlab"),
        "times": times,
        "llf": float(results.llf),
        "params": {str(k): float(v) for k, v in results.params.items()},
        "prob_class1": float(results.class_shares.loc[1, "share"]),
        "converged": bool(results.converged),
        "rss_before_fit_mib": rss_before / 1024,
    }


WORKERS = {
    "offerlab": lambda p, r, panel: fit_offerlab(p, r, panel, 10),
    "offerlab_1start": lambda p, r, panel: fit_offerlab(p, r, panel, 1),
    "biogeme": fit_biogeme,
    "biogeme_py312": fit_biogeme,
}
INTERPRETER = {
    "offerlab": "driver",
    "offerlab_1start": "driver",
    "biogeme": "biogeme",
    "biogeme_py312": "py312",
}


def worker_main(argv: list[str]) -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--worker", choices=sorted(WORKERS), required=True)
    p.add_argument("--problem", required=True)
    p.add_argument("--panel", action="store_true")
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--out", required=True)
    a = p.parse_args(argv)
    problem = load_problem(a.problem)
    cm.write_worker_result(a.out, WORKERS[a.worker](problem, a.repeat, a.panel))


# ---------------------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------------------


def offerlab_available() -> str | None:
    try:
        from offerlab.models._latent_class import LatentClassLogit  # noqa: F401
    except ImportError as exc:
        return f"offerlab.models._latent_class.LatentClassLogit not importable ({exc})"
    return None


def run_side(side: str, problem_path: Path, label: str, panel: bool, repeat: int, timeout: float):
    python = cm.venv_python(INTERPRETER[side])
    if python is None:
        return {"side": side, "status": "skipped", "error": "venv missing: run bench/setup.sh"}
    log = cm.run_dir("lc") / f"{label}-{side}.log"
    print(f"  {side:<17} on {label} (repeat {repeat}, timeout {timeout:.0f} s) …", flush=True)
    args = [side, "--problem", str(problem_path), "--repeat", str(repeat)]
    if panel:
        args.append("--panel")
    res = cm.run_worker(python, Path(__file__), args, timeout=timeout, log=log)
    res.setdefault("side", side)
    res["worker"] = side
    if res["status"] != "ok":
        print(f"    {res['status']}: {res.get('error', '')[-600:]}", flush=True)
    return res


COLUMNS = [
    ("problem", "problem"),
    ("side", "side"),
    ("time_s", "best s"),
    ("first_s", "1st s"),
    ("ratio", "side/offerlab"),
    ("llf", "log-lik"),
    ("dLL", "|ΔLL| vs offerlab"),
    ("prob_class1", "π₁"),
    ("peak_mib", "peak MiB"),
    ("extra_mib", "fit +MiB"),
    ("cpu/wall", "cpu/wall"),
    ("converged", "conv"),
]


def summarize(label: str, runs: list[dict[str, Any]]) -> list[dict[str, str]]:
    ours = next((r for r in runs if r["worker"] == "offerlab" and r["status"] == "ok"), None)
    rows = []
    for r in runs:
        ok = r["status"] == "ok"
        best = min(r["times"]) if ok else None
        row = {
            "problem": label,
            "side": f"{r['side']} {r.get('version', '')}".strip(),
            "time_s": cm.fmt(best, ".3f") if ok else r["status"],
            "first_s": cm.fmt(r["times"][0], ".3f") if ok else "—",
            "ratio": "—",
            "llf": cm.fmt(r.get("llf"), ".6f") if ok else "—",
            "dLL": "—",
            "prob_class1": cm.fmt(r.get("prob_class1"), ".6f") if ok else "—",
            "peak_mib": cm.fmt(r.get("peak_rss_mib"), ".0f"),
            "extra_mib": "—",
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
    return rows


def main(argv: list[str]) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--problems", nargs="+", default=["b07", "b07-panel"], choices=["b07", "b07-panel"]
    )
    p.add_argument(
        "--sides",
        nargs="+",
        default=["offerlab", "offerlab_1start", "biogeme", "biogeme_py312"],
        choices=sorted(WORKERS),
        help="biogeme = 3.3.2 (Python 3.11), biogeme_py312 = 3.3.5 (Python 3.12)",
    )
    p.add_argument("--repeat", type=int, default=10, help="fits per side (best of)")
    p.add_argument("--repeat-biogeme", type=int, default=3)
    p.add_argument("--timeout", type=float, default=1800.0, help="seconds per side and problem")
    a = p.parse_args(argv)

    cm.exit_on_sigterm()
    machine = cm.machine()
    print(f"machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB")
    for note in (cm.blas_warning(), cm.load_note()):
        if note is not None:
            print(note)
    sides = list(a.sides)
    why = offerlab_available()
    if why is not None:
        print(f"offerlab side SKIPPED: {why}. Peers run alone; no ratios.")
        sides = [s for s in sides if not s.startswith("offerlab")]

    work = cm.run_dir("lc")
    problem = swissmetro_problem()
    path = save_problem(problem, work / "swissmetro.npz")
    report, rows = [], []
    for label in a.problems:
        panel = label.endswith("panel")
        runs = []
        for side in sides:
            rep = a.repeat_biogeme if side.startswith("biogeme") else a.repeat
            runs.append(run_side(side, path, label, panel, rep, a.timeout))
        for r in runs:
            if label == "b07" and r["status"] == "ok":
                r["dLL_published"] = abs(r["llf"] - B07_LL)
        rows += summarize(label, runs)
        report.append({"label": label, "panel": panel, "runs": runs})
    path.unlink()

    print()
    print(cm.table(rows, COLUMNS))
    for rep in report:
        for r in rep["runs"]:
            if "dLL_published" in r:
                print(
                    f"  b07 {r['side']} {r.get('version', '')}: "
                    f"|LL − published −5208.498030| = {r['dLL_published']:.1e}"
                )
    print(
        "ratio = side best time / offerlab (10 starts, the default) best time (>1: offerlab "
        "faster); 1st s = the first fit in a fresh process (JAX compilation for biogeme). "
        "peak = VmHWM of the side's process; fit +MiB = peak − RSS before the first fit."
    )
    out = cm.save_results("lc", {"machine": machine, "args": vars(a), "problems": report})
    print(f"results: {out}")


if __name__ == "__main__":
    if "--worker" in sys.argv:
        worker_main(sys.argv[1:])
    else:
        main(sys.argv[1:])
