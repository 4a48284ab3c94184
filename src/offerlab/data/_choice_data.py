"""One long format for choice data, validated once at the edge.

Long format: one row per alternative shown in a choice task.

=================  ========  ==============================================================
column             required  meaning
=================  ========  ==============================================================
``respondent``     yes       who answered (int or text)
``task``           yes       the choice task, numbered within the respondent
``alternative``    yes       the alternative within the task (1, 2, … or a name such as
                             ``"train"`` for labelled alternatives)
``chosen``         yes       1 on the chosen alternative, 0 elsewhere: exactly one 1 a task
``available``      no        0 where the alternative was not offered (default: all 1)
``weight``         no        a weight per row, constant within a task (default 1)
``none``           no        1 on the row of the "none of these" option (attributes empty)
``would_buy``      no        dual response: after the forced choice (``chosen`` among the
                             concepts, never the none row), 1 if the respondent would
                             really take the chosen concept, 0 if not; same on every row
``holdout``        no        1 on the rows of fixed holdout tasks (left out of estimation)
=================  ========  ==============================================================

Every other column is a variable describing the alternative: a conjoint
attribute (level name for categorical attributes, the number for numeric
and price attributes) or any variable a model specification names.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from offerlab.exceptions import ChoiceDataError
from offerlab.study import CategoricalAttribute, Study

__all__ = ["RESERVED_COLUMNS", "ChoiceData", "read_table", "write_table"]

KEYS = ("respondent", "task", "alternative")
REQUIRED = (*KEYS, "chosen")
OPTIONAL = ("available", "weight", "none", "would_buy", "holdout")
RESERVED_COLUMNS = frozenset(REQUIRED + OPTIONAL)
_MAX_LISTED = 8


def read_table(path: Path | str) -> pd.DataFrame:
    """Read a CSV (optionally gzipped) or Parquet file into a DataFrame."""
    path = Path(path)
    if not path.is_file():
        raise ChoiceDataError(f"{path}: no such file")
    suffixes = "".join(path.suffixes[-2:]).lower()
    try:
        if path.suffix.lower() == ".parquet":
            return pd.read_parquet(path)
        if suffixes.endswith((".csv", ".csv.gz", ".txt", ".dat")) or path.suffix == ".gz":
            sep = "\t" if ".dat" in suffixes or ".txt" in suffixes else ","
            return pd.read_csv(path, sep=sep)
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise ChoiceDataError(f"{path}: cannot be read as a table: {exc}") from None
    raise ChoiceDataError(f"{path}: unknown table format; use .csv, .csv.gz or .parquet")


def write_table(frame: pd.DataFrame, path: Path | str) -> Path:
    """Write a DataFrame as CSV or Parquet, chosen by the file's suffix."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".parquet":
        frame.to_parquet(path, index=False)
    elif path.suffix.lower() in (".csv", ".gz"):
        frame.to_csv(path, index=False)
    else:
        raise ChoiceDataError(f"{path}: unknown table format; use .csv or .parquet")
    return path


def _rows(frame: pd.DataFrame, mask: np.ndarray | pd.Series) -> str:
    """Name offending rows as data-row numbers (1 = first row after the header) with keys."""
    idx = np.flatnonzero(np.asarray(mask))
    shown = ", ".join(
        f"row {i + 1} (respondent {frame.iloc[i]['respondent']}, task {frame.iloc[i]['task']})"
        for i in idx[:_MAX_LISTED]
    )
    more = f" and {len(idx) - _MAX_LISTED} more" if len(idx) > _MAX_LISTED else ""
    return shown + more


@dataclass(frozen=True)
class ChoiceData:
    """Validated long-format choice data. Build it with :meth:`from_frame` or :meth:`read`.

    Attributes
    ----------
    frame : DataFrame
        The rows, sorted by respondent, task and alternative, with ``available``,
        ``weight`` and ``none`` filled in.
    variables : tuple of str
        The columns that describe alternatives (everything not reserved).
    """

    frame: pd.DataFrame
    variables: tuple[str, ...]

    # -- construction ----------------------------------------------------------
    @classmethod
    def from_frame(
        cls, frame: pd.DataFrame, study: Study | None = None, *, source: str = "choice data"
    ) -> ChoiceData:
        """Validate ``frame``; with a ``study``, check its attributes and levels too."""
        frame = frame.reset_index(drop=True).copy()
        missing = [c for c in REQUIRED if c not in frame.columns]
        if missing:
            raise ChoiceDataError(
                f"{source}: missing column(s) {', '.join(missing)}; "
                f"the long format needs {', '.join(REQUIRED)} (columns found: "
                f"{', '.join(map(str, frame.columns[:20]))})"
            )
        for col in KEYS:
            if frame[col].isna().any():
                raise ChoiceDataError(
                    f"{source}: empty '{col}' in {_rows(frame, frame[col].isna())}"
                )
        for col, default in (("available", 1), ("weight", 1.0), ("none", 0), ("holdout", 0)):
            if col not in frame.columns:
                frame[col] = default
        for col in ("chosen", "available", "none", "holdout", "would_buy"):
            if col in frame.columns:
                frame[col] = _binary(frame, col, source)
        weight = pd.to_numeric(frame["weight"], errors="coerce")
        bad = weight.isna() | ~(weight > 0) | ~np.isfinite(weight)
        if bad.any():
            raise ChoiceDataError(
                f"{source}: weight must be a positive number in {_rows(frame, bad)}"
            )
        frame["weight"] = weight.astype(float)

        dup = frame.duplicated(list(KEYS), keep=False)
        if dup.any():
            raise ChoiceDataError(
                f"{source}: the same alternative appears twice in a task: {_rows(frame, dup)}"
            )
        n_chosen = frame.groupby(["respondent", "task"], sort=False)["chosen"].transform("sum")
        if (n_chosen == 0).any():
            raise ChoiceDataError(
                f"{source}: tasks with no chosen alternative: {_rows(frame, n_chosen == 0)}"
            )
        if (n_chosen > 1).any():
            raise ChoiceDataError(
                f"{source}: tasks with more than one chosen alternative: "
                f"{_rows(frame, (n_chosen > 1) & (frame['chosen'] == 1))}"
            )
        unavailable = (frame["chosen"] == 1) & (frame["available"] == 0)
        if unavailable.any():
            raise ChoiceDataError(
                f"{source}: the chosen alternative is marked unavailable in "
                f"{_rows(frame, unavailable)}"
            )
        if "would_buy" in frame.columns:
            forced_none = (frame["chosen"] == 1) & (frame["none"] == 1)
            if forced_none.any():
                raise ChoiceDataError(
                    f"{source}: with dual response ('would_buy'), 'chosen' marks the forced "
                    f"choice among the concepts, never the none row: {_rows(frame, forced_none)}"
                )
        variables = tuple(str(c) for c in frame.columns if c not in RESERVED_COLUMNS)
        if study is not None:
            _check_study(frame, study, source)
        # Stable sort on the task keys keeps the alternatives in the order given.
        frame = frame.sort_values(["respondent", "task"], kind="stable").reset_index(drop=True)
        return cls(frame=frame, variables=variables)

    @classmethod
    def read(cls, path: Path | str, study: Study | None = None) -> ChoiceData:
        """Read and validate choice data from CSV or Parquet."""
        return cls.from_frame(read_table(path), study, source=str(path))

    def write(self, path: Path | str) -> Path:
        """Write as CSV or Parquet (by suffix)."""
        return write_table(self.frame, path)

    # -- views -----------------------------------------------------------------
    @property
    def n_respondents(self) -> int:
        return int(self.frame["respondent"].nunique())

    @property
    def n_tasks(self) -> int:
        """Number of choice tasks (all respondents together)."""
        return int(self.frame.groupby(["respondent", "task"], sort=False).ngroups)

    @property
    def has_none(self) -> bool:
        return bool(self.frame["none"].any())

    @property
    def dual_response(self) -> bool:
        return "would_buy" in self.frame.columns

    def without_holdouts(self) -> ChoiceData:
        return ChoiceData(
            self.frame[self.frame["holdout"] == 0].reset_index(drop=True), self.variables
        )

    def holdouts(self) -> ChoiceData:
        return ChoiceData(
            self.frame[self.frame["holdout"] == 1].reset_index(drop=True), self.variables
        )

    def level_indices(self, study: Study) -> np.ndarray:
        """Level index of every row and study attribute, shape (rows, attributes); −1 on none rows.

        Numeric and price values between levels get −1 too (linear coding uses the value).
        """
        out = np.full((len(self.frame), len(study.attributes)), -1, dtype=np.int64)
        for a, attr in enumerate(study.attributes):
            out[:, a] = study.level_indices(attr.name, self.frame[attr.name])
        return out


def _binary(frame: pd.DataFrame, col: str, source: str) -> pd.Series:
    raw = frame[col]
    if raw.dtype == bool:
        return raw.astype(np.int8)
    mapped = raw.map(
        lambda v: {"true": 1, "false": 0, "1": 1, "0": 0, "1.0": 1, "0.0": 0}.get(
            str(v).strip().lower()
        )
    )
    bad = mapped.isna()
    if col == "would_buy":
        bad &= raw.notna()  # may stay empty on rows of single-stage tasks
    if bad.any():
        raise ChoiceDataError(f"{source}: '{col}' must be 0 or 1 in {_rows(frame, bad)}")
    return mapped.astype("Int8") if col == "would_buy" else mapped.astype(np.int8)


def _check_study(frame: pd.DataFrame, study: Study, source: str) -> None:
    names = study.attribute_names
    missing = [n for n in names if n not in frame.columns]
    if missing:
        raise ChoiceDataError(
            f"{source}: missing attribute column(s) {', '.join(missing)} of study '{study.name}'"
        )
    concept = frame["none"] == 0
    for attr in study.attributes:
        col = frame[attr.name]
        if isinstance(attr, CategoricalAttribute):
            known = set(attr.level_names)
            bad = concept & ~col.astype(str).isin(known)
            if bad.any():
                shown = sorted({str(v) for v in col[bad]})[:5]
                raise ChoiceDataError(
                    f"{source}: unknown level(s) {shown} of attribute '{attr.name}' in "
                    f"{_rows(frame, bad)}; levels are {attr.level_names}"
                )
        else:
            values = pd.to_numeric(col, errors="coerce")
            bad = concept & (values.isna() | ~np.isfinite(values))
            if bad.any():
                raise ChoiceDataError(
                    f"{source}: '{attr.name}' must be a number in {_rows(frame, bad)}"
                )
            if attr.coding == "partworth":
                off = concept & ~values.isin(attr.values)
                if off.any():
                    raise ChoiceDataError(
                        f"{source}: '{attr.name}' takes only the values {attr.values} "
                        f"(part-worth coding) but {_rows(frame, off)} hold others"
                    )


def concat(parts: Iterable[ChoiceData]) -> ChoiceData:
    """Stack choice data sets that share their columns."""
    parts = list(parts)
    return ChoiceData.from_frame(pd.concat([p.frame for p in parts], ignore_index=True))
