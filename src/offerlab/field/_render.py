"""What a page shows: the template context of a respondent's current page, in their language."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from offerlab.decide import KANO_ANSWERS
from offerlab.field._flow import VW_FIELDS, Survey
from offerlab.field._service import Snapshot
from offerlab.field._texts import LANGUAGE_NAMES, ui
from offerlab.study import (
    CONCEPT_QUESTIONS,
    ChoiceTasksPage,
    ConceptTestPage,
    ConsentPage,
    GaborGrangerPage,
    InfoPage,
    KanoPage,
    MaxDiffPage,
    MultiPage,
    NumberPage,
    ScalePage,
    SinglePage,
    TextPage,
    VanWestendorpPage,
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


def page_context(
    survey: Survey,
    snap: Snapshot,
    action: str,
    errors: list[str] | None = None,
    form: Mapping[str, list[str]] | None = None,
) -> dict[str, Any]:
    """The template context of the respondent's current page (``snap.key``)."""
    assert snap.key is not None
    study = survey.study
    lang = snap.language
    key = snap.key
    page = survey.page_of(key)
    form = form or {}

    def t(label: Any) -> str:
        return study.text(label, lang) if label is not None else ""

    def given(name: str) -> list[str]:
        return list(form.get(name, []))

    percent = survey.progress(survey.sequence(snap.seed), snap.position, snap.answers)
    last = snap.position >= snap.total - 1
    context: dict[str, Any] = {
        **frame_context(survey, lang),
        "action": action,
        "key": key,
        "nonce": snap.nonce,
        "errors": errors or [],
        "percent": percent,
        "progress_text": ui("progress", lang, percent=percent),
        "text": t(page.text),
        "help": t(page.help),
        "button": ui("finish" if last else "next", lang),
        "please_specify": ui("please_specify", lang),
    }
    if isinstance(page, InfoPage):
        context["kind"] = "info"
    elif isinstance(page, ConsentPage):
        chosen = given("answer")
        context.update(
            kind="consent",
            field="answer",
            options=[
                {"value": v, "label": t(label), "checked": v in chosen}
                for v, label in (("agree", page.agree), ("decline", page.decline))
            ],
        )
    elif isinstance(page, SinglePage | MultiPage):
        chosen = given("answer")
        order = survey.option_order(
            key, snap.seed, len(page.options), [o.fixed for o in page.options]
        )
        options = []
        for i in order:
            o = page.options[i]
            options.append(
                {
                    "value": o.name,
                    "label": t(o.label),
                    "checked": o.name in chosen,
                    "open": o.open,
                    "open_value": (given(f"open_{o.name}") or [""])[0][:500],
                }
            )
        context.update(
            kind="multi" if isinstance(page, MultiPage) else "single",
            field="answer",
            options=options,
        )
    elif isinstance(page, ScalePage):
        order = survey.option_order(key, snap.seed, len(page.items), [False] * len(page.items))
        context.update(
            kind="scale",
            points=list(range(1, page.points + 1)),
            low=t(page.low),
            high=t(page.high),
            items=[
                {
                    "name": page.items[i].name,
                    "label": t(page.items[i].label),
                    "value": (given(f"item_{page.items[i].name}") or [""])[0],
                }
                for i in order
            ],
        )
    elif isinstance(page, TextPage):
        context.update(
            kind="text",
            max_length=page.max_length,
            value=(given("text") or [""])[0][: page.max_length],
        )
    elif isinstance(page, NumberPage):
        context.update(
            kind="number",
            min=page.min,
            max=page.max,
            unit=t(page.unit),
            value=(given("number") or [""])[0][:12],
        )
    elif isinstance(page, ChoiceTasksPage):
        context.update(_task_context(survey, snap, page, key, given))
    elif isinstance(page, VanWestendorpPage):
        if key.endswith(".nms"):
            prices = snap.answers.get(page.id, {})
            points = page.likelihood_points or []
            context.update(
                kind="nms",
                nms=[
                    {
                        "name": name,
                        "text": t(page.purchase_likelihood).format(
                            price=_price(survey, prices.get(which, 0), lang)
                        ),
                        "options": [
                            {"value": str(v), "label": t(label), "checked": str(v) in given(name)}
                            for v, label in enumerate(points, start=1)
                        ],
                    }
                    for name, which in (("at_cheap", "cheap"), ("at_expensive", "expensive"))
                ],
            )
        else:
            before, after = _price_around(survey, lang)
            context.update(
                kind="prices",
                price_before=before,
                price_after=after,
                min=page.min,
                max=page.max,
                price_fields=[
                    {"name": n, "label": t(getattr(page, n)), "value": (given(n) or [""])[0][:12]}
                    for n in VW_FIELDS
                ],
            )
    elif isinstance(page, GaborGrangerPage):
        price = int(key.split(".", 1)[1])
        chosen = given("likelihood")
        context.update(
            kind="likelihood",
            field="likelihood",
            text=t(page.text).format(price=_price(survey, price, lang)),
            options=[
                {"value": str(v), "label": t(label), "checked": str(v) in chosen}
                for v, label in enumerate(page.answers, start=1)
            ],
        )
    elif isinstance(page, MaxDiffPage):
        context.update(_maxdiff_context(survey, snap, page, given))
    elif isinstance(page, KanoPage):
        feature = page.features[int(key.rsplit(".", 1)[1]) - 1]
        label = t(feature.label)
        context.update(
            kind="kano",
            text=t(page.text).replace("{feature}", label),
            screen_of=ui("screen_of", lang, n=key.rsplit(".", 1)[1], total=len(page.features)),
            questions=[
                {
                    "name": name,
                    "text": t(getattr(page, name)).replace("{feature}", label),
                    "options": [
                        {"value": a, "label": ui(f"kano_{a}", lang), "checked": a in given(name)}
                        for a in KANO_ANSWERS
                    ],
                }
                for name in ("functional", "dysfunctional")
            ],
        )
    elif isinstance(page, ConceptTestPage):
        position = int(key.rsplit(".", 1)[1])
        order = survey.concept_order(page.id, snap.version)
        concept = page.concepts[order[position - 1]]
        context.update(
            kind="concept",
            concept_of=ui("concept_of", lang, n=position, total=len(order))
            if len(order) > 1
            else "",
            concept_title=t(concept.title),
            body=t(concept.text),
            questions=[
                {
                    "name": name,
                    "text": ui(f"concept_{name}", lang),
                    "low": ui(f"concept_{name}_low", lang),
                    "high": ui(f"concept_{name}_high", lang),
                    "value": (given(name) or [""])[0],
                }
                for name in CONCEPT_QUESTIONS
            ],
            points=list(range(1, 6)),
            change_label=ui("concept_change", lang),
            change=(given("change") or [""])[0][:2000],
        )
    return context


def _maxdiff_context(
    survey: Survey, snap: Snapshot, page: MaxDiffPage, given: Any
) -> dict[str, Any]:
    study = survey.study
    lang = snap.language
    key = snap.key
    assert key is not None
    labels = {item.name: study.text(item.label, lang) for item in page.items}
    best, worst = given("best"), given("worst")
    return {
        "kind": "maxdiff",
        "screen_of": ui("screen_of", lang, n=key.rsplit(".", 1)[1], total=page.tasks),
        "best_label": study.text(page.best, lang),
        "worst_label": study.text(page.worst, lang),
        "items": [
            {
                "name": name,
                "label": labels[name],
                "best": name in best,
                "worst": name in worst,
            }
            for name in survey.maxdiff_items(key, snap.version)
        ],
    }


def _task_context(
    survey: Survey, snap: Snapshot, page: ChoiceTasksPage, key: str, given: Any
) -> dict[str, Any]:
    study = survey.study
    lang = snap.language
    task = int(key.rsplit(".", 1)[1])
    levels = survey.task_levels(snap.version, task)
    chosen = given("choice")
    shown = [
        [study.level_label(attr.name, int(level), lang) for level in levels[:, a]]
        for a, attr in enumerate(study.attributes)
    ]
    rows = [
        {"label": study.text(attr.label, lang), "levels": labels, "same": len(set(labels)) == 1}
        for attr, labels in zip(study.attributes, shown, strict=True)
    ]
    concepts = [
        {"value": str(j), "title": ui("option", lang, n=j), "checked": str(j) in chosen}
        for j in range(1, len(levels) + 1)
    ]
    none = study.tasks.none
    return {
        "kind": "task",
        "intro": study.text(page.intro, lang) if page.intro is not None and task == 1 else "",
        "task_of": ui("task_of", lang, n=task, total=survey.n_tasks),
        "concepts": concepts,
        "rows": rows,
        "same_for_all": ui("same_for_all", lang),
        "none_plain": study.text(none.label, lang)
        if none is not None and none.type == "plain"
        else "",
        "none_checked": "0" in chosen,
        "dual": study.text(none.question, lang)
        if none is not None and none.type == "dual" and none.question
        else "",
        "would_buy": (given("would_buy") or [""])[0],
        "yes": ui("yes", lang),
        "no": ui("no", lang),
    }
