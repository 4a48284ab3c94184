"""The :class:`Design` container and its tidy table (CSV or Parquet).

The tidy table has one row per concept shown: ``version``, ``task`` and
``alternative`` (1-based), one column per attribute holding the level *value*
(the level name of a categorical attribute, the number of a numeric or price
attribute) and a boolean ``holdout``. The study's holdout tasks are part of
every version: at their ``position`` when they have one, otherwise after the
design tasks, in the order the study lists them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from offerlab.exceptions import DesignError
from offerlab.numerics import code_levels
from offerlab.study import CategoricalAttribute, Study

__all__ = ["Design"]

_KEYS = ["version", "task", "alternative"]
_MAX_REPORTED = 5


@dataclass
class Design:
    """A choice design: level indices of every concept of every design task.

    Parameters
    ----------
    study : Study
        The study the design belongs to.
    levels : ndarray of int, shape (versions, tasks, alternatives, attributes)
        Level index of every attribute of every concept of the design tasks
        (holdout tasks excluded; they come from the study).
    method : str
        How the design was made (``"efficient"``, ``"balanced"``, ``"random"``,
        ``"file"`` when read from a table).
    seed : int or None
        Seed the design was made from (``None`` when unknown).
    info : dict
        Details of the search (e.g. the efficient search's report).
    """

    study: Study
    levels: np.ndarray
    method: str
    seed: int | None = None
    info: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        levels = np.asarray(self.levels)
        n_levels = np.asarray(self.study.n_levels)
        if levels.ndim != 4 or levels.shape[-1] != len(n_levels):
            raise DesignError(
                "design levels must have shape (versions, tasks, alternatives, "
                f"{len(n_levels)} attributes); got {levels.shape}"
            )
        if not np.issubdtype(levels.dtype, np.integer):
            raise DesignError(f"design levels must be integer level indices; got {levels.dtype}")
        if levels.size and ((levels < 0).any() or (levels >= n_levels).any()):
            raise DesignError(
                f"design levels must lie in [0, n_levels) per attribute, n_levels = "
                f"{tuple(int(n) for n in n_levels)}"
            )
        self.levels = levels.astype(np.int64, copy=False)

    # -- shape -------------------------------------------------------------------
    @property
    def n_versions(self) -> int:
        return int(self.levels.shape[0])

    @property
    def n_tasks(self) -> int:
        """Design tasks per version (holdouts excluded)."""
        return int(self.levels.shape[1])

    @property
    def n_alternatives(self) -> int:
        return int(self.levels.shape[2])

    def coded(self, coding: str | None = None) -> np.ndarray:
        """Coded design (versions, tasks, alternatives, P); default coding: the study's."""
        scheme = coding or self.study.design.coding
        return code_levels(self.levels, self.study.n_levels, scheme)  # type: ignore[arg-type]

    # -- tidy table ----------------------------------------------------------------
    def _holdout_levels(self) -> list[np.ndarray]:
        study = self.study
        out = []
        for h in study.tasks.holdouts:
            rows = []
            for c, concept in enumerate(h.concepts, start=1):
                missing = [a for a in study.attribute_names if a not in concept]
                unknown = sorted(set(concept) - set(study.attribute_names))
                if missing or unknown:
                    raise DesignError(
                        f"holdout task {h.name!r}, concept {c}: "
                        + (f"no level for attributes {missing}" if missing else "")
                        + ("; " if missing and unknown else "")
                        + (f"unknown attributes {unknown}" if unknown else "")
                    )
                try:
                    rows.append([study.level_index(a, concept[a]) for a in study.attribute_names])
                except KeyError as err:
                    raise DesignError(
                        f"holdout task {h.name!r}, concept {c}: {err.args[0]}"
                    ) from None
            out.append(np.array(rows, dtype=np.int64))
        return out

    def _task_order(self) -> list[tuple[str, int]]:
        """Slots of one version: ("design", t) or ("holdout", h), in the order shown."""
        holdouts = self.study.tasks.holdouts
        n = self.n_tasks + len(holdouts)
        slots: list[tuple[str, int] | None] = [None] * n
        for h, task in enumerate(holdouts):
            if task.position is None:
                continue
            p = task.position
            if p > n:
                raise DesignError(
                    f"holdout task {task.name!r} has position {p}, but a version has only "
                    f"{n} tasks ({self.n_tasks} design tasks and {len(holdouts)} holdouts)"
                )
            if slots[p - 1] is not None:
                raise DesignError(f"two holdout tasks ask for position {p}")
            slots[p - 1] = ("holdout", h)
        rest = [("design", t) for t in range(self.n_tasks)] + [
            ("holdout", h) for h, task in enumerate(holdouts) if task.position is None
        ]
        it = iter(rest)
        return [s if s is not None else next(it) for s in slots]

    def to_frame(self, include_holdouts: bool = True) -> pd.DataFrame:
        """The design as a tidy table, one row per concept.

        Parameters
        ----------
        include_holdouts : bool, default True
            Include the study's holdout tasks in every version.

        Returns
        -------
        DataFrame
            Columns ``version``, ``task``, ``alternative`` (1-based), one column
            per attribute (level name, or number for numeric/price attributes),
            and ``holdout`` (bool). Without holdouts, ``task`` counts the design
            tasks only.
        """
        study = self.study
        holdouts = self._holdout_levels() if include_holdouts else []
        order = (
            self._task_order() if include_holdouts else [("design", t) for t in range(self.n_tasks)]
        )
        blocks, keys, flags = [], [], []
        for v in range(self.n_versions):
            for pos, (kind, idx) in enumerate(order, start=1):
                task = self.levels[v, idx] if kind == "design" else holdouts[idx]
                blocks.append(task)
                n = len(task)
                keys.append(
                    np.column_stack([np.full(n, v + 1), np.full(n, pos), np.arange(1, n + 1)])
                )
                flags.append(np.full(n, kind == "holdout"))
        A = len(study.attributes)
        levels = np.concatenate(blocks) if blocks else np.empty((0, A), np.int64)
        key = np.concatenate(keys) if keys else np.empty((0, 3), np.int64)
        frame = pd.DataFrame(key.astype(np.int64), columns=_KEYS)
        for a, attr in enumerate(study.attributes):
            if isinstance(attr, CategoricalAttribute):
                frame[attr.name] = np.array(attr.level_names, dtype=object)[levels[:, a]]
            else:
                frame[attr.name] = np.asarray(attr.values, dtype=float)[levels[:, a]]
        frame["holdout"] = np.concatenate(flags) if flags else np.empty(0, bool)
        return frame

    def write(self, path: str | Path) -> Path:
        """Write the tidy table (holdouts included) to ``.csv`` or ``.parquet``."""
        path = Path(path)
        frame = self.to_frame()
        suffix = path.suffix.lower()
        if suffix == ".csv":
            frame.to_csv(path, index=False)
        elif suffix in (".parquet", ".pq"):
            frame.to_parquet(path, index=False)
        else:
            raise DesignError(
                f"cannot write a design to {path.name!r}: the file must end in .csv or .parquet"
            )
        return path

    @classmethod
    def read(cls, study: Study, path: str | Path) -> Design:
        """Read a tidy design table written by :meth:`write` (``.csv`` or ``.parquet``)."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix == ".csv":
            frame = pd.read_csv(path)
        elif suffix in (".parquet", ".pq"):
            frame = pd.read_parquet(path)
        else:
            raise DesignError(
                f"cannot read a design from {path.name!r}: the file must end in .csv or .parquet"
            )
        return cls.from_frame(study, frame, source=str(path))

    @classmethod
    def from_frame(cls, study: Study, frame: pd.DataFrame, *, source: str = "the table") -> Design:
        """A design from its tidy table (the reverse of :meth:`to_frame`).

        Rows flagged ``holdout`` are dropped (the study defines the holdouts);
        design tasks are numbered in the order of ``task`` within each version.

        Raises
        ------
        DesignError
            On missing columns, unknown levels (naming the rows), duplicated
            concepts keys, or versions and tasks of unequal size.
        """
        missing = [c for c in [*_KEYS, *study.attribute_names] if c not in frame.columns]
        if missing:
            raise DesignError(f"{source} lacks the columns {missing}")
        frame = frame.reset_index(drop=True)
        if "holdout" in frame.columns:
            flag = frame["holdout"].map(_as_bool)
            if flag.isna().any():
                rows = _rows(flag.index[flag.isna()])
                raise DesignError(f"{source}, {rows}: 'holdout' must be true or false")
            frame = frame.loc[~flag.astype(bool)]
        for c in _KEYS:
            values = pd.to_numeric(frame[c], errors="coerce")
            bad = values.isna() | (values != values.round())
            if bad.any():
                raise DesignError(f"{source}, {_rows(frame.index[bad])}: {c!r} must be an integer")
        dup = frame.duplicated(_KEYS, keep=False)
        if dup.any():
            raise DesignError(
                f"{source}, {_rows(frame.index[dup])}: the same version, task and alternative "
                "appear more than once"
            )
        levels = (
            np.column_stack(
                [_level_indices(study, name, frame[name], source) for name in study.attribute_names]
            )
            if len(frame)
            else np.empty((0, len(study.attributes)), np.int64)
        )
        frame = frame.assign(_row=np.arange(len(frame)))
        frame = frame.sort_values(_KEYS, kind="stable")
        versions = sorted(frame["version"].unique())
        sizes = frame.groupby(["version", "task"]).size()
        tasks_per_version = sizes.groupby(level=0).size()
        if sizes.nunique() > 1 or tasks_per_version.nunique() > 1:
            raise DesignError(
                f"{source}: every version must have the same number of design tasks and every "
                f"task the same number of alternatives; found tasks per version "
                f"{sorted(set(tasks_per_version.tolist()))} and alternatives per task "
                f"{sorted(set(sizes.tolist()))}"
            )
        if len(frame) == 0:
            raise DesignError(f"{source} holds no design tasks")
        V, T, m = len(versions), int(tasks_per_version.iloc[0]), int(sizes.iloc[0])
        if m != study.tasks.alternatives:
            raise DesignError(
                f"{source} has {m} alternatives per task; the study has tasks.alternatives = "
                f"{study.tasks.alternatives}"
            )
        out = levels[frame["_row"].to_numpy()].reshape(V, T, m, len(study.attributes))
        return cls(study=study, levels=out, method="file", seed=None)


def _as_bool(value: object) -> bool | None:
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0"):
        return value.strip().lower() in ("true", "1")
    return None


def _rows(index: pd.Index) -> str:
    """'rows 3, 7, 9' naming table rows 1-based (as a spreadsheet counts data rows)."""
    items = [int(i) + 1 for i in index[:_MAX_REPORTED]]
    more = f" and {len(index) - _MAX_REPORTED} more" if len(index) > _MAX_REPORTED else ""
    word = "row" if len(index) == 1 else "rows"
    return f"{word} {', '.join(map(str, items))}{more}"


def _level_indices(study: Study, name: str, column: pd.Series, source: str) -> np.ndarray:
    """Level indices of one attribute column; unknown levels name their rows."""
    idx = study.level_indices(name, column)
    bad = idx < 0
    if bad.any():
        shown = sorted({str(v) for v in column[bad]})[:_MAX_REPORTED]
        raise DesignError(
            f"{source}, {_rows(column.index[bad])}: attribute {name!r} has no level "
            f"{', '.join(repr(s) for s in shown)}; its levels are "
            f"{study.attribute(name).level_names}"
        )
    return idx
