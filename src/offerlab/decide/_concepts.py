"""Concept tests: does a new offer appeal, and which of several concepts appeals most?

Each person rates a concept on five-point scales (appeal, purchase intent, uniqueness,
believability, value for money). **Monadic** tests show each person one concept, so
concepts are compared between independent groups; **sequential monadic** tests show each
person several concepts in balanced, randomised order, so comparisons are paired within
people and the position a concept was seen in can be checked for an order effect.

The ratings frame has one row per person, concept and question: ``respondent``,
``concept``, ``rating`` (1 … points, higher is better) and, for sequential monadic
tests, ``position`` (1 = seen first).

Statistics
----------
* Top-2-box: the share rating in the top two points, with the Wilson interval.
* Differences between two concepts: independent groups — the difference of shares with
  an unpooled Wald interval and the pooled two-proportion z-test; paired (the same
  people) — the difference with the paired Wald interval and McNemar's z-test (b − c) /
  √(b + c) on the discordant pairs. p-values of all pairs are adjusted by Holm's step-down
  method, which holds the family-wise error rate without assuming independence.
* Order effect: top-2-box by position and Pearson's χ² test of position × top-2-box.
* Calibrated intent: stated purchase intent turned into an expected take-up by weights
  per answer. The default (75 % of "definitely", 25 % of "probably", nothing else) is a
  common industry rule of thumb, not a law — Jamieson & Bass (1989, Journal of Marketing
  Research 26(3)) found the right weights differ by category; set yours in the study file.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from offerlab.decide._needs import wilson_interval
from offerlab.exceptions import OfferlabError

__all__ = [
    "DEFAULT_INTENT_WEIGHTS",
    "calibrated_intent",
    "compare_concepts",
    "holm",
    "order_effects",
    "sequential_orders",
    "top_box",
]

DEFAULT_INTENT_WEIGHTS = (0.75, 0.25, 0.0, 0.0, 0.0)  # definitely … definitely not


def top_box(
    ratings: pd.DataFrame, *, points: int = 5, boxes: int = 2, interval: float = 0.95
) -> pd.DataFrame:
    """Top-``boxes``-box share per concept with its Wilson interval."""
    hits = _top(ratings, points, boxes)
    grouped = hits.groupby(ratings["concept"], sort=False)
    n, successes = grouped.size(), grouped.sum()
    low, high = wilson_interval(successes.to_numpy(), n.to_numpy(), interval)
    return pd.DataFrame(
        {
            "n": n,
            "top_box": successes,
            "share": successes / n,
            "low": low,
            "high": high,
        }
    ).rename_axis("concept")


def compare_concepts(
    ratings: pd.DataFrame,
    *,
    paired: bool,
    points: int = 5,
    boxes: int = 2,
    interval: float = 0.95,
) -> pd.DataFrame:
    """Every pair of concepts: difference of top-box shares, interval, raw and Holm p.

    ``paired``: the same people rated both concepts (sequential monadic).
    """
    hits = _top(ratings, points, boxes).astype(int)
    z = stats.norm.ppf(0.5 + interval / 2)
    concepts = list(dict.fromkeys(ratings["concept"]))
    rows = []
    for a, b in itertools.combinations(concepts, 2):
        test = _paired if paired else _independent
        diff, se, p = test(hits, ratings, a, b)
        rows.append(
            {
                "concept_a": a,
                "concept_b": b,
                "difference": diff,
                "low": diff - z * se,
                "high": diff + z * se,
                "p_value": p,
            }
        )
    table = pd.DataFrame(
        rows, columns=["concept_a", "concept_b", "difference", "low", "high", "p_value"]
    )
    table["p_holm"] = holm(table["p_value"].to_numpy())
    return table


def holm(p_values: np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values (same order as given)."""
    p = np.asarray(p_values, dtype=float)
    order = np.argsort(p)
    m = len(p)
    stepped = np.maximum.accumulate((m - np.arange(m)) * p[order])
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(stepped, 1.0)
    return adjusted


def order_effects(ratings: pd.DataFrame, *, points: int = 5, boxes: int = 2) -> pd.DataFrame:
    """Top-box share by position seen, with the χ² p-value of position × top-box.

    The p-value is in the frame's ``attrs["p_value"]``.
    """
    if "position" not in ratings:
        raise OfferlabError("order effects need a position column (sequential monadic tests)")
    hits = _top(ratings, points, boxes).astype(int)
    counts = pd.crosstab(ratings["position"], hits).reindex(columns=[0, 1], fill_value=0)
    table = pd.DataFrame({"n": counts.sum(axis=1), "share": counts[1] / counts.sum(axis=1)})
    usable = counts.loc[:, counts.sum(axis=0) > 0]
    p = (
        float(stats.chi2_contingency(usable.to_numpy(), correction=False).pvalue)
        if usable.shape[0] > 1 and usable.shape[1] > 1
        else float("nan")
    )
    table.attrs["p_value"] = p
    return table


def sequential_orders(
    concepts: Sequence[str], respondents: int, seed: int | None = None
) -> list[tuple[str, ...]]:
    """Orders for a sequential monadic test, balanced for position and first-order carryover.

    Williams' design: one Latin square for an even number of concepts, two (one mirrored)
    for an odd number; rows are dealt to respondents square by square, so at any sample
    size every concept is in every position equally often within ±1.
    """
    if len(set(concepts)) != len(concepts) or len(concepts) < 2:
        raise OfferlabError("a sequential monadic test needs two or more distinct concepts")
    rng = np.random.default_rng(seed)
    labels = list(np.array(concepts, dtype=object)[rng.permutation(len(concepts))])
    squares = _williams(len(concepts))
    deck: list[tuple[str, ...]] = []
    for square in squares:
        deck.extend(tuple(labels[j] for j in square[i]) for i in rng.permutation(len(square)))
    return [deck[i % len(deck)] for i in range(respondents)]


def calibrated_intent(
    ratings: pd.DataFrame, *, weights: Sequence[float] = DEFAULT_INTENT_WEIGHTS
) -> pd.Series:
    """Expected take-up per concept from five-point purchase intent (5 = definitely)."""
    w = np.asarray(weights, dtype=float)
    if w.shape != (5,) or np.any((w < 0) | (w > 1)):
        raise OfferlabError("intent weights are five numbers in [0, 1], definitely first")
    rating = ratings["rating"].to_numpy()
    if not np.isin(rating, [1, 2, 3, 4, 5]).all():
        raise OfferlabError("purchase intent ratings must be 1 … 5")
    weight_of = w[5 - rating.astype(int)]
    return pd.Series(weight_of, index=ratings.index).groupby(ratings["concept"], sort=False).mean()


def _top(ratings: pd.DataFrame, points: int, boxes: int) -> pd.Series:
    missing = {"respondent", "concept", "rating"} - set(ratings.columns)
    if missing:
        raise OfferlabError(f"ratings lack column(s) {', '.join(sorted(missing))}")
    if not 1 <= boxes < points:
        raise OfferlabError(f"boxes must lie in 1 … {points - 1}")
    rating = pd.to_numeric(ratings["rating"], errors="coerce")
    if rating.isna().any() or not rating.between(1, points).all():
        raise OfferlabError(f"ratings must be numbers 1 … {points}")
    return rating > points - boxes


def _independent(
    hits: pd.Series, ratings: pd.DataFrame, a: str, b: str
) -> tuple[float, float, float]:
    x, y = hits[ratings["concept"] == a], hits[ratings["concept"] == b]
    pa, pb = x.mean(), y.mean()
    se = np.sqrt(pa * (1 - pa) / len(x) + pb * (1 - pb) / len(y))
    pooled = (x.sum() + y.sum()) / (len(x) + len(y))
    se0 = np.sqrt(pooled * (1 - pooled) * (1 / len(x) + 1 / len(y)))
    p = 2 * stats.norm.sf(abs(pa - pb) / se0) if se0 > 0 else 1.0
    return float(pa - pb), float(se), float(p)


def _paired(hits: pd.Series, ratings: pd.DataFrame, a: str, b: str) -> tuple[float, float, float]:
    wide = pd.DataFrame(
        {"concept": ratings["concept"], "respondent": ratings["respondent"], "hit": hits}
    )
    wide = (
        wide[wide["concept"].isin([a, b])]
        .pivot_table(index="respondent", columns="concept", values="hit", aggfunc="first")
        .dropna()
    )
    n = len(wide)
    if n == 0:
        raise OfferlabError(f"no respondent rated both {a!r} and {b!r}")
    only_a = int(((wide[a] == 1) & (wide[b] == 0)).sum())
    only_b = int(((wide[a] == 0) & (wide[b] == 1)).sum())
    diff = (only_a - only_b) / n
    se = np.sqrt(max(only_a + only_b - (only_a - only_b) ** 2 / n, 0.0)) / n
    discordant = only_a + only_b
    p = 2 * stats.norm.sf(abs(only_a - only_b) / np.sqrt(discordant)) if discordant else 1.0
    return float(diff), float(se), float(p)


def _williams(n: int) -> list[list[list[int]]]:
    first = [0]
    for step in range(1, n):
        first.append((step + 1) // 2 if step % 2 else n - step // 2)
    square = [[(j + shift) % n for j in first] for shift in range(n)]
    return [square] if n % 2 == 0 else [square, [row[::-1] for row in square]]
