"""The console's needs-and-concepts page: MaxDiff, TURF, Kano and concept tests, live.

``/console/studies/{study}/needs`` (GET) shows, from the completes so far, what the
study's MaxDiff, Kano and concept-test pages found: the same public functions of
``offerlab.models`` and ``offerlab.decide`` the report uses compute the figures; this
module only collects the answers, puts the study's own labels on them and draws them.
Owners and analysts read it; viewers when the study is shared with them (the rule of the
simulator and the published report: whoever may read the study).

* MaxDiff: counts (best − worst per times shown) and the sequential best–worst logit's
  probability-rescaled scores (0–100, summing to 100) with 95 % intervals. Without an
  anchoring question the line at 100 / items is the average item — relative: an item
  above it matters more than the average one, not "matters" in absolute terms. With one
  (dual response or direct binary) the line is the anchor's threshold on the same scale,
  and each item says whom it is important to: the share of people whose own utility
  (a short hierarchical-Bayes run, 1 chain of 300 + 300 draws) is above their threshold,
  with its posterior interval.
* TURF on the MaxDiff: an item reaches a person when it is among their ``top`` items by
  their own best − worst counts (ties included) — or, anchored, when it is above their own
  threshold (:func:`offerlab.decide.maxdiff_reach`); the best bundle of ``k`` items with
  its reach, frequency and the incremental-reach steps.
* Kano: category shares per feature, the feature's category, better and worse.
* Concept tests: top-2-box of one question (``question``; purchase intent by default)
  with Wilson intervals, the pairwise differences with Holm-corrected p-values (paired
  for a sequential monadic test), and the open answers per concept.

Query parameters ``k``, ``top`` and ``question`` are checked; anything else wrong is a
400 page naming the parameter.
"""

from __future__ import annotations

import math
import threading
import warnings
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from offerlab.decide import (
    KANO_CATEGORIES,
    NeedsOptions,
    compare_concepts,
    kano_evaluation,
    maxdiff_individual,
    maxdiff_reach,
    maxdiff_scores,
    top_box,
    turf,
)
from offerlab.exceptions import OfferlabError
from offerlab.field._console_texts import ConsoleTexts, Message
from offerlab.field._console_views import format_number
from offerlab.field._export import concept_data, kano_data, maxdiff_data
from offerlab.field._service import Fielding
from offerlab.models import (
    HierarchicalBayes,
    MaxDiffAnswers,
    MaxDiffHBResults,
    maxdiff_answers,
    maxdiff_counts,
)
from offerlab.store import StudyRow
from offerlab.study import CONCEPT_QUESTIONS, ConceptTestPage, KanoPage, MaxDiffPage, one_line

__all__ = ["NeedsQuery", "needs_query", "needs_routes", "needs_view"]

#: Top-2-box of five points; intervals at 95 %.
POINTS, BOXES = 5, 2
#: Open answers shown per concept (in the order of the answers; all are in concepts.csv).
MAX_OPEN_ANSWERS = 200
#: Bundles the page searches exhaustively; beyond, greedy plus swaps with its gap, so a
#: large ``k`` of many items answers in a second, not a minute.
EXACT_ON_PAGE = 100_000
#: Kano categories in the order a reader weighs them (must-bes first).
KANO_ORDER = ("M", "O", "A", "I", "R", "Q")
#: decide's needs computations as a live page runs them: whom each item is important to
#: from a short HB run (1 chain of 300 + 300 draws; seconds, indicative), intervals at 95 %.
LIVE = NeedsOptions(hb=HierarchicalBayes(burn_in=300, draws=300, chains=1, keep_draws=20, seed=0))
_ALLOWED = {"k", "top", "question", "lang"}


@dataclass(frozen=True)
class NeedsQuery:
    """What the reader asked for: TURF's bundle size and reach rule, the concept question."""

    k: int | None = None
    top: int = 2
    question: str = "intent"


def needs_query(query: QueryParams) -> NeedsQuery | Message:
    """The page's options from the query string, or what is wrong with it."""
    unknown = sorted(set(query.keys()) - _ALLOWED)
    if unknown:
        return Message("needs_bad_parameter", name=unknown[0][:40])
    values: dict[str, Any] = {}
    for name in ("k", "top"):
        if name in query:
            text = query[name]
            if not (text.isascii() and text.isdigit() and 1 <= len(text) <= 3 and int(text) >= 1):
                return Message("needs_bad_number", name=name)
            values[name] = int(text)
    if "question" in query:
        if query["question"] not in CONCEPT_QUESTIONS:
            return Message("needs_bad_parameter", name="question")
        values["question"] = query["question"]
    return NeedsQuery(**values)


# -- the view ----------------------------------------------------------------------------------


@dataclass
class MaxDiffView:
    """One MaxDiff page: rows by score (counts alone when the logit cannot be fitted yet)."""

    page_id: str
    question: str
    respondents: int
    items: int
    rows: list[dict[str, Any]] = field(default_factory=list)
    logit_problem: str = ""
    average: float = 0.0
    scale_max: float = 0.0
    turf: dict[str, Any] | None = None
    turf_problem: str = ""
    anchor: float | None = None  # the threshold's score: the line (None: the average's)
    anchor_text: str = ""

    @property
    def line(self) -> float:
        """Where the reference line is drawn: the anchor, else the average item."""
        return self.anchor if self.anchor is not None else self.average


@dataclass
class KanoView:
    """One Kano page: a row per feature with its category shares, better and worse."""

    page_id: str
    respondents: int
    rows: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class ConceptView:
    """One concept test: top-2-box per concept, the pairs, the open answers."""

    page_id: str
    respondents: int
    paired: bool
    rows: list[dict[str, Any]] = field(default_factory=list)
    pairs: list[dict[str, Any]] = field(default_factory=list)
    open_answers: list[dict[str, Any]] = field(default_factory=list)
    problem: str = ""


@dataclass
class NeedsView:
    """Every section of the page, with the options it was computed for."""

    maxdiff: list[MaxDiffView]
    kano: list[KanoView]
    concepts: list[ConceptView]
    options: NeedsQuery
    questions: list[tuple[str, str]]

    @property
    def empty(self) -> bool:
        return not (self.maxdiff or self.kano or self.concepts)


def needs_view(fielding: Fielding, options: NeedsQuery, t: ConsoleTexts) -> NeedsView | Message:
    """Every MaxDiff, Kano and concept-test page of the study with its figures so far."""
    pages = fielding.survey.questionnaire.pages
    study = fielding.study
    language = t.language if t.language in study.languages else study.default_language
    labels = _Labels(study, language, t)
    maxdiff = [p for p in pages if isinstance(p, MaxDiffPage)]
    for page in maxdiff:
        if options.k is not None and options.k > len(page.items):
            return Message("needs_bad_k", most=len(page.items))
        if options.top > len(page.items):
            return Message("needs_bad_top", most=len(page.items))
    return NeedsView(
        maxdiff=[_maxdiff(fielding, p, options, labels) for p in maxdiff],
        kano=[_kano(fielding, p, labels) for p in pages if isinstance(p, KanoPage)],
        concepts=[
            _concepts(fielding, p, options, labels) for p in pages if isinstance(p, ConceptTestPage)
        ],
        options=options,
        questions=[(q, t(f"needs_question_{q}")) for q in CONCEPT_QUESTIONS],
    )


@dataclass(frozen=True)
class _Labels:
    study: Any
    language: str
    t: ConsoleTexts

    def text(self, label: Any) -> str:
        return one_line(self.study.text(label, self.language))

    def number(self, value: float, decimals: int = 1) -> str:
        if value is None or not math.isfinite(value):
            return "–"
        return format_number(round(float(value), decimals), self.language, decimals)

    def p_value(self, p: float) -> str:
        """Three decimals; below 0.001 as "< 0.001" (in the language's notation)."""
        if p is None or not math.isfinite(p):
            return "–"
        if p < 0.001:
            return "< " + format_number(0.001, self.language, 3)
        return format_number(round(float(p), 3), self.language, 3)

    def points_number(self, difference: float) -> str:
        """A difference of two shares in percentage points, a number alone."""
        if difference is None or not math.isfinite(difference):
            return "–"
        return format_number(round(100 * float(difference)), self.language, 0)

    def points(self, difference: float) -> str:
        return self.t("needs_points", n=self.points_number(difference))

    def percent(self, share: float, decimals: int = 0) -> str:
        if share is None or not math.isfinite(share):
            return "–"
        # a no-break space: the sign never starts a line alone
        return (
            format_number(round(100 * float(share), decimals), self.language, decimals) + "\u00a0%"
        )


def _maxdiff(
    fielding: Fielding, page: MaxDiffPage, options: NeedsQuery, labels: _Labels
) -> MaxDiffView:
    frame = maxdiff_data(fielding, page.id)
    names = [item.name for item in page.items]
    label_of = {item.name: labels.text(item.label) for item in page.items}
    view = MaxDiffView(
        page.id,
        labels.text(page.text),
        int(frame["respondent"].nunique()) if len(frame) else 0,
        len(names),
        average=100 / len(names),
    )
    if frame.empty:
        return view
    answers = maxdiff_answers(frame, names)
    counts = maxdiff_counts(answers)
    try:
        scores = maxdiff_scores(answers, LIVE)
    except (OfferlabError, np.linalg.LinAlgError):  # e.g. an item never picked best yet
        scores = None
        view.logit_problem = labels.t("needs_logit_problem")
    if scores is not None and scores.anchor is not None:
        view.anchor = scores.anchor[0]
        view.anchor_text = labels.number(view.anchor)
    individual = _individual(fielding, page, frame, answers) if view.anchor is not None else None
    important = individual.above_threshold(LIVE.interval) if individual is not None else None
    table = scores.table if scores is not None else None  # best first
    if table is not None:
        order = table.index
    else:
        order = counts["bw_score"].sort_values(ascending=False).index
    top_value = float(table["high"].max()) if table is not None else view.average
    view.scale_max = _nice_ceiling(max(top_value, view.line * 1.5))
    for name in order:
        c = counts.loc[name]
        row = {
            "label": label_of[name],
            "shown": int(c["shown"]),
            "best": int(c["best"]),
            "worst": int(c["worst"]),
            "bw": labels.number(c["bw_score"], 2),
            "score": None,
        }
        if table is not None:
            s = table.loc[name]
            row.update(
                score=float(s["score"]),
                low=float(s["low"]),
                high=float(s["high"]),
                score_text=labels.number(s["score"]),
                interval_text=f"{labels.number(s['low'])} – {labels.number(s['high'])}",
                above=bool(s["low"] > view.line),
            )
        if important is not None:
            share = important.loc[name]
            row["important_text"] = labels.percent(share["share"])
            row["important_interval"] = (
                f"{labels.percent(share['low'])} – {labels.percent(share['high'])}"
            )
        view.rows.append(row)
    view.turf, view.turf_problem = _turf(answers, individual, label_of, options, labels)
    return view


#: The short HB run behind "important to" costs seconds of CPU. It is seeded, so a page
#: shown again on the same answers would repeat it to the digit: the last few are kept,
#: keyed on the study, the page and the answers' content (a new answer makes a new key).
_FITS: OrderedDict[tuple[str, str, int], MaxDiffHBResults | None] = OrderedDict()
_FITS_KEPT = 8
_FITS_LOCK = threading.Lock()


def _individual(
    fielding: Fielding, page: MaxDiffPage, frame: pd.DataFrame, answers: MaxDiffAnswers
) -> MaxDiffHBResults | None:
    """Each person's anchored utilities from the short HB run (None when it cannot run)."""
    key = (fielding.study.name, page.id, int(pd.util.hash_pandas_object(frame).sum()))
    with _FITS_LOCK:
        if key in _FITS:
            _FITS.move_to_end(key)
            return _FITS[key]
    try:
        with warnings.catch_warnings():  # a live page: its figures are indicative anyway
            warnings.simplefilter("ignore")
            fit = maxdiff_individual(answers, LIVE)
    except (OfferlabError, np.linalg.LinAlgError):
        fit = None
    with _FITS_LOCK:
        _FITS[key] = fit
        while len(_FITS) > _FITS_KEPT:
            _FITS.popitem(last=False)
    return fit


def _nice_ceiling(value: float) -> float:
    """The axis' end: the next multiple of 5 (at most 100)."""
    return float(min(100.0, 5 * math.ceil(value / 5)))


def _turf(
    answers: MaxDiffAnswers,
    individual: MaxDiffHBResults | None,
    label_of: dict[str, str],
    options: NeedsQuery,
    labels: _Labels,
) -> tuple[dict[str, Any] | None, str]:
    """TURF on each person's top items by counts, or (anchored, with ``individual``
    utilities) on the items above their own threshold."""
    k = options.k if options.k is not None else min(3, len(answers.items))
    try:
        reached = maxdiff_reach(answers, individual, top=options.top)
        found = turf(reached, k, max_exact=EXACT_ON_PAGE)
    except OfferlabError:
        return None, labels.t("needs_turf_problem")
    steps = []
    previous = 0.0
    for n, step in enumerate(found.ladder, start=1):
        steps.append(
            {
                "n": n,
                "label": label_of[step.items[-1]],  # the ladder's bundles grow at the end
                "reach": step.reach,
                "reach_text": labels.percent(step.reach),
                "added_text": labels.percent(step.reach - previous),
            }
        )
        previous = step.reach
    return (
        {
            "k": k,
            "top": options.top,
            "anchored": individual is not None and individual.anchored,
            "items": [label_of[i] for i in found.best.items],
            "reach_text": labels.percent(found.best.reach),
            "frequency_text": labels.number(found.best.frequency, 2),
            "exact": found.method == "exact",
            "gap_text": labels.percent(found.gap, 1),
            "steps": steps,
            "chart": _reach_points(steps),
        },
        "",
    )


def _reach_points(steps: list[dict[str, Any]]) -> dict[str, Any]:
    """Coordinates of the incremental-reach chart (a 0–100 % axis, one step per item)."""
    width, height, left, top, bottom = 320, 190, 40, 22, 30
    inner_w, inner_h = width - left - 10, height - top - bottom
    slot = inner_w / max(len(steps), 1)
    points = []
    for i, step in enumerate(steps):
        x = left + (i + 0.5) * slot
        y = top + inner_h * (1 - step["reach"])
        points.append({"x": round(x, 1), "y": round(y, 1), **step})
    return {
        "width": width,
        "height": height,
        "left": left,
        "top": top,
        "bottom": top + inner_h,
        "right": width - 10,
        "grid": [
            {"y": round(top + inner_h * (1 - g / 100), 1), "label": f"{g}\u00a0%"}
            for g in (0, 50, 100)
        ],
        "points": points,
        "line": " ".join(f"{p['x']},{p['y']}" for p in points),
    }


def _kano(fielding: Fielding, page: KanoPage, labels: _Labels) -> KanoView:
    frame = kano_data(fielding, page.id)
    view = KanoView(page.id, int(frame["respondent"].nunique()) if len(frame) else 0)
    if frame.empty:
        return view
    label_of = {f.name: labels.text(f.label) for f in page.features}
    for feature in kano_evaluation(frame):
        shares = feature.shares
        view.rows.append(
            {
                "label": label_of.get(feature.feature, feature.feature),
                "n": sum(feature.counts.values()),
                "category": labels.t(f"needs_kano_{KANO_CATEGORIES[feature.category]}")
                if feature.category
                else "–",
                "shares": [labels.percent(shares[c]) for c in KANO_ORDER],
                "better": labels.number(feature.better, 2),
                "worse": labels.number(feature.worse, 2),
            }
        )
    return view


def _concepts(
    fielding: Fielding, page: ConceptTestPage, options: NeedsQuery, labels: _Labels
) -> ConceptView:
    frame = concept_data(fielding, page.id)
    paired = page.mode == "sequential"
    view = ConceptView(page.id, int(frame["respondent"].nunique()) if len(frame) else 0, paired)
    if frame.empty:
        return view
    title_of = {c.name: labels.text(c.title) for c in page.concepts}
    ratings = frame[["respondent", "concept", options.question, "position"]].rename(
        columns={options.question: "rating"}
    )
    try:
        shares = top_box(ratings, points=POINTS, boxes=BOXES)
        pairs = compare_concepts(ratings, paired=paired, points=POINTS, boxes=BOXES)
    except OfferlabError:
        view.problem = labels.t("needs_concept_problem")
        return view
    for concept in [c.name for c in page.concepts if c.name in shares.index]:
        s = shares.loc[concept]
        view.rows.append(
            {
                "label": title_of[concept],
                "n": int(s["n"]),
                "share": float(s["share"]),
                "low": float(s["low"]),
                "high": float(s["high"]),
                "share_text": labels.percent(s["share"]),
                "interval_text": f"{labels.percent(s['low'])} – {labels.percent(s['high'])}",
            }
        )
    for pair in pairs.to_dict("records"):
        if pair["difference"] < 0:  # the one ahead first: differences read as "ahead by"
            pair = {
                **pair,
                "concept_a": pair["concept_b"],
                "concept_b": pair["concept_a"],
                "difference": -pair["difference"],
                "low": -pair["high"],
                "high": -pair["low"],
            }
        view.pairs.append(
            {
                "a": title_of.get(pair["concept_a"], pair["concept_a"]),
                "b": title_of.get(pair["concept_b"], pair["concept_b"]),
                "difference": labels.points(pair["difference"]),
                "interval_text": labels.t(
                    "needs_points",
                    n=f"{labels.points_number(pair['low'])} – {labels.points_number(pair['high'])}",
                ),
                "p": labels.p_value(pair["p_value"]),
                "p_holm": labels.p_value(pair["p_holm"]),
                "significant": bool(pair["p_holm"] < 0.05),
            }
        )
    for concept in page.concepts:
        texts = [
            str(text).strip()
            for text in frame.loc[frame["concept"] == concept.name, "change"]
            if isinstance(text, str) and text.strip()
        ]
        view.open_answers.append(
            {
                "label": title_of[concept.name],
                "count": len(texts),
                "texts": texts[:MAX_OPEN_ANSWERS],
            }
        )
    return view


# -- the route ---------------------------------------------------------------------------------


def needs_routes(console: Any) -> list[Route]:
    """``/console/studies/{study}/needs``: GET the page (anyone who may read the study)."""

    async def show(request: Request, user: Any, fielding: Fielding, row: StudyRow) -> Response:
        options = needs_query(request.query_params)
        if isinstance(options, Message):
            return console.refuse(request, 400, options, user, back=request.url.path)
        t = ConsoleTexts(console.language(request, user))
        view = await run_in_threadpool(needs_view, fielding, options, t)
        if isinstance(view, Message):
            return console.refuse(request, 400, view, user, back=request.url.path)
        return console.page(
            request,
            "console_needs.html",
            user=user,
            study=row,
            study_title=fielding.study.text(fielding.study.title, t.language) or row.name,
            view=view,
            kano_columns=[(c, t(f"needs_kano_{KANO_CATEGORIES[c]}")) for c in KANO_ORDER],
        )

    return [Route("/console/studies/{study}/needs", console.study_page(show), methods=["GET"])]
