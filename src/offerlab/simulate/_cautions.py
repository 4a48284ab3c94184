"""What makes a prediction for an offer shaky, as data and as words.

Two things do: a number outside the studied range of a numeric or price attribute (a
linear term extrapolates beyond what respondents saw) and a combination the study
prohibits (respondents never saw it, so the model predicts it from main effects alone).
:func:`offer_cautions` finds them as data, which a page words in its reader's language;
:func:`offer_warnings` words them in English for the command line and the library.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from offerlab.study import CategoricalAttribute, Study

__all__ = ["OfferCaution", "offer_cautions", "offer_warnings"]


@dataclass(frozen=True)
class OfferCaution:
    """One reason to distrust an offer's share.

    ``reason`` is ``outside_range`` (``attribute`` = ``value`` lies outside ``low``–``high``)
    or ``prohibited`` (``levels``: the prohibited rule's attribute → level names).
    """

    reason: Literal["outside_range", "prohibited"]
    offer: str
    attribute: str = ""
    value: float = 0.0
    low: float = 0.0
    high: float = 0.0
    levels: tuple[tuple[str, str], ...] = ()

    @property
    def message(self) -> str:
        """The caution in English, naming the study file's attributes and levels."""
        if self.reason == "outside_range":
            return (
                f"offer '{self.offer}': {self.attribute} = {self.value:g} lies outside the "
                f"studied range [{self.low:g}, {self.high:g}]; its share extrapolates beyond "
                "what respondents saw"
            )
        combo = ", ".join(f"{a} = {level}" for a, level in self.levels)
        return (
            f"offer '{self.offer}' combines {combo}, which the study prohibits: respondents "
            "never saw it, so its share rests on main effects alone"
        )


def offer_cautions(study: Study, name: str, offer: Mapping[str, object]) -> list[OfferCaution]:
    """Every caution about the offer ``name`` (empty when nothing makes it shaky)."""
    cautions = []
    chosen: dict[str, int] = {}
    for attr in study.attributes:
        value = offer.get(attr.name)
        if value is None:
            continue
        level = int(study.level_indices(attr.name, [value])[0])
        if level >= 0:
            chosen[attr.name] = level
        if isinstance(attr, CategoricalAttribute):
            continue
        try:
            number = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            continue
        if not attr.in_studied_range(number):
            low, high = attr.studied_range
            cautions.append(OfferCaution("outside_range", name, attr.name, number, low, high))
    for rule in study.prohibitions:
        if all(a in chosen and chosen[a] == study.level_index(a, lv) for a, lv in rule.items()):
            levels = tuple((a, str(level)) for a, level in rule.items())
            cautions.append(OfferCaution("prohibited", name, levels=levels))
    return cautions


def offer_warnings(study: Study, name: str, offer: Mapping[str, object]) -> list[str]:
    """The cautions about the offer ``name`` in English (empty when nothing makes it shaky)."""
    return [caution.message for caution in offer_cautions(study, name, offer)]
