"""Rich tables from the DataFrames that results objects return."""

from __future__ import annotations

import numbers

import pandas as pd
from rich.markup import escape
from rich.table import Table

__all__ = ["frame_table", "is_default_index"]


def is_default_index(index: pd.Index) -> bool:
    """0, 1, 2… with no name: row numbers, not data (pandas may make 1, 2, 3 a RangeIndex)."""
    return isinstance(index, pd.RangeIndex) and index.start == 0 and index.name is None


def _cell(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, numbers.Integral):
        return f"{value}"
    if isinstance(value, numbers.Real):
        if pd.isna(value):
            return ""
        # log-likelihoods and criteria: keep three decimals rather than six digits
        return f"{value:.3f}" if 1e3 <= abs(value) < 1e9 else f"{value:.6g}"
    return escape(str(value))


def frame_table(frame: pd.DataFrame, title: str = "", *, index: bool = True) -> Table:
    """A Rich table of ``frame``: text left, numbers right, six significant digits."""
    table = Table(title=escape(title) if title else None)
    shown = frame
    if index and not is_default_index(frame.index):
        names = [n if n is not None else "" for n in frame.index.names]
        shown = frame.rename_axis(names).reset_index()
    for name in shown.columns:
        numeric = pd.api.types.is_numeric_dtype(shown[name])
        table.add_column(escape(str(name)), justify="right" if numeric else "left")
    for row in shown.itertuples(index=False):
        table.add_row(*(_cell(v) for v in row))
    return table
