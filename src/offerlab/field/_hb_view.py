"""HB convergence next to the console's HB-based numbers (the simulator, the published report).

A simulator or a report version is fitted once, in a background task, and read later:
:func:`hb_diagnostics_record` keeps, with the stored page data, what the fit's own
diagnostics say — the table the report's sentence is made of
(:func:`offerlab.report.hb_diagnostics`: worst R-hat and smallest bulk/tail ESS of the
population means, the covariance entries and the individual part-worths), and the
sampler's verdict (``HBResults.converged``, its draws per chain, and the quantities
``HBResults.stop`` names as short of R-hat < 1.01 and ESS > 400). Nothing is recomputed
here; :func:`hb_diagnostics_view` only puts the page's words and numbers on it.
"""

from __future__ import annotations

import json
import math
from typing import Any

from offerlab.field._console_texts import ConsoleTexts
from offerlab.field._console_views import format_number
from offerlab.models import HBResults

__all__ = ["hb_diagnostics_record", "hb_diagnostics_view", "stored_hb_diagnostics"]

#: The key under which a simulator's page data and a report version's summary keep it.
KEY = "hb_diagnostics"


def hb_diagnostics_record(results: Any) -> dict[str, Any] | None:
    """The fit's convergence as plain JSON data; None for a model that is not HB."""
    if not isinstance(results, HBResults):
        return None
    from offerlab.report import hb_diagnostics  # matplotlib: only when there is an HB fit

    table = hb_diagnostics(results)
    return {
        "converged": bool(results.converged),
        "draws_per_chain": int(results.stop.draws_per_chain),
        "stopped_by": str(results.stop.reason),
        "shortfalls": [str(s) for s in results.stop.shortfalls],
        "groups": [
            {
                "name": str(name),
                "rhat": float(row["max R-hat"]),
                "ess_bulk": float(row["min bulk ESS"]),
                "ess_tail": float(row["min tail ESS"]),
                "passes": bool(row["passes"]),
            }
            for name, row in table.iterrows()
        ],
    }


def stored_hb_diagnostics(payload: str | dict[str, Any] | None) -> dict[str, Any] | None:
    """The record kept in a simulator's page data (JSON text) or a report's summary (dict)."""
    if not payload:
        return None
    data = json.loads(payload) if isinstance(payload, str) else payload
    record = data.get(KEY) if isinstance(data, dict) else None
    return record if isinstance(record, dict) else None


def hb_diagnostics_view(record: dict[str, Any] | None, t: ConsoleTexts) -> dict[str, Any] | None:
    """The record in the reader's words: one row per group of quantities, and the verdict."""
    if record is None:
        return None
    language = t.language

    def number(value: float, decimals: int) -> str:
        if not math.isfinite(value):
            return "–"
        return format_number(round(value, decimals), language, decimals)

    rows = [
        {
            "name": t("hb_group_" + group["name"].replace(" ", "_").replace("-", "_")),
            "rhat": f"{group['rhat']:.3f}".replace(".", "," if language == "fr" else "."),
            "ess_bulk": number(group["ess_bulk"], 0),
            "ess_tail": number(group["ess_tail"], 0),
            "passes": group["passes"],
        }
        for group in record.get("groups", [])
    ]
    draws = format_number(record.get("draws_per_chain", 0), language)
    return {
        "converged": bool(record.get("converged")),
        "verdict": t(
            "hb_converged" if record.get("converged") else "hb_not_converged", draws=draws
        ),
        "rows": rows,
        "shortfalls": list(record.get("shortfalls", [])),
    }
