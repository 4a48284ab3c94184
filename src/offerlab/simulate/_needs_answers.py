"""Simulated answers to a study's MaxDiff, Kano and concept-test pages, from a known truth.

* MaxDiff: every person has utilities for the items — a mean per item plus correlated
  individual deviations — and answers the page's design (the same near-balanced design
  the survey makes, version by person) by the sequential best–worst logit
  (:func:`~offerlab.simulate.simulate_maxdiff`); with an anchor on the page they answer
  it too, against a threshold of utility 0 (so the truth's utilities are relative to it).
* Kano: every feature has a true mix of categories (one dominant); every person draws
  their category for the feature and answers a functional/dysfunctional pair from that
  category's cells of the evaluation table; one answer pair in twenty is random.
* Concept test: every concept has a true appeal on the five-point scale; a person's
  ratings scatter around it with a lean of their own. Sequential monadic tests show the
  concepts in rotated orders (each concept in each position equally often within ±1),
  monadic ones one concept a person. About a third leave an open answer, from a small
  bank of sentences in the survey's language.

The frames have the forms the fielding exports give (:func:`offerlab.field.maxdiff_data`,
``kano_data``, ``concept_data``), so the report reads both alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from offerlab.design import make_maxdiff_design
from offerlab.simulate._maxdiff import simulate_maxdiff
from offerlab.study import CONCEPT_QUESTIONS, ConceptTestPage, KanoPage, MaxDiffPage, Study

__all__ = ["NeedsTruth", "SimulatedNeeds", "simulate_needs_answers"]

#: Cells of the Kano evaluation table per category (functional, dysfunctional).
_KANO_CELLS = {
    "A": [("like", d) for d in ("expect", "neutral", "tolerate")],
    "O": [("like", "dislike")],
    "M": [(f, "dislike") for f in ("expect", "neutral", "tolerate")],
    "I": [(f, d) for f in ("expect", "neutral", "tolerate") for d in ("expect", "neutral")],
    "R": [("dislike", d) for d in ("like", "expect", "neutral")],
}
_KANO_ANSWERS = ("like", "expect", "neutral", "tolerate", "dislike")
_DOMINANT = "AMOI"

#: What simulated people write under "what would you change?".
_CHANGES = {
    "de": ["Günstiger wäre besser.", "Mehr Kilometer inbegriffen.", "Kürzere Mindestdauer.",
           "Mehr Modelle zur Auswahl.", "Nichts, passt so."],
    "fr": ["Moins cher, ce serait mieux.", "Plus de kilomètres compris.",
           "Une durée minimale plus courte.", "Plus de modèles au choix.", "Rien, ça me va."],
    "it": ["Più economico sarebbe meglio.", "Più chilometri inclusi.", "Durata minima più breve.",
           "Più modelli tra cui scegliere.", "Niente, va bene così."],
    "en": ["Cheaper would be better.", "More kilometres included.", "A shorter minimum term.",
           "More models to choose from.", "Nothing, it suits me."],
}  # fmt: skip


@dataclass(frozen=True)
class NeedsTruth:
    """The truth the answers come from.

    ``maxdiff``: utilities, people × items (respondent ids as index); ``kano``: each
    person's category per feature (people × features, letters A O M I R); ``kano_mix``:
    the true category shares per feature (features × categories); ``appeal``: each
    concept's mean rating on the five-point scale.
    """

    maxdiff: pd.DataFrame | None
    kano: pd.DataFrame | None
    kano_mix: pd.DataFrame | None
    appeal: pd.Series | None


@dataclass(frozen=True)
class SimulatedNeeds:
    """Answers to the first MaxDiff, Kano and concept-test page (None where the study has
    no such page), and the truth behind them."""

    maxdiff: pd.DataFrame | None
    kano: pd.DataFrame | None
    concepts: pd.DataFrame | None
    truth: NeedsTruth


def simulate_needs_answers(
    study: Study,
    respondents: Sequence[object],
    *,
    language: str = "en",
    rng: np.random.Generator | int | None = 0,
) -> SimulatedNeeds:
    """Answers of ``respondents`` to the study's MaxDiff, Kano and concept-test pages."""
    rng = np.random.default_rng(rng)
    pages = study.questionnaire.pages if study.questionnaire is not None else []
    people = np.asarray(list(respondents), dtype=object)
    maxdiff = next((p for p in pages if isinstance(p, MaxDiffPage)), None)
    kano = next((p for p in pages if isinstance(p, KanoPage)), None)
    concept = next((p for p in pages if isinstance(p, ConceptTestPage)), None)
    md_answers, md_truth = _maxdiff(maxdiff, people, rng) if maxdiff else (None, None)
    kano_answers, kano_truth, mix = _kano(kano, people, rng) if kano else (None, None, None)
    concept_answers, appeal = _concepts(concept, people, language, rng) if concept else (None, None)
    return SimulatedNeeds(
        md_answers, kano_answers, concept_answers, NeedsTruth(md_truth, kano_truth, mix, appeal)
    )


def _maxdiff(
    page: MaxDiffPage, people: np.ndarray, rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.DataFrame]:
    items = tuple(i.name for i in page.items)
    n = len(items)
    design = make_maxdiff_design(
        items, page.per_task, page.tasks, versions=page.versions,
        prohibited=[(a, b) for a, b in page.prohibited], seed=int(rng.integers(2**31)),
        steps=3000,
    )  # fmt: skip
    means = rng.normal(0.0, 0.7, n)
    mixing = np.eye(n) + rng.normal(0.0, 0.4 / np.sqrt(n), (n, n))  # correlated tastes
    utilities = means + rng.normal(size=(len(people), n)) @ mixing
    anchor = page.anchor.type if page.anchor is not None else None
    frame = simulate_maxdiff(
        design.sets, utilities, items, seed=int(rng.integers(2**31)), anchor=anchor
    )
    frame["respondent"] = people[frame["respondent"].to_numpy()]
    truth = pd.DataFrame(utilities, index=pd.Index(people, name="respondent"), columns=items)
    return frame, truth


def _kano(
    page: KanoPage, people: np.ndarray, rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    categories = list(_KANO_CELLS)
    features = [f.name for f in page.features]
    mix = np.full((len(features), len(categories)), 0.0)
    for j in range(len(features)):
        weights = rng.dirichlet(np.ones(len(categories) - 1))  # the rest, R aside
        mix[j, :4] = 0.42 * weights[:4] / weights[:4].sum()
        mix[j, categories.index(_DOMINANT[j % len(_DOMINANT)])] += 0.55
        mix[j, categories.index("R")] = 0.03
    mix /= mix.sum(axis=1, keepdims=True)
    rows, drawn = [], np.empty((len(people), len(features)), dtype=object)
    for j, feature in enumerate(features):
        picks = rng.choice(len(categories), size=len(people), p=mix[j])
        for i, person in enumerate(people):
            category = categories[picks[i]]
            drawn[i, j] = category
            if rng.random() < 0.05:  # an inattentive answer
                pair = tuple(rng.choice(_KANO_ANSWERS, 2))
            else:
                cells = _KANO_CELLS[category]
                pair = cells[int(rng.integers(len(cells)))]
            rows.append((person, feature, str(pair[0]), str(pair[1])))
    answers = pd.DataFrame(rows, columns=["respondent", "feature", "functional", "dysfunctional"])
    truth = pd.DataFrame(drawn, index=pd.Index(people, name="respondent"), columns=features)
    return answers, truth, pd.DataFrame(mix, index=features, columns=categories)


def _concepts(
    page: ConceptTestPage, people: np.ndarray, language: str, rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.Series]:
    names = [c.name for c in page.concepts]
    n = len(names)
    appeal = pd.Series(rng.uniform(2.6, 3.9, n), index=names, name="appeal")
    offsets = dict(zip(CONCEPT_QUESTIONS, rng.normal(0.0, 0.25, len(CONCEPT_QUESTIONS)),
                       strict=True))  # fmt: skip
    bank = _CHANGES.get(language, _CHANGES["en"])
    start = rng.permutation(n)
    rows = []
    for i, person in enumerate(people):
        if page.mode == "sequential" and n > 1:
            order = [start[(i + k) % n] for k in range(n)]  # rotated: positions balanced
        else:
            order = [start[i % n]]
        lean = rng.normal(0.0, 0.6)
        for position, j in enumerate(order, start=1):
            ratings = [
                int(np.clip(np.rint(appeal.iloc[j] + lean + offsets[q] + rng.normal(0, 0.8)),
                            1, 5))
                for q in CONCEPT_QUESTIONS
            ]  # fmt: skip
            change = str(bank[int(rng.integers(len(bank)))]) if rng.random() < 0.35 else ""
            rows.append([person, names[j], position, *ratings, change])
    columns = ["respondent", "concept", "position", *CONCEPT_QUESTIONS, "change"]
    return pd.DataFrame(rows, columns=columns), appeal
