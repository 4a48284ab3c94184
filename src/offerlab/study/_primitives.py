"""The building blocks of a study file shared by the study model and the questionnaire.

Identifiers, labels in one or four languages, the field path an error names, and what
every questionnaire page has (its id, text, display logic and random group).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeAlias

from pydantic import Field, StringConstraints

from offerlab.study._strict import StrictModel

__all__ = [
    "LANGUAGES",
    "Condition",
    "FieldPath",
    "Identifier",
    "Label",
    "Language",
    "PageBase",
    "Range",
    "ReportError",
    "earlier_place",
    "in_four_languages",
    "suggest",
    "type_tag",
    "unknown_name",
]

Language = Literal["de", "fr", "it", "en"]
LANGUAGES: tuple[str, ...] = ("de", "fr", "it", "en")
Identifier = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", min_length=1, max_length=64)
]
# A label is either one string (a study in one language) or one text per language.
Label = str | dict[Language, str]
FieldPath: TypeAlias = tuple[str | int, ...]
#: Records an error at a field path of the study file.
ReportError: TypeAlias = Callable[[FieldPath, str], None]


def in_four_languages(de: str, fr: str, it: str, en: str) -> Any:
    """A label field whose default is the given text in German, French, Italian, English."""
    return Field(default_factory=lambda: {"de": de, "fr": fr, "it": it, "en": en})


def suggest(word: str, choices: list[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``choices``, or nothing."""
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def unknown_name(what: str, name: str, names: list[str]) -> str:
    """The message for a name that is not among ``names`` (the known ones of ``what``)."""
    known = ", ".join(names) or "(none)"
    return f"unknown {what} {name!r}{suggest(name, names)}; {what}s are {known}"


def earlier_place(first: dict[Any, int], key: Any, index: int) -> int | None:
    """Where ``key`` stood before ``index``, or None the first time (``first`` remembers
    every key's first place: the one a "used twice (also ...)" message names)."""
    place = first.setdefault(key, index)
    return None if place == index else place


# A condition on an earlier answer: the options (any of them) or a number range.
class Range(StrictModel):
    min: float | None = None
    max: float | None = None


Condition = list[Identifier] | Range


class PageBase(StrictModel):
    """What every page of the questionnaire has."""

    id: Identifier
    text: Label = Field(description="The question or the page's text.")
    help: Label | None = Field(None, description="A smaller line under the text.")
    show_if: dict[str, Condition] | None = None
    random_group: Identifier | None = None


def type_tag(value: object, default: str = "") -> str:
    """The ``type`` that picks a member of a tagged union, read from the YAML mapping
    (validation) or from the built model (serialisation); ``default`` where it is left out."""
    if isinstance(value, dict):
        return str(value.get("type", default))
    return str(getattr(value, "type", default))
