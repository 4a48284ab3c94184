"""The answers out of the database: choice data for ``offerlab estimate``, tidy tables, quality.

* :func:`choice_data`: the choice tasks in offerlab's long format (one row per
  alternative shown, the none row, ``would_buy`` for dual response, ``holdout``),
  which ``offerlab estimate answers.csv --study STUDY.yaml`` reads as it is;
* :func:`maxdiff_data`: a MaxDiff page's screens in the long format
  ``respondent, task, position, item, best, worst`` (one row per item shown; ``anchor``
  with an anchoring question), which
  :func:`offerlab.models.maxdiff_answers` reads as it is;
* :func:`kano_data`: a Kano page's pairs, ``respondent, feature, functional,
  dysfunctional``, for :func:`offerlab.decide.kano_evaluation`;
* :func:`concept_data`: a concept test's answers, one row per person and concept seen
  (``position`` 1 = first), and :func:`concept_ratings`, one question of it as
  ``respondent, concept, rating, position`` for :func:`offerlab.decide.top_box` and
  :func:`offerlab.decide.compare_concepts`;
* :func:`answers_table`: every other answer, one row per value (tidy);
* :func:`respondents_table`: one row per respondent with status, version,
  language, panel parameters, times and the quality flags of :func:`quality_flags`.

Quality flags
-------------
``speeding``: a complete faster than ``quality.speeding_fraction`` of the median
complete (from 5 completes on). ``speeding_tasks``: more than
``quality.max_speeded_tasks`` of the choice tasks answered in less than
``quality.min_task_seconds``. ``straightlining``: one rating for every item of a
scale with three items or more, or the same position chosen in every choice task
(six tasks or more). ``attention_failed``: a wrong answer to the attention check.
``duplicate``: the same panel id as an earlier respondent; without a panel id or
an invitation, the same (salted, hashed) address and browser as an earlier such
respondent (the rule: :mod:`offerlab.field._service`). ``random_choices``: the respondent's RLH (the
geometric mean of the probabilities a multinomial logit, fitted on all completes,
gives their choices) below ``quality.rlh_margin`` times chance. A pooled logit
also gives a low RLH to consistent respondents with unusual tastes, so the flag
is a reason to look, not to drop.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select

from offerlab.field._service import Fielding
from offerlab.store import Respondent, Submission
from offerlab.study import (
    CONCEPT_QUESTIONS,
    QUALITY_FLAGS,
    AnyPage,
    ConceptTestPage,
    KanoPage,
    MaxDiffPage,
    ScalePage,
    SinglePage,
)

__all__ = [
    "answers_table",
    "choice_data",
    "concept_data",
    "concept_ratings",
    "kano_data",
    "maxdiff_data",
    "quality_flags",
    "respondents_table",
]


def _load(fielding: Fielding, with_tests: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Respondents and their submissions; test respondents only when ``with_tests``."""
    with fielding.readers() as session:  # no write lock: submits go on meanwhile
        people = session.execute(
            select(
                Respondent.id,
                Respondent.status,
                Respondent.version,
                Respondent.language,
                Respondent.panel,
                Respondent.flags,
                Respondent.started_at,
                Respondent.finished_at,
            ).where(Respondent.study_id == fielding.study_id)
        ).all()
        pages = session.execute(
            select(Submission.respondent_id, Submission.page, Submission.answer, Submission.seconds)
            .join(Respondent, Respondent.id == Submission.respondent_id)
            .where(Respondent.study_id == fielding.study_id)
            .order_by(Submission.respondent_id, Submission.id)
        ).all()
    people = [p for p in people if not (p.flags or {}).get("test")] if not with_tests else people
    respondents = pd.DataFrame(
        people,
        columns=[
            "respondent",
            "status",
            "version",
            "language",
            "panel",
            "flags",
            "started_at",
            "finished_at",
        ],
    )
    kept = {p.id for p in people}
    pages = [p for p in pages if p.respondent_id in kept]
    submissions = pd.DataFrame(pages, columns=["respondent", "page", "answer", "seconds"])
    return respondents, submissions


def _task_pages(fielding: Fielding) -> str:
    page = fielding.survey.questionnaire.choice_page
    assert page is not None
    return page.id + "."


def choice_data(fielding: Fielding, statuses: tuple[str, ...] = ("complete",)) -> pd.DataFrame:
    """The choice tasks of respondents with these statuses, in offerlab's long format."""
    respondents, submissions = _load(fielding)
    return _choice_frame(fielding, respondents, submissions, statuses)


def _choice_frame(
    fielding: Fielding,
    respondents: pd.DataFrame,
    submissions: pd.DataFrame,
    statuses: tuple[str, ...],
) -> pd.DataFrame:
    survey = fielding.survey
    study = survey.study
    none = study.tasks.none
    keep = respondents.loc[respondents["status"].isin(statuses), ["respondent", "version"]]
    version_of = dict(zip(keep["respondent"], keep["version"], strict=True))
    prefix = _task_pages(fielding)
    rows: list[dict[str, Any]] = []
    for rid, page, answer in submissions[["respondent", "page", "answer"]].itertuples(index=False):
        if rid not in version_of or not page.startswith(prefix):
            continue
        version = int(version_of[rid])
        task = int(answer["task"])
        levels = survey.task_levels(version, task)
        holdout = int(survey.is_holdout(version, task))
        common = {"respondent": int(rid), "task": task, "holdout": holdout}
        if none is not None and none.type == "dual":
            common["would_buy"] = int(answer["would_buy"])
        for j, row in enumerate(levels, start=1):
            values = {
                a.name: study.level_value(a.name, int(level))
                for a, level in zip(study.attributes, row, strict=True)
            }
            chosen = int(answer["choice"] == j)
            rows.append({**common, "alternative": j, "chosen": chosen, "none": 0, **values})
        if none is not None:
            chosen = int(none.type == "plain" and answer["choice"] == 0)
            rows.append({**common, "alternative": len(levels) + 1, "chosen": chosen, "none": 1})
    columns = ["respondent", "task", "alternative", "chosen", *study.attribute_names, "holdout"]
    if none is not None:
        columns.insert(4 + len(study.attribute_names), "none")
        if none.type == "dual":
            columns.append("would_buy")
    frame = pd.DataFrame(rows, columns=columns)
    return frame.sort_values(["respondent", "task", "alternative"], kind="stable").reset_index(
        drop=True
    )


def _page_of_type(fielding: Fielding, kind: type, page_id: str | None) -> AnyPage:
    """The page ``page_id`` of type ``kind``, or the questionnaire's only one of that type."""
    pages = [p for p in fielding.survey.questionnaire.pages if isinstance(p, kind)]
    if page_id is not None:
        pages = [p for p in pages if p.id == page_id]
    if len(pages) != 1:
        what = f"page {page_id!r} of type" if page_id else "exactly one page of type"
        found = ", ".join(p.id for p in pages) or "none"
        raise ValueError(f"the questionnaire needs {what} {kind.__name__} (found: {found})")
    return pages[0]  # type: ignore[no-any-return]


def _answers_of(
    fielding: Fielding, page: AnyPage, statuses: tuple[str, ...]
) -> list[tuple[int, int, dict[str, Any]]]:
    """(respondent, conjoint version, answer) of every screen of ``page``, in order."""
    respondents, submissions = _load(fielding)
    keep = respondents.loc[respondents["status"].isin(statuses)]
    version_of = dict(zip(keep["respondent"], keep["version"], strict=True))
    prefix = page.id + "."
    return [
        (int(rid), int(version_of[rid]), answer)
        for rid, key, answer in submissions[["respondent", "page", "answer"]].itertuples(
            index=False
        )
        if rid in version_of and key.startswith(prefix)
    ]


def maxdiff_data(
    fielding: Fielding, page_id: str | None = None, statuses: tuple[str, ...] = ("complete",)
) -> pd.DataFrame:
    """A MaxDiff page's answers, one row per item shown (see the module's description).

    Columns: ``respondent``, ``version`` (the MaxDiff version), ``task``, ``position``
    (from 1, as shown), ``item``, ``best`` and ``worst`` (1 for the item picked, else 0).
    A page with an anchor adds ``anchor``: a dual response's ``all`` / ``some`` / ``none``
    on every row of its task; a direct binary screen as rows of ``task`` 0, one per item
    (``position`` its place on the screen), ``best`` = ``worst`` = 0 and ``anchor``
    ``yes`` (ticked: it matters) or ``no``.
    """
    page = _page_of_type(fielding, MaxDiffPage, page_id)
    assert isinstance(page, MaxDiffPage)
    survey = fielding.survey
    rows = []
    for rid, version, answer in _answers_of(fielding, page, statuses):
        md_version = survey.maxdiff_version(page.id, version)
        if "important" in answer:  # the direct binary screen
            for position, item in enumerate(page.items, start=1):
                said = "yes" if item.name in answer["important"] else "no"
                rows.append((rid, md_version, 0, position, item.name, 0, 0, said))
            continue
        task = int(answer["task"])
        shown = survey.maxdiff_items(f"{page.id}.{task}", version)
        for position, item in enumerate(shown, start=1):
            best, worst = int(item == answer["best"]), int(item == answer["worst"])
            said = answer.get("anchor", "")
            rows.append((rid, md_version, task, position, item, best, worst, said))
    columns = ["respondent", "version", "task", "position", "item", "best", "worst", "anchor"]
    frame = pd.DataFrame(rows, columns=columns)
    if page.anchor is None:
        frame = frame.drop(columns="anchor")
    return frame.sort_values(["respondent", "task", "position"], kind="stable").reset_index(
        drop=True
    )


def kano_data(
    fielding: Fielding, page_id: str | None = None, statuses: tuple[str, ...] = ("complete",)
) -> pd.DataFrame:
    """A Kano page's answers: ``respondent, feature, functional, dysfunctional`` (answers
    ``like``, ``expect``, ``neutral``, ``tolerate``, ``dislike``), features in the file's order."""
    page = _page_of_type(fielding, KanoPage, page_id)
    rows = [
        (rid, a["feature"], a["functional"], a["dysfunctional"])
        for rid, _, a in _answers_of(fielding, page, statuses)
    ]
    frame = pd.DataFrame(rows, columns=["respondent", "feature", "functional", "dysfunctional"])
    order = {f.name: k for k, f in enumerate(page.features)}  # type: ignore[attr-defined]
    frame = frame.assign(_order=frame["feature"].map(order))
    frame = frame.sort_values(["_order", "respondent"], kind="stable").drop(columns="_order")
    return frame.reset_index(drop=True)


def concept_data(
    fielding: Fielding, page_id: str | None = None, statuses: tuple[str, ...] = ("complete",)
) -> pd.DataFrame:
    """A concept test's answers, one row per person and concept seen.

    Columns: ``respondent``, ``concept``, ``position`` (1: seen first), the five-point
    ratings ``appeal``, ``intent`` (purchase intent, 5 = definitely), ``uniqueness``,
    ``believability``, ``value`` (value for money), and ``change`` (the open answer).
    """
    page = _page_of_type(fielding, ConceptTestPage, page_id)
    columns = ["respondent", "concept", "position", *CONCEPT_QUESTIONS, "change"]
    rows = [
        [rid, *(a[c] for c in columns[1:])] for rid, _, a in _answers_of(fielding, page, statuses)
    ]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.sort_values(["respondent", "position"], kind="stable").reset_index(drop=True)


def concept_ratings(
    fielding: Fielding,
    question: str = "intent",
    page_id: str | None = None,
    statuses: tuple[str, ...] = ("complete",),
) -> pd.DataFrame:
    """One question of a concept test as ``respondent, concept, rating, position``."""
    if question not in CONCEPT_QUESTIONS:
        raise ValueError(f"question is one of {', '.join(CONCEPT_QUESTIONS)}, got {question!r}")
    frame = concept_data(fielding, page_id, statuses)
    return frame[["respondent", "concept", question, "position"]].rename(
        columns={question: "rating"}
    )


def answers_table(fielding: Fielding) -> pd.DataFrame:
    """Every answer but the choice tasks, one row per value.

    Columns: ``respondent``, ``page``, ``item`` (the scale item, the chosen option
    of a multi question, the price question, "open:OPTION" for an open text, or
    empty), ``value`` (text) and ``seconds`` on the page.
    """
    _, submissions = _load(fielding)
    prefix = _task_pages(fielding)
    rows = []
    for rid, page, answer, seconds in submissions.itertuples(index=False):
        if page.startswith(prefix):
            continue
        for item, value in _flatten(answer):
            rows.append((int(rid), page, item, value, float(seconds)))
    return pd.DataFrame(rows, columns=["respondent", "page", "item", "value", "seconds"])


def _flatten(answer: dict[str, Any]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for key, value in answer.items():
        if key in ("choice", "consent", "text", "number", "likelihood"):
            out.append(("", str(value)))
        elif key == "choices":
            out += [(name, "1") for name in value]
        elif key in ("ratings", "open") and isinstance(value, dict):
            prefix = "open:" if key == "open" else ""
            out += [(prefix + name, str(v)) for name, v in value.items()]
        elif key == "open":
            out.append(("open:" + str(answer.get("choice", "")), str(value)))
        else:  # price questions: too_cheap, cheap…, at_cheap…, price
            out.append((key, str(value)))
    return out


def quality_flags(fielding: Fielding) -> pd.DataFrame:
    """The quality flags of every respondent (rows: respondent ids; columns: the study's
    :data:`~offerlab.study.QUALITY_FLAGS`)."""
    respondents, submissions = _load(fielding)
    return _flags(fielding, respondents, submissions)


def _flags(
    fielding: Fielding, respondents: pd.DataFrame, submissions: pd.DataFrame
) -> pd.DataFrame:
    q = fielding.survey.questionnaire
    rules = q.quality
    index = pd.Index(respondents["respondent"].astype(int), name="respondent")
    flags = pd.DataFrame(False, index=index, columns=list(QUALITY_FLAGS))
    if respondents.empty:
        return flags
    complete = respondents["status"].eq("complete").to_numpy()
    duration = (respondents["finished_at"] - respondents["started_at"]).to_numpy(dtype=float)
    if complete.sum() >= 5:
        median = float(np.median(duration[complete]))
        flags["speeding"] = complete & (duration < rules.speeding_fraction * median)
    flags["duplicate"] = [bool((f or {}).get("duplicate_of")) for f in respondents["flags"]]
    prefix = _task_pages(fielding)
    by_respondent = submissions.groupby("respondent", sort=False)
    attention = [p for p in q.pages if isinstance(p, SinglePage) and p.attention_check]
    scales = {p.id for p in q.pages if isinstance(p, ScalePage) and len(p.items) >= 3}
    for rid, group in by_respondent:
        pages = dict(zip(group["page"], group["answer"], strict=True))
        tasks = group[group["page"].str.startswith(prefix)]
        if len(tasks):
            fast = (tasks["seconds"] < rules.min_task_seconds).mean()
            flags.loc[rid, "speeding_tasks"] = fast > rules.max_speeded_tasks
        positions = {a["choice"] for a in tasks["answer"]}
        same_position = len(tasks) >= 6 and len(positions) == 1
        flat_scale = any(len(set(pages[s]["ratings"].values())) == 1 for s in scales if s in pages)
        flags.loc[rid, "straightlining"] = same_position or flat_scale
        flags.loc[rid, "attention_failed"] = any(
            p.id in pages and pages[p.id]["choice"] != p.attention_check.correct  # type: ignore[union-attr]
            for p in attention
        )
    flags["random_choices"] = _random_choices(fielding, respondents, submissions, index)
    return flags


def _random_choices(
    fielding: Fielding, respondents: pd.DataFrame, submissions: pd.DataFrame, index: pd.Index
) -> pd.Series:
    """RLH below margin × chance under a logit fitted on all completes (False if no fit)."""
    from offerlab.data import ChoiceData
    from offerlab.exceptions import OfferlabError
    from offerlab.models import MultinomialLogit

    out = pd.Series(False, index=index)
    frame = _choice_frame(fielding, respondents, submissions, ("complete",))
    if frame.empty or frame["respondent"].nunique() < 10:
        return out
    study = fielding.study
    try:
        data = ChoiceData.from_frame(frame, study, source="fielded answers")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            results = MultinomialLogit().fit(data, study=study)
        probability = results.predict(data).to_numpy()
    except (OfferlabError, np.linalg.LinAlgError, ValueError):
        return out
    frame = frame.assign(p=probability)
    frame = frame[frame["holdout"] == 0]
    none = study.tasks.none
    J = fielding.survey.design.n_alternatives
    if none is not None and none.type == "dual":  # the forced choice among the concepts
        concepts = frame[frame["none"] == 0]
        total = concepts.groupby(["respondent", "task"])["p"].transform("sum")
        frame = concepts.assign(p=concepts["p"] / total)
        chance = 1 / J
    else:
        chance = 1 / (J + (1 if none is not None else 0))
    chosen = frame[frame["chosen"] == 1]
    rlh = np.exp(np.log(chosen["p"].clip(lower=1e-12)).groupby(chosen["respondent"]).mean())
    low = rlh < study.questionnaire.quality.rlh_margin * chance  # type: ignore[union-attr]
    out.loc[low.index[low]] = True
    return out


def respondents_table(fielding: Fielding) -> pd.DataFrame:
    """One row per respondent: status, version, language, panel parameters, times, flags."""
    respondents, submissions = _load(fielding)
    flags = _flags(fielding, respondents, submissions)
    panel = pd.DataFrame(
        [dict(p or {}) for p in respondents["panel"]],
        columns=fielding.survey.questionnaire.panel_parameters,
        index=respondents.index,
    )
    table = pd.concat([respondents.drop(columns=["panel", "flags"]), panel], axis=1)
    table["seconds"] = table["finished_at"] - table["started_at"]
    pages_done = submissions.groupby("respondent").size()
    table["pages"] = table["respondent"].map(pages_done).fillna(0).astype(int)
    table = table.join(flags, on="respondent")
    return table
