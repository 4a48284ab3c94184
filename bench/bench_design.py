"""Efficient choice designs: offerlab against choicedesign, on the DESIGN_BOUNDS.md problems.

Problems (generic main effects, MNL, zero prior; /work/shared/DESIGN_BOUNDS.md)
--------
3×3×3×3, m = 3, N = 9    D_min (effects) 0.192450; a 100%-efficient design exists
4×3×3×2, m = 3, N = 12   D_min 0.164509; none known
2×2×2,   m = 2, N = 4    D_min 0.250000; a 100%-efficient design exists

Both sides are measured the same way: each returns its design as level indices
(N sets × m options × k attributes); this script codes it with effects coding and
computes D-error = det(M⁻¹)^(1/p), M = Σ_s X_s'(diag(p_s) − p_s p_s')X_s with
p_s = 1/m (zero prior), and efficiency = D_min / D-error with D_min from the
Street–Burgess formula (computed here, checked against the table above).

Sides (each in a child process, its own interpreter)
-----
choicedesign 1.1.0  bench/.venv-py312 (Python 3.12; the version DESIGN_BOUNDS.md measured)
choicedesign 0.1.6  bench/.venv-choicedesign (the newest for Python 3.11)
offerlab            offerlab.design.make_design(study, method="efficient", seed=…), its
                    default time budget (study.design.seconds) unless --offerlab-seconds.

choicedesign has no default stopping rule (without one it never stops), so it runs its
default algorithm ('swap', D-error) with ``noimprov_lim`` = --cd-noimprov (default 2000
iterations without improvement) and ``time_lim`` = --cd-minutes (default 2) as a cap.
Its start design comes from its own ``gen_initdesign(seed)`` (1.1.0) or, in 0.1.6 whose
``gen_initdesign`` fails here (IndexError from its ``fixed`` handling), from the same
internal routine it calls (``choicedesign.utils._initdesign``) after seeding numpy. A
singular start (D-error inf) crashes choicedesign's swap loop, so such starts are redrawn
from the same seeded stream and counted (``init_redraws`` in the JSON).

Run:  bench/.venv/bin/python bench/bench_design.py [--seeds 5] [--sides …]
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as cm

PROBLEMS = {
    "3x3x3x3": {"levels": [3, 3, 3, 3], "m": 3, "N": 9, "d_min_table": 0.192450},
    "4x3x3x2": {"levels": [4, 3, 3, 2], "m": 3, "N": 12, "d_min_table": 0.164509},
    "2x2x2": {"levels": [2, 2, 2], "m": 2, "N": 4, "d_min_table": 0.250000},
}


# ---------------------------------------------------------------------------------------
# The common yardstick (driver side)
# ---------------------------------------------------------------------------------------


def effects_code(design, levels):
    """(N, m, k) level indices → (N, m, p) effects-coded columns (last level = −1 … −1)."""
    import numpy as np

    blocks = []
    for q, n_lv in enumerate(levels):
        coding = np.vstack([np.eye(n_lv - 1), -np.ones((1, n_lv - 1))])
        blocks.append(coding[design[..., q]])
    return np.concatenate(blocks, axis=-1)


def d_error(design, levels) -> float:
    """D-error under the zero-prior MNL with effects coding: det(M)^(−1/p)."""
    import numpy as np

    X = effects_code(np.asarray(design), levels)  # (N, m, p)
    m = X.shape[1]
    centred = X - X.mean(axis=1, keepdims=True)
    M = np.einsum("njk,njl->kl", centred, centred) / m
    sign, logdet = np.linalg.slogdet(M)
    if sign <= 0:
        return float("inf")
    return float(np.exp(-logdet / M.shape[0]))


def d_min(levels, m: int, N: int) -> float:
    """Street–Burgess smallest D-error, effects coding (DESIGN_BOUNDS.md)."""
    import numpy as np

    p = sum(n - 1 for n in levels)
    log_det = p * np.log(N)
    for n_lv in levels:
        base, extra = divmod(m, n_lv)
        counts = [base + 1] * extra + [base] * (n_lv - extra)
        S = (m * m - sum(c * c for c in counts)) / 2
        log_det += (n_lv - 1) * np.log(2 * S / (m * m * (n_lv - 1))) + np.log(n_lv)
    return float(np.exp(-log_det / p))


# ---------------------------------------------------------------------------------------
# Workers
# ---------------------------------------------------------------------------------------


def _choicedesign_columns(levels, m):
    return [[f"alt{j + 1}_x{q}" for q in range(len(levels))] for j in range(m)]


def _init_d_error(frame, cols, levels) -> float:
    """D-error of a choicedesign start design (frame with alt{j}_x{q} columns).

    choicedesign's swap loop crashes when its start design is singular (D-error inf:
    ``AttributeError: 'float' object has no attribute 'copy'`` in ``_swapalg``, both
    0.1.6 and 1.1.0), which random starts often are on 2×2×2 with N = 4. The workers
    redraw such a start from the same seeded stream, as a user would, and count it.
    """
    import numpy as np

    arr = np.stack([frame[c].to_numpy() for c in cols], axis=1).astype(int)  # (N, m, k)
    return d_error(arr, levels)


def design_choicedesign_new(spec, seeds, noimprov, minutes) -> dict[str, Any]:
    """choicedesign ≥ 1.0 (own expression system): EffDesign.optimise, algorithm 'swap'."""
    from importlib.metadata import version

    import numpy as np
    from choicedesign.design import EffDesign
    from choicedesign.expressions import Attribute, Parameter

    levels, m = spec["levels"], spec["m"]
    cols = _choicedesign_columns(levels, m)
    attrs = [[Attribute(cols[j][q], n) for q, n in enumerate(levels)] for j in range(m)]
    betas = [[Parameter(f"b{q}_{lv}", 0.0) for lv in range(n - 1)] for q, n in enumerate(levels)]
    V = {}
    for j in range(m):
        expr = None
        for q, n in enumerate(levels):
            for lv in range(n - 1):
                term = betas[q][lv] * ((attrs[j][q] == lv) - (attrs[j][q] == n - 1))
                expr = term if expr is None else expr + term
        V[j + 1] = expr
    out = []
    for seed in seeds:
        eff = EffDesign(X=[a for alt in attrs for a in alt], ncs=spec["N"])
        sink = io.StringIO()
        t0 = time.perf_counter()
        with redirect_stdout(sink):  # it prints a progress line per improvement
            init = eff.gen_initdesign(seed=seed)
            redraws = 0
            while not np.isfinite(_init_d_error(init, cols, levels)) and redraws < 1000:
                init = eff.gen_initdesign()  # the seeded stream goes on
                redraws += 1
            design, _, final, iters, _ = eff.optimise(
                init, V=V, seed=seed, noimprov_lim=noimprov, time_lim=minutes
            )
        seconds = time.perf_counter() - t0
        arr = np.stack([design[c].to_numpy() for c in cols], axis=0)  # (m, N, k)
        out.append(
            {
                "seed": seed,
                "seconds": seconds,
                "own_d_error": float(final),
                "iterations": int(iters),
                "init_redraws": redraws,
                "levels": arr.transpose(1, 0, 2).tolist(),
            }
        )
    return {"side": "choicedesign", "version": version("choicedesign"), "runs": out}


def design_choicedesign_old(spec, seeds, noimprov, minutes) -> dict[str, Any]:
    """choicedesign 0.1.x (biogeme expressions, D-error through biogeme's C++ core)."""
    from importlib.metadata import version

    import numpy as np
    import pandas as pd
    from biogeme.expressions import Beta, Variable
    from biogeme.models import loglogit
    from choicedesign.criteria import _derr
    from choicedesign.design import EffDesign
    from choicedesign.utils import _initdesign

    levels, m = spec["levels"], spec["m"]
    alts = [f"alt{j + 1}" for j in range(m)]
    atts = [
        {"name": f"x{q}", "levels": list(range(n)), "avail": alts, "fixed": None}
        for q, n in enumerate(levels)
    ]
    cols = [[f"{a}_x{q}" for q in range(len(levels))] for a in alts]
    betas = [
        [Beta(f"b{q}_{lv}", 0, None, None, 0) for lv in range(n - 1)] for q, n in enumerate(levels)
    ]
    V = {}
    for j in range(m):
        expr = None
        for q, n in enumerate(levels):
            x = Variable(cols[j][q])
            for lv in range(n - 1):
                term = betas[q][lv] * ((x == lv) - (x == n - 1))
                expr = term if expr is None else expr + term
        V[j + 1] = expr
    out = []
    for seed in seeds:
        eff = EffDesign(atts, alts, spec["N"])
        eff.initconds = eff.algconds = None
        sink = io.StringIO()
        t0 = time.perf_counter()
        with redirect_stdout(sink):
            # gen_initdesign() minus its failing `fixed` loop: the same routine, same seeding.
            np.random.seed(seed)
            init = pd.DataFrame(_initdesign(levs=eff.levs, ncs=eff.N, cond=None), columns=eff.names)
            redraws = 0
            while not np.isfinite(_init_d_error(init, cols, levels)) and redraws < 1000:
                init = pd.DataFrame(_initdesign(eff.levs, eff.N, None), columns=eff.names)
                redraws += 1
            if not np.isfinite(_derr(init, loglogit(V, {j + 1: 1 for j in range(m)}, 1), 1)):
                raise RuntimeError(
                    "choicedesign 0.1.6 rates a non-singular start design D-error inf: its "
                    "_derr inverts biogeme's Hessian of the log-likelihood (negative "
                    "definite) with no sign change, so det < 0 and D-error = inf whenever "
                    f"the number of parameters is odd (here {sum(n - 1 for n in levels)})."
                )
            design, _, final, iters, _ = eff.optimise(
                init, V=V, seed=seed, noimprov_lim=noimprov, time_lim=minutes
            )
        seconds = time.perf_counter() - t0
        arr = np.stack([design[c].to_numpy() for c in cols], axis=0)
        out.append(
            {
                "seed": seed,
                "seconds": seconds,
                "own_d_error": float(final),
                "iterations": int(iters),
                "init_redraws": redraws,
                "levels": arr.transpose(1, 0, 2).tolist(),
            }
        )
    return {"side": "choicedesign", "version": version("choicedesign"), "runs": out}


def design_offerlab(spec, seeds, seconds) -> dict[str, Any]:
    """offerlab.design.make_design(study, method="efficient", seed=…): one version of N tasks."""
    from importlib.metadata import version

    import numpy as np

    from offerlab.design import make_design
    from offerlab.study import Study

    study = Study.model_validate(
        {
            "name": "bench_design",
            "attributes": [
                {
                    "name": f"x{q}",
                    "label": f"x{q}",
                    "levels": [{"name": f"l{lv}", "label": f"l{lv}"} for lv in range(n)],
                }
                for q, n in enumerate(spec["levels"])
            ],
            "tasks": {"alternatives": spec["m"], "per_respondent": spec["N"]},
            "design": {"method": "efficient", "versions": 1},
        }
    )
    kwargs = {} if seconds is None else {"seconds": seconds}
    out = []
    for seed in seeds:
        t0 = time.perf_counter()
        design = make_design(study, method="efficient", seed=seed, **kwargs)
        took = time.perf_counter() - t0
        lv = np.asarray(design.levels)  # (versions, tasks, alternatives, attributes)
        out.append({"seed": seed, "seconds": took, "levels": lv[0].tolist()})
    return {
        "side": "offerlab",
        "version": version("offerlab"),
        "runs": out,
        "budget_s": seconds if seconds is not None else study.design.seconds,
    }


SIDES = {
    # name: (venv, worker)
    "choicedesign-1.1": ("py312", "new"),
    "choicedesign-0.1": ("choicedesign", "old"),
    "offerlab": ("driver", "offerlab"),
}


def worker_main(argv: list[str]) -> None:
    import json

    p = argparse.ArgumentParser()
    p.add_argument("--worker", choices=["new", "old", "offerlab"], required=True)
    p.add_argument("--problem", required=True)
    p.add_argument("--seeds", type=int, nargs="+", required=True)
    p.add_argument("--cd-noimprov", type=int)
    p.add_argument("--cd-minutes", type=float)
    p.add_argument("--offerlab-seconds", type=float)
    p.add_argument("--out", required=True)
    a = p.parse_args(argv)
    spec = json.loads(a.problem)
    if a.worker == "new":
        res = design_choicedesign_new(spec, a.seeds, a.cd_noimprov, a.cd_minutes)
    elif a.worker == "old":
        res = design_choicedesign_old(spec, a.seeds, a.cd_noimprov, a.cd_minutes)
    else:
        res = design_offerlab(spec, a.seeds, a.offerlab_seconds)
    cm.write_worker_result(a.out, res)


# ---------------------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------------------


def offerlab_available() -> str | None:
    try:
        from offerlab.design import make_design  # noqa: F401
    except ImportError as exc:
        return f"offerlab.design.make_design not importable yet ({exc})"
    return None


def main(argv: list[str]) -> None:
    import json

    import numpy as np

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--problems", nargs="+", default=list(PROBLEMS), choices=list(PROBLEMS))
    p.add_argument("--sides", nargs="+", default=list(SIDES), choices=list(SIDES))
    p.add_argument("--seeds", type=int, default=5, help="seeds per side and problem (1, 2, …)")
    p.add_argument(
        "--cd-noimprov",
        type=int,
        default=2000,
        help="choicedesign: stop after this many iterations without improvement",
    )
    p.add_argument("--cd-minutes", type=float, default=2.0, help="choicedesign: time cap")
    p.add_argument(
        "--offerlab-seconds",
        type=float,
        default=None,
        help="offerlab time budget (default: the study's design.seconds)",
    )
    p.add_argument("--timeout", type=float, default=3600.0)
    a = p.parse_args(argv)

    cm.exit_on_sigterm()
    machine = cm.machine()
    print(f"machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB")
    for note in (cm.blas_warning(), cm.load_note()):
        if note is not None:
            print(note)
    sides = list(a.sides)
    if "offerlab" in sides and (why := offerlab_available()) is not None:
        print(f"offerlab side SKIPPED: {why}. Peers run alone; no ratios.")
        sides.remove("offerlab")
    seeds = list(range(1, a.seeds + 1))

    bound_check = None
    try:
        from offerlab.design import street_burgess_bound
    except ImportError:
        street_burgess_bound = None

    report, rows = [], []
    for name in a.problems:
        spec = PROBLEMS[name]
        dmin = d_min(spec["levels"], spec["m"], spec["N"])
        if abs(dmin - spec["d_min_table"]) > 5e-7:
            cm.die(f"{name}: D_min computed {dmin:.6f} ≠ DESIGN_BOUNDS table {spec['d_min_table']}")
        if street_burgess_bound is not None:
            ours = street_burgess_bound(spec["levels"], spec["m"], spec["N"], coding="effects")
            bound_check = abs(ours - dmin)
        print(
            f"{name}: m={spec['m']} N={spec['N']} D_min={dmin:.6f}"
            + ("" if bound_check is None else f" (offerlab bound agrees to {bound_check:.1e})")
        )
        runs = {}
        for side in sides:
            venv, worker = SIDES[side]
            python = cm.venv_python(venv)
            if python is None:
                print(f"  {side}: skipped (bench/.venv-{venv} missing: run bench/setup.sh)")
                continue
            args = [
                worker,
                "--problem",
                json.dumps(spec),
                "--seeds",
                *map(str, seeds),
                "--cd-noimprov",
                str(a.cd_noimprov),
                "--cd-minutes",
                str(a.cd_minutes),
            ]
            if a.offerlab_seconds is not None:
                args += ["--offerlab-seconds", str(a.offerlab_seconds)]
            print(f"  {side:<17} {len(seeds)} seeds …", flush=True)
            res = cm.run_worker(
                python,
                Path(__file__),
                args,
                timeout=a.timeout,
                log=cm.run_dir("design") / f"{name}-{side}.log",
            )
            if res["status"] != "ok":
                res["reason"] = res.get("error", "").strip().splitlines()[-1:]
                if res["exit_code"] is not None and res["exit_code"] < 0:
                    res["reason"].append(
                        f"killed by signal {-res['exit_code']} after {res['wall_s']:.0f} s, "
                        f"peak RSS {res['ru_maxrss_mib'] / 1024:.1f} GiB (the OOM killer when "
                        "that is near the machine's memory)"
                    )
                print(f"    {res['status']}: {res.get('error', '')[-600:]}")
                runs[side] = res
                continue
            for r in res["runs"]:
                lv = np.asarray(r["levels"])
                r["d_error"] = d_error(lv, spec["levels"])
                r["efficiency"] = dmin / r["d_error"]
            runs[side] = res
        ours = runs.get("offerlab")
        ours_t = (
            float(np.median([r["seconds"] for r in ours["runs"]]))
            if ours and ours["status"] == "ok"
            else None
        )
        for side, res in runs.items():
            row = {"problem": name, "side": f"{res.get('side', side)} {res.get('version', '')}"}
            if res["status"] != "ok":
                row.update(eff_med=res["status"])
                rows.append(row)
                continue
            eff = np.array([r["efficiency"] for r in res["runs"]])
            sec = np.array([r["seconds"] for r in res["runs"]])
            row.update(
                eff_med=f"{100 * np.median(eff):.2f}%",
                eff_min=f"{100 * eff.min():.2f}%",
                eff_max=f"{100 * eff.max():.2f}%",
                at_100=f"{int(np.sum(eff > 1 - 1e-9))}/{len(eff)}",
                t_med=f"{np.median(sec):.2f}",
                t_range=f"{sec.min():.2f}–{sec.max():.2f}",
                ratio="—" if ours_t is None else f"{np.median(sec) / ours_t:.2f}",
            )
            rows.append(row)
        report.append({"problem": name, "spec": spec, "d_min": dmin, "runs": runs})

    print()
    print(
        cm.table(
            rows,
            [
                ("problem", "problem"),
                ("side", "side"),
                ("eff_med", "eff median"),
                ("eff_min", "min"),
                ("eff_max", "max"),
                ("at_100", "at 100%"),
                ("t_med", "median s"),
                ("t_range", "range s"),
                ("ratio", "peer/ours time"),
            ],
        )
    )
    for rep in report:
        for side, res in rep["runs"].items():
            if res["status"] != "ok":
                print(f"  {rep['problem']} {side} {res['status']}: {' '.join(res['reason'])}")
    print(
        f"efficiency = D_min / D-error (effects coding, zero prior), {len(seeds)} seeds each; "
        f"choicedesign: swap, noimprov_lim={a.cd_noimprov}, time_lim={a.cd_minutes} min; "
        "time ratio = peer median / offerlab median."
    )
    path = cm.save_results("design", {"machine": machine, "args": vars(a), "problems": report})
    print(f"results: {path}")


if __name__ == "__main__":
    if "--worker" in sys.argv:
        worker_main(sys.argv[1:])
    else:
        main(sys.argv[1:])
