"""What decide concludes, as data: a key and the values that fill its sentence.

decide decides, report/ and the CLI word it: each surface renders a :class:`Finding`
from its own catalogue (the report's ``report_texts.yaml`` in de/fr/it/en), with numbers
and money formatted as that surface formats them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from offerlab.decide._money import edge_of_range

__all__ = ["Finding", "edge_finding", "verdict_findings"]

#: Below this share of draws the winner is not called a clear winner.
CLEAR_WINNER = 0.7


@dataclass(frozen=True)
class Finding:
    """One conclusion of decide: ``key`` names its sentence, ``values`` fill it.

    Values are plain numbers and codes (shares as 0–1, money as numbers, ``"highest"``),
    never words: the renderer formats them in its language.
    """

    key: str
    values: Mapping[str, Any] = field(default_factory=dict)


def edge_finding(study: Any, offer: Mapping[str, object]) -> Finding | None:
    """``edge_caution`` (key ``edge_highest``/``edge_lowest``, value ``price``) when the
    offer's price is the edge of the studied prices, else None."""
    side = edge_of_range(study, offer)
    if side is None:
        return None
    values = [float(v) for v in study.price_attribute.values]
    return Finding(f"edge_{side}", {"price": max(values) if side == "highest" else min(values)})


def verdict_findings(result: Any) -> list[Finding]:
    """The recommendation's expected and pessimistic value and how sure the search is.

    ``verdict_value`` (objective, expected, lower, upper, pessimistic) and
    ``verdict_sure`` (p_best, n_listed, method, n_candidates) and, when p_best is below
    :data:`CLEAR_WINNER`, ``verdict_unclear``.
    """
    table = result.table
    p_best = float(table["p_best"].iloc[0])
    out = [
        Finding(
            "verdict_value",
            {
                "objective": result.objective,
                "expected": float(result.expected),
                "lower": float(table["lower"].iloc[0]),
                "upper": float(table["upper"].iloc[0]),
                "pessimistic": float(result.pessimistic),
            },
        ),
        Finding(
            "verdict_sure",
            {
                "p_best": p_best,
                "n_listed": len(table),
                "method": result.method,
                "n_candidates": int(result.n_candidates),
            },
        ),
    ]
    if p_best < CLEAR_WINNER:
        out.append(Finding("verdict_unclear"))
    return out
