"""The questionnaire around the choice tasks: the pages a respondent answers in the field.

A study's ``questionnaire:`` lists its pages in order, one question per page:

* ``consent``: a text and an "I agree" box; declining screens the respondent out;
* ``single`` (one answer, radio buttons) and ``multi`` (several, check boxes).
  Options may ``screen_out`` the respondent or the question may list the options
  that ``qualify`` (screeners); an option may be ``open`` (with a text box, "other:
  …"), ``exclusive`` ("none of these") or ``fixed`` (kept in place when options
  are shuffled). A single question with ``attention_check`` names the one
  right answer of an instructed-response item;
* ``scale``: items rated on one scale of ``points`` with labelled ends (needs,
  motives); straight-lining on it is flagged;
* ``text`` (open answer) and ``number`` (with bounds);
* ``choice_tasks``: the study's choice tasks from the design (and its holdouts),
  one page per task;
* ``van_westendorp``: the four price-sensitivity questions, then, with
  ``purchase_likelihood``, the Newton–Miller–Smith follow-ups (how likely to buy
  at one's own "bargain" and "getting expensive" prices);
* ``gabor_granger``: purchase likelihood at a list of prices, one page each,
  from the highest down; once a price is accepted the lower ones are not asked;
* ``info``: a text only;
* ``maxdiff``: best–worst scaling of ``items``, ``per_task`` items a screen, ``tasks``
  screens, from a design of ``versions`` versions (made from the study's seed, so a
  respondent's version is stable; versions spread over respondents with the conjoint's
  versions, so the study's ``design.versions`` must be a multiple of them); optional
  ``prohibited`` pairs never shown together;
* ``kano``: per feature a functional and a dysfunctional question with the five standard
  answers (like, expect, neutral, tolerate, dislike), one screen a feature;
* ``concept_test``: concept cards (title, text; an ``image`` path inside the study folder
  is checked, showing it is still to come)
  each followed by the standard questions (appeal, purchase intent, uniqueness,
  believability, value for money on five points, "what would you change?" open);
  ``monadic`` (one concept a person) or ``sequential`` (all, in balanced orders); the
  assignment, like the MaxDiff versions, follows the conjoint's versions.

Any page may have ``show_if`` (display logic on earlier answers: ``{question:
[options]}``, or ``{question: {min: …, max: …}}`` for a number; all conditions
must hold) and ``random_group`` (consecutive pages with the same group are shown
in an order drawn per respondent). ``shuffle_options`` shuffles a question's
options (or a scale's items) per respondent, ``fixed`` options staying in place.

Beside the pages: ``panel_parameters`` (taken from the link on entry and handed
back on the redirects), ``redirects`` for complete, screen-out and over-quota
(``{name}`` places a panel parameter; ``{respondent}`` the respondent's id),
``quotas`` on completes by the answer to a single question, the ``end`` texts,
and the ``quality`` thresholds.

The cross-field checks (references, options, languages) are in
:func:`check_questionnaire`; :mod:`offerlab.study._checks` calls it.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from typing import Annotated, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

from offerlab.study._maxdiff_kano_concept import (
    ConceptTestPage,
    KanoPage,
    MaxDiffPage,
    check_concepts,
    check_maxdiff,
)
from offerlab.study._primitives import (
    FieldPath,
    Identifier,
    Label,
    PageBase,
    Range,
    ReportError,
    earlier_place,
    in_four_languages,
    suggest,
    type_tag,
    unknown_name,
)
from offerlab.study._strict import StrictModel

__all__ = [
    "PAGE_TYPES",
    "QUALITY_FLAGS",
    "AnyPage",
    "AttentionCheck",
    "ChoiceTasksPage",
    "ConsentPage",
    "EndTexts",
    "GaborGrangerPage",
    "InfoPage",
    "MultiPage",
    "NumberPage",
    "Option",
    "Page",
    "Quality",
    "Questionnaire",
    "Quota",
    "Range",
    "Redirects",
    "ScaleItem",
    "ScalePage",
    "SinglePage",
    "TextPage",
    "VanWestendorpPage",
    "check_questionnaire",
    "questionnaire_labels",
]

PAGE_TYPES = (
    "consent",
    "info",
    "single",
    "multi",
    "scale",
    "text",
    "number",
    "choice_tasks",
    "van_westendorp",
    "gabor_granger",
    "maxdiff",
    "kano",
    "concept_test",
)


class ConsentPage(PageBase):
    """Consent: declining ends the survey as a screen-out."""

    type: Literal["consent"]
    agree: Label = Field(description="The label of the 'I agree' choice.")
    decline: Label = Field(description="The label of the 'I do not agree' choice.")


class InfoPage(PageBase):
    """A page of text only (an introduction, a transition)."""

    type: Literal["info"]


class Option(StrictModel):
    """One answer option of a single or multi question."""

    name: Identifier
    label: Label
    screen_out: bool = False
    open: bool = Field(False, description="Show a text box beside the option ('other: …').")
    exclusive: bool = Field(False, description="Multi only: cannot be combined ('none of these').")
    fixed: bool = Field(False, description="Keep in place when the options are shuffled.")


class _ChoiceQuestion(PageBase):
    options: list[Option] = Field(min_length=2)
    shuffle_options: bool = False
    qualify: list[Identifier] | None = Field(
        None, description="Screener: only these options go on; any other screens out."
    )


class AttentionCheck(StrictModel):
    correct: Identifier


class SinglePage(_ChoiceQuestion):
    """One answer among options (radio buttons)."""

    type: Literal["single"]
    attention_check: AttentionCheck | None = None


class MultiPage(_ChoiceQuestion):
    """Any number of options (check boxes)."""

    type: Literal["multi"]
    min_choices: int = Field(1, ge=0)
    max_choices: int | None = Field(None, ge=1)


class ScaleItem(StrictModel):
    name: Identifier
    label: Label


class ScalePage(PageBase):
    """Items rated on one scale (a grid on a desktop, stacked on a phone)."""

    type: Literal["scale"]
    points: int = Field(5, ge=2, le=11)
    low: Label = Field(description="Label of the lowest point.")
    high: Label = Field(description="Label of the highest point.")
    items: list[ScaleItem] = Field(min_length=1)
    shuffle_options: bool = False


class TextPage(PageBase):
    """An open answer."""

    type: Literal["text"]
    required: bool = False
    max_length: int = Field(2000, ge=1, le=10_000)


class NumberPage(PageBase):
    """A whole number within bounds."""

    type: Literal["number"]
    min: int
    max: int
    unit: Label = ""


class ChoiceTasksPage(PageBase):
    """Where the choice tasks of the design go, one page per task."""

    type: Literal["choice_tasks"]
    text: Label = in_four_languages(
        "Welches dieser Angebote würden Sie wählen?",
        "Laquelle de ces offres choisiriez-vous ?",
        "Quale di queste offerte scegliereste?",
        "Which of these offers would you choose?",
    )
    intro: Label | None = Field(None, description="Shown above the first task.")


class VanWestendorpPage(PageBase):
    """Van Westendorp's four price questions (and the NMS purchase likelihood)."""

    type: Literal["van_westendorp"]
    too_cheap: Label
    cheap: Label
    expensive: Label
    too_expensive: Label
    min: int = Field(0, ge=0)
    max: int = Field(ge=1)
    purchase_likelihood: Label | None = Field(
        None, description="Newton–Miller–Smith: 'How likely … at {price}?' (5 points)."
    )
    likelihood_points: list[Label] | None = Field(None, min_length=5, max_length=5)


class GaborGrangerPage(PageBase):
    """Purchase likelihood at each price, from the highest down ('{price}' in the text)."""

    type: Literal["gabor_granger"]
    prices: list[int] = Field(min_length=2)
    answers: list[Label] = Field(
        min_length=5, max_length=5, description="Five answers, 'definitely not' first."
    )
    accept_from: int = Field(4, ge=1, le=5, description="Answers from this one on accept.")


class _UnknownPage(BaseModel):
    """Takes a page whose type is unknown, so that the message is about 'type' alone."""

    model_config = ConfigDict(extra="allow", frozen=True)
    type: Literal[PAGE_TYPES]  # type: ignore[valid-type]


def _page_type(value: object) -> str:
    tag = type_tag(value)
    return tag if tag in PAGE_TYPES else "unknown"


Page = Annotated[
    Annotated[ConsentPage, Tag("consent")]
    | Annotated[InfoPage, Tag("info")]
    | Annotated[SinglePage, Tag("single")]
    | Annotated[MultiPage, Tag("multi")]
    | Annotated[ScalePage, Tag("scale")]
    | Annotated[TextPage, Tag("text")]
    | Annotated[NumberPage, Tag("number")]
    | Annotated[ChoiceTasksPage, Tag("choice_tasks")]
    | Annotated[VanWestendorpPage, Tag("van_westendorp")]
    | Annotated[GaborGrangerPage, Tag("gabor_granger")]
    | Annotated[MaxDiffPage, Tag("maxdiff")]
    | Annotated[KanoPage, Tag("kano")]
    | Annotated[ConceptTestPage, Tag("concept_test")]
    | Annotated[_UnknownPage, Tag("unknown")],
    Discriminator(_page_type),
]
AnyPage: TypeAlias = (
    ConsentPage
    | InfoPage
    | SinglePage
    | MultiPage
    | ScalePage
    | TextPage
    | NumberPage
    | ChoiceTasksPage
    | VanWestendorpPage
    | GaborGrangerPage
    | MaxDiffPage
    | KanoPage
    | ConceptTestPage
)


class Redirects(StrictModel):
    """Where respondents go at the end (panel links); ``{param}`` places a panel parameter."""

    complete: str | None = None
    screenout: str | None = None
    overquota: str | None = None

    def origins(self) -> tuple[str, ...]:
        """The panels' origins (``https://host:port``) the redirects go to, each once: the
        survey pages' Content-Security-Policy lets their forms end there."""
        found = (_origin(u) for u in (self.complete, self.screenout, self.overquota) if u)
        return tuple(dict.fromkeys(o for o in found if o))


# The scheme, a written-out host and an optional port, then the path, query or the end.
_ORIGIN = re.compile(r"(https?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?)(?:[/?#]|$)")


def _origin(url: str) -> str | None:
    found = _ORIGIN.match(url)
    return found.group(1).lower() if found else None


class Quota(StrictModel):
    """Targets of completes per option of a single question (e.g. age band, region)."""

    name: Identifier
    question: Identifier
    targets: dict[str, int]


class EndTexts(StrictModel):
    complete: Label = in_four_languages(
        "Vielen Dank für Ihre Teilnahme!",
        "Merci de votre participation !",
        "Grazie per la vostra partecipazione!",
        "Thank you for taking part!",
    )
    screenout: Label = in_four_languages(
        "Vielen Dank. Diese Umfrage richtet sich an eine andere Zielgruppe.",
        "Merci. Ce sondage s'adresse à un autre public.",
        "Grazie. Questo sondaggio si rivolge a un altro pubblico.",
        "Thank you. This survey is meant for a different group of people.",
    )
    overquota: Label = in_four_languages(
        "Vielen Dank. Für Ihre Gruppe haben wir bereits genug Antworten.",
        "Merci. Nous avons déjà assez de réponses pour votre groupe.",
        "Grazie. Abbiamo già abbastanza risposte per il vostro gruppo.",
        "Thank you. We already have enough answers from your group.",
    )


#: The quality flags of a respondent, as fielding raises them and the report counts them:
#: a fast complete, speeded choice tasks, a straight-lined scale, a failed attention check,
#: a second entry of the same person, choices no better than chance (RLH).
QUALITY_FLAGS = (
    "speeding",
    "speeding_tasks",
    "straightlining",
    "attention_failed",
    "duplicate",
    "random_choices",
)


class Quality(StrictModel):
    """Thresholds of the quality flags (:data:`QUALITY_FLAGS`)."""

    speeding_fraction: float = Field(
        0.4, gt=0, lt=1, description="Flag a complete faster than this fraction of the median."
    )
    min_task_seconds: float = Field(
        2.5, ge=0, description="A choice task answered faster than this is speeded."
    )
    max_speeded_tasks: float = Field(
        0.5, gt=0, le=1, description="Flag when more than this fraction of tasks is speeded."
    )
    rlh_margin: float = Field(
        1.2, ge=1, description="Flag when the RLH is below this multiple of chance."
    )


class Questionnaire(StrictModel):
    """The pages around the choice tasks, and how fielding hands respondents back."""

    pages: list[Page] = Field(min_length=1)
    panel_parameters: list[Identifier] = Field(default_factory=list)
    redirects: Redirects = Field(default_factory=Redirects)
    quotas: list[Quota] = Field(default_factory=list)
    end: EndTexts = Field(default_factory=EndTexts)
    quality: Quality = Field(default_factory=Quality)

    def page(self, page_id: str) -> AnyPage:
        found = next((p for p in self.pages if p.id == page_id), None)
        if found is None:
            raise KeyError(f"no page {page_id!r}")
        return found  # type: ignore[return-value]

    @property
    def choice_page(self) -> ChoiceTasksPage | None:
        return next((p for p in self.pages if isinstance(p, ChoiceTasksPage)), None)


# -- labels ------------------------------------------------------------------------


def questionnaire_labels(q: Questionnaire) -> Iterator[tuple[FieldPath, object, bool]]:
    """Every label of the questionnaire as (path, value, set explicitly in the file)."""
    root: FieldPath = ("questionnaire",)
    for i, page in enumerate(q.pages):
        path: FieldPath = (*root, "pages", i)
        for name in type(page).model_fields:
            value = getattr(page, name)
            explicit = name in page.model_fields_set
            if name in (
                "text",
                "help",
                "agree",
                "decline",
                "low",
                "high",
                "unit",
                "intro",
                "best",
                "worst",
                "functional",
                "dysfunctional",
            ):
                if value is not None:
                    yield (*path, name), value, explicit
            elif name in ("too_cheap", "cheap", "expensive", "too_expensive") or (
                name == "purchase_likelihood" and value is not None
            ):
                yield (*path, name), value, True
            elif name in ("likelihood_points", "answers") and value is not None:
                for j, label in enumerate(value):
                    yield (*path, name, j), label, True
            elif name == "anchor" and value is not None:
                for part in type(value).model_fields:
                    if part != "type":
                        label = getattr(value, part)
                        yield (*path, name, part), label, part in value.model_fields_set
            elif name in ("options", "items", "features"):
                for j, option in enumerate(value):
                    yield (*path, name, j, "label"), option.label, True
            elif name == "concepts":
                for j, concept in enumerate(value):
                    for part in ("title", "text", "alt"):
                        if getattr(concept, part) is not None:
                            yield (*path, name, j, part), getattr(concept, part), True
    for name in ("complete", "screenout", "overquota"):
        yield (*root, "end", name), getattr(q.end, name), name in q.end.model_fields_set


# -- cross-field checks ------------------------------------------------------------------


def _names(page: AnyPage) -> list[str]:
    if isinstance(page, SinglePage | MultiPage):
        return [o.name for o in page.options]
    if isinstance(page, ScalePage | MaxDiffPage):
        return [o.name for o in page.items]
    if isinstance(page, KanoPage):
        return [f.name for f in page.features]
    if isinstance(page, ConceptTestPage):
        return [c.name for c in page.concepts]
    return []


def _list_field(page: AnyPage) -> str:
    if isinstance(page, KanoPage):
        return "features"
    if isinstance(page, ConceptTestPage):
        return "concepts"
    return "items" if isinstance(page, ScalePage | MaxDiffPage) else "options"


def check_questionnaire(
    q: Questionnaire,
    error: ReportError,
    *,
    has_none: bool,
    currency: str | None,
    design_versions: int | None = None,
) -> None:
    """Check references, options, quotas and redirects of a questionnaire.

    Parameters
    ----------
    q : Questionnaire
        The questionnaire as pydantic validated it.
    error : callable
        ``error(path, message)`` records a problem at a field of the study file.
    has_none : bool
        Whether the study's tasks have a none option (unused now; kept for rules on it).
    currency : str or None
        The study's currency (price questions need a price attribute), None without one.
    design_versions : int or None
        The conjoint design's versions: MaxDiff versions and concept-test groups follow
        them, so they must divide it (None: not checked).
    """
    root: FieldPath = ("questionnaire",)
    seen: dict[str, int] = {}
    choice_pages = []
    groups_closed: set[str] = set()
    previous_group: str | None = None
    for i, page in enumerate(q.pages):
        path: FieldPath = (*root, "pages", i)
        if isinstance(page, _UnknownPage):  # pragma: no cover - pydantic rejects it first
            continue
        if (earlier := earlier_place(seen, page.id, i)) is not None:
            error((*path, "id"), f"page id {page.id!r} is used twice (also pages[{earlier}])")
        if isinstance(page, ChoiceTasksPage):
            choice_pages.append(i)
        _check_options(page, path, error)
        _check_show_if(q, i, page, path, seen, error)
        group = page.random_group
        if group is not None and group != previous_group and group in groups_closed:
            error(
                (*path, "random_group"),
                f"the pages of random_group {group!r} must follow one another",
            )
        if previous_group is not None and group != previous_group:
            groups_closed.add(previous_group)
        previous_group = group
        if isinstance(page, ChoiceTasksPage) and group is not None:
            error((*path, "random_group"), "choice tasks cannot be shuffled with other pages")
        if isinstance(page, VanWestendorpPage | GaborGrangerPage) and currency is None:
            error((*path, "type"), "price questions need a price attribute in the study")
        if isinstance(page, VanWestendorpPage) and page.min >= page.max:
            error((*path, "max"), f"max ({page.max}) must be above min ({page.min})")
        if isinstance(page, VanWestendorpPage) and (page.purchase_likelihood is None) != (
            page.likelihood_points is None
        ):
            error(
                (*path, "purchase_likelihood"),
                "purchase_likelihood and likelihood_points go together (the NMS follow-ups "
                "ask the question and offer the five answers)",
            )
        if isinstance(page, GaborGrangerPage):
            if sorted(set(page.prices)) != page.prices:
                error((*path, "prices"), "list the prices once each, from low to high")
            if any(p < 0 for p in page.prices):
                error((*path, "prices"), "a price cannot be negative")
        if isinstance(page, NumberPage) and page.min >= page.max:
            error((*path, "max"), f"max ({page.max}) must be above min ({page.min})")
        if isinstance(page, MaxDiffPage):
            check_maxdiff(page, path, error, design_versions)
        if isinstance(page, ConceptTestPage):
            check_concepts(page, path, error, design_versions)
    if len(choice_pages) != 1:
        where = (*root, "pages", choice_pages[1]) if len(choice_pages) > 1 else (*root, "pages")
        error(
            where,
            "the questionnaire needs exactly one page of type choice_tasks (where the choice "
            f"tasks go), found {len(choice_pages)}",
        )
    _check_quotas(q, error)
    _check_redirects(q, error)


def _check_options(page: AnyPage, path: FieldPath, error: ReportError) -> None:
    names = _names(page)
    field = _list_field(page)
    first: dict[str, int] = {}
    for j, name in enumerate(names):
        if (earlier := earlier_place(first, name, j)) is not None:
            error((*path, field, j, "name"), f"{name!r} is used twice (also {field}[{earlier}])")
    if isinstance(page, SinglePage | MultiPage):
        for option_list in ("qualify",):
            chosen = getattr(page, option_list)
            for name in chosen or []:
                if name not in names:
                    error((*path, option_list), unknown_name("option", name, names))
        if page.qualify is not None and any(o.screen_out for o in page.options):
            error(
                (*path, "qualify"),
                "use either qualify (options that go on) or screen_out on options, not both",
            )
        if isinstance(page, SinglePage):
            for j, option in enumerate(page.options):
                if option.exclusive:
                    error(
                        (*path, "options", j, "exclusive"),
                        "exclusive is for multi questions (a single answer is always alone)",
                    )
        if isinstance(page, SinglePage) and page.attention_check is not None:
            correct = page.attention_check.correct
            if correct not in names:
                error((*path, "attention_check", "correct"), unknown_name("option", correct, names))
        if isinstance(page, MultiPage):
            top = page.max_choices if page.max_choices is not None else len(names)
            if page.min_choices > top or top > len(names):
                error(
                    (*path, "max_choices" if page.max_choices else "min_choices"),
                    f"choices must satisfy min_choices ≤ max_choices ≤ {len(names)} options",
                )


def _check_show_if(
    q: Questionnaire,
    i: int,
    page: AnyPage,
    path: FieldPath,
    seen: dict[str, int],
    error: ReportError,
) -> None:
    for ref, condition in (page.show_if or {}).items():
        at: FieldPath = (*path, "show_if", ref)
        earlier = [p for p in list(seen) if seen[p] < i]
        if ref not in earlier:
            known = ref in [p.id for p in q.pages]
            why = "comes later" if known else f"is unknown{suggest(ref, earlier)}"
            error(at, f"show_if refers to page {ref!r}, which {why}; it needs an earlier question")
            continue
        target = q.page(ref)
        if isinstance(condition, Range):
            if not isinstance(target, NumberPage):
                error(at, f"a min/max condition needs a number question; {ref!r} is {target.type}")
        elif isinstance(target, SinglePage | MultiPage):
            names = _names(target)
            for name in condition:
                if name not in names:
                    error(
                        at,
                        f"page {ref!r} has no option {name!r}{suggest(name, names)}; options "
                        f"are {', '.join(names)}",
                    )
        elif isinstance(target, ConsentPage):
            for name in condition:
                if name not in ("agree", "decline"):
                    error(at, "a consent condition is [agree] or [decline]")
        else:
            error(at, f"show_if can use single, multi, consent and number questions, not {ref!r}")


def _check_quotas(q: Questionnaire, error: ReportError) -> None:
    ids = [p.id for p in q.pages]
    names: set[str] = set()
    for k, quota in enumerate(q.quotas):
        path: FieldPath = ("questionnaire", "quotas", k)
        if quota.name in names:
            error((*path, "name"), f"quota name {quota.name!r} is used twice")
        names.add(quota.name)
        if quota.question not in ids:
            error(
                (*path, "question"),
                f"unknown page {quota.question!r}{suggest(quota.question, ids)}",
            )
            continue
        page = q.page(quota.question)
        if not isinstance(page, SinglePage):
            error(
                (*path, "question"), f"a quota counts answers to a single question, not {page.type}"
            )
            continue
        options = _names(page)
        for option, target in quota.targets.items():
            if option not in options:
                error(
                    (*path, "targets", option),
                    f"page {quota.question!r} has no option {option!r}"
                    f"{suggest(option, options)}; options are {', '.join(options)}",
                )
            if target < 0:
                error((*path, "targets", option), f"a target cannot be negative, got {target}")


def _check_redirects(q: Questionnaire, error: ReportError) -> None:
    allowed = [*q.panel_parameters, "respondent", "status"]
    for name in ("complete", "screenout", "overquota"):
        url = getattr(q.redirects, name)
        if url is None:
            continue
        path: FieldPath = ("questionnaire", "redirects", name)
        if not url.startswith(("https://", "http://")):
            error(path, f"a redirect is an http(s) address, got {url!r}")
            continue
        if _origin(url) is None:
            # The survey pages' Content-Security-Policy names the panel's origin, and a
            # placeholder there would let a link's parameters send respondents anywhere.
            error(
                path,
                "the panel's host must be written out (ASCII letters, digits, dots, hyphens, "
                f"an optional :port; placeholders only after it), got {url!r}",
            )
            continue
        try:
            fields = [f for _, f, _, _ in string.Formatter().parse(url) if f is not None]
        except ValueError:
            error(path, "unmatched '{' or '}' in the address")
            continue
        for field in fields:
            if field not in allowed:
                error(
                    path,
                    f"unknown placeholder {{{field}}}{suggest(field, allowed)}; use panel "
                    f"parameters ({', '.join(q.panel_parameters) or 'none declared'}), "
                    "{respondent} or {status}",
                )
