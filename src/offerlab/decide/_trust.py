"""How far a fit can be trusted for a decision: convergence and holdout accuracy, in words.

The report and the CLI set these sentences next to the recommendation, so a decision
never rests silently on chains that did not converge or on a model the holdout tasks
contradict.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from offerlab.decide._findings import Finding
from offerlab.decide._market import Market, MarketSimulator

__all__ = ["holdout_check", "model_check_findings", "model_checks"]


def model_check_findings(results: Any) -> list[Finding]:
    """The fit's convergence (HB: ``check_hb_converged``/``check_hb_not_converged`` with
    ``rhat``, ``ess``) and holdout accuracy (``check_holdout`` with ``hit``, 0–1)."""
    out: list[Finding] = []
    convergence = getattr(results, "convergence", None)
    if convergence is not None and "rhat" in getattr(convergence, "columns", ()):
        rhat = float(convergence["rhat"].max())
        ess = float(convergence[["ess_bulk", "ess_tail"]].min().min())
        converged = bool(getattr(results, "converged", False))
        key = "check_hb_converged" if converged else "check_hb_not_converged"
        out.append(Finding(key, {"rhat": rhat, "ess": ess}))
    hit = getattr(results, "holdout_hit_rate", None)
    if hit is not None and np.isfinite(hit):
        out.append(Finding("check_holdout", {"hit": float(hit)}))
    return out


def model_checks(results: Any) -> list[str]:
    """Sentences on the fit's convergence (HB) and holdout accuracy, in English (the CLI)."""
    out: list[str] = []
    for f in model_check_findings(results):
        v = f.values
        if f.key == "check_hb_converged":
            out.append(
                f"Hierarchical Bayes converged (max R-hat {v['rhat']:.3f}, min ESS {v['ess']:.0f})."
            )
        elif f.key == "check_hb_not_converged":
            out.append(
                f"Hierarchical Bayes is not converged (max R-hat {v['rhat']:.2f}, min ESS "
                f"{v['ess']:.0f}): its numbers are not for a decision. Run longer chains "
                "(--burn-in, --iterations) before acting on them."
            )
        else:
            out.append(
                f"Holdout accuracy: the model predicts {100 * v['hit']:.0f}% of the holdout "
                "choices (tasks kept out of the estimation) correctly."
            )
    return out


def holdout_check(data: Any, sim: MarketSimulator, coding: Any) -> pd.DataFrame | None:
    """Observed choice shares of each holdout concept beside the simulator's shares.

    Returns ``holdout task``, ``concept``, ``observed``, ``predicted`` (None without
    holdout tasks in ``data``).
    """
    frame = data.frame
    if "holdout" not in frame.columns or not (frame["holdout"] == 1).any():
        return None
    study = coding.study
    hold = frame[(frame["holdout"] == 1) & (frame["none"] == 0)]
    rows = []
    attrs = study.attribute_names
    # One holdout task is the same concepts for everyone: group by the concepts shown.
    for _, task in hold.groupby("task", sort=True):
        first = task[task["respondent"] == task["respondent"].iloc[0]].sort_values("alternative")
        offers = [
            {"name": f"concept {int(r.alternative)}", **{a: getattr(r, a) for a in attrs}}
            for r in first.itertuples()
        ]
        same = task.groupby("respondent")["alternative"].count().eq(len(first)).all()
        if not same:
            continue
        market = Market.from_offers(coding, offers, none=False)
        predicted = sim.shares(market)
        chosen = task[task["chosen"] == 1]["alternative"].value_counts(normalize=True)
        for j, r in enumerate(first.itertuples()):
            rows.append(
                {
                    "holdout task": int(r.task),
                    "concept": int(r.alternative),
                    "observed": float(chosen.get(r.alternative, 0.0)),
                    "predicted": float(predicted["share"].iloc[j]),
                }
            )
    if not rows:
        return None
    return pd.DataFrame(rows)
