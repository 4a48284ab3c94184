"""Read a study file: YAML with line numbers, validation into :class:`Study`, plain errors.

Loading runs in three stages, each reporting every problem it finds at once:

1. YAML: :func:`offerlab.study.parse_yaml` reads the text within size, depth and
   alias limits, keeping the line and column of every key and value. Syntax
   errors, a limit exceeded, duplicate keys, an empty file or a top level that
   is not a mapping stop here.
2. Structure: pydantic validates the objects into :class:`Study` (strictly, so
   ``"3"`` is not a number and ``true`` is not 1). Its errors are rewritten into
   plain sentences and placed at the line of the field they concern.
3. Meaning: the cross-field checks of :mod:`offerlab.study._checks` (duplicate
   levels, prohibitions naming unknown levels, missing translations…) run once
   the structure is valid.

Booleans follow YAML 1.2: only ``true`` and ``false`` are booleans, so level
names such as ``yes``, ``no``, ``on`` or ``off`` stay text.
"""

from __future__ import annotations

import difflib
import re
import types
import unicodedata
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from offerlab.exceptions import OfferlabWarning, StudyError, StudyProblem
from offerlab.study._checks import FieldPath, check_study
from offerlab.study._concept_images import read_concept_images
from offerlab.study._model import Study
from offerlab.study._primitives import LANGUAGES
from offerlab.study._yaml import YamlDocument, parse_yaml, read_text

__all__ = [
    "example_path",
    "load_study",
    "load_yaml_model",
    "parse_study",
    "parse_yaml_model",
    "parse_yaml_model_located",
]

_M = TypeVar("_M", bound=BaseModel)
_EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


# -- public API --------------------------------------------------------------------


def parse_study(text: str, path: Path | str | None = None) -> Study:
    """Validate the text of a study file into a :class:`Study`.

    Parameters
    ----------
    text : str
        The YAML text of the study.
    path : path-like, optional
        Where the text comes from; only used to name the file in messages.

    Returns
    -------
    Study
        The validated study.

    Raises
    ------
    StudyError
        If anything is wrong. The error lists every problem found, each with
        the field path and the line and column in the file.

    Warns
    -----
    OfferlabWarning
        For a level that prohibitions rule out of every concept.
    """
    return _parse(text, path, stacklevel=3)


def load_study(path: Path | str) -> Study:
    """Read a study file (YAML in UTF-8) and validate it as :func:`parse_study` does.

    A file that cannot be read (missing, a directory, not UTF-8) is a
    :class:`StudyError` too, naming the file.

    Examples
    --------
    >>> from offerlab.study import example_path, load_study
    >>> study = load_study(example_path())
    >>> study.tasks.alternatives
    3
    """
    return _parse(read_text(path, StudyError), path, stacklevel=3, folder=Path(path).parent)


def load_yaml_model(
    model: type[_M],
    path: Path | str,
    error: type[StudyError] = StudyError,
    check: Callable[[_M], list[tuple[FieldPath, str]]] | None = None,
) -> _M:
    """Read a YAML file into any offerlab model, with study-style error messages.

    For files beside the study (populations, scenarios…): the file is read and
    parsed as a study file is, and pydantic's errors are rewritten the same way,
    each with the field path and the line. Cross-field checks are the model's own.

    Parameters
    ----------
    model : type of pydantic.BaseModel
        The model the file's top-level mapping validates into.
    path : path-like
        The YAML file, in UTF-8.
    error : type of StudyError, default StudyError
        The error raised, e.g. :class:`~offerlab.exceptions.SpecError`.
    check : callable, optional
        Cross-field checks on the validated instance, returning (field path, message)
        pairs; each becomes a problem located at that field's line.

    Returns
    -------
    model
        The validated instance.

    Raises
    ------
    StudyError
        (or ``error``) listing every problem with its line and field.
    """
    return parse_yaml_model(model, read_text(path, error), path, error, check)


def parse_yaml_model(
    model: type[_M],
    text: str,
    path: Path | str | None = None,
    error: type[StudyError] = StudyError,
    check: Callable[[_M], list[tuple[FieldPath, str]]] | None = None,
) -> _M:
    """:func:`load_yaml_model` on text (an upload, a form field); ``path`` names it in messages."""
    return parse_yaml_model_located(model, text, path, error, check)[0]


def parse_yaml_model_located(
    model: type[_M],
    text: str,
    path: Path | str | None = None,
    error: type[StudyError] = StudyError,
    check: Callable[[_M], list[tuple[FieldPath, str]]] | None = None,
) -> tuple[_M, YamlDocument]:
    """:func:`parse_yaml_model`, also returning the document, to place later problems.

    A model spec, for one, finds problems only once its data is read; the document's
    :meth:`~offerlab.study.YamlDocument.problem` places them at their line.
    """
    doc = _read_yaml(text, path, model, error)
    try:
        instance = model.model_validate(doc.data, strict=True)
    except ValidationError as exc:
        raise error(_in_file_order(doc.problems + _translate(exc, doc)), path) from None
    found = (check or _none)(instance)
    problems = doc.problems + [doc.problem(at, message) for at, message in found]
    if problems:
        raise error(_in_file_order(problems), path)
    return instance, doc


def _none(_: object) -> list[tuple[FieldPath, str]]:
    return []


def example_path(name: str = "car_subscription") -> Path:
    """Path of an example study shipped with offerlab.

    Parameters
    ----------
    name : str, default "car_subscription"
        The example's name, its file name without ``.yaml``.

    Returns
    -------
    pathlib.Path
        The example's YAML file.

    Raises
    ------
    StudyError
        If there is no example of that name; the message lists the examples.
    """
    file = _EXAMPLES / f"{name}.yaml"
    if not file.is_file():
        known = sorted(p.stem for p in _EXAMPLES.glob("*.yaml"))
        hint = difflib.get_close_matches(name, known, n=1)
        did_you_mean = f" (did you mean {hint[0]!r}?)" if hint else ""
        message = (
            f"no example study named {name!r}{did_you_mean}; "
            f"examples are {', '.join(known) or '(none installed)'}"
        )
        raise StudyError([StudyProblem(message)], name)
    return file


# -- the three stages ------------------------------------------------------------------


def _parse(
    text: str, path: Path | str | None, stacklevel: int, folder: Path | None = None
) -> Study:
    """The study in ``text``; with the ``folder`` of its file, its concept images too."""
    doc = _read_yaml(text, path)
    problems = list(doc.problems)
    try:
        study = Study.model_validate(doc.data, strict=True)
    except ValidationError as exc:
        problems += _translate(exc, doc)
        raise StudyError(_in_file_order(problems), path) from None
    errors, notes = check_study(study, doc.locate)
    problems += errors
    if folder is not None and not problems:
        problems += read_concept_images(study, folder, doc.locate)
    if problems:
        raise StudyError(_in_file_order(problems), path)
    for note in notes:
        warnings.warn(note.render(path), OfferlabWarning, stacklevel=stacklevel)
    return study


def _in_file_order(problems: list[StudyProblem]) -> list[StudyProblem]:
    unique = list(dict.fromkeys(problems))
    return sorted(unique, key=lambda p: (p.line or 0, p.column or 0))


# -- stage 1: YAML with positions -----------------------------------------------------


def _read_yaml(
    text: str,
    path: Path | str | None,
    root: type[BaseModel] = Study,
    error: type[StudyError] = StudyError,
) -> YamlDocument:
    """Parse YAML text into a :class:`YamlDocument` whose data is a mapping for ``root``."""
    doc = parse_yaml(text, path, error)
    doc.root = root
    keys = " and ".join(f"'{n}:'" for n, f in root.model_fields.items() if f.is_required())
    if doc.data is None and not doc.value_marks:
        message = f"the file is empty: it should be a mapping of keys, at least {keys}"
        raise error([StudyProblem(message, "", 1, 1)], path)
    if not isinstance(doc.data, dict):
        line, column = doc.locate(())
        message = f"the top level must be a mapping of keys ({keys}…), got {_show(doc.data)}"
        raise error([StudyProblem(message, "", line, column)], path)
    return doc


# -- stage 2: pydantic errors in plain words ----------------------------------------


@dataclass(frozen=True)
class _Error:
    """A pydantic error with its location mapped onto the study's data."""

    path: FieldPath  # into the data, union branch tags removed
    site: FieldPath | None  # path of the innermost union whose branch tag was removed
    type: str
    input: Any
    ctx: dict[str, Any]
    msg: str


def _translate(exc: ValidationError, doc: YamlDocument) -> list[StudyProblem]:
    """Rewrite pydantic errors: one plain message per field, at that field's line."""
    errors = [_normalise(error, doc.data) for error in exc.errors(include_url=False)]
    # 'lables' given, 'label' missing: the typo alone explains both errors.
    missing = {e.path for e in errors if e.type == "missing"}
    explained = {
        (*e.path[:-1], guess)
        for e in errors
        if e.type == "extra_forbidden" and (guess := _key_suggestion(e.path, doc))
    }
    errors = [e for e in errors if not (e.type == "missing" and e.path in missing & explained)]
    sites: dict[FieldPath, list[_Error]] = {}
    for error in errors:
        if error.site is not None:
            sites.setdefault(error.site, []).append(error)
    problems: list[StudyProblem] = []
    for error in errors:
        if error.site is None:
            problems.append(doc.problem(error.path, _message(error, doc)))
            continue
        group = sites.pop(error.site, None)
        if group is None:  # already reported with its union
            continue
        deeper = [e for e in group if len(e.path) > len(error.site)]
        if deeper:  # the branch that matched the input's shape knows what is wrong
            problems += [doc.problem(e.path, _message(e, doc)) for e in deeper]
        else:
            problems.append(doc.problem(error.site, _union_message(group, doc)))
    return problems


def _normalise(error: Any, data: Any) -> _Error:
    """Follow an error's ``loc`` through the data, dropping union branch tags."""
    loc = tuple(error["loc"])
    node, path, site = data, [], None
    for i, part in enumerate(loc):
        if part == "[key]":  # the error concerns the mapping key itself
            continue
        if isinstance(node, dict | list) and _has(node, part):
            path.append(part)
            node = node[part]
        elif error["type"] == "missing" and all(p == "[key]" for p in loc[i + 1 :]):
            path.append(part)
            node = None
        else:  # 'str', 'numeric', "dict[literal['de',…],str]": the branch of a union
            site = tuple(path)
    return _Error(
        tuple(path), site, error["type"], error.get("input"), error.get("ctx") or {}, error["msg"]
    )


def _show(value: Any) -> str:
    """How a given value appears in a message: 'abc', 3, true, a list…"""
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        short = value if len(value) <= 40 else value[:37] + "..."
        return "an empty text" if not value else repr(short)
    if isinstance(value, int | float):
        return f"{value:g}" if isinstance(value, float) else str(value)
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return repr(str(value))


def _looks_numeric(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        float(value)
    except ValueError:
        return False
    return True


def _got(value: Any) -> str:
    quoted = " (remove the quotes to make it a number)" if _looks_numeric(value) else ""
    return f"got {_show(value)}{quoted}"


_NOUNS = {
    "string_type": "a text",
    "dict_type": "one text per language (de: …, fr: …)",
    "float_type": "a number",
    "float_parsing": "a number",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "list_type": "a list of numbers",
}


def _union_message(group: list[_Error], doc: YamlDocument) -> str:
    """One message for the failed branches of a union, e.g. text or one text per language."""
    nouns = list(dict.fromkeys(_NOUNS.get(e.type, "") for e in group))
    if len(group) == 1 or "" in nouns:
        return _message(group[0], doc)
    expected = ", ".join(nouns[:-1]) + " or " + nouns[-1]
    return f"expected {expected}, {_got(group[0].input)}"


def _message(error: _Error, doc: YamlDocument) -> str:
    """A pydantic error as a plain sentence."""
    kind, value, ctx = error.type, error.input, error.ctx
    got = _got(value)
    last = error.path[-1] if error.path else ""
    if kind == "missing":
        return f"missing required key {last!r}"
    if kind == "extra_forbidden":
        return _unknown_key(error.path, doc)
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"expected a mapping of keys to values, {got}"
    if kind in ("list_type", "tuple_type"):
        return f"expected a list, {got}"
    if kind == "string_type":
        return f"expected a text, {got}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"expected a whole number, {got}"
    if kind in ("float_type", "float_parsing"):
        return f"expected a number, {got}"
    if kind == "finite_number":
        return f"expected a finite number, {got}"
    if kind == "literal_error":
        return _literal_message(value, str(ctx.get("expected", "")))
    if kind == "union_tag_invalid":
        tags = re.findall(r"'([^']*)'", str(ctx.get("expected_tags", "")))
        given = value.get("type") if isinstance(value, dict) else ctx.get("tag")
        what = "anchor" if last == "anchor" else "attribute"
        if what == "anchor" and not isinstance(value, dict):
            return f"expected a mapping such as {{type: {tags[0]}}}, {got}"
        if not isinstance(given, str) or not given:
            return f"an {what} type is one of {', '.join(tags)}, got {_show(given)}"
        hint = _did_you_mean(given, tags)
        return f"unknown {what} type {given!r}{hint}; use {', '.join(tags)}"
    if kind == "string_pattern_mismatch":
        return _name_message(value)
    if kind == "string_too_short":
        return "expected a name, got an empty text"
    if kind == "string_too_long":
        return f"a name has at most {ctx.get('max_length')} characters, got {len(value)}"
    if kind == "too_short":
        return _too_short_message(last, ctx)
    if kind == "too_long":
        return f"at most {ctx.get('max_length')} entries allowed, got {ctx.get('actual_length')}"
    if kind == "greater_than_equal":
        return f"must be at least {ctx.get('ge')}, {got}"
    if kind == "greater_than":
        return f"must be more than {ctx.get('gt')}, {got}"
    if kind == "less_than_equal":
        return f"must be at most {ctx.get('le')}, {got}"
    if kind == "less_than":
        return f"must be less than {ctx.get('lt')}, {got}"
    return f"{error.msg[0].lower()}{error.msg[1:]}, {got}"


def _did_you_mean(word: str, choices: list[str]) -> str:
    lower = {c.lower(): c for c in choices}
    close = difflib.get_close_matches(word.lower(), list(lower), n=1, cutoff=0.6)
    return f" (did you mean {lower[close[0]]!r}?)" if close else ""


def _literal_message(value: Any, expected: str) -> str:
    choices = re.findall(r"'([^']*)'", expected)
    hint = _did_you_mean(str(value), choices) if isinstance(value, str) else ""
    if set(choices) == set(LANGUAGES):
        if not isinstance(value, str):
            return f"expected a language ({', '.join(LANGUAGES)}), got {_show(value)}"
        return f"unknown language {_show(value)}{hint}; offerlab supports {', '.join(LANGUAGES)}"
    return f"expected one of {', '.join(choices)}, got {_show(value)}{hint}"


def _name_message(value: Any) -> str:
    ascii_text = unicodedata.normalize("NFKD", str(value)).encode("ascii", "ignore").decode()
    suggestion = re.sub(r"[^A-Za-z0-9_]+", "_", ascii_text).strip("_") or "name"
    if suggestion[0].isdigit():
        suggestion = "_" + suggestion
    return (
        f"{_show(value)} is not a valid name: use letters, digits and underscores, "
        f"starting with a letter, such as {suggestion!r} (the text people see goes in 'label')"
    )


def _too_short_message(last: Any, ctx: dict[str, Any]) -> str:
    n, least = ctx.get("actual_length"), ctx.get("min_length")
    if last in ("levels", "values"):
        return f"an attribute needs at least {least} levels, got {n}"
    if last == "attributes":
        return "a study needs at least one attribute"
    if last == "languages":
        return "list at least one language"
    if last == "concepts":
        return f"a holdout task needs at least {least} concepts, got {n}"
    return f"needs at least {least} entr{'y' if least == 1 else 'ies'}, got {n}"


def _key_suggestion(path: FieldPath, doc: YamlDocument) -> str | None:
    """The allowed key closest to the unknown key at ``path``, if one is close."""
    model, _ = _model_at(path[:-1], doc.data, doc.root)
    if model is None:
        return None
    close = difflib.get_close_matches(str(path[-1]), list(model.model_fields), n=1, cutoff=0.6)
    return close[0] if close else None


def _unknown_key(path: FieldPath, doc: YamlDocument) -> str:
    key = str(path[-1])
    model, candidates = _model_at(path[:-1], doc.data, doc.root)
    if model is None:
        return f"unknown key {key!r}"
    allowed = list(model.model_fields)
    guess = _key_suggestion(path, doc)
    if guess:
        return f"unknown key {key!r} (did you mean {guess!r}?)"
    owners = [_type_tag(c) for c in candidates if c is not model and key in c.model_fields]
    what = "anchor" if len(path) > 1 and path[-2] == "anchor" else "attribute"
    if owners:
        return (
            f"unknown key {key!r} for a {_type_tag(model)} {what}; {key!r} belongs to "
            f"{' and '.join(owners)} {what}s: check 'type'"
        )
    return f"unknown key {key!r}; allowed keys here are {', '.join(allowed)}"


def _type_tag(model: type[BaseModel]) -> str:
    type_field = model.model_fields.get("type")
    tags = get_args(type_field.annotation) if type_field is not None else ()
    return str(tags[0]) if tags else model.__name__


def _alternatives(annotation: Any) -> list[Any]:
    """The types an annotation allows, through Annotated and unions."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _alternatives(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return [t for arg in get_args(annotation) for t in _alternatives(arg)]
    return [annotation]


def _resolve(annotation: Any, node: Any) -> tuple[type[BaseModel] | None, list[type[BaseModel]]]:
    """The model an annotation validates ``node`` with, and the models of its union."""
    models = [
        t for t in _alternatives(annotation) if isinstance(t, type) and issubclass(t, BaseModel)
    ]
    if len(models) <= 1:
        return (models[0] if models else None), models
    tag = node.get("type") if isinstance(node, dict) else None
    for model in models:
        type_field = model.model_fields.get("type")
        if type_field is None:
            continue
        tags = get_args(type_field.annotation)
        if tag in tags or (tag is None and not type_field.is_required()):
            return model, models
    return models[0], models


def _model_at(
    path: FieldPath, data: Any, root: type[BaseModel]
) -> tuple[type[BaseModel] | None, list[type[BaseModel]]]:
    """The model that validates the mapping at ``path`` of the data ``root`` validates."""
    annotation: Any = root
    node = data
    for part in path:
        model, _ = _resolve(annotation, node)
        if model is not None:
            field_info = model.model_fields.get(part) if isinstance(part, str) else None
            if field_info is None:
                return None, []
            annotation = field_info.annotation
        else:
            annotation = _item_type(annotation, part)
            if annotation is None:
                return None, []
        node = node[part] if isinstance(node, dict | list) and _has(node, part) else None
    return _resolve(annotation, node)


def _has(node: dict[Any, Any] | list[Any], part: Any) -> bool:
    if isinstance(node, list):
        return isinstance(part, int) and 0 <= part < len(node)
    return part in node


def _item_type(annotation: Any, part: Any) -> Any:
    for option in _alternatives(annotation):
        origin = get_origin(option)
        if origin is list and isinstance(part, int):
            return get_args(option)[0]
        if origin is dict:
            return get_args(option)[1]
    return None
