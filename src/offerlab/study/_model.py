"""The typed study model: the offer as attributes and levels, the tasks, the rules.

A study file is YAML that validates into :class:`Study`. Every model forbids
unknown keys, so a typo in a study file is an error, never silently ignored.
Checks that span several fields (duplicate levels, prohibitions naming unknown
levels, missing translations…) live in :mod:`offerlab.study._checks`, which
reports each problem with the path of the field it concerns.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from functools import cached_property
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Discriminator, Field, PrivateAttr, Tag

from offerlab.study._primitives import Identifier, Label, Language, type_tag
from offerlab.study._questionnaire import Questionnaire
from offerlab.study._strict import StrictModel
from offerlab.study._typography import typeset

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "LEVEL_TOLERANCE",
    "Attribute",
    "CategoricalAttribute",
    "DesignSettings",
    "HoldoutTask",
    "Level",
    "NoneOption",
    "NumericAttribute",
    "PriceAttribute",
    "PriorSpec",
    "Study",
    "TaskRules",
    "TaskSettings",
]

#: Two numbers are the same level when they differ by at most this, relative to the level
#: (absolute up to 1): one rule for answers, designs, model matrices and simulations.
LEVEL_TOLERANCE = 1e-9

Order = Literal["none", "increasing", "decreasing"]


class Level(StrictModel):
    """One level of a categorical attribute."""

    name: Identifier
    label: Label


class _AttributeBase(StrictModel):
    name: Identifier
    label: Label
    order: Order = Field(
        "none",
        description="Preference order of the levels as listed, used to spot dominated "
        "concepts: 'increasing' means later levels are better.",
    )


class CategoricalAttribute(_AttributeBase):
    """An attribute whose levels are named categories (car class, insurance…)."""

    type: Literal["categorical"] = "categorical"
    levels: list[Level] = Field(min_length=2)

    @property
    def level_names(self) -> list[str]:
        return [lv.name for lv in self.levels]


class NumericAttribute(_AttributeBase):
    """An attribute measured on a number line (km per month, term in months…)."""

    type: Literal["numeric"]
    values: list[float] = Field(min_length=2)
    unit: Label = ""
    format: Label = Field("{value} {unit}", description="How a value is shown, e.g. '{value} km'.")
    coding: Literal["linear", "partworth"] = "linear"

    @property
    def level_names(self) -> list[str]:
        return [_number_name(v) for v in self.values]

    @property
    def studied_range(self) -> tuple[float, float]:
        """The lowest and the highest value studied; the estimates hold between them."""
        return float(min(self.values)), float(max(self.values))

    def in_studied_range(self, value: float) -> bool:
        """Whether ``value`` lies within :attr:`studied_range` (to :data:`LEVEL_TOLERANCE`)."""
        lo, hi = self.studied_range
        return (
            lo - LEVEL_TOLERANCE * max(1.0, abs(lo))
            <= value
            <= hi + LEVEL_TOLERANCE * max(1.0, abs(hi))
        )


class PriceAttribute(NumericAttribute):
    """The price of the offer: numeric, with a currency and a display format."""

    type: Literal["price"]  # type: ignore[assignment]
    currency: str = "CHF"
    format: Label = "{currency} {value}"
    order: Order = "decreasing"


def _attribute_type(value: object) -> str:
    """Attributes without a ``type`` are categorical."""
    return type_tag(value, "categorical")


Attribute = Annotated[
    Annotated[CategoricalAttribute, Tag("categorical")]
    | Annotated[NumericAttribute, Tag("numeric")]
    | Annotated[PriceAttribute, Tag("price")],
    Discriminator(_attribute_type),
]


class NoneOption(StrictModel):
    """A 'none of these' option, plain or dual response."""

    type: Literal["plain", "dual"] = "plain"
    label: Label = Field(
        default_factory=lambda: {
            "de": "Keines davon",
            "fr": "Aucune de ces offres",
            "it": "Nessuna di queste offerte",
            "en": "None of these",
        }
    )
    question: Label | None = Field(
        None, description="Dual response only: 'would you really subscribe to the one you chose?'"
    )


class HoldoutTask(StrictModel):
    """A fixed task shown to every respondent, kept out of estimation to test prediction."""

    name: Identifier
    concepts: list[dict[str, str | float]] = Field(min_length=2)
    position: int | None = Field(None, ge=1, description="Task position; default: after the design")


class TaskRules(StrictModel):
    """Rules across the concepts of one task."""

    identical_concepts: Literal["forbid"] = "forbid"
    dominated_concepts: Literal["allow", "forbid"] = "allow"


class TaskSettings(StrictModel):
    alternatives: int = Field(3, ge=2, le=8, description="Concepts per task (none option excluded)")
    per_respondent: int = Field(12, ge=1, le=50, description="Random/design tasks per respondent")
    none: NoneOption | None = None
    holdouts: list[HoldoutTask] = Field(default_factory=list)
    rules: TaskRules = Field(default_factory=TaskRules)


class PriorSpec(StrictModel):
    """A Bayesian prior for D-efficient designs, in part-worth terms.

    ``mean`` maps a categorical attribute to one part-worth per level, and a
    numeric or price attribute to a coefficient per unit. ``sd`` has the same
    shape (default 0: a point prior).
    """

    mean: dict[str, list[float] | float] = Field(default_factory=dict)
    sd: dict[str, list[float] | float] = Field(default_factory=dict)
    draws: int = Field(64, ge=1, le=10_000)


class DesignSettings(StrictModel):
    method: Literal["efficient", "balanced", "random"] = "efficient"
    versions: int = Field(10, ge=1, le=10_000)
    seed: int | None = None
    coding: Literal["effects", "dummy"] = "effects"
    overlap: Literal["minimal", "balanced"] = Field(
        "minimal", description="balanced method: 'minimal' overlap or some 'balanced' overlap"
    )
    prior: PriorSpec | None = None
    seconds: float = Field(8.0, gt=0, le=3600, description="Time budget of the efficient search")


class Study(StrictModel):
    """A conjoint study: the offer's attributes, the tasks, prohibitions and design settings."""

    name: Identifier
    title: Label = ""
    languages: list[Language] = Field(default_factory=lambda: ["en"], min_length=1)
    default_language: Language = "en"
    attributes: list[Attribute] = Field(min_length=1)
    tasks: TaskSettings = Field(default_factory=TaskSettings)
    prohibitions: list[dict[str, str | float]] = Field(
        default_factory=list,
        description="Each entry maps two or more attributes to a level; that combination "
        "never appears in one concept.",
    )
    design: DesignSettings = Field(default_factory=DesignSettings)
    #: Concept cards' checked images by (page id, concept), read by ``load_study`` from
    #: the study's folder (offerlab.study._concept_images).
    _concept_images: dict[tuple[str, str], object] = PrivateAttr(default_factory=dict)
    questionnaire: Questionnaire | None = Field(
        None, description="The pages around the choice tasks, for fielding (offerlab serve)."
    )

    # -- structure -------------------------------------------------------------
    @property
    def attribute_names(self) -> list[str]:
        return [a.name for a in self.attributes]

    @property
    def n_levels(self) -> tuple[int, ...]:
        return tuple(len(a.level_names) for a in self.attributes)

    def attribute(self, name: str) -> CategoricalAttribute | NumericAttribute | PriceAttribute:
        found = next((a for a in self.attributes if a.name == name), None)
        if found is None:
            raise KeyError(f"no attribute named {name!r}; the study has {self.attribute_names}")
        return found

    @property
    def price_attribute(self) -> PriceAttribute | None:
        return next((a for a in self.attributes if isinstance(a, PriceAttribute)), None)

    @property
    def price_range(self) -> tuple[float, float] | None:
        """The lowest and the highest price studied, or None for a study without a price."""
        price = self.price_attribute
        return None if price is None else price.studied_range

    def level_indices(self, attribute: str, values: Iterable[object]) -> np.ndarray:
        """Index of each value's level within ``attribute``; −1 where no level matches.

        A categorical level matches by its name (``2`` matches the level named "2"); a
        numeric or price level by its value within :data:`LEVEL_TOLERANCE`. Missing
        values and text in a numeric column match nothing.

        Parameters
        ----------
        attribute : str
            The attribute's name.
        values : sequence or array
            One value per row (a data frame column, a design column, uniques).

        Returns
        -------
        ndarray of int64, shape (len(values),)
        """
        import numpy as np  # the study loads without numpy or pandas (a quick command line)
        import pandas as pd

        attr = self.attribute(attribute)
        column = values if isinstance(values, pd.Series) else pd.Series(list(values))
        if isinstance(attr, CategoricalAttribute):
            codes, uniques = pd.factorize(column)  # each distinct value looked up once
            lookup = {name: i for i, name in enumerate(attr.level_names)}
            index = [lookup.get(str(u), -1) for u in uniques]
            return np.array([*index, -1], dtype=np.int64)[codes]  # code −1: missing
        numbers = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
        out = np.full(len(numbers), -1, dtype=np.int64)
        for i, level in enumerate(attr.values):
            tolerance = LEVEL_TOLERANCE * max(1.0, abs(level))
            out[np.abs(numbers - level) <= tolerance] = i
        return out

    def level_index(self, attribute: str, level: str | float) -> int:
        """Index of ``level`` (a level name, or a numeric value) within ``attribute``."""
        names = self.attribute(attribute).level_names
        key = _number_name(level) if isinstance(level, int | float) else str(level)
        if key not in names:
            raise KeyError(f"attribute {attribute!r} has no level {level!r}; levels are {names}")
        return names.index(key)

    # -- prohibitions and task rules ------------------------------------------
    @cached_property
    def prohibited_patterns(self) -> list[dict[int, int]]:
        """Each prohibition as {attribute index: level index}."""
        names = self.attribute_names
        return [
            {names.index(a): self.level_index(a, lv) for a, lv in rule.items()}
            for rule in self.prohibitions
        ]

    def allowed(self, concepts: np.ndarray) -> np.ndarray:
        """Whether each concept (last axis: one level index per attribute) is allowed."""
        import numpy as np  # the study loads without numpy (a quick command line)

        concepts = np.asarray(concepts)
        ok = np.ones(concepts.shape[:-1], dtype=bool)
        for pattern in self.prohibited_patterns:
            hit = np.ones_like(ok)
            for a, lv in pattern.items():
                hit &= concepts[..., a] == lv
            ok &= ~hit
        return ok

    @cached_property
    def allowed_concepts(self) -> np.ndarray:
        """Every allowed concept, shape (n_allowed, n_attributes), in lexicographic order."""
        import numpy as np  # the study loads without numpy (a quick command line)

        grid = np.array(list(itertools.product(*[range(n) for n in self.n_levels])), dtype=np.int64)
        return grid[self.allowed(grid)]

    @property
    def ordered_attributes(self) -> list[tuple[int, int]]:
        """(attribute index, +1 increasing / -1 decreasing) for ordered attributes."""
        sign = {"increasing": 1, "decreasing": -1}
        return [(i, sign[a.order]) for i, a in enumerate(self.attributes) if a.order in sign]

    def dominated(self, task: np.ndarray) -> np.ndarray:
        """Whether each concept of a task (alternatives × attributes) is dominated.

        A concept is dominated when another concept is at least as good on every
        ordered attribute, strictly better on one, and equal on the unordered ones.
        """
        import numpy as np  # the study loads without numpy (a quick command line)

        task = np.asarray(task)
        ordered = self.ordered_attributes
        if not ordered:
            return np.zeros(task.shape[0], dtype=bool)
        idx = np.array([i for i, _ in ordered])
        sgn = np.array([s for _, s in ordered])
        unordered = np.setdiff1d(np.arange(task.shape[1]), idx)
        score = task[:, idx] * sgn  # higher is better
        better_eq = (score[:, None, :] >= score[None, :, :]).all(-1)  # [k, j]: k >= j
        strictly = (score[:, None, :] > score[None, :, :]).any(-1)
        same_rest = (task[:, None, unordered] == task[None, :, unordered]).all(-1)
        dom = better_eq & strictly & same_rest  # k dominates j
        return dom.any(axis=0)

    # -- display ---------------------------------------------------------------
    def text(self, label: Label, language: str | None = None) -> str:
        """A label in ``language`` (default: the study's default language), with the
        no-break spaces its language sets (:func:`typeset`)."""
        if isinstance(label, str):  # a study in one language: its default one
            return typeset(label, self.default_language)
        lang = language or self.default_language
        for code in (lang, self.default_language):
            if label.get(code):
                return typeset(label[code], code)
        code, text = next(iter(label.items()))
        return typeset(text, code)

    def level_label(self, attribute: str, level_index: int, language: str | None = None) -> str:
        attr = self.attribute(attribute)
        if isinstance(attr, CategoricalAttribute):
            return self.text(attr.levels[level_index].label, language)
        return self.value_label(attribute, attr.values[level_index], language)

    def value_label(self, attribute: str, value: float | str, language: str | None = None) -> str:
        """Any number of a numeric attribute in its format, as its levels are shown
        (a price asked about in a price question looks like the prices in the tasks)."""
        attr = self.attribute(attribute)
        if isinstance(attr, CategoricalAttribute):
            raise ValueError(f"attribute {attribute!r} is categorical: it has no number format")
        fmt = self.text(attr.format, language)
        extra = {"currency": attr.currency} if isinstance(attr, PriceAttribute) else {}
        shown = fmt.format(value=_number_name(value), unit=self.text(attr.unit, language), **extra)
        return typeset(shown.strip(), language or self.default_language)  # "CHF 390", "1500 km"

    def level_value(self, attribute: str, level_index: int) -> str | float:
        """The value a tidy table holds for a level: its name, or its number."""
        attr = self.attribute(attribute)
        if isinstance(attr, CategoricalAttribute):
            return attr.levels[level_index].name
        return attr.values[level_index]


def _number_name(value: float | int | str) -> str:
    """Canonical text of a numeric level: 590.0 → '590', 0.5 → '0.5'."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return value
    return f"{value:g}" if float(value) != int(value) else str(int(value))
