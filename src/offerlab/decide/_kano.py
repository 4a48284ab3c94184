"""Kano pairs: which features people expect, which please them, which leave them cold.

Every feature is asked twice: how would you feel if the offer *had* it (functional) and
if it did *not* (dysfunctional), each on the five standard answers. The pair's cell in
the Kano evaluation table gives the person's category for the feature (Berger et al.
1993, "Kano's methods for understanding customer-defined quality", Center for Quality
of Management Journal 2(4); Matzler & Hinterhuber 1998):

=================  ====  ======  =======  =========  =======
functional \\ dys   like  expect  neutral  tolerate   dislike
=================  ====  ======  =======  =========  =======
like                Q     A       A        A          O
expect              R     I       I        I          M
neutral             R     I       I        I          M
tolerate            R     I       I        I          M
dislike             R     R       R        R          Q
=================  ====  ======  =======  =========  =======

A attractive, O one-dimensional, M must-be, I indifferent, R reverse, Q questionable.
A feature's category is the most frequent one; ties go M > O > A > I (Berger et al.:
serve the must-bes first). The better/worse coefficients (Berger et al.) are
(A + O) / (A + O + M + I) and −(O + M) / (A + O + M + I).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from offerlab.exceptions import OfferlabError

__all__ = ["KANO_ANSWERS", "KANO_CATEGORIES", "KanoFeature", "kano_category", "kano_evaluation"]

KANO_ANSWERS = ("like", "expect", "neutral", "tolerate", "dislike")
KANO_CATEGORIES = {
    "A": "attractive",
    "O": "one-dimensional",
    "M": "must-be",
    "I": "indifferent",
    "R": "reverse",
    "Q": "questionable",
}
_TABLE = ("QAAAO", "RIIIM", "RIIIM", "RIIIM", "RRRRQ")
_TIE_ORDER = "MOAIRQ"


@dataclass(frozen=True)
class KanoFeature:
    """One feature's evaluation: counts per category, its category, better and worse."""

    feature: str
    counts: dict[str, int]
    category: str
    better: float
    worse: float

    @property
    def shares(self) -> dict[str, float]:
        total = sum(self.counts.values())
        return {c: (n / total if total else float("nan")) for c, n in self.counts.items()}


def kano_category(functional: str, dysfunctional: str) -> str:
    """The evaluation table's cell for one functional/dysfunctional answer pair."""
    try:
        row, column = KANO_ANSWERS.index(functional), KANO_ANSWERS.index(dysfunctional)
    except ValueError:
        bad = functional if functional not in KANO_ANSWERS else dysfunctional
        raise OfferlabError(
            f"unknown Kano answer {bad!r}; expected one of {', '.join(KANO_ANSWERS)}"
        ) from None
    return _TABLE[row][column]


def kano_evaluation(answers: pd.DataFrame) -> list[KanoFeature]:
    """Evaluate Kano pairs: one row per person and feature.

    Parameters
    ----------
    answers : DataFrame
        Columns ``feature``, ``functional``, ``dysfunctional`` (answers from
        :data:`KANO_ANSWERS`); incomplete pairs are left out.
    """
    missing = {"feature", "functional", "dysfunctional"} - set(answers.columns)
    if missing:
        raise OfferlabError(f"Kano answers lack column(s) {', '.join(sorted(missing))}")
    pairs = answers.dropna(subset=["functional", "dysfunctional"])
    categories = [
        kano_category(f, d)
        for f, d in zip(pairs["functional"], pairs["dysfunctional"], strict=True)
    ]
    per_feature = pd.Series(categories, index=pairs["feature"].to_numpy())
    features: Sequence[str] = list(dict.fromkeys(answers["feature"]))
    return [_feature(str(f), per_feature[per_feature.index == f].tolist()) for f in features]


def _feature(name: str, categories: list[str]) -> KanoFeature:
    counts = {c: categories.count(c) for c in KANO_CATEGORIES}
    if not categories:
        return KanoFeature(name, counts, "", float("nan"), float("nan"))
    top = max(counts.values())
    category = next(c for c in _TIE_ORDER if counts[c] == top)
    a, o, m, i = (counts[c] for c in "AOMI")
    base = a + o + m + i
    better = (a + o) / base if base else float("nan")
    worse = -(o + m) / base if base else float("nan")
    return KanoFeature(name, counts, category, better, worse)
