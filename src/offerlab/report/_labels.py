"""Human labels for the report: a study's attribute, level and price in a language, and
the optimiser's candidates in words. Formatting only: no number is computed here."""

from __future__ import annotations

import re
from collections.abc import Mapping

import pandas as pd

from offerlab.report._texts import ReportTexts
from offerlab.study import CategoricalAttribute, PriceAttribute, Study

__all__ = [
    "attribute_label",
    "candidate_lines",
    "labelled",
    "level_label",
    "offer_parts",
    "parse_lineup",
    "price_label",
]


def _number_name(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def price_label(study: Study, value: float, language: str) -> str:
    """A price as the study writes its levels (its ``format``: ``CHF 990 / Monat``), for
    prices between the studied ones too."""
    attr = study.price_attribute
    if attr is None:
        return _number_name(float(value))
    fmt = study.text(attr.format, language)
    return fmt.format(
        value=_number_name(float(value)), unit=study.text(attr.unit, language),
        currency=attr.currency,
    ).strip()  # fmt: skip


def level_label(study: Study, attribute: str, level: object, language: str) -> str:
    """The label of ``level`` (a level name or a number) of ``attribute`` in ``language``."""
    if attribute not in study.attribute_names:
        return str(level)
    attr = study.attribute(attribute)
    if not isinstance(attr, CategoricalAttribute):
        try:
            level = float(level)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return str(level)
        if isinstance(attr, PriceAttribute):
            return price_label(study, level, language)
    try:
        return study.level_label(attribute, study.level_index(attribute, level), language)  # type: ignore[arg-type]
    except (KeyError, ValueError, IndexError):
        return str(level)


def attribute_label(study: Study, attribute: str, texts: ReportTexts) -> str:
    if attribute in study.attribute_names:
        return study.text(study.attribute(attribute).label, texts.language)
    if attribute == "none":
        if study.tasks.none is not None:
            return study.text(study.tasks.none.label, texts.language)
        return texts("none_constant")
    return attribute


def labelled(frame: pd.DataFrame, study: Study, texts: ReportTexts) -> pd.DataFrame:
    """``attribute`` and ``level`` columns as labels of ``texts``' language."""
    out = frame.copy()
    if "level" in out.columns:
        levels = []
        for a, lv in zip(out["attribute"], out["level"], strict=True):
            if a == "none":
                levels.append(texts("none_constant"))
            elif lv == "per unit":
                unit = study.text(study.attribute(a).unit, texts.language) or "unit"
                levels.append(texts("per_unit", unit=unit))
            else:
                levels.append(level_label(study, a, lv, texts.language))
        out["level"] = levels
    out["attribute"] = [attribute_label(study, a, texts) for a in out["attribute"]]
    return out


def offer_parts(study: Study, offer: Mapping[str, object], texts: ReportTexts) -> list[str]:
    """An offer's levels as labels, the price first ("CHF 990 / Monat", "3 Monate"…)."""
    price = study.price_attribute
    parts = []
    if price is not None and price.name in offer:
        parts.append(level_label(study, price.name, offer[price.name], texts.language))
    for a, v in offer.items():
        if price is None or a != price.name:
            parts.append(level_label(study, a, v, texts.language))
    return parts


_PAIR = re.compile(r",\s(?=[A-Za-z_][\w]*=)")


def parse_lineup(text: str) -> list[dict[str, str]]:
    """The optimiser's ``lineup`` text (``a=v, b=w | a=v…``) as one dict per tier."""
    tiers = []
    for tier in str(text).split(" | "):
        offer = {}
        for pair in _PAIR.split(tier):
            name, _, value = pair.partition("=")
            offer[name.strip()] = value.strip()
        tiers.append(offer)
    return tiers


def candidate_lines(lineups: list[str], study: Study, texts: ReportTexts) -> list[str]:
    """Each candidate line-up in words: the first in full, the others by what differs."""
    parsed = [parse_lineup(text) for text in lineups]
    out = []
    for n, tiers in enumerate(parsed):
        head = len(tiers) > 1
        if n == 0:
            out.append(
                "; ".join(
                    (texts("tier_head", i=i + 1) if head else "")
                    + ", ".join(offer_parts(study, offer, texts))
                    for i, offer in enumerate(tiers)
                )
            )
            continue
        changes = []
        for i, offer in enumerate(tiers):
            first = parsed[0][i] if i < len(parsed[0]) else {}
            diff = {a: v for a, v in offer.items() if first.get(a) != v}
            if diff:
                prefix = texts("tier_head", i=i + 1) if head else ""
                changes.append(prefix + ", ".join(offer_parts(study, diff, texts)))
        out.append(
            texts("like_first") + " " + "; ".join(changes) if changes else texts("same_as_first")
        )
    return out
