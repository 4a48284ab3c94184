"""Cells a spreadsheet cannot run: the one rule for every CSV and Excel file we hand out.

Excel and LibreOffice read a CSV cell (or a typed cell) that starts with ``=``, ``+``,
``-`` or ``@`` as a formula, and a leading tab or carriage return can hide such a
start; a formula can reach the web (``HYPERLINK``, ``WEBSERVICE``) or run a program
(DDE). OWASP's CSV-injection guidance: prefix such a text cell with a single quote
``'``, which the spreadsheet shows as text. Numbers are left alone, a number in a text
column too (``-1.5``): a number is not a formula, and it must stay a number. Parquet
files stay raw (a typed format no spreadsheet evaluates), and so do the machine files
that are read back as they were written (a design, simulated answers): they hold
only identifiers and numbers.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

__all__ = [
    "FORMULA_STARTS",
    "neutralise_formula",
    "neutralise_formulas",
    "plain_spaces",
    "write_csv",
]

#: A text cell that starts with one of these is prefixed with ``'``.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def neutralise_formula(value: object) -> object:
    """``value`` as a spreadsheet must show it: text that starts like a formula gets a
    leading ``'``; numbers and any other value are returned as they are."""
    if (
        isinstance(value, str)
        and value.startswith(FORMULA_STARTS)
        and not _PLAIN_NUMBER.fullmatch(value)
    ):
        return "'" + value
    return value


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` for a CSV or Excel file: :func:`neutralise_formula` on every
    text cell, column name and index label; numeric columns untouched."""
    out = frame.copy()
    for i in range(out.shape[1]):
        column = out.iloc[:, i]
        if _holds_text(column.dtype):
            out.isetitem(i, column.map(neutralise_formula))
    out.columns = out.columns.map(neutralise_formula)
    if _holds_text(out.index.dtype):
        out.index = out.index.map(neutralise_formula)
    return out


def write_csv(
    frame: pd.DataFrame,
    path: Path | str | None = None,
    *,
    index: bool = False,
    float_format: str | None = None,
) -> str | None:
    """``frame`` as a CSV file for people (to ``path``, or returned as text): cells
    neutralised (:func:`neutralise_formulas`) and RFC 4180 line ends, CRLF, so that a
    carriage return inside a cell is quoted instead of splitting its row.

    The no-break spaces that pages set in the study's labels (``study.typeset``: "3 mois",
    "Quel âge avez-vous ?") are plain spaces here: a CSV has no lines to break, and a
    label filtered or matched in a spreadsheet reads as the study file wrote it."""
    return _plain_spaces(neutralise_formulas(frame)).to_csv(
        path, index=index, float_format=float_format, lineterminator="\r\n"
    )


_NO_BREAK_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " "})


def plain_spaces(value: object) -> object:
    """A text with its no-break spaces as plain ones (any other value as it is): what a
    spreadsheet cell holds, where a reader types and filters labels."""
    return value.translate(_NO_BREAK_SPACES) if isinstance(value, str) else value


def _plain_spaces(frame: pd.DataFrame) -> pd.DataFrame:
    for i in range(frame.shape[1]):
        if _holds_text(frame.iloc[:, i].dtype):
            frame.isetitem(i, frame.iloc[:, i].map(plain_spaces))
    frame.columns = frame.columns.map(plain_spaces)
    if _holds_text(frame.index.dtype):
        frame.index = frame.index.map(plain_spaces)
    return frame


def _holds_text(dtype: object) -> bool:
    types = pd.api.types
    return not (
        types.is_numeric_dtype(dtype)
        or types.is_bool_dtype(dtype)
        or types.is_datetime64_any_dtype(dtype)
        or types.is_timedelta64_dtype(dtype)
    )
