"""Model specification files: estimate an MNL on any choice data without writing Python.

A spec is YAML with two sections (Swissmetro, as in biogeme's example b01a_logit)::

    data:
      path: swissmetro.csv.gz      # relative to the spec file
      format: wide                 # or long (offerlab's long format)
      respondent: ID
      choice: CHOICE
      filter: "PURPOSE in [1, 3] and CHOICE != 0"
      alternatives:
        train:      {code: 1, available: "TRAIN_AV * (SP != 0)",
                     variables: {time: TRAIN_TT / 100, cost: "TRAIN_CO * (GA == 0) / 100"}}
        swissmetro: {code: 2, available: SM_AV,
                     variables: {time: SM_TT / 100, cost: "SM_CO * (GA == 0) / 100"}}
        car:        {code: 3, available: "CAR_AV * (SP != 0)",
                     variables: {time: CAR_TT / 100, cost: CAR_CO / 100}}
    utility:                       # one entry per coefficient
      ASC_TRAIN: {alternatives: [train]}     # no variable: a constant
      ASC_CAR:   {alternatives: [car]}
      B_TIME:    {variable: time}            # all alternatives: generic
      B_COST:    {variable: cost}

Other coefficient forms: ``{variable: time, alternatives: [car]}`` (alternative
specific), ``{variable: cost, fixed: -1.0}`` or ``{fixed: 0.0}`` (fixed, not
estimated), ``{variable: brand, coding: effects}`` (a categorical column
expanded into one coefficient per level but one, named ``NAME[level]``;
``levels:`` sets their order, the first being dummy coding's reference).

Mixed logit: ``{variable: time, distribution: normal}`` makes a coefficient random
(``normal``, ``lognormal``, ``negative_lognormal`` or ``triangular``; a coded
coefficient makes each of its columns random). An optional model-level section
sets the simulation (defaults shown)::

    mixed:
      panel: true            # one draw per respondent across all tasks (false: per task)
      draws: halton          # halton, scrambled_halton, sobol or pseudo
      n_draws: 1000
      seed: null             # for scrambled and pseudo-random draws
      correlated: false      # true, or a list of random coefficients to correlate

The multinomial logit ignores ``distribution`` and ``mixed``.

Long data (``format: long``) is offerlab's long format; ``respondent``, ``task``,
``alternative`` and ``choice`` may name other columns to read as those (e.g.
``respondent: id, task: chid, alternative: alt, choice: choice`` for the
electricity data of mlogit and xlogit).

Every mapping forbids unknown keys. Problems are reported as
:class:`~offerlab.exceptions.SpecError` naming the file, line and field.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from offerlab.data import ChoiceData, WideAlternative, evaluate, read_table, wide_to_long
from offerlab.exceptions import ChoiceDataError, SpecError, StudyProblem
from offerlab.models._matrix import ModelMatrix, build_model_matrix
from offerlab.numerics import level_coding_matrix
from offerlab.study import parse_yaml, read_text

__all__ = [
    "AlternativeSpec",
    "CoefficientSpec",
    "DataSpec",
    "MixedSpec",
    "ModelSpec",
    "load_spec",
    "parse_spec",
    "spec_matrix",
    "spec_random",
]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AlternativeSpec(_Strict):
    """One alternative of wide data: its code in the choice column, availability, variables."""

    code: int | str
    available: str | float | None = None
    variables: dict[str, str | float] = Field(default_factory=dict)


class DataSpec(_Strict):
    """Where the data is and, for wide data, how to read each alternative."""

    path: str
    format: Literal["wide", "long"] = "long"
    respondent: str | None = None
    choice: str | None = None
    task: str | None = None
    alternative: str | None = Field(None, description="long data: the alternative column")
    weight: str | None = None
    filter: str | None = None
    alternatives: dict[str, AlternativeSpec] | None = None


class CoefficientSpec(_Strict):
    """One coefficient: a constant, a generic or alternative-specific variable, or fixed."""

    variable: str | float | None = None
    alternatives: list[str] | None = None
    fixed: float | None = None
    coding: Literal["effects", "dummy"] | None = None
    levels: list[str | float] | None = None
    distribution: Literal["normal", "lognormal", "negative_lognormal", "triangular"] | None = None


class MixedSpec(_Strict):
    """Simulation settings of a mixed logit (see the module notes)."""

    panel: bool = True
    draws: Literal["halton", "scrambled_halton", "sobol", "pseudo"] = "halton"
    n_draws: int = Field(1000, ge=1)
    seed: int | None = None
    correlated: bool | list[str] = False


class ModelSpec(_Strict):
    """A model specification: data, utility functions and, for mixed logit, simulation."""

    data: DataSpec | None = None
    utility: dict[str, CoefficientSpec] = Field(min_length=1)
    mixed: MixedSpec | None = None
    _path: Path | None = PrivateAttr(None)
    _positions: dict[tuple[str | int, ...], tuple[int, int]] = PrivateAttr(default_factory=dict)

    @property
    def path(self) -> Path | None:
        """The file the spec was read from, if any."""
        return self._path

    def problem(self, message: str, *loc: str | int) -> SpecError:
        """A :class:`SpecError` about the field at ``loc``, with its line in the file."""
        line, col = _locate(self._positions, tuple(loc))
        field = _dotted(loc)
        return SpecError([StudyProblem(message, field, line, col)], self._path)

    def load_data(self) -> ChoiceData:
        """Read the data the spec names, converting wide data to the long format."""
        if self.data is None:
            raise self.problem("the spec has no 'data' section; pass the data instead", "data")
        spec = self.data
        base = self._path.parent if self._path is not None else Path.cwd()
        path = Path(spec.path)
        path = path if path.is_absolute() else base / path
        if not path.is_file():
            raise self.problem(f"no such data file: {path}", "data", "path")
        frame = read_table(path)
        if spec.format == "long":
            renames = {
                getattr(spec, key): target
                for key, target in (
                    ("respondent", "respondent"),
                    ("task", "task"),
                    ("alternative", "alternative"),
                    ("choice", "chosen"),
                    ("weight", "weight"),
                )
                if getattr(spec, key) and getattr(spec, key) != target
            }
            missing = [c for c in renames if c not in frame.columns]
            if missing:
                raise self.problem(
                    f"no column(s) {missing} in {path.name} (columns: {list(frame.columns)[:20]})",
                    "data",
                )
            frame = frame.drop(columns=[c for c in renames.values() if c in frame.columns])
            frame = frame.rename(columns=renames)
            if spec.filter:
                try:
                    frame = frame[evaluate(frame, spec.filter, what="filter").astype(bool)]
                except ChoiceDataError as exc:
                    raise self.problem(str(exc), "data", "filter") from None
            return ChoiceData.from_frame(frame, source=str(path))
        alternatives = [
            WideAlternative(name, alt.code, _strs(alt.variables), _str_or_none(alt.available))
            for name, alt in (spec.alternatives or {}).items()
        ]
        try:
            return wide_to_long(
                frame,
                respondent=spec.respondent or "",
                choice=spec.choice or "",
                alternatives=alternatives,
                task=spec.task,
                filter=spec.filter,
                weight=spec.weight,
                source=str(path),
            )
        except ChoiceDataError as exc:
            raise self.problem(str(exc), "data") from None


def _strs(variables: dict[str, str | float]) -> dict[str, str]:
    return {k: v if isinstance(v, str) else repr(float(v)) for k, v in variables.items()}


def _str_or_none(value: str | float | None) -> str | None:
    return None if value is None else value if isinstance(value, str) else repr(float(value))


# -- reading and checking -----------------------------------------------------------------


def load_spec(path: Path | str) -> ModelSpec:
    """Read and validate a spec file; errors name the file, line and field."""
    path = Path(path)
    return parse_spec(read_text(path, SpecError), path)


def parse_spec(text: str, path: Path | str | None = None) -> ModelSpec:
    """Validate spec YAML text (``path`` is used in messages and for the data path).

    The text is read like a study file (:func:`offerlab.study.parse_yaml`): within
    size, depth and alias limits, with YAML 1.2 booleans (``yes`` stays text).
    """
    path = Path(path) if path is not None else None
    doc = parse_yaml(text, path, SpecError)
    if doc.problems:  # duplicate keys: YAML would keep the last one silently
        raise SpecError(doc.problems, path)
    positions = {loc: (m.line + 1, m.column + 1) for loc, m in doc.value_marks.items()}
    positions |= {loc: (m.line + 1, m.column + 1) for loc, m in doc.key_marks.items()}
    raw = doc.data
    if not isinstance(raw, dict):
        raise SpecError(
            [StudyProblem("a spec is a mapping with 'data' and 'utility' sections", "", 1, 1)],
            path,
        )
    try:
        spec = ModelSpec.model_validate(raw)
    except ValidationError as exc:
        by_field: dict[tuple, list[str]] = {}
        for err in exc.errors():
            loc = list(err["loc"])
            while len(loc) > 1 and _is_union_tag(loc[-1]):  # "str", "float": union members
                loc.pop()
            message = err["msg"]
            if err["type"] == "extra_forbidden":
                message = f"unknown field '{loc[-1]}'"
            elif "input" in err and err["type"] != "missing":
                message += f" (got {err['input']!r})"
            by_field.setdefault(tuple(loc), []).append(message)
        problems = []
        for loc, messages in by_field.items():
            line, col = _locate(positions, loc)
            problems.append(StudyProblem(_join(messages), _dotted(loc), line, col))
        raise SpecError(problems, path) from None
    spec._path = path
    spec._positions = positions
    _check_static(spec)
    return spec


def _join(messages: list[str]) -> str:
    """One message for the members of a union: 'Input should be a or b (got …)'."""
    if len(messages) == 1:
        return messages[0]
    head = "Input should be "
    got = messages[0][messages[0].rfind(" (got ") :] if " (got " in messages[0] else ""
    parts = [m.removeprefix(head).removesuffix(got) for m in messages]
    return head + " or ".join(dict.fromkeys(parts)) + got


def _is_union_tag(part: str | int) -> bool:
    return isinstance(part, str) and (
        part in {"str", "int", "float", "none"} or part.startswith(("list[", "dict["))
    )


def _locate(positions: dict, loc: tuple) -> tuple[int | None, int | None]:
    for n in range(len(loc), -1, -1):
        if loc[:n] in positions:
            return positions[loc[:n]]
    return None, None


def _dotted(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _check_static(spec: ModelSpec) -> None:
    """Checks that need no data: names, alternatives and variables of wide data."""
    problems: list[SpecError] = []
    data = spec.data
    wide = data is not None and data.format == "wide"
    if data is not None:
        if wide:
            for key in ("respondent", "choice", "alternatives"):
                if not getattr(data, key):
                    problems.append(spec.problem(f"wide data needs '{key}'", "data", key))
        elif data.alternatives is not None:
            problems.append(
                spec.problem(
                    "'alternatives' describes wide data; long data names them in the "
                    "'alternative' column (set format: wide)",
                    "data",
                    "alternatives",
                )
            )
    if spec.mixed is not None and isinstance(spec.mixed.correlated, list):
        random = {n for n, c in spec.utility.items() if c.distribution is not None}
        for i, name in enumerate(spec.mixed.correlated):
            if name not in random:
                problems.append(
                    spec.problem(
                        f"'{name}' is not a random coefficient (one with a 'distribution'); "
                        f"random ones: {sorted(random)}",
                        "mixed",
                        "correlated",
                        i,
                    )
                )
    alt_names = list(data.alternatives) if wide and data.alternatives else None
    for name, coef in spec.utility.items():
        if not _NAME.match(name):
            problems.append(
                spec.problem(f"'{name}' is not a valid coefficient name", "utility", name)
            )
        if coef.variable is None and coef.fixed is None and not coef.alternatives:
            problems.append(
                spec.problem(
                    "a constant needs 'alternatives' (the alternatives it applies to); "
                    "or give a 'variable'",
                    "utility",
                    name,
                )
            )
        if coef.coding is not None and (coef.variable is None or coef.fixed is not None):
            problems.append(
                spec.problem("'coding' needs a 'variable' and no 'fixed'", "utility", name)
            )
        if coef.distribution is not None and coef.fixed is not None:
            problems.append(
                spec.problem(
                    "a coefficient is either fixed or random: drop 'fixed' or 'distribution'",
                    "utility",
                    name,
                    "distribution",
                )
            )
        if alt_names is None:
            continue
        for i, alt in enumerate(coef.alternatives or []):
            if alt not in alt_names:
                problems.append(
                    spec.problem(
                        f"unknown alternative '{alt}'; the data defines {alt_names}",
                        "utility",
                        name,
                        "alternatives",
                        i,
                    )
                )
        if isinstance(coef.variable, str):
            applies = [a for a in (coef.alternatives or alt_names) if a in alt_names]
            lacking = [a for a in applies if coef.variable not in data.alternatives[a].variables]
            if len(lacking) == len(applies):
                known = sorted({v for a in data.alternatives.values() for v in a.variables})
                problems.append(
                    spec.problem(
                        f"unknown variable '{coef.variable}'; the alternatives define {known}",
                        "utility",
                        name,
                        "variable",
                    )
                )
            elif lacking:
                problems.append(
                    spec.problem(
                        f"variable '{coef.variable}' is not defined for {lacking}; define it "
                        "there or list the alternatives it applies to",
                        "utility",
                        name,
                        "variable",
                    )
                )
    if problems:
        raise SpecError([p for e in problems for p in e.problems], spec.path)


# -- the design ----------------------------------------------------------------------------


def spec_matrix(
    spec: ModelSpec, data: ChoiceData, *, levels: dict[str, list] | None = None
) -> tuple[ModelMatrix, dict[str, list]]:
    """Build the MNL design a spec describes on long data.

    ``levels`` fixes the levels of coded (categorical) coefficients, e.g. those
    of the fit when predicting on new data. Returns the design and, per coded
    coefficient, its levels.
    """
    given = dict(levels or {})
    frame = data.frame
    alt_values = frame["alternative"].astype(str)
    known_alts = list(dict.fromkeys(alt_values))
    available = frame["available"].to_numpy() == 1
    columns: list[np.ndarray] = []
    names: list[str] = []
    offset = np.zeros(len(frame))
    fixed: dict[str, float] = {}
    levels_of: dict[str, list] = {}
    problems: list[SpecError] = []
    for name, coef in spec.utility.items():
        if coef.alternatives is not None:
            bad = [a for a in coef.alternatives if a not in known_alts]
            for i, alt in enumerate(coef.alternatives):
                if alt in bad:
                    problems.append(
                        spec.problem(
                            f"unknown alternative '{alt}'; the data has {known_alts[:20]}",
                            "utility",
                            name,
                            "alternatives",
                            i,
                        )
                    )
            if bad:
                continue
            applies = alt_values.isin(coef.alternatives).to_numpy()
        else:
            applies = np.ones(len(frame), dtype=bool)
        try:
            values = _variable(frame, coef.variable, data.variables)
        except SpecError:
            raise
        except ChoiceDataError as exc:
            problems.append(spec.problem(str(exc), "utility", name, "variable"))
            continue
        if values is None:
            problems.append(
                spec.problem(
                    f"unknown variable '{coef.variable}'; the data has {list(data.variables)}",
                    "utility",
                    name,
                    "variable",
                )
            )
            continue
        if coef.coding is not None:
            coded_levels = given.get(name) or coef.levels
            if coded_levels is None:
                coded_levels = sorted(pd.unique(values[applies & available]), key=str)
            levels_of[name] = list(coded_levels)
            lookup = {str(lv): i for i, lv in enumerate(coded_levels)}
            idx = pd.Series(values).astype(str).map(lookup)
            miss = applies & available & idx.isna().to_numpy()
            if miss.any():
                shown = sorted({str(v) for v in np.asarray(values)[miss]})[:5]
                problems.append(
                    spec.problem(
                        f"values {shown} of '{coef.variable}' are not among the levels "
                        f"{coded_levels}",
                        "utility",
                        name,
                        "levels",
                    )
                )
                continue
            if len(coded_levels) < 2:
                problems.append(spec.problem("a coded variable needs 2+ levels", "utility", name))
                continue
            C = level_coding_matrix(len(coded_levels), coef.coding)
            coded = np.zeros((len(frame), len(coded_levels) - 1))
            ok = applies & ~idx.isna().to_numpy()
            coded[ok] = C[idx[ok].astype(int).to_numpy()]
            kept = coded_levels[:-1] if coef.coding == "effects" else coded_levels[1:]
            columns += list(coded.T)
            names += [f"{name}[{lv}]" for lv in kept]
            continue
        numeric = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(float)
        bad = applies & available & ~np.isfinite(numeric)
        if bad.any():
            where = ", ".join(str(i + 1) for i in np.flatnonzero(bad)[:5])
            problems.append(
                spec.problem(
                    f"variable '{coef.variable}' is missing or not a number on available "
                    f"alternatives it applies to (long rows {where})",
                    "utility",
                    name,
                    "variable",
                )
            )
            continue
        col = np.where(applies & np.isfinite(numeric), numeric, 0.0)
        if coef.fixed is not None:
            offset += coef.fixed * col
            fixed[name] = float(coef.fixed)
        else:
            columns.append(col)
            names.append(name)
    if problems:
        raise SpecError([p for e in problems for p in e.problems], spec.path)

    def code(_frame: pd.DataFrame, out: np.ndarray) -> None:
        for k, col in enumerate(columns):
            out[:, k] = col

    design = build_model_matrix(
        data,
        len(names),
        names,
        code,
        offset_rows=offset if fixed else None,
        fixed=fixed,
    )
    return design, levels_of


def spec_random(spec: ModelSpec, names: list[str]) -> dict[str, str]:
    """Distribution of every random column of a spec's design (column name → distribution).

    ``names`` are the design's columns (:func:`spec_matrix`); a coded coefficient
    ``NAME`` with a distribution makes each of its columns ``NAME[level]`` random.
    """
    out: dict[str, str] = {}
    for name, coef in spec.utility.items():
        if coef.distribution is None:
            continue
        if coef.coding is None:
            if name in names:
                out[name] = coef.distribution
            continue
        for column in names:
            if column.startswith(f"{name}[") and column.endswith("]"):
                out[column] = coef.distribution
    return out


def _variable(frame: pd.DataFrame, variable: str | float | None, known) -> np.ndarray | None:
    """A column, an expression over columns, a number, or 1 (a constant)."""
    if variable is None:
        return np.ones(len(frame))
    if not isinstance(variable, str):
        return np.full(len(frame), float(variable))
    if variable in frame.columns:
        return frame[variable].to_numpy()
    if _NAME.match(variable):
        return None
    return evaluate(frame, variable, what=f"expression {variable!r}").to_numpy()
