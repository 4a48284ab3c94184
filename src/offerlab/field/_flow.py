"""The survey's logic, free of the web and the database: pages, order, display logic, answers.

A respondent's way through the questionnaire is a *sequence* of page keys drawn
once on entry (random groups shuffled with the respondent's seed; the choice
tasks of their design version; the price ladder). Which keys are shown is
decided on the way, from earlier answers (``show_if``, the Gabor–Granger stop).

Page keys: a page's id; ``tasks.3`` for the third choice task of a
``choice_tasks`` page with id ``tasks``; ``price.nms`` for the Newton–Miller–
Smith follow-ups of a Van Westendorp page ``price``; ``ladder.590`` for one
price of a Gabor–Granger page ``ladder``; ``motives.2`` for the second screen of a
MaxDiff page ``motives``, the second feature of a Kano page or the concept in the
second position of a concept test.

The MaxDiff design and the concept orders are made from the study's seed (and the
page's id), so they are the same every time the study is loaded; a respondent's
MaxDiff version and concept order follow their conjoint version (round-robin over
entries), which makes them stable and balanced.

:func:`parse_answer` turns a submitted form into the answer stored (a small
JSON document), or raises :class:`AnswerError` with messages in the
respondent's language. Nothing about a page is trusted from the form but the
answer: options are checked against the page, numbers against their bounds,
texts against their length.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from offerlab.decide import KANO_ANSWERS, sequential_orders
from offerlab.design import Design, MaxDiffDesign, make_maxdiff_design
from offerlab.exceptions import OfferlabError
from offerlab.field._texts import ui
from offerlab.study import (
    CONCEPT_QUESTIONS,
    AnyPage,
    ChoiceTasksPage,
    ConceptTestPage,
    ConsentPage,
    GaborGrangerPage,
    InfoPage,
    KanoPage,
    MaxDiffPage,
    MultiPage,
    NumberPage,
    Questionnaire,
    Range,
    ScalePage,
    SinglePage,
    Study,
    TextPage,
    VanWestendorpPage,
)

__all__ = [
    "MAX_TEXT",
    "AnswerError",
    "Survey",
]

#: Longest text accepted in any field (open answers have their own, lower limit).
MAX_TEXT = 10_000
_INTEGER = re.compile(r"-?[0-9]{1,12}")
VW_FIELDS = ("too_cheap", "cheap", "expensive", "too_expensive")

Answers = Mapping[str, Mapping[str, Any]]  # page key → stored answer


class AnswerError(Exception):
    """A submitted page cannot be stored; ``messages`` say why, in the respondent's language."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


@dataclass(frozen=True)
class Survey:
    """A study's questionnaire and design, ready to be fielded.

    Parameters
    ----------
    study : Study
        The study; its ``questionnaire`` must be set.
    design : Design
        The design whose versions respondents are assigned to.
    """

    study: Study
    design: Design

    def __post_init__(self) -> None:
        if self.study.questionnaire is None:
            raise ValueError("the study has no questionnaire")
        frame = self.design.to_frame()
        names = self.study.attribute_names
        index = np.column_stack([[self.study.level_index(a, v) for v in frame[a]] for a in names])
        V = self.design.n_versions
        T = int(frame["task"].max())
        J = self.design.n_alternatives
        # (versions, tasks incl. holdouts, alternatives, attributes) level indices
        object.__setattr__(self, "_levels", index.reshape(V, T, J, len(names)))
        object.__setattr__(self, "_holdout", frame["holdout"].to_numpy().reshape(V, T, J)[..., 0])
        pages = self.questionnaire.pages
        maxdiff = {p.id: self._maxdiff_design(p) for p in pages if isinstance(p, MaxDiffPage)}
        object.__setattr__(self, "_maxdiff", maxdiff)
        orders = {p.id: self._concept_orders(p) for p in pages if isinstance(p, ConceptTestPage)}
        object.__setattr__(self, "_orders", orders)

    def _page_seed(self, page_id: str) -> int:
        """A seed fixed by the study (its design seed, else its name) and the page."""
        base = self.study.design.seed
        text = f"{self.study.name}/{page_id}/{'' if base is None else base}"
        return zlib.crc32(text.encode())

    def _maxdiff_design(self, page: MaxDiffPage) -> MaxDiffDesign:
        design = _cached_maxdiff(
            tuple(i.name for i in page.items),
            page.per_task,
            page.tasks,
            page.versions,
            tuple((a, b) for a, b in page.prohibited),
            self._page_seed(page.id),
        )
        kept = [p for p in design.diagnostics.problems if "prohibited" in p]
        if kept:
            raise OfferlabError(
                f"MaxDiff page {page.id!r}: no design of {page.tasks} tasks × {page.per_task} "
                f"items keeps the prohibited pairs apart ({'; '.join(kept)}): use more tasks "
                "or fewer items per task, or drop a pair"
            )
        return design

    def _concept_orders(self, page: ConceptTestPage) -> list[tuple[int, ...]]:
        """The concepts (indices) each group of respondents sees, in order."""
        n = len(page.concepts)
        if page.mode == "monadic" or n == 1:
            return [(j,) for j in range(n)]
        names = [str(j) for j in range(n)]
        deck = sequential_orders(names, n if n % 2 == 0 else 2 * n, seed=self._page_seed(page.id))
        return [tuple(int(j) for j in order) for order in deck]

    # -- MaxDiff and concept tests ---------------------------------------------------
    def needs_version(self, key: str) -> bool:
        """Whether page ``key`` shows what the respondent's design version decides."""
        return isinstance(self.page_of(key), ChoiceTasksPage | MaxDiffPage | ConceptTestPage)

    def maxdiff_design(self, page_id: str) -> MaxDiffDesign:
        """The MaxDiff design of a page."""
        return self._maxdiff[page_id]  # type: ignore[attr-defined,no-any-return]

    def maxdiff_version(self, page_id: str, version: int) -> int:
        """The MaxDiff version (from 1) a respondent of conjoint ``version`` answers."""
        return (version - 1) % self.maxdiff_design(page_id).sets.shape[0] + 1

    def maxdiff_items(self, key: str, version: int) -> list[str]:
        """The item names of a MaxDiff screen (key ``page.task``), in the order shown."""
        page_id, task = key.rsplit(".", 1)
        design = self.maxdiff_design(page_id)
        shown = design.sets[self.maxdiff_version(page_id, version) - 1, int(task) - 1]
        return [design.items[int(j)] for j in shown]

    def concept_order(self, page_id: str, version: int) -> tuple[int, ...]:
        """The concepts (indices into the page's list) a respondent sees, in order."""
        orders = self._orders[page_id]  # type: ignore[attr-defined]
        return orders[(version - 1) % len(orders)]  # type: ignore[no-any-return]

    # -- structure ------------------------------------------------------------------
    @property
    def questionnaire(self) -> Questionnaire:
        assert self.study.questionnaire is not None  # checked in __post_init__
        return self.study.questionnaire

    @property
    def n_versions(self) -> int:
        return self.design.n_versions

    @property
    def n_tasks(self) -> int:
        """Choice tasks shown to each respondent, holdouts included."""
        return int(self._levels.shape[1])  # type: ignore[attr-defined]

    def task_levels(self, version: int, task: int) -> np.ndarray:
        """Level indices (alternatives, attributes) of a task; version and task from 1."""
        return self._levels[version - 1, task - 1]  # type: ignore[attr-defined,no-any-return]

    def is_holdout(self, version: int, task: int) -> bool:
        return bool(self._holdout[version - 1, task - 1])  # type: ignore[attr-defined]

    def page_of(self, key: str) -> AnyPage:
        return self.questionnaire.page(key.split(".", 1)[0])

    # -- the sequence ------------------------------------------------------------------
    def sequence(self, seed: int) -> list[str]:
        """Every page key a respondent may see, in order (random groups shuffled)."""
        rng = np.random.default_rng([seed, 1])
        pages = list(self.questionnaire.pages)
        ordered: list[AnyPage] = []
        i = 0
        while i < len(pages):
            group = pages[i].random_group
            j = i + 1
            while group is not None and j < len(pages) and pages[j].random_group == group:
                j += 1
            block = pages[i:j]
            if group is not None and len(block) > 1:
                block = [block[k] for k in rng.permutation(len(block))]
            ordered += block  # type: ignore[arg-type]
            i = j
        keys: list[str] = []
        for page in ordered:
            if isinstance(page, ChoiceTasksPage):
                keys += [f"{page.id}.{t}" for t in range(1, self.n_tasks + 1)]
            elif isinstance(page, VanWestendorpPage):
                keys.append(page.id)
                if page.purchase_likelihood is not None:
                    keys.append(f"{page.id}.nms")
            elif isinstance(page, GaborGrangerPage):
                keys += [f"{page.id}.{p}" for p in sorted(page.prices, reverse=True)]
            elif isinstance(page, MaxDiffPage | KanoPage | ConceptTestPage):
                keys += [f"{page.id}.{k}" for k in range(1, _screens(page) + 1)]
                if isinstance(page, MaxDiffPage) and is_binary_anchor(page):
                    keys.append(f"{page.id}.{ANCHOR_SCREEN}")
            else:
                keys.append(page.id)
        return keys

    def option_order(self, key: str, seed: int, n: int, fixed: Sequence[bool]) -> list[int]:
        """Indices of a page's options as shown: shuffled per respondent, fixed ones in place."""
        page = self.page_of(key)
        if not getattr(page, "shuffle_options", False):
            return list(range(n))
        rng = np.random.default_rng([seed, 2, *key.encode()])
        movable = [i for i in range(n) if not fixed[i]]
        shuffled = iter([movable[k] for k in rng.permutation(len(movable))])
        return [i if fixed[i] else next(shuffled) for i in range(n)]

    # -- display logic -------------------------------------------------------------------
    def is_shown(self, key: str, answers: Answers) -> bool:
        """Whether the page ``key`` is shown, given the answers so far."""
        page = self.page_of(key)
        for ref, condition in (page.show_if or {}).items():
            if not _holds(self.questionnaire.page(ref), condition, answers.get(ref)):
                return False
        if isinstance(page, VanWestendorpPage) and key.endswith(".nms"):
            return page.id in answers
        if isinstance(page, GaborGrangerPage):
            price = int(key.split(".", 1)[1])
            for higher in page.prices:
                answer = answers.get(f"{page.id}.{higher}")
                if higher > price and answer and answer["likelihood"] >= page.accept_from:
                    return False
        return True

    def next_position(self, sequence: Sequence[str], start: int, answers: Answers) -> int:
        """The first position from ``start`` whose page is shown (``len(sequence)``: the end)."""
        for position in range(start, len(sequence)):
            if self.is_shown(sequence[position], answers):
                return position
        return len(sequence)

    def progress(self, sequence: Sequence[str], position: int, answers: Answers) -> int:
        """How far a respondent is, in percent: the pages answered over those answered, the
        current one and those sure to come.

        A page whose showing is still open (its condition rests on an answer not given yet,
        the next step down a price ladder) counts only once it is sure: counting it before
        and dropping it later made the figure leap (the ladder's four skipped prices took
        it from 81 % to 97 % in one step). So each answer moves it by about one page.
        """
        done = sum(1 for key in sequence[:position] if key in answers)
        current = 1 if position < len(sequence) else 0
        coming = sum(1 for key in sequence[position + 1 :] if self._sure_to_show(key, answers))
        total = done + current + coming
        return round(100 * done / total) if total else 100

    def _sure_to_show(self, key: str, answers: Answers) -> bool:
        """Whether page ``key`` will be shown whatever the answers still to come."""
        page = self.page_of(key)
        if any(ref not in answers for ref in page.show_if or {}):
            return False
        if isinstance(page, GaborGrangerPage):
            price = int(key.split(".", 1)[1])
            if any(p > price and f"{page.id}.{p}" not in answers for p in page.prices):
                return False
        if isinstance(page, VanWestendorpPage):
            key = page.id  # the follow-ups come with the price questions
        return self.is_shown(key, answers)

    def screens_out(self, key: str, answer: Mapping[str, Any]) -> bool:
        """Whether this answer ends the survey as a screen-out."""
        page = self.page_of(key)
        if isinstance(page, ConsentPage):
            return answer["consent"] != "agree"
        if isinstance(page, SinglePage | MultiPage):
            chosen = [answer["choice"]] if isinstance(page, SinglePage) else answer["choices"]
            if page.qualify is not None and not any(c in page.qualify for c in chosen):
                return True
            bad = {o.name for o in page.options if o.screen_out}
            return any(c in bad for c in chosen)
        return False

    def quota_cells(self, answers: Answers) -> list[tuple[str, str]]:
        """The (quota, option) cells a respondent counts in, from their answers."""
        cells = []
        for quota in self.questionnaire.quotas:
            answer = answers.get(quota.question)
            if answer is not None and answer["choice"] in quota.targets:
                cells.append((quota.name, answer["choice"]))
        return cells

    # -- answers ----------------------------------------------------------------------------
    def parse_answer(
        self,
        key: str,
        form: Mapping[str, list[str]],
        language: str,
        answers: Answers,
        version: int = 1,
    ) -> dict[str, Any]:
        """The answer to store for page ``key`` from a submitted form.

        Parameters
        ----------
        key : str
            The page key the form answers.
        form : mapping of str to list of str
            Every value submitted per field name.
        language : str
            The respondent's language, for the messages.
        answers : mapping
            Earlier answers (the NMS follow-ups need the Van Westendorp prices).
        version : int
            The respondent's design version (which MaxDiff items and concept they saw).

        Raises
        ------
        AnswerError
            When the form does not answer the page: nothing is stored.
        """
        page = self.page_of(key)
        lang = language
        if isinstance(page, InfoPage):  # nothing to answer: stored as seen
            return {}
        if isinstance(page, ConsentPage):
            value = _one(form, "answer", lang)
            if value not in ("agree", "decline"):
                raise AnswerError([ui("err_unknown", lang)])
            return {"consent": value}
        if isinstance(page, SinglePage):
            return self._single(page, form, lang)
        if isinstance(page, MultiPage):
            return self._multi(page, form, lang)
        if isinstance(page, ScalePage):
            ratings = {}
            for item in page.items:
                value = _first(form, f"item_{item.name}")
                ratings[item.name] = _int_in(value, 1, page.points)
            if any(v is None for v in ratings.values()):
                raise AnswerError([ui("err_items", lang)])
            return {"ratings": ratings}
        if isinstance(page, TextPage):
            text = (_first(form, "text") or "").strip()
            if len(text) > page.max_length:
                raise AnswerError([ui("err_too_long", lang, n=page.max_length)])
            if page.required and not text:
                raise AnswerError([ui("err_required", lang)])
            return {"text": text}
        if isinstance(page, NumberPage):
            number = _int_in(_first(form, "number"), page.min, page.max)
            if number is None:
                raise AnswerError([ui("err_number", lang, min=page.min, max=page.max)])
            return {"number": number}
        if isinstance(page, ChoiceTasksPage):
            return self._task(key, form, lang)
        if isinstance(page, VanWestendorpPage):
            if key.endswith(".nms"):
                points = {}
                for name in ("at_cheap", "at_expensive"):
                    points[name] = _int_in(_first(form, name), 1, 5)
                if any(v is None for v in points.values()):
                    raise AnswerError([ui("err_items", lang)])
                prices = answers.get(page.id, {})
                return {
                    **points,
                    "cheap": prices.get("cheap"),
                    "expensive": prices.get("expensive"),
                }
            prices = {name: _int_in(_first(form, name), page.min, page.max) for name in VW_FIELDS}
            if any(v is None for v in prices.values()):
                raise AnswerError([ui("err_number", lang, min=page.min, max=page.max)])
            values = [prices[name] for name in VW_FIELDS]
            if values != sorted(values):  # type: ignore[type-var]
                raise AnswerError([ui("err_price_order", lang)])
            return prices
        if isinstance(page, GaborGrangerPage):
            likelihood = _int_in(_first(form, "likelihood"), 1, 5)
            if likelihood is None:
                raise AnswerError([ui("err_choose", lang)])
            return {"price": int(key.split(".", 1)[1]), "likelihood": likelihood}
        if isinstance(page, MaxDiffPage):
            return self._maxdiff_answer(key, form, lang, version)
        if isinstance(page, KanoPage):
            return _kano_answer(page, key, form, lang)
        if isinstance(page, ConceptTestPage):
            return self._concept_answer(page, key, form, lang, version)
        raise AnswerError([ui("err_unknown", lang)])  # pragma: no cover - every type above

    def _maxdiff_answer(
        self, key: str, form: Mapping[str, list[str]], lang: str, version: int
    ) -> dict[str, Any]:
        """The items picked most and least important (names of items shown on the screen),
        and the dual-response anchor's answer; on the direct binary screen, the items that
        matter at all."""
        page = self.page_of(key)
        assert isinstance(page, MaxDiffPage)
        if key.endswith(f".{ANCHOR_SCREEN}"):
            return _binary_anchor_answer(page, form, lang, self.study)
        shown = self.maxdiff_items(key, version)
        best, worst = _first(form, "best"), _first(form, "worst")
        if best is None or worst is None:
            raise AnswerError([ui("err_maxdiff_both", lang)])
        if (
            best not in shown
            or worst not in shown
            or len(form.get("best", [])) != 1
            or len(form.get("worst", [])) != 1
        ):
            raise AnswerError([ui("err_unknown", lang)])
        if best == worst:
            raise AnswerError([ui("err_maxdiff_same", lang)])
        answer: dict[str, Any] = {"task": int(key.rsplit(".", 1)[1]), "best": best, "worst": worst}
        if page.anchor is not None and page.anchor.type == "dual_response":
            anchor = form.get("anchor", [])
            if len(anchor) != 1 or anchor[0] not in DUAL_RESPONSE_ANSWERS:
                raise AnswerError([ui("err_maxdiff_anchor", lang)])
            answer["anchor"] = anchor[0]
        return answer

    def _concept_answer(
        self,
        page: ConceptTestPage,
        key: str,
        form: Mapping[str, list[str]],
        lang: str,
        version: int,
    ) -> dict[str, Any]:
        position = int(key.rsplit(".", 1)[1])
        concept = page.concepts[self.concept_order(page.id, version)[position - 1]]
        ratings = {name: _int_in(_first(form, name), 1, 5) for name in CONCEPT_QUESTIONS}
        if any(v is None for v in ratings.values()):
            raise AnswerError([ui("err_items", lang)])
        change = (_first(form, "change") or "").strip()
        if len(change) > 2000:
            raise AnswerError([ui("err_too_long", lang, n=2000)])
        return {"concept": concept.name, "position": position, **ratings, "change": change}

    def _single(self, page: SinglePage, form: Mapping[str, list[str]], lang: str) -> dict[str, Any]:
        value = _one(form, "answer", lang)
        options = {o.name: o for o in page.options}
        if value not in options:
            raise AnswerError([ui("err_unknown", lang)])
        answer: dict[str, Any] = {"choice": value}
        if options[value].open:
            answer["open"] = self._open_text(options[value], form, lang)
        return answer

    def _multi(self, page: MultiPage, form: Mapping[str, list[str]], lang: str) -> dict[str, Any]:
        values = form.get("answer", [])
        options = {o.name: o for o in page.options}
        if any(v not in options for v in values) or len(set(values)) != len(values):
            raise AnswerError([ui("err_unknown", lang)])
        chosen = [o.name for o in page.options if o.name in values]  # in the file's order
        if len(chosen) < page.min_choices:
            raise AnswerError([ui("err_at_least", lang, n=page.min_choices)])
        if page.max_choices is not None and len(chosen) > page.max_choices:
            raise AnswerError([ui("err_at_most", lang, n=page.max_choices)])
        for name in chosen:
            if options[name].exclusive and len(chosen) > 1:
                label = self.study.text(options[name].label, lang)
                raise AnswerError([ui("err_exclusive", lang, label=label)])
        answer: dict[str, Any] = {"choices": chosen}
        opened = {
            name: self._open_text(options[name], form, lang)
            for name in chosen
            if options[name].open
        }
        if opened:
            answer["open"] = opened
        return answer

    def _open_text(self, option: Any, form: Mapping[str, list[str]], lang: str) -> str:
        text = (_first(form, f"open_{option.name}") or "").strip()
        if not text:
            raise AnswerError([ui("err_open", lang, label=self.study.text(option.label, lang))])
        if len(text) > 500:
            raise AnswerError([ui("err_too_long", lang, n=500)])
        return text

    def _task(self, key: str, form: Mapping[str, list[str]], lang: str) -> dict[str, Any]:
        J = int(self._levels.shape[2])  # type: ignore[attr-defined]
        none = self.study.tasks.none
        low = 0 if none is not None and none.type == "plain" else 1
        choice = _int_in(_one(form, "choice", lang), low, J)
        if choice is None:
            raise AnswerError([ui("err_choose", lang)])
        answer: dict[str, Any] = {"task": int(key.rsplit(".", 1)[1]), "choice": choice}
        if none is not None and none.type == "dual":
            would_buy = _first(form, "would_buy")
            if would_buy not in ("1", "0"):
                raise AnswerError([ui("err_would_buy", lang)])
            answer["would_buy"] = int(would_buy)
        return answer


#: The key suffix of a MaxDiff page's direct binary screen (``motives.anchor``).
ANCHOR_SCREEN = "anchor"
#: What the dual-response question may answer, in the order shown.
DUAL_RESPONSE_ANSWERS = ("all", "some", "none")
#: The direct binary screen's "none of them matters" (not an item name: those are
#: identifiers).
NONE_IMPORTANT = "-"


@lru_cache(maxsize=32)
def _cached_maxdiff(
    items: tuple[str, ...],
    per_task: int,
    tasks: int,
    versions: int,
    prohibited: tuple[tuple[str, str], ...],
    seed: int,
) -> MaxDiffDesign:
    # A few thousand swaps reach the balance of the default 30,000 on survey-sized designs
    # in a tenth of the time; the number is part of what fixes the design, so it stays.
    return make_maxdiff_design(
        items, per_task, tasks, versions=versions, prohibited=prohibited, seed=seed, steps=3000
    )


def is_binary_anchor(page: MaxDiffPage) -> bool:
    """Whether the MaxDiff page ends with the direct binary anchor's own screen."""
    return page.anchor is not None and page.anchor.type == "direct_binary"


def _binary_anchor_answer(
    page: MaxDiffPage, form: Mapping[str, list[str]], lang: str, study: Study
) -> dict[str, Any]:
    """The items ticked as mattering at all (in the file's order); ``-`` ticks none."""
    values = form.get("important", [])
    names = [item.name for item in page.items]
    if any(v not in (*names, NONE_IMPORTANT) for v in values) or len(set(values)) != len(values):
        raise AnswerError([ui("err_unknown", lang)])
    if not values:
        raise AnswerError([ui("err_maxdiff_important", lang)])
    if NONE_IMPORTANT in values and len(values) > 1:
        label = page.anchor.none if page.anchor is not None else ""  # type: ignore[union-attr]
        raise AnswerError([ui("err_exclusive", lang, label=study.text(label, lang))])
    return {"important": [name for name in names if name in values]}


def _screens(page: MaxDiffPage | KanoPage | ConceptTestPage) -> int:
    """How many screens a MaxDiff, Kano or concept-test page takes."""
    if isinstance(page, MaxDiffPage):
        return page.tasks
    if isinstance(page, KanoPage):
        return len(page.features)
    return 1 if page.mode == "monadic" else len(page.concepts)


def _kano_answer(
    page: KanoPage, key: str, form: Mapping[str, list[str]], lang: str
) -> dict[str, Any]:
    feature = page.features[int(key.rsplit(".", 1)[1]) - 1]
    pair = {name: _first(form, name) for name in ("functional", "dysfunctional")}
    if any(v is None for v in pair.values()):
        raise AnswerError([ui("err_items", lang)])
    if any(v not in KANO_ANSWERS for v in pair.values()):
        raise AnswerError([ui("err_unknown", lang)])
    return {"feature": feature.name, **pair}


def _holds(page: AnyPage, condition: list[str] | Range, answer: Mapping[str, Any] | None) -> bool:
    if answer is None:
        return False
    if isinstance(condition, Range):
        number = answer.get("number")
        if number is None:
            return False
        return (condition.min is None or number >= condition.min) and (
            condition.max is None or number <= condition.max
        )
    if isinstance(page, ConsentPage):
        return answer.get("consent") in condition
    if isinstance(page, MultiPage):
        return any(c in condition for c in answer.get("choices", []))
    return answer.get("choice") in condition


def _first(form: Mapping[str, list[str]], name: str) -> str | None:
    values = form.get(name) or []
    return values[0] if values else None


def _one(form: Mapping[str, list[str]], name: str, lang: str) -> str:
    values = form.get(name) or []
    if len(values) != 1 or not values[0]:
        raise AnswerError([ui("err_choose", lang)])
    return values[0]


def _int_in(value: str | None, low: int, high: int) -> int | None:
    """``value`` as a whole number within [low, high], or None."""
    if value is None:
        return None
    text = value.strip().replace("'", "").replace("’", "")  # Swiss 1'000
    if not _INTEGER.fullmatch(text):
        return None
    number = int(text)
    return number if low <= number <= high else None
