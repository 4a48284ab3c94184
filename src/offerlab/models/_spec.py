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
from typing import Annotated, Literal

import numpy as np
import pandas as pd
from pydantic import BeforeValidator, Field, PrivateAttr

from offerlab.data import ChoiceData, WideAlternative, evaluate, read_table, wide_to_long
from offerlab.exceptions import ChoiceDataError, SpecError
from offerlab.models._matrix import ModelMatrix, build_model_matrix
from offerlab.numerics import level_coding_matrix
from offerlab.study import (
    FieldPath,
    StrictModel,
    YamlDocument,
    parse_yaml_model_located,
    read_text,
)

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


def _alternative_text(value: object) -> object:
    # Data files code alternatives as numbers (1, 2, 3): ``alternatives: [2]`` names the
    # alternative whose code is 2, compared as text with the data's alternative column.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


#: An alternative as a spec names it: its name, or its whole-number code in the data.
AlternativeName = Annotated[str, BeforeValidator(_alternative_text)]


class AlternativeSpec(StrictModel):
    """One alternative of wide data: its code in the choice column, availability, variables."""

    code: int | str
    available: str | float | None = None
    variables: dict[str, str | float] = Field(default_factory=dict)


class DataSpec(StrictModel):
    """Where the data is and, for wide data, how to read each alternative."""

    path: str
    format: Literal["wide", "long"] = "long"
    respondent: str | None = None
    choice: str | None = None
    task: str | None = None
    alternative: str | None = Field(None, description="long data: the alternative column")
    weight: str | None = None
    filter: str | None = None
    alternatives: dict[AlternativeName, AlternativeSpec] | None = None


class CoefficientSpec(StrictModel):
    """One coefficient: a constant, a generic or alternative-specific variable, or fixed."""

    variable: str | float | None = None
    alternatives: list[AlternativeName] | None = None
    fixed: float | None = None
    coding: Literal["effects", "dummy"] | None = None
    levels: list[str | float] | None = None
    distribution: Literal["normal", "lognormal", "negative_lognormal", "triangular"] | None = None


class MixedSpec(StrictModel):
    """Simulation settings of a mixed logit (see the module notes)."""

    panel: bool = True
    draws: Literal["halton", "scrambled_halton", "sobol", "pseudo"] = "halton"
    n_draws: int = Field(1000, ge=1)
    seed: int | None = None
    correlated: bool | list[str] = False


class ModelSpec(StrictModel):
    """A model specification: data, utility functions and, for mixed logit, simulation."""

    data: DataSpec | None = None
    utility: dict[str, CoefficientSpec] = Field(min_length=1)
    mixed: MixedSpec | None = None
    _path: Path | None = PrivateAttr(None)
    _document: YamlDocument | None = PrivateAttr(None)

    @property
    def path(self) -> Path | None:
        """The file the spec was read from, if any."""
        return self._path

    def problem(self, message: str, *loc: str | int) -> SpecError:
        """A :class:`SpecError` about the field at ``loc``, with its line in the file."""
        document = self._document or YamlDocument(data=None)
        return SpecError([document.problem(tuple(loc), message)], self._path)

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
            frame = self._long_columns(frame, path)
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

    def _long_columns(self, frame: pd.DataFrame, path: Path) -> pd.DataFrame:
        """The long data with the columns the spec names copied to offerlab's names.

        Columns are copied, not renamed, so one column may serve twice: in cross-section
        data each row group is its own respondent and ``respondent`` and ``task`` name the
        same column.
        """
        spec = self.data
        assert spec is not None
        sources = {
            target: getattr(spec, key)
            for key, target in (
                ("respondent", "respondent"),
                ("task", "task"),
                ("alternative", "alternative"),
                ("choice", "chosen"),
                ("weight", "weight"),
            )
            if getattr(spec, key) and getattr(spec, key) != target
        }
        missing = list(dict.fromkeys(c for c in sources.values() if c not in frame.columns))
        if missing:
            raise self.problem(
                f"no column(s) {missing} in {path.name} (columns: {list(frame.columns)[:20]})",
                "data",
            )
        copies = {target: frame[source] for target, source in sources.items()}
        used = set(sources.values()) - set(sources)
        kept = frame.drop(columns=[c for c in [*sources, *used] if c in frame.columns])
        return kept.assign(**copies)


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

    The text is read like a study file (:func:`offerlab.study.parse_yaml_model`): within
    size, depth and alias limits, with YAML 1.2 booleans (``yes`` stays text), and with
    the same plain messages at the line of the field they concern.
    """
    path = Path(path) if path is not None else None
    spec, document = parse_yaml_model_located(ModelSpec, text, path, SpecError, _static_problems)
    spec._path = path
    spec._document = document
    return spec


def _static_problems(spec: ModelSpec) -> list[tuple[FieldPath, str]]:
    """Checks that need no data: names, alternatives and variables of wide data."""
    problems = _data_problems(spec.data) + _correlated_problems(spec)
    wide = spec.data is not None and spec.data.format == "wide"
    alternatives = spec.data.alternatives if wide and spec.data is not None else None
    for name, coefficient in spec.utility.items():
        problems += [
            (("utility", name, *at), message)
            for at, message in _coefficient_problems(name, coefficient, alternatives)
        ]
    return problems


def _data_problems(data: DataSpec | None) -> list[tuple[FieldPath, str]]:
    if data is None:
        return []
    if data.format == "wide":
        return [
            (("data", key), f"wide data needs '{key}'")
            for key in ("respondent", "choice", "alternatives")
            if not getattr(data, key)
        ]
    if data.alternatives is not None:
        message = (
            "'alternatives' describes wide data; long data names them in the "
            "'alternative' column (set format: wide)"
        )
        return [(("data", "alternatives"), message)]
    return []


def _correlated_problems(spec: ModelSpec) -> list[tuple[FieldPath, str]]:
    if spec.mixed is None or not isinstance(spec.mixed.correlated, list):
        return []
    random = {n for n, c in spec.utility.items() if c.distribution is not None}
    return [
        (
            ("mixed", "correlated", i),
            f"'{name}' is not a random coefficient (one with a 'distribution'); "
            f"random ones: {sorted(random)}",
        )
        for i, name in enumerate(spec.mixed.correlated)
        if name not in random
    ]


def _coefficient_problems(
    name: str, coef: CoefficientSpec, alternatives: dict[str, AlternativeSpec] | None
) -> list[tuple[FieldPath, str]]:
    """Problems of one coefficient, at paths below ``utility.NAME``."""
    problems: list[tuple[FieldPath, str]] = []
    if not _NAME.match(name):
        problems.append(((), f"'{name}' is not a valid coefficient name"))
    if coef.variable is None and coef.fixed is None and not coef.alternatives:
        message = (
            "a constant needs 'alternatives' (the alternatives it applies to); or give a 'variable'"
        )
        problems.append(((), message))
    if coef.coding is not None and (coef.variable is None or coef.fixed is not None):
        problems.append(((), "'coding' needs a 'variable' and no 'fixed'"))
    if coef.distribution is not None and coef.fixed is not None:
        message = "a coefficient is either fixed or random: drop 'fixed' or 'distribution'"
        problems.append((("distribution",), message))
    if alternatives is None:
        return problems
    names = list(alternatives)
    problems += [
        (("alternatives", i), f"unknown alternative '{alt}'; the data defines {names}")
        for i, alt in enumerate(coef.alternatives or [])
        if alt not in names
    ]
    if isinstance(coef.variable, str):
        problems += _wide_variable_problems(coef, alternatives)
    return problems


def _wide_variable_problems(
    coef: CoefficientSpec, alternatives: dict[str, AlternativeSpec]
) -> list[tuple[FieldPath, str]]:
    applies = [a for a in (coef.alternatives or list(alternatives)) if a in alternatives]
    lacking = [a for a in applies if coef.variable not in alternatives[a].variables]
    if len(lacking) == len(applies):
        known = sorted({v for a in alternatives.values() for v in a.variables})
        message = f"unknown variable '{coef.variable}'; the alternatives define {known}"
        return [(("variable",), message)]
    if lacking:
        message = (
            f"variable '{coef.variable}' is not defined for {lacking}; define it "
            "there or list the alternatives it applies to"
        )
        return [(("variable",), message)]
    return []


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
            coded = _coded_columns(spec, name, coef, values, applies & available, given.get(name))
            if isinstance(coded, SpecError):
                problems.append(coded)
                continue
            levels_of[name], kept, block = coded
            block[~applies] = 0.0
            columns += list(block.T)
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


def _coded_columns(
    spec: ModelSpec,
    name: str,
    coef: CoefficientSpec,
    values: np.ndarray,
    used: np.ndarray,
    given: list | None,
) -> tuple[list, list, np.ndarray] | SpecError:
    """A categorical variable coded into one column per level but one.

    ``used`` marks the rows the coefficient applies to on available alternatives; the
    levels are ``given`` (a fit's, to code new data alike), the spec's, or those seen.
    Returns (levels, the levels kept as columns, the (rows, levels − 1) columns), or the
    problem found.
    """
    coded_levels = given or coef.levels
    if coded_levels is None:
        coded_levels = sorted(pd.unique(values[used]), key=str)
    lookup = {str(lv): i for i, lv in enumerate(coded_levels)}
    idx = pd.Series(values).astype(str).map(lookup)
    miss = used & idx.isna().to_numpy()
    if miss.any():
        shown = sorted({str(v) for v in np.asarray(values)[miss]})[:5]
        return spec.problem(
            f"values {shown} of '{coef.variable}' are not among the levels {coded_levels}",
            "utility",
            name,
            "levels",
        )
    if len(coded_levels) < 2:
        return spec.problem("a coded variable needs 2+ levels", "utility", name)
    C = level_coding_matrix(len(coded_levels), coef.coding)
    coded = np.zeros((len(values), len(coded_levels) - 1))
    ok = ~idx.isna().to_numpy()
    coded[ok] = C[idx[ok].astype(int).to_numpy()]
    kept = coded_levels[:-1] if coef.coding == "effects" else coded_levels[1:]
    return list(coded_levels), list(kept), coded


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
