"""The needs-and-obstacles page and the concept page, computed once for the report.

:func:`needs_results` weighs the items of a MaxDiff page (the best–worst logit's
probability-rescaled scores with intervals, the counts beside them), finds the bundle of
items that reaches the most people (TURF on each person's top items, from individual
hierarchical-Bayes scores), and evaluates Kano pairs. :func:`concept_results` gives a
concept test's top-2-box shares, the differences between concepts with Holm's correction,
order effects and the open answers per concept. ``report/`` only draws these objects.

Its steps are public for the console's live page, which takes them with its own choices
(a shorter sampler, counts while the logit cannot be fitted yet): :func:`maxdiff_scores`
(the logit's scores with the counts), :func:`maxdiff_individual` (each person's HB
utilities) and :func:`maxdiff_reach` (whom each item reaches, what TURF counts).

Anchoring: a MaxDiff says which items matter *more*; whether an item matters *at all*
needs an anchoring question. Without one ``anchor`` is None and the report says so; the
reference line it draws is then the average item (100 / number of items). With one (an
``anchor`` column in the answers: dual response or direct binary, see
:mod:`offerlab.models` ``maxdiff_answers``) the threshold is an item of utility 0 (Orme,
"Anchored Scaling in MaxDiff"; Lattery 2010): ``anchor`` is its score on the rescaled
scale (the anchor line), each item gets the share of people for whom it is above the
threshold (from the individual HB utilities, with posterior intervals), and TURF counts a
person reached by the items above their own threshold instead of their top items.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from offerlab.decide._concepts import (
    DEFAULT_INTENT_WEIGHTS,
    calibrated_intent,
    compare_concepts,
    order_effects,
    top_box,
)
from offerlab.decide._kano import KanoFeature, kano_evaluation
from offerlab.decide._turf import (
    TurfResult,
    reach_above_threshold,
    reach_from_scores,
    turf,
)
from offerlab.exceptions import ConvergenceWarning, OfferlabError
from offerlab.models import (
    HierarchicalBayes,
    MaxDiffAnswers,
    MaxDiffHB,
    MaxDiffHBResults,
    MaxDiffLogit,
    maxdiff_answers,
    maxdiff_counts,
)
from offerlab.study import CONCEPT_QUESTIONS

__all__ = [
    "ConceptResults",
    "MaxDiffScores",
    "NeedsOptions",
    "NeedsResults",
    "concept_results",
    "maxdiff_individual",
    "maxdiff_reach",
    "maxdiff_scores",
    "needs_results",
]


@dataclass(frozen=True)
class NeedsOptions:
    """How the needs page is computed.

    Attributes
    ----------
    bundle : int
        Items in the TURF bundle the page recommends.
    top : int
        A person is reached by an item among their ``top`` highest individual scores.
    largest_bundle : int
        The reach curve runs over bundles of 1 … this many items.
    hb : HierarchicalBayes, optional
        The sampler of the individual scores TURF uses. Default: a bounded run (2 chains,
        1,000 burn-in and 1,000 kept draws), seconds on a survey of a few hundred people;
        its convergence is reported with the page.
    interval : float
    seed : int
    """

    bundle: int = 3
    top: int = 2
    largest_bundle: int = 6
    hb: HierarchicalBayes | None = None
    interval: float = 0.95
    seed: int = 0


@dataclass(frozen=True)
class NeedsResults:
    """What the needs-and-obstacles page shows (every part None/empty without its data).

    Attributes
    ----------
    scores : DataFrame or None
        Index item (name), best first: ``score`` (probability-rescaled, all items sum to
        100), ``low``, ``high`` (interval), ``utility``, ``std_error`` (the logit's, robust),
        ``shown``, ``best``, ``worst`` (counts), ``best_share``, ``worst_share`` (of times
        shown); anchored, also ``important``, ``important_low``, ``important_high``: the
        share of people for whom the item is above the threshold, with its interval.
    respondents : int
        People with MaxDiff answers.
    anchor : float or None
        The anchor's score on the scores' scale (None: the study did not anchor).
    average : float
        The score of an average item, 100 / number of items.
    turf : TurfResult or None
        The recommended bundle (``options.bundle`` items) and its incremental reach.
    reach_curve : DataFrame or None
        ``size``, ``reach``, ``frequency``, ``items`` (tuple): the best bundle of every size.
    top : int
        Items per person that count as reaching them (without an anchor; with one, the
        items above the person's threshold reach them).
    individual_converged : bool or None
        Whether the individual scores' sampler met its convergence criteria.
    kano : list of KanoFeature
    kano_respondents : int
    """

    scores: pd.DataFrame | None
    respondents: int
    anchor: float | None
    average: float
    turf: TurfResult | None
    reach_curve: pd.DataFrame | None
    top: int
    individual_converged: bool | None
    kano: list[KanoFeature] = field(default_factory=list)
    kano_respondents: int = 0
    interval: float = 0.95
    anchor_interval: tuple[float, float] | None = None

    @property
    def empty(self) -> bool:
        return self.scores is None and not self.kano

    @property
    def anchored(self) -> bool:
        """Whether the scores have the anchor's threshold (and the shares above it)."""
        return self.anchor is not None


def needs_results(
    maxdiff: pd.DataFrame | None = None,
    kano: pd.DataFrame | None = None,
    *,
    items: Sequence[str] | None = None,
    options: NeedsOptions | None = None,
) -> NeedsResults:
    """Scores, TURF bundle and Kano categories of a study's needs pages.

    Parameters
    ----------
    maxdiff : DataFrame, optional
        Best–worst answers, one row per item shown (``respondent, task, item, best,
        worst``; :func:`offerlab.field.maxdiff_data`).
    kano : DataFrame, optional
        Kano pairs (``respondent, feature, functional, dysfunctional``).
    items : list of str, optional
        The MaxDiff page's items (all of them, also ones nobody saw).
    options : NeedsOptions
    """
    options = options or NeedsOptions()
    kano_features = kano_evaluation(kano) if kano is not None and len(kano) else []
    kano_people = int(kano["respondent"].nunique()) if kano is not None and len(kano) else 0
    if maxdiff is None or not len(maxdiff):
        n = len(items) if items else 0
        return NeedsResults(
            None, 0, None, 100 / n if n else float("nan"), None, None, options.top, None,
            kano_features, kano_people, options.interval,
        )  # fmt: skip
    answers = maxdiff_answers(maxdiff, list(items) if items is not None else None)
    scored = maxdiff_scores(answers, options)
    scores = scored.table
    individual = maxdiff_individual(answers, options)
    turf_result, curve = _turf(answers, individual, options)
    anchor = interval = None
    if scored.anchor is not None:
        anchor, low, high = scored.anchor
        interval = (low, high)
        if individual is not None:
            shares = individual.above_threshold(options.interval)
            scores = scores.join(
                shares.rename(
                    columns={"share": "important", "low": "important_low",
                             "high": "important_high"}
                )
            )  # fmt: skip
    converged = individual.converged if individual is not None else None
    return NeedsResults(
        scores, len(answers.respondents), anchor, 100 / len(answers.items), turf_result, curve,
        options.top, converged, kano_features, kano_people, options.interval, interval,
    )  # fmt: skip


@dataclass(frozen=True)
class MaxDiffScores:
    """The best–worst logit's verdict on a MaxDiff page.

    Attributes
    ----------
    table : DataFrame
        Index item, best first: ``score`` (probability-rescaled, all items sum to 100),
        ``low``, ``high`` (interval), ``utility``, ``std_error`` (the logit's, robust),
        ``shown``, ``best``, ``worst`` (counts), ``best_share``, ``worst_share``.
    anchor : (score, low, high) or None
        The anchor's threshold on the scores' scale (None: the answers are not anchored).
    """

    table: pd.DataFrame
    anchor: tuple[float, float, float] | None


def maxdiff_scores(answers: MaxDiffAnswers, options: NeedsOptions | None = None) -> MaxDiffScores:
    """Fit the best–worst logit and score the items (``options``: interval and seed).

    Raises :class:`OfferlabError` or :class:`numpy.linalg.LinAlgError` when the answers do
    not identify the logit yet (e.g. an item never picked best).
    """
    options = options or NeedsOptions()
    logit = MaxDiffLogit().fit(answers)
    scores = logit.scores(interval=options.interval, seed=options.seed)
    utilities = logit.to_frame(interval=options.interval)
    counts = maxdiff_counts(answers)
    frame = scores.join(utilities[["utility", "std_error"]]).join(
        counts[["shown", "best", "worst"]]
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        frame["best_share"] = frame["best"] / frame["shown"]
        frame["worst_share"] = frame["worst"] / frame["shown"]
    anchor = (
        logit.anchor_score(interval=options.interval, seed=options.seed)
        if answers.anchored
        else None
    )
    return MaxDiffScores(frame.sort_values("score", ascending=False, kind="stable"), anchor)


def _default_hb(seed: int) -> HierarchicalBayes:
    return HierarchicalBayes(burn_in=1000, draws=1000, chains=2, keep_draws=20, seed=seed)


def maxdiff_individual(
    answers: MaxDiffAnswers, options: NeedsOptions | None = None
) -> MaxDiffHBResults | None:
    """Each person's HB utilities, from ``options.hb`` (default: the bounded run of
    :class:`NeedsOptions`); None with fewer than two people or items. Whether the sampler
    converged is in the result (its warning is not raised: the pages report it)."""
    options = options or NeedsOptions()
    if len(answers.items) < 2 or len(answers.respondents) < 2:
        return None
    estimator = options.hb or _default_hb(options.seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return MaxDiffHB(estimator).fit(answers)


def maxdiff_reach(
    answers: MaxDiffAnswers, individual: MaxDiffHBResults | None, *, top: int
) -> pd.DataFrame:
    """People × items: whom each item reaches, what TURF counts.

    With anchored individual utilities, the items above the person's own threshold;
    otherwise the person's ``top`` items (ties included) by their individual HB scores or,
    without individual utilities (``individual`` None), by their own best − worst counts.
    """
    if individual is not None and individual.anchored:
        return reach_above_threshold(individual.individual)
    if individual is not None:
        return reach_from_scores(individual.individual_scores, top=top)
    return reach_from_scores(_best_minus_worst(answers), top=top)


def _best_minus_worst(answers: MaxDiffAnswers) -> pd.DataFrame:
    """Each person's times picked best minus times picked worst, per item."""
    tasks = np.arange(len(answers.shown))
    counts = np.zeros((len(answers.respondents), len(answers.items)))
    np.add.at(counts, (answers.respondent, answers.shown[tasks, answers.best]), 1.0)
    np.add.at(counts, (answers.respondent, answers.shown[tasks, answers.worst]), -1.0)
    return pd.DataFrame(
        counts,
        index=pd.Index(answers.respondents, name="respondent"),
        columns=pd.Index(answers.items, name="item"),
    )


def _turf(
    answers: MaxDiffAnswers,
    individual: MaxDiffHBResults | None,
    options: NeedsOptions,
) -> tuple[TurfResult | None, pd.DataFrame | None]:
    """TURF on each person's items above their threshold (anchored) or top items (not),
    from the individual HB utilities, and the best reach per size."""
    n = len(answers.items)
    if individual is None:
        return None, None
    reached = maxdiff_reach(answers, individual, top=min(options.top, n - 1))
    bundle = min(options.bundle, n)
    result = turf(reached, bundle)
    rows = []
    for size in range(1, min(options.largest_bundle, n) + 1):
        best = result.best if size == bundle else turf(reached, size).best
        rows.append(
            {"size": size, "reach": best.reach, "frequency": best.frequency, "items": best.items}
        )
    return result, pd.DataFrame(rows)


@dataclass(frozen=True)
class ConceptResults:
    """What the concept page shows.

    Attributes
    ----------
    concepts : tuple of str
        Concept names in the order of the study (or of first appearance).
    paired : bool
        Sequential monadic (the same people rated several concepts).
    top_box : DataFrame
        ``question``, ``concept``, ``n``, ``top_box``, ``share``, ``low``, ``high``.
    comparisons : DataFrame
        ``question``, ``concept_a``, ``concept_b``, ``difference`` (a − b), ``low``,
        ``high``, ``p_value``, ``p_holm`` (Holm over the concept pairs of one question).
    order : DataFrame or None
        ``question``, ``position``, ``n``, ``share``, ``p_value`` (χ² of position ×
        top-2-box): sequential monadic tests only.
    intent : Series
        Calibrated purchase intent (expected take-up share) per concept.
    open_answers : DataFrame
        ``concept``, ``text``, ``n``: identical answers (ignoring case and spacing)
        counted once, most frequent first, at most ``examples`` per concept.
    open_counts : Series
        Non-empty open answers per concept.
    respondents : int
    """

    concepts: tuple[str, ...]
    paired: bool
    top_box: pd.DataFrame
    comparisons: pd.DataFrame
    order: pd.DataFrame | None
    intent: pd.Series
    open_answers: pd.DataFrame
    open_counts: pd.Series
    respondents: int
    interval: float = 0.95


def concept_results(
    data: pd.DataFrame,
    *,
    concepts: Sequence[str] | None = None,
    questions: Sequence[str] = CONCEPT_QUESTIONS,
    intent_weights: Sequence[float] = DEFAULT_INTENT_WEIGHTS,
    examples: int = 8,
    interval: float = 0.95,
) -> ConceptResults:
    """Top-2-box, pairwise differences, order effects and open answers of a concept test.

    ``data`` has one row per person and concept seen (:func:`offerlab.field.concept_data`):
    ``respondent``, ``concept``, ``position``, the five-point ``questions`` and, optionally,
    ``change`` (the open answer).
    """
    missing = [c for c in ("respondent", "concept", *questions) if c not in data.columns]
    if missing:
        raise OfferlabError(f"concept answers lack column(s) {', '.join(missing)}")
    if not len(data):
        raise OfferlabError("no concept-test answers")
    seen = list(dict.fromkeys(data["concept"].astype(str)))
    order = [c for c in (concepts or seen) if c in seen] + [
        c for c in seen if concepts is not None and c not in concepts
    ]
    frame = data.assign(concept=pd.Categorical(data["concept"].astype(str), categories=order))
    frame = frame.sort_values(["concept", "respondent"], kind="stable").assign(
        concept=lambda f: f["concept"].astype(str)
    )
    paired = bool(frame.groupby("respondent")["concept"].nunique().max() > 1)
    boxes, pairs, positions = [], [], []
    for question in questions:
        ratings = frame[["respondent", "concept", question]].rename(columns={question: "rating"})
        if "position" in frame.columns:
            ratings = ratings.assign(position=frame["position"].to_numpy())
        boxes.append(top_box(ratings, interval=interval).reset_index().assign(question=question))
        if len(order) > 1:
            pairs.append(
                compare_concepts(ratings, paired=paired, interval=interval).assign(
                    question=question
                )
            )
        if paired and "position" in ratings.columns:
            table = order_effects(ratings)
            positions.append(
                table.reset_index().assign(question=question, p_value=table.attrs["p_value"])
            )
    intent = (
        calibrated_intent(frame.rename(columns={"intent": "rating"}), weights=intent_weights)
        if "intent" in questions
        else pd.Series(dtype=float)
    )
    texts, counts = _open_answers(frame, order, examples)
    return ConceptResults(
        tuple(order), paired, _first(pd.concat(boxes, ignore_index=True), "question"),
        _first(pd.concat(pairs, ignore_index=True), "question") if pairs else _no_pairs(),
        _first(pd.concat(positions, ignore_index=True), "question") if positions else None,
        intent.reindex(order), texts, counts, int(frame["respondent"].nunique()), interval,
    )  # fmt: skip


def _first(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    return frame[[column, *[c for c in frame.columns if c != column]]]


def _no_pairs() -> pd.DataFrame:
    columns = ["question", "concept_a", "concept_b", "difference", "low", "high", "p_value"]
    return pd.DataFrame(columns=[*columns, "p_holm"])


def _open_answers(
    frame: pd.DataFrame, concepts: list[str], examples: int
) -> tuple[pd.DataFrame, pd.Series]:
    """Open answers per concept: identical ones (case and spacing aside) counted together."""
    columns = ["concept", "text", "n"]
    if "change" not in frame.columns:
        return pd.DataFrame(columns=columns), pd.Series(0, index=concepts, dtype=int)
    text = frame["change"].fillna("").astype(str).str.strip()
    kept = frame.assign(text=text)[text != ""]
    key = kept["text"].str.casefold().str.split().str.join(" ")
    rows = []
    for concept in concepts:
        mine = kept[kept["concept"] == concept]
        groups = mine.groupby(key[mine.index], sort=False)["text"]
        grouped = pd.DataFrame({"text": groups.first(), "n": groups.size()})
        grouped = grouped.sort_values("n", ascending=False, kind="stable").head(examples)
        rows += [(concept, t, int(n)) for t, n in zip(grouped["text"], grouped["n"], strict=True)]
    counts = kept.groupby("concept").size().reindex(concepts, fill_value=0)
    return pd.DataFrame(rows, columns=columns), counts
