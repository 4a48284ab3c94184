"""What a page shows: the template context of a respondent's current page, in their language."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from offerlab.decide import KANO_ANSWERS
from offerlab.field._flow import (
    ANCHOR_SCREEN,
    DUAL_RESPONSE_ANSWERS,
    NONE_IMPORTANT,
    VW_FIELDS,
    Survey,
)
from offerlab.field._service import Snapshot
from offerlab.field._texts import LANGUAGE_NAMES, ui
from offerlab.study import (
    CONCEPT_QUESTIONS,
    ChoiceTasksPage,
    ConceptTestPage,
    ConsentPage,
    GaborGrangerPage,
    KanoPage,
    MaxDiffPage,
    MultiPage,
    NumberPage,
    ScalePage,
    SinglePage,
    TextPage,
    VanWestendorpPage,
    concept_image,
)

__all__ = ["frame_context", "page_context"]


def frame_context(survey: Survey, lang: str) -> dict[str, Any]:
    """What every page has: the language, the title, the language switch."""
    study = survey.study
    return {
        "lang": lang,
        "title": study.text(study.title, lang) or study.name,
        "languages": [(code, LANGUAGE_NAMES[code]) for code in study.languages],
        "t_language": ui("language", lang),
    }


def _price(survey: Survey, value: int | float, lang: str) -> str:
    """A price in the study's own format, as the choice tasks show it, kept on one line
    inside a question ('à CHF' / '450.– / mois' reads badly)."""
    price = survey.study.price_attribute
    if price is None:  # the study's checks ask for a price attribute with price questions
        return str(value)
    return survey.study.value_label(price.name, value, lang).replace(" ", "\u00a0")


def _price_around(survey: Survey, lang: str) -> tuple[str, str]:
    """What the study's price format puts before and after the number ('CHF', '.– / Monat'),
    to frame a price field the way the tasks show prices."""
    price = survey.study.price_attribute
    if price is None:
        return "", ""
    marker = "\x00"
    before, _, after = survey.study.value_label(price.name, marker, lang).partition(marker)
    return before.strip(), after.strip()


@dataclass(frozen=True)
class _View:
    """What a page's builder reads: the survey, the respondent's state, the page, the form
    sent back (a 422 shows the answers given again)."""

    survey: Survey
    snap: Snapshot
    page: Any
    form: Mapping[str, list[str]]

    @property
    def study(self) -> Any:
        return self.survey.study

    @property
    def lang(self) -> str:
        return self.snap.language

    @property
    def key(self) -> str:
        assert self.snap.key is not None
        return self.snap.key

    @property
    def screen(self) -> int:
        """The number after the page's id in its key (``tasks.3`` → 3)."""
        return int(self.key.rsplit(".", 1)[1])

    def t(self, label: Any) -> str:
        """A label of the study in the respondent's language ("" for none)."""
        return self.study.text(label, self.lang) if label is not None else ""

    def ui(self, key: str, **values: Any) -> str:
        """One of the survey's own texts in the respondent's language."""
        return ui(key, self.lang, **values)

    def given(self, name: str) -> list[str]:
        return list(self.form.get(name, []))

    def first(self, name: str, limit: int | None = None) -> str:
        """The first value given for ``name`` (at most ``limit`` characters), else ""."""
        return (self.given(name) or [""])[0][:limit]

    def choices(self, name: str, labels: Any) -> list[dict[str, Any]]:
        """Options numbered from 1 (a likelihood scale), ticked as the form had them."""
        chosen = self.given(name)
        return [
            {"value": str(v), "label": self.t(label), "checked": str(v) in chosen}
            for v, label in enumerate(labels, start=1)
        ]


def page_context(
    survey: Survey,
    snap: Snapshot,
    action: str,
    errors: list[str] | None = None,
    form: Mapping[str, list[str]] | None = None,
) -> dict[str, Any]:
    """The template context of the respondent's current page (``snap.key``): what every
    page has, and what its type's builder adds."""
    assert snap.key is not None
    view = _View(survey, snap, survey.page_of(snap.key), form or {})
    lang = snap.language
    percent = survey.progress(survey.sequence(snap.seed), snap.position, snap.answers)
    last = snap.position >= snap.total - 1
    context: dict[str, Any] = {
        **frame_context(survey, lang),
        "action": action,
        "key": snap.key,
        "nonce": snap.nonce,
        "errors": errors or [],
        "percent": percent,
        "progress_text": ui("progress", lang, percent=percent),
        "text": view.t(view.page.text),
        "help": view.t(view.page.help),
        "button": ui("finish" if last else "next", lang),
        "please_specify": ui("please_specify", lang),
    }
    builder = _BUILDERS.get(view.page.type)
    if builder is not None:
        context.update(builder(view))
    return context


def _info(view: _View) -> dict[str, Any]:
    return {"kind": "info"}


def _consent(view: _View) -> dict[str, Any]:
    page: ConsentPage = view.page
    chosen = view.given("answer")
    return {
        "kind": "consent",
        "field": "answer",
        "options": [
            {"value": v, "label": view.t(label), "checked": v in chosen}
            for v, label in (("agree", page.agree), ("decline", page.decline))
        ],
    }


def _options(view: _View) -> dict[str, Any]:
    page: SinglePage | MultiPage = view.page
    chosen = view.given("answer")
    order = view.survey.option_order(
        view.key, view.snap.seed, len(page.options), [o.fixed for o in page.options]
    )
    options = [
        {
            "value": o.name,
            "label": view.t(o.label),
            "checked": o.name in chosen,
            "open": o.open,
            "open_value": view.first(f"open_{o.name}", 500),
        }
        for o in (page.options[i] for i in order)
    ]
    return {"kind": page.type, "field": "answer", "options": options}


def _scale(view: _View) -> dict[str, Any]:
    page: ScalePage = view.page
    n = len(page.items)
    order = view.survey.option_order(view.key, view.snap.seed, n, [False] * n)
    return {
        "kind": "scale",
        "points": list(range(1, page.points + 1)),
        "low": view.t(page.low),
        "high": view.t(page.high),
        "items": [
            {
                "name": page.items[i].name,
                "label": view.t(page.items[i].label),
                "value": view.first(f"item_{page.items[i].name}"),
            }
            for i in order
        ],
    }


def _text(view: _View) -> dict[str, Any]:
    page: TextPage = view.page
    return {
        "kind": "text",
        "max_length": page.max_length,
        "value": view.first("text", page.max_length),
    }


def _number(view: _View) -> dict[str, Any]:
    page: NumberPage = view.page
    return {
        "kind": "number",
        "min": page.min,
        "max": page.max,
        "unit": view.t(page.unit),
        "value": view.first("number", 12),
    }


def _van_westendorp(view: _View) -> dict[str, Any]:
    """The four price questions, or (``price.nms``) the two purchase likelihoods at the
    prices the respondent gave."""
    page: VanWestendorpPage = view.page
    if view.key.endswith(".nms"):
        prices = view.snap.answers.get(page.id, {})
        asked = view.t(page.purchase_likelihood)

        def at(which: str) -> str:
            return asked.format(price=_price(view.survey, prices.get(which, 0), view.lang))

        return {
            "kind": "nms",
            "nms": [
                {
                    "name": name,
                    "text": asked.format(
                        price=_price(view.survey, prices.get(which, 0), view.lang)
                    ),
                    "options": view.choices(name, page.likelihood_points or []),
                }
                for name, which in (("at_cheap", "cheap"), ("at_expensive", "expensive"))
            ],
        }
    before, after = _price_around(view.survey, view.lang)
    return {
        "kind": "prices",
        "price_before": before,
        "price_after": after,
        "min": page.min,
        "max": page.max,
        "price_fields": [
            {"name": n, "label": view.t(getattr(page, n)), "value": view.first(n, 12)}
            for n in VW_FIELDS
        ],
    }


def _gabor_granger(view: _View) -> dict[str, Any]:
    page: GaborGrangerPage = view.page
    price = _price(view.survey, view.screen, view.lang)
    return {
        "kind": "likelihood",
        "field": "likelihood",
        "text": view.t(page.text).format(price=price),
        "options": view.choices("likelihood", page.answers),
    }


def _kano(view: _View) -> dict[str, Any]:
    page: KanoPage = view.page
    label = view.t(page.features[view.screen - 1].label)
    return {
        "kind": "kano",
        "text": view.t(page.text).replace("{feature}", label),
        "screen_of": view.ui("screen_of", n=view.screen, total=len(page.features)),
        "questions": [
            {
                "name": name,
                "text": view.t(getattr(page, name)).replace("{feature}", label),
                "options": [
                    {"value": a, "label": view.ui(f"kano_{a}"), "checked": a in view.given(name)}
                    for a in KANO_ANSWERS
                ],
            }
            for name in ("functional", "dysfunctional")
        ],
    }


def _concept(view: _View) -> dict[str, Any]:
    page: ConceptTestPage = view.page
    order = view.survey.concept_order(page.id, view.snap.version)
    concept = page.concepts[order[view.screen - 1]]
    many = len(order) > 1
    return {
        "kind": "concept",
        "concept_of": view.ui("concept_of", n=view.screen, total=len(order)) if many else "",
        "concept_title": view.t(concept.title),
        "body": view.t(concept.text),
        **_concept_picture(view, concept),
        "questions": [
            {
                "name": name,
                "text": view.ui(f"concept_{name}"),
                "low": view.ui(f"concept_{name}_low"),
                "high": view.ui(f"concept_{name}_high"),
                "value": view.first(name),
            }
            for name in CONCEPT_QUESTIONS
        ],
        "points": list(range(1, 6)),
        "change_label": view.ui("concept_change"),
        "change": view.first("change", 2000),
    }


def _concept_picture(view: _View, concept: Any) -> dict[str, str]:
    """The concept's checked image (a data: URI, read when the study was loaded) and its
    alt text in the respondent's language (the concept's title when the study has none)."""
    image = concept_image(view.survey.study, view.page.id, concept.name)
    if image is None:
        return {"image": "", "image_alt": ""}
    alt = view.t(concept.alt) if concept.alt is not None else view.t(concept.title)
    return {"image": image.data_uri, "image_alt": alt}


def _maxdiff(view: _View) -> dict[str, Any]:
    page: MaxDiffPage = view.page
    labels = {item.name: view.t(item.label) for item in page.items}
    if view.key.endswith(f".{ANCHOR_SCREEN}"):
        return _maxdiff_binary_anchor(view, labels)
    best, worst = view.given("best"), view.given("worst")
    anchor = page.anchor
    dual = anchor is not None and anchor.type == "dual_response"
    picked = view.first("anchor")
    return {
        "kind": "maxdiff",
        "screen_of": view.ui("screen_of", n=view.screen, total=page.tasks),
        "best_label": view.t(page.best),
        "worst_label": view.t(page.worst),
        "items": [
            {"name": name, "label": labels[name], "best": name in best, "worst": name in worst}
            for name in view.survey.maxdiff_items(view.key, view.snap.version)
        ],
        "anchor_question": view.t(anchor.question) if dual else "",  # type: ignore[union-attr]
        "anchor_options": [
            {"value": value, "label": view.t(getattr(anchor, value)), "checked": value == picked}
            for value in DUAL_RESPONSE_ANSWERS
        ]
        if dual
        else [],
    }


def _maxdiff_binary_anchor(view: _View, labels: dict[str, str]) -> dict[str, Any]:
    """The direct binary screen: every item of the page, ticked when it matters at all."""
    page: MaxDiffPage = view.page
    ticked = view.given("important")
    return {
        "kind": "maxdiff_anchor",
        "text": view.t(page.anchor.question),  # type: ignore[union-attr]
        "items": [
            {"name": item.name, "label": labels[item.name], "checked": item.name in ticked}
            for item in page.items
        ],
        "none_value": NONE_IMPORTANT,
        "none_label": view.t(page.anchor.none),  # type: ignore[union-attr]
        "none_checked": NONE_IMPORTANT in ticked,
    }


def _tasks(view: _View) -> dict[str, Any]:
    """One choice task: the concepts side by side, attribute by attribute, and the none
    option (a plain one to choose, or the dual-response question)."""
    page: ChoiceTasksPage = view.page
    study, lang, task = view.study, view.lang, view.screen
    levels = view.survey.task_levels(view.snap.version, task)
    chosen = view.given("choice")
    shown = [
        [study.level_label(attr.name, int(level), lang) for level in levels[:, a]]
        for a, attr in enumerate(study.attributes)
    ]
    rows = [
        {"label": view.t(attr.label), "levels": labels, "same": len(set(labels)) == 1}
        for attr, labels in zip(study.attributes, shown, strict=True)
    ]
    concepts = [
        {"value": str(j), "title": view.ui("option", n=j), "checked": str(j) in chosen}
        for j in range(1, len(levels) + 1)
    ]
    none = study.tasks.none
    plain = none is not None and none.type == "plain"
    dual = none is not None and none.type == "dual" and none.question
    return {
        "kind": "task",
        "intro": view.t(page.intro) if task == 1 else "",
        "task_of": view.ui("task_of", n=task, total=view.survey.n_tasks),
        "concepts": concepts,
        "rows": rows,
        "same_for_all": view.ui("same_for_all"),
        "none_plain": view.t(none.label) if plain else "",  # type: ignore[union-attr]
        "none_checked": "0" in chosen,
        "dual": view.t(none.question) if dual else "",  # type: ignore[union-attr]
        "would_buy": view.first("would_buy"),
        "yes": view.ui("yes"),
        "no": view.ui("no"),
    }


#: Each page type's builder of what its page adds to the context.
_BUILDERS: dict[str, Callable[[_View], dict[str, Any]]] = {
    "info": _info,
    "consent": _consent,
    "single": _options,
    "multi": _options,
    "scale": _scale,
    "text": _text,
    "number": _number,
    "choice_tasks": _tasks,
    "van_westendorp": _van_westendorp,
    "gabor_granger": _gabor_granger,
    "maxdiff": _maxdiff,
    "kano": _kano,
    "concept_test": _concept,
}
