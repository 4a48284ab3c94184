"""Checks that span several fields of a study, run once the study is structurally valid.

Pydantic validates each field on its own: types, required keys, unknown keys,
bounds. The checks here look at the study as a whole and report every problem
with the path of the field it concerns (``attributes[2].levels[1].name``), which
the loader turns into a line of the study file.

What is checked
---------------
* languages: each listed once; ``default_language`` is one of them;
* labels (titles, attribute and level labels, units, formats, the none option's
  label and question): a label given per language has a non-empty text for every
  language of the study and no text for a language the study does not declare.
  A plain string is the same text in every language (handy for "km" or "SUV");
* attributes: unique names; unique level names or numeric values; at most one
  price attribute; prices not negative; numeric formats use only ``{value}``,
  ``{unit}`` and (price) ``{currency}``, and show ``{value}``;
* prohibitions: at least two attributes each, known attributes and levels, and
  enough allowed concepts left to fill a task (``tasks.alternatives`` different
  concepts, since identical concepts are always forbidden);
* holdout tasks: unique names and positions, positions within the tasks shown,
  as many concepts as ``tasks.alternatives``, every concept setting every
  attribute to a known level, no prohibited or identical concepts;
* the none option: a dual response needs a question, a plain one must not have one;
* the prior: known attributes, one part-worth per level for categorical and
  part-worth coded numeric attributes, one coefficient (a number) for linearly
  coded numeric and price attributes; standard deviations not negative;
* task rules: ``dominated_concepts: forbid`` needs at least one ordered attribute.
  Without one no concept can dominate another, so the rule would silently do
  nothing; like an unknown key, that is reported as an error so the author either
  sets an ``order`` or drops the rule.

A level that prohibitions rule out of every concept is not an error (the study
still has concepts to show) but its part-worth cannot be estimated, so it comes
back as a note, which the loader issues as an :class:`~offerlab.exceptions.OfferlabWarning`.
"""

from __future__ import annotations

import itertools
import math
import string
from collections.abc import Callable, Iterator, Mapping
from typing import TypeAlias

from offerlab.exceptions import StudyProblem
from offerlab.study._model import (
    CategoricalAttribute,
    NumericAttribute,
    PriceAttribute,
    Study,
    _number_name,
)
from offerlab.study._primitives import FieldPath, earlier_place, suggest, unknown_name
from offerlab.study._questionnaire import check_questionnaire, questionnaire_labels

__all__ = ["FieldPath", "Locate", "check_study", "count_allowed_concepts", "field_path"]

#: Maps a field path to its (line, column) in the study file, 1-based, or (None, None).
Locate: TypeAlias = Callable[[FieldPath], tuple[int | None, int | None]]

# Enumerate prohibitions on at most this many combinations of the attributes they name.
_MAX_GRID = 1_000_000
# Up to this many combinations a plain loop is quicker than loading numpy.
_SMALL_GRID = 20_000
_AnyAttribute: TypeAlias = CategoricalAttribute | NumericAttribute | PriceAttribute


def field_path(path: FieldPath) -> str:
    """Dotted text of a field path: ``("attributes", 2, "name")`` → ``attributes[2].name``.

    Parameters
    ----------
    path : tuple of str and int
        Mapping keys and list indices from the top of the study file.

    Returns
    -------
    str
        The path as a study author would write it; keys that are not plain
        names are quoted (``prohibitions[0]['car class']``).
    """
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif str(part).isidentifier():
            out += f".{part}" if out else str(part)
        else:
            out += f"[{str(part)!r}]"
    return out


def count_allowed_concepts(study: Study) -> int | None:
    """Number of concepts (one level per attribute) that no prohibition rules out.

    Only the attributes named in prohibitions are enumerated, so large studies
    with few prohibitions are counted quickly.

    Parameters
    ----------
    study : Study
        A loaded study (its prohibitions name known attributes and levels).

    Returns
    -------
    int or None
        The count, or ``None`` when the attributes named in prohibitions have
        more than a million level combinations (too many to enumerate).
    """
    space = _concept_space(list(study.n_levels), study.prohibited_patterns)
    return None if space is None else space.count


def check_study(study: Study, locate: Locate) -> tuple[list[StudyProblem], list[StudyProblem]]:
    """Run every cross-field check on a structurally valid study.

    Parameters
    ----------
    study : Study
        The study as pydantic validated it.
    locate : callable
        Maps a field path to its (line, column) in the file, used to place each problem.

    Returns
    -------
    errors : list of StudyProblem
        Problems that make the study unusable.
    notes : list of StudyProblem
        Things worth a warning that do not stop the study from loading.
    """
    report = _Report(locate)
    _check_languages(study, report)
    _check_labels(study, report)
    attributes_ok = _check_attributes(study, report)
    patterns = _check_prohibitions(study, report) if attributes_ok else None
    if patterns is not None:
        _check_concept_space(study, patterns, report)
    _check_holdouts(study, patterns, report)
    _check_none_option(study, report)
    _check_prior(study, report)
    _check_rules(study, report)
    if study.questionnaire is not None:
        price = study.price_attribute
        check_questionnaire(
            study.questionnaire,
            report.error,
            has_none=study.tasks.none is not None,
            currency=price.currency if price is not None else None,
            design_versions=study.design.versions,
        )
    return report.errors, report.notes


class _Report:
    """Collects problems, placing each at the line of its field."""

    def __init__(self, locate: Locate) -> None:
        self.locate = locate
        self.errors: list[StudyProblem] = []
        self.notes: list[StudyProblem] = []

    def _problem(self, path: FieldPath, message: str, at: FieldPath | None) -> StudyProblem:
        line, column = self.locate(path if at is None else at)
        return StudyProblem(message, field_path(path), line, column)

    def error(self, path: FieldPath, message: str, at: FieldPath | None = None) -> None:
        self.errors.append(self._problem(path, message, at))

    def note(self, path: FieldPath, message: str, at: FieldPath | None = None) -> None:
        self.notes.append(self._problem(path, message, at))


# -- helpers -------------------------------------------------------------------


def _listing(items: list[str]) -> str:
    return ", ".join(items) if items else "(none)"


def _level_key(value: str | float) -> str:
    """The level name a prohibition or holdout value refers to (numbers by value)."""
    return _number_name(value) if isinstance(value, int | float) else str(value)


def _levels_field(attr: _AnyAttribute) -> str:
    return "levels" if isinstance(attr, CategoricalAttribute) else "values"


def _level_index(attr: _AnyAttribute) -> dict[str, int]:
    """Level name (or canonical number) → index, first occurrence wins."""
    index: dict[str, int] = {}
    for i, name in enumerate(attr.level_names):
        index.setdefault(name, i)
    return index


def _unknown_level(attr: _AnyAttribute, value: str | float) -> str:
    names = attr.level_names
    if isinstance(attr, CategoricalAttribute):
        hint = suggest(_level_key(value), names)
        return (
            f"attribute {attr.name!r} has no level {_level_key(value)!r}{hint}; "
            f"its levels are {_listing(names)}"
        )
    given = _level_key(value)
    return f"attribute {attr.name!r} has no value {given}; its values are {_listing(names)}"


# -- languages and labels ----------------------------------------------------------


def _check_languages(study: Study, report: _Report) -> None:
    seen: set[str] = set()
    for i, lang in enumerate(study.languages):
        if lang in seen:
            report.error(("languages", i), f"language {lang!r} is listed twice")
        seen.add(lang)
    if study.default_language not in study.languages:
        langs = _listing(list(study.languages))
        if "default_language" in study.model_fields_set:
            report.error(
                ("default_language",),
                f"default_language {study.default_language!r} is not one of the study's "
                f"languages ({langs})",
            )
        else:
            report.error(
                ("default_language",),
                f"default_language is not set and its default {study.default_language!r} is not "
                f"one of the study's languages ({langs}): add 'default_language: "
                f"{study.languages[0]}'",
                at=("languages",),
            )


def _labels(study: Study) -> Iterator[tuple[FieldPath, object, bool]]:
    """Every label of the study as (path, value, set explicitly in the file)."""
    yield ("title",), study.title, "title" in study.model_fields_set
    for i, attr in enumerate(study.attributes):
        yield ("attributes", i, "label"), attr.label, True
        if isinstance(attr, CategoricalAttribute):
            for j, level in enumerate(attr.levels):
                yield ("attributes", i, "levels", j, "label"), level.label, True
        else:
            yield ("attributes", i, "unit"), attr.unit, "unit" in attr.model_fields_set
            yield ("attributes", i, "format"), attr.format, "format" in attr.model_fields_set
    none = study.tasks.none
    if none is not None:
        path: FieldPath = ("tasks", "none")
        yield (*path, "label"), none.label, "label" in none.model_fields_set
        if none.question is not None:
            yield (*path, "question"), none.question, True
    if study.questionnaire is not None:
        yield from questionnaire_labels(study.questionnaire)


def _check_labels(study: Study, report: _Report) -> None:
    declared = list(dict.fromkeys(study.languages))
    for path, label, explicit in _labels(study):
        if not isinstance(label, Mapping):
            continue
        missing = [lang for lang in declared if not str(label.get(lang, "")).strip()]
        if missing:
            given = _listing(list(label))
            report.error(
                path,
                f"missing the text in {_listing(missing)} (the study's languages are "
                f"{_listing(declared)}; this label has {given})",
            )
        if not explicit:
            continue
        for lang in label:
            if lang not in declared:
                report.error(
                    (*path, lang),
                    f"text in {lang!r} but {lang!r} is not in the study's languages "
                    f"({_listing(declared)}): add it to languages or remove this text",
                )


# -- attributes --------------------------------------------------------------------


def _check_attributes(study: Study, report: _Report) -> bool:
    """Check names, levels, formats and the price; return whether levels are usable."""
    ok = True
    first: dict[str, int] = {}
    price_at: int | None = None
    for i, attr in enumerate(study.attributes):
        if (earlier := earlier_place(first, attr.name, i)) is not None:
            report.error(
                ("attributes", i, "name"),
                f"attribute name {attr.name!r} is used twice (also attributes[{earlier}])",
            )
            ok = False
        ok &= _check_levels(i, attr, report)
        if isinstance(attr, PriceAttribute):
            if price_at is not None:
                other = study.attributes[price_at].name
                report.error(
                    ("attributes", i, "type"),
                    f"a study has at most one price attribute and {other!r} "
                    f"(attributes[{price_at}]) is already it: make {attr.name!r} type: numeric",
                )
            else:
                price_at = i
            for j, value in enumerate(attr.values):
                if value < 0:
                    report.error(
                        ("attributes", i, "values", j),
                        f"a price cannot be negative, got {_number_name(value)}",
                    )
        if isinstance(attr, NumericAttribute):
            _check_format(i, attr, report)
    return ok


def _check_levels(i: int, attr: _AnyAttribute, report: _Report) -> bool:
    seen: dict[str, int] = {}
    ok = True
    field = _levels_field(attr)
    for j, name in enumerate(attr.level_names):
        if (earlier := earlier_place(seen, name, j)) is not None:
            what = "level" if field == "levels" else "value"
            path: FieldPath = ("attributes", i, field, j)
            if field == "levels":
                path = (*path, "name")
            report.error(
                path,
                f"{what} {name!r} appears twice in attribute {attr.name!r} "
                f"(also {field}[{earlier}])",
            )
            ok = False
    return ok


def _check_format(i: int, attr: NumericAttribute, report: _Report) -> None:
    allowed = ["value", "unit"] + (["currency"] if isinstance(attr, PriceAttribute) else [])
    shown = ", ".join("{" + a + "}" for a in allowed)
    texts = (
        [(("attributes", i, "format"), attr.format)]
        if isinstance(attr.format, str)
        else [(("attributes", i, "format", lang), text) for lang, text in attr.format.items()]
    )
    for path, text in texts:
        try:
            fields = [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]
        except ValueError:
            report.error(
                path,
                f"format {text!r} has an unmatched '{{' or '}}' (write {{{{ or }}}} for a brace)",
            )
            continue
        unknown = [name for name in fields if name not in allowed]
        for name in unknown:
            if name == "":
                report.error(path, f"format {text!r} has an empty placeholder {{}}: use {{value}}")
            else:
                report.error(
                    path,
                    f"unknown placeholder {{{name}}} in format {text!r}"
                    f"{suggest(name, allowed)}; use {shown}",
                )
        if unknown:
            continue
        if "value" not in fields:
            report.error(path, f"format {text!r} never shows the value: add {{value}}")
        try:  # values reach the format as text, so a spec such as {value:.2f} fails
            text.format(**{name: "1" for name in allowed})
        except (ValueError, IndexError, KeyError, AttributeError) as exc:
            report.error(path, f"format {text!r} cannot be shown: {exc}")


# -- prohibitions and the concept space ------------------------------------------------


def _check_prohibitions(study: Study, report: _Report) -> list[dict[int, int]] | None:
    """Check each prohibition; return them as {attribute: level} indices if all are valid."""
    patterns: list[dict[int, int]] | None = []
    for p, rule in enumerate(study.prohibitions):
        path: FieldPath = ("prohibitions", p)
        if len(rule) < 2:
            only = f"only {next(iter(rule))!r}" if rule else "none"
            report.error(
                path,
                "a prohibition forbids a combination of levels of at least 2 attributes, "
                f"got {only} (to drop a level everywhere, remove it from the attribute)",
            )
            patterns = None
        resolved = _resolve_levels(study, rule, path, report)
        if resolved is None:
            patterns = None
        elif patterns is not None:
            patterns.append(resolved)
    return patterns


class _Space:
    """The allowed concepts, enumerated on the attributes prohibitions name."""

    def __init__(self, count: int, involved: list[int], seen: list[set[int]]) -> None:
        self.count = count
        self.involved = involved  # attribute indices
        self.seen = seen  # per involved attribute: the levels some allowed concept has


def _concept_space(n_levels: list[int], patterns: list[dict[int, int]]) -> _Space | None:
    involved = sorted({a for pattern in patterns for a in pattern})
    sizes = [n_levels[a] for a in involved]
    if math.prod(sizes) > _MAX_GRID:
        return None
    others = math.prod(n for a, n in enumerate(n_levels) if a not in involved)
    column = {a: c for c, a in enumerate(involved)}
    rules = [[(column[a], level) for a, level in pattern.items()] for pattern in patterns]
    if math.prod(sizes) > _SMALL_GRID:
        return _large_concept_space(sizes, rules, others, involved)
    allowed = [
        combo
        for combo in itertools.product(*map(range, sizes))
        if not any(all(combo[c] == level for c, level in rule) for rule in rules)
    ]
    seen = [{combo[c] for combo in allowed} for c in range(len(involved))]
    return _Space(len(allowed) * others, involved, seen)


def _large_concept_space(
    sizes: list[int], rules: list[list[tuple[int, int]]], others: int, involved: list[int]
) -> _Space:
    """:func:`_concept_space` on a grid too large for a loop, with numpy."""
    import numpy as np  # only here: checking a study file starts without numpy

    grid = np.indices(sizes).reshape(len(sizes), -1).T
    ok = np.ones(grid.shape[0], dtype=bool)
    for rule in rules:
        hit = np.ones_like(ok)
        for c, level in rule:
            hit &= grid[:, c] == level
        ok &= ~hit
    seen = [set(np.unique(grid[ok, c]).tolist()) for c in range(len(involved))]
    return _Space(int(ok.sum()) * others, involved, seen)


def _check_concept_space(study: Study, patterns: list[dict[int, int]], report: _Report) -> None:
    space = _concept_space(list(study.n_levels), patterns)
    if space is None:
        return
    needed = study.tasks.alternatives
    if patterns and space.count == 0:
        report.error(("prohibitions",), "the prohibitions leave no valid concept")
        return
    if space.count < needed:
        if patterns:
            report.error(
                ("prohibitions",),
                f"the prohibitions leave only {space.count} concepts, a task needs {needed} "
                "different ones (tasks.alternatives)",
            )
        else:
            report.error(
                ("tasks", "alternatives"),
                f"the attributes allow only {space.count} different concepts, a task needs "
                f"{needed}",
            )
        return
    for c, a in enumerate(space.involved):
        attr = study.attributes[a]
        for level in range(study.n_levels[a]):
            if level not in space.seen[c]:
                name = attr.level_names[level]
                path: FieldPath = ("attributes", a, _levels_field(attr), level)
                report.note(
                    path,
                    f"level {name!r} of attribute {attr.name!r} never appears: prohibitions "
                    "rule out every concept with it, so its part-worth cannot be estimated",
                )


# -- holdouts, none option, prior, rules ------------------------------------------------


def _check_holdouts(study: Study, patterns: list[dict[int, int]] | None, report: _Report) -> None:
    tasks = study.tasks
    total = tasks.per_respondent + len(tasks.holdouts)
    names: dict[str, int] = {}
    positions: dict[int, int] = {}
    for h, holdout in enumerate(tasks.holdouts):
        path: FieldPath = ("tasks", "holdouts", h)
        if (first := earlier_place(names, holdout.name, h)) is not None:
            report.error(
                (*path, "name"),
                f"holdout name {holdout.name!r} is used twice (also holdouts[{first}])",
            )
        if holdout.position is not None:
            if holdout.position > total:
                report.error(
                    (*path, "position"),
                    f"position {holdout.position} is after the last task: respondents see "
                    f"{total} tasks ({tasks.per_respondent} from the design and "
                    f"{len(tasks.holdouts)} holdout{'s' if len(tasks.holdouts) > 1 else ''})",
                )
            elif (other := earlier_place(positions, holdout.position, h)) is not None:
                report.error(
                    (*path, "position"),
                    f"position {holdout.position} is taken by holdouts[{other}]",
                )
        if len(holdout.concepts) != tasks.alternatives:
            report.error(
                (*path, "concepts"),
                f"holdout {holdout.name!r} has {len(holdout.concepts)} concepts, but every task "
                f"shows {tasks.alternatives} (tasks.alternatives)",
            )
        _check_holdout_concepts(study, h, patterns, report)


def _resolve_levels(
    study: Study, mapping: dict[str, str | float], path: FieldPath, report: _Report
) -> dict[int, int] | None:
    """{attribute index: level index} for an {attribute: level} mapping; None if any is unknown."""
    names = study.attribute_names
    resolved: dict[int, int] | None = {}
    for name, value in mapping.items():
        if name not in names:
            report.error((*path, name), unknown_name("attribute", name, names))
            resolved = None
            continue
        attr = study.attribute(name)
        index = _level_index(attr).get(_level_key(value))
        if index is None:
            report.error((*path, name), _unknown_level(attr, value))
            resolved = None
        elif resolved is not None:
            resolved[names.index(name)] = index
    return resolved


def _check_holdout_concepts(
    study: Study, h: int, patterns: list[dict[int, int]] | None, report: _Report
) -> None:
    names = study.attribute_names
    seen: dict[tuple[int, ...], int] = {}
    for c, concept in enumerate(study.tasks.holdouts[h].concepts):
        path: FieldPath = ("tasks", "holdouts", h, "concepts", c)
        levels = _resolve_levels(study, concept, path, report)
        missing = [n for n in names if n not in concept]
        if missing:
            report.error(
                path,
                f"a holdout concept sets every attribute; this one lacks {_listing(missing)}",
            )
        if levels is None or missing:
            continue
        row = tuple(levels[a] for a in range(len(names)))
        if (earlier := earlier_place(seen, row, c)) is not None:
            report.error(path, f"this concept is identical to concepts[{earlier}]")
        if patterns is not None:
            for p, pattern in enumerate(patterns):
                if all(row[a] == level for a, level in pattern.items()):
                    report.error(path, f"this concept is ruled out by prohibitions[{p}]")


def _check_none_option(study: Study, report: _Report) -> None:
    none = study.tasks.none
    if none is None:
        return
    path: FieldPath = ("tasks", "none")
    if none.type == "dual" and none.question is None:
        report.error(
            (*path, "question"),
            "a dual-response none option needs a question, asked after each choice, such as "
            "'Would you really take out this offer?'",
            at=(*path, "type"),
        )
    if none.type == "plain" and none.question is not None:
        report.error(
            (*path, "question"),
            "only a dual-response none option asks a question: set type: dual or remove it",
        )


def _check_prior(study: Study, report: _Report) -> None:
    prior = study.design.prior
    if prior is None:
        return
    names = study.attribute_names
    for part, values in (("mean", prior.mean), ("sd", prior.sd)):
        for name, value in values.items():
            path: FieldPath = ("design", "prior", part, name)
            if name not in names:
                report.error(path, unknown_name("attribute", name, names))
                continue
            attr = study.attribute(name)
            linear = isinstance(attr, NumericAttribute) and attr.coding == "linear"
            n = len(attr.level_names)
            if linear and isinstance(value, list):
                report.error(
                    path,
                    f"attribute {name!r} is coded linear: give one number (per unit of "
                    f"{name}), not a list of {len(value)}",
                )
            elif not linear and not isinstance(value, list):
                report.error(
                    path,
                    f"attribute {name!r} has {n} levels: give a list of {n} part-worths, "
                    "one per level",
                )
            elif not linear and isinstance(value, list) and len(value) != n:
                report.error(
                    path,
                    f"attribute {name!r} has {n} levels, so the prior needs {n} part-worths, "
                    f"got {len(value)}",
                )
            numbers = value if isinstance(value, list) else [value]
            if part == "sd" and any(v < 0 for v in numbers):
                report.error(path, "a prior standard deviation cannot be negative")


def _check_rules(study: Study, report: _Report) -> None:
    if study.tasks.rules.dominated_concepts == "forbid" and not study.ordered_attributes:
        report.error(
            ("tasks", "rules", "dominated_concepts"),
            "dominated_concepts: forbid has no effect because no attribute has an order: set "
            "'order: increasing' or 'order: decreasing' on attributes whose levels are better "
            "in one direction, or remove this rule",
        )
