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

__all__ = [
    "Finding",
    "edge_caution",
    "edge_finding",
    "recommendation_verdict",
    "verdict_findings",
]

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


# -- the CLI's English ------------------------------------------------------------------


def edge_caution(study: Any, offer: Mapping[str, object], head: str = "") -> list[str]:
    """The caution (:func:`edge_finding`) in English, as the CLI prints it."""
    found = edge_finding(study, offer)
    if found is None:
        return []
    side = found.key.removeprefix("edge_")
    beyond = "above" if side == "highest" else "below"
    shown = f"{study.price_attribute.currency} {found.values['price']:,.0f}".strip()
    return [
        f"{head}Caution: {shown} is the {side} price studied, so the best price may lie "
        f"{beyond} it, where the survey did not ask: test prices {beyond} it before "
        "settling on this one."
    ]


def recommendation_verdict(result: Any, currency: str) -> list[str]:
    """The verdict (:func:`verdict_findings`) in English, as the CLI prints it.

    "How sure" is one number with one definition, the optimiser table's ``p_best`` of the
    winner: the share of uncertainty draws in which it is the best of the candidates
    listed.
    """
    value, sure, *unclear = verdict_findings(result)
    v = value.values
    if v["objective"] == "share":
        fmt = lambda x: f"{100 * x:.1f}%"  # noqa: E731
    else:
        fmt = lambda x: f"{currency} {x:,.2f}".strip()  # noqa: E731
    what = {
        "share": "share",
        "revenue": "revenue per person in the market",
        "profit": "profit per person in the market (all our offers)",
    }[v["objective"]]
    s = sure.values
    return [
        f"Expected {what}: {fmt(v['expected'])} (95%: {fmt(v['lower'])} "
        f"to {fmt(v['upper'])}); pessimistic (in 9 of 10 uncertainty "
        f"draws at least): {fmt(v['pessimistic'])}.",
        f"It is the best of the {s['n_listed']} candidates listed in {100 * s['p_best']:.0f}% of "
        f"the uncertainty draws ({s['method']} search over {s['n_candidates']:,} candidates)."
        + (
            " It is not a clear winner: choose among the leading candidates on grounds the "
            "model does not see."
            if unclear
            else ""
        ),
    ]
