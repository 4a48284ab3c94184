"""The MaxDiff, Kano and concept-test pages of a questionnaire, and their checks.

``maxdiff`` (best–worst scaling of items), ``kano`` (a functional and a dysfunctional
question per feature) and ``concept_test`` (concept cards with the standard questions):
see :mod:`offerlab.study._questionnaire` for the questionnaire they stand in.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Annotated, Literal

from pydantic import Discriminator, Field, Tag

from offerlab.study._primitives import (
    FieldPath,
    Identifier,
    Label,
    PageBase,
    ReportError,
    in_four_languages,
    type_tag,
    unknown_name,
)
from offerlab.study._strict import StrictModel

__all__ = [
    "CONCEPT_IMAGE_TYPES",
    "CONCEPT_QUESTIONS",
    "Concept",
    "ConceptTestPage",
    "DirectBinaryAnchor",
    "DualResponseAnchor",
    "KanoFeature",
    "KanoPage",
    "MaxDiffAnchor",
    "MaxDiffItem",
    "MaxDiffPage",
    "check_concepts",
    "check_maxdiff",
    "concept_cells",
]

#: Image files a concept card may show, and their largest size in bytes.
CONCEPT_IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
}
#: The standard questions of a concept test, in the order asked (each on five points).
CONCEPT_QUESTIONS = ("appeal", "intent", "uniqueness", "believability", "value")


class MaxDiffItem(StrictModel):
    name: Identifier
    label: Label


class DualResponseAnchor(StrictModel):
    """After each MaxDiff screen: do all, some or none of the items shown matter at all?

    The dual-response anchor (Lattery 2010, "Anchored MaxDiff: application of a new
    approach to MaxDiff scaling"; Orme, "Anchored Scaling in MaxDiff Using Dual
    Response", Sawtooth Software 2009): it places a threshold of "matters at all" among
    the items, so the scores say which items matter in absolute terms.
    """

    type: Literal["dual_response"]
    question: Label = in_four_languages(
        "Und wie viele dieser Punkte sind Ihnen überhaupt wichtig?",
        "Et combien de ces points comptent vraiment pour vous ?",
        "E quanti di questi punti contano davvero per voi?",
        "And how many of these matter to you at all?",
    )
    all: Label = in_four_languages(
        "Alle sind mir wichtig",
        "Ils comptent tous pour moi",
        "Contano tutti per me",
        "All of them matter to me",
    )
    some: Label = in_four_languages(
        "Einige sind mir wichtig, andere nicht",
        "Certains comptent pour moi, d'autres non",
        "Alcuni contano per me, altri no",
        "Some matter to me, others do not",
    )
    none: Label = in_four_languages(
        "Keiner ist mir wichtig",
        "Aucun ne compte pour moi",
        "Nessuno conta per me",
        "None of them matters to me",
    )


class DirectBinaryAnchor(StrictModel):
    """After the MaxDiff screens, one page: tick every item that matters at all.

    The direct binary anchor (Louviere's direct binary response, as in Louviere, Flynn
    & Marley 2015, *Best–Worst Scaling*, ch. 2; Orme, "Anchored Scaling in MaxDiff"):
    each item is judged against the threshold once.
    """

    type: Literal["direct_binary"]
    question: Label = in_four_languages(
        "Welche dieser Punkte sind Ihnen überhaupt wichtig? Kreuzen Sie alle an, die zutreffen.",
        "Lesquels de ces points comptent vraiment pour vous ? Cochez tous ceux qui s'appliquent.",
        "Quali di questi punti contano davvero per voi? Segnate tutti quelli che valgono.",
        "Which of these matter to you at all? Tick all that apply.",
    )
    none: Label = in_four_languages(
        "Keiner davon ist mir wichtig",
        "Aucun ne compte pour moi",
        "Nessuno conta per me",
        "None of them matters to me",
    )


MaxDiffAnchor = Annotated[
    Annotated[DualResponseAnchor, Tag("dual_response")]
    | Annotated[DirectBinaryAnchor, Tag("direct_binary")],
    Discriminator(type_tag),
]


class MaxDiffPage(PageBase):
    """Best–worst scaling: each screen shows some items; the most and least important."""

    type: Literal["maxdiff"]
    text: Label = in_four_languages(
        "Was ist Ihnen hier am wichtigsten, was am wenigsten wichtig?",
        "Qu'est-ce qui compte le plus pour vous ici, et le moins ?",
        "Che cosa conta di più per voi qui, e che cosa di meno?",
        "Which of these matters most to you, and which least?",
    )
    items: list[MaxDiffItem] = Field(min_length=3)
    per_task: int = Field(4, ge=3, description="Items on one screen.")
    tasks: int = Field(ge=1, le=60, description="Screens per respondent.")
    versions: int = Field(1, ge=1, le=1000)
    prohibited: list[Annotated[list[Identifier], Field(min_length=2, max_length=2)]] = Field(
        default_factory=list, description="Pairs of items never shown together."
    )
    best: Label = in_four_languages(
        "Am wichtigsten", "Le plus important", "Il più importante", "Most"
    )
    worst: Label = in_four_languages(
        "Am wenigsten wichtig", "Le moins important", "Il meno importante", "Least"
    )
    anchor: MaxDiffAnchor | None = Field(
        None,
        description="An anchoring question: dual_response (after each screen) or "
        "direct_binary (one page after the screens).",
    )


class KanoFeature(StrictModel):
    name: Identifier
    label: Label = Field(description="The feature, placed as {feature} in the questions.")


class KanoPage(PageBase):
    """Kano pairs: how one feels with and without each feature (one screen a feature)."""

    type: Literal["kano"]
    text: Label = in_four_languages(
        "Stellen Sie sich vor: {feature}",
        "Imaginez : {feature}",
        "Immaginate: {feature}",
        "Imagine: {feature}",
    )
    features: list[KanoFeature] = Field(min_length=1)
    functional: Label = in_four_languages(
        "Wie fänden Sie es, wenn das Angebot das hat?",
        "Que penseriez-vous si l'offre le proposait ?",
        "Che cosa ne pensereste se l'offerta lo prevedesse?",
        "How would you feel if the offer had this?",
    )
    dysfunctional: Label = in_four_languages(
        "Wie fänden Sie es, wenn das Angebot das nicht hat?",
        "Que penseriez-vous si l'offre ne le proposait pas ?",
        "Che cosa ne pensereste se l'offerta non lo prevedesse?",
        "How would you feel if the offer did not have this?",
    )


class Concept(StrictModel):
    name: Identifier
    title: Label
    text: Label
    image: str | None = Field(
        None,
        description="A png, jpg or webp file in the study's folder: shown on the concept card "
        "and on the report's concept page (offerlab.study._concept_images).",
    )
    alt: Label | None = Field(None, description="What the image shows, for screen readers.")


class ConceptTestPage(PageBase):
    """Concept cards, each followed by the standard concept-test questions."""

    type: Literal["concept_test"]
    text: Label = in_four_languages(
        "Bitte lesen Sie diese Beschreibung eines neuen Angebots.",
        "Veuillez lire la description de cette nouvelle offre.",
        "Leggete la descrizione di questa nuova offerta.",
        "Please read this description of a new offer.",
    )
    concepts: list[Concept] = Field(min_length=1)
    mode: Literal["monadic", "sequential"] = "sequential"


def concept_cells(page: ConceptTestPage) -> int:
    """How many groups a concept test spreads respondents over: one per concept when each
    sees one; one per order of the balanced orders (a Williams square: as many orders as
    concepts when their number is even, twice as many when odd) when each sees all."""
    n = len(page.concepts)
    if page.mode == "monadic" or n == 1:
        return n
    return n if n % 2 == 0 else 2 * n


def check_maxdiff(
    page: MaxDiffPage, path: FieldPath, error: ReportError, design_versions: int | None
) -> None:
    """Enough tasks to show every item, prohibited pairs of known items, versions that
    divide the design's."""
    names = [item.name for item in page.items]
    n = len(names)
    if page.per_task > n:
        error((*path, "per_task"), f"per_task ({page.per_task}) cannot exceed the {n} items")
    elif page.per_task * page.tasks < n:
        need = -(-n // page.per_task)
        error(
            (*path, "tasks"),
            f"{page.tasks} tasks × {page.per_task} items do not show each of the {n} items "
            f"once: use at least {need} tasks",
        )
    for k, pair in enumerate(page.prohibited):
        for m, name in enumerate(pair):
            if name not in names:
                error(
                    (*path, "prohibited", k, m),
                    unknown_name("item", name, names),
                )
        if pair[0] == pair[1]:
            error(
                (*path, "prohibited", k),
                f"a prohibited pair names two items, got {pair[0]!r} twice",
            )
    if design_versions is not None and design_versions % page.versions:
        error(
            (*path, "versions"),
            f"the MaxDiff versions ({page.versions}) must divide the design's versions "
            f"({design_versions}), so that each is shown equally often",
        )


def check_concepts(
    page: ConceptTestPage, path: FieldPath, error: ReportError, design_versions: int | None
) -> None:
    """Images inside the study's folder and of a known type; groups that divide the
    design's versions."""
    for j, concept in enumerate(page.concepts):
        if concept.image is None:
            continue
        image = PurePosixPath(concept.image.replace("\\", "/"))
        if image.is_absolute() or ".." in image.parts or ":" in concept.image:
            error(
                (*path, "concepts", j, "image"),
                "an image is a file inside the study's folder, named relative to it "
                f"(no '..', no absolute path), got {concept.image!r}",
            )
        elif image.suffix.lower() not in CONCEPT_IMAGE_TYPES:
            error(
                (*path, "concepts", j, "image"),
                f"an image is a {', '.join(CONCEPT_IMAGE_TYPES)} file, got {concept.image!r}",
            )
    cells = concept_cells(page)
    if design_versions is not None and design_versions % cells:
        how = "concepts" if page.mode == "monadic" else "balanced orders of the concepts"
        error(
            (*path, "concepts"),
            f"the {cells} {how} must divide the design's versions ({design_versions}), so "
            "that each is shown equally often",
        )
