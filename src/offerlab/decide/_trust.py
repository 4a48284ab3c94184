"""How far a fit can be trusted for a decision: convergence and holdout accuracy, in words.

The report and the CLI set these sentences next to the recommendation, so a decision
never rests silently on chains that did not converge or on a model the holdout tasks
contradict.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["model_checks"]


def model_checks(results: Any) -> list[str]:
    """Sentences on the fit's convergence (HB) and holdout accuracy, when it has them."""
    out: list[str] = []
    convergence = getattr(results, "convergence", None)
    if convergence is not None and "rhat" in getattr(convergence, "columns", ()):
        rhat = float(convergence["rhat"].max())
        ess = float(convergence[["ess_bulk", "ess_tail"]].min().min())
        if bool(getattr(results, "converged", False)):
            out.append(f"Hierarchical Bayes converged (max R-hat {rhat:.3f}, min ESS {ess:.0f}).")
        else:
            out.append(
                f"Hierarchical Bayes is not converged (max R-hat {rhat:.2f}, min ESS "
                f"{ess:.0f}): its numbers are not for a decision. Run longer chains "
                "(--burn-in, --iterations) before acting on them."
            )
    hit = getattr(results, "holdout_hit_rate", None)
    if hit is not None and np.isfinite(hit):
        out.append(
            f"Holdout accuracy: the model predicts {100 * hit:.0f}% of the holdout choices "
            "(tasks kept out of the estimation) correctly."
        )
    return out
