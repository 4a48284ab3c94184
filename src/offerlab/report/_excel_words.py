"""The workbook's words in the report's language: sheet names as Excel takes them, how a
formula names a sheet, and the column headings of decide's and the pages' tables.

Every word comes from the report's catalogue (``data/report_texts.yaml``): sheet names
under ``xl_sheet_<key>``, the simulator sheets' labels under ``xl_sim_*``, headings under
the report's ``col_*`` keys (the HTML tables' own words) or ``xl_col_*`` where the HTML
report has no such column. English keeps the library's column names (the names of the
CSV and JSON outputs an analyst scripts against); the other languages get words.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from offerlab.data import plain_spaces
from offerlab.report._texts import ReportTexts, report_catalogue

__all__ = ["headed", "page_sheet_name", "sheet_name", "sheet_ref"]

#: What Excel refuses in a sheet name, and its longest sheet name.
_NOT_IN_SHEET_NAMES = re.compile(r"[\[\]:*?/\\]")
_SHEET_NAME_MAX = 31


def sheet_name(t: ReportTexts, key: str) -> str:
    """The sheet ``key``'s name in the report's language (``xl_sheet_<key>``), as Excel
    takes it: at most 31 characters, none of []:*?/\\, no apostrophe at either end."""
    # plain spaces, as the formulas that name the sheet are written (report._excel)
    name = _NOT_IN_SHEET_NAMES.sub("-", str(plain_spaces(t(f"xl_sheet_{key}"))))[:_SHEET_NAME_MAX]
    return name.strip("'") or key


def page_sheet_name(t: ReportTexts, name: str) -> str:
    """A needs or concept page's sheet (named in English by the page) in the report's
    language: ``MaxDiff scores`` is ``xl_sheet_maxdiff_scores``; a sheet the catalogue
    does not know keeps its name (the language test then finds it)."""
    key = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    if f"xl_sheet_{key}" in report_catalogue():
        return sheet_name(t, key)
    return _NOT_IN_SHEET_NAMES.sub("-", name)[:_SHEET_NAME_MAX]


#: A sheet name a formula may write bare (as Excel writes it): ASCII letters, digits, _ and .,
#: starting with a letter, and not a cell reference such as ``AB12`` or ``R1C1``.
_BARE_SHEET = re.compile(r"[A-Za-z][A-Za-z0-9_.]*")
_LIKE_A_CELL = re.compile(r"[A-Za-z]{1,3}\d+|[Rr]\d*[Cc]\d*", re.ASCII)


def sheet_ref(name: str) -> str:
    """How a formula names sheet ``name``: bare when Excel would write it bare, else quoted
    (a space, an accent or a digit in a localized name), a quote inside doubled."""
    if _BARE_SHEET.fullmatch(name) and not _LIKE_A_CELL.fullmatch(name):
        return name + "!"
    return "'" + name.replace("'", "''") + "'!"


#: Library columns headed by the report's ``col_<column>`` (the HTML tables' own word) or,
#: where the HTML report has no such column, by the workbook's ``xl_col_<column>``.
_COL_HEADED = (
    "attribute", "level", "importance", "utility", "wtp", "per_unit", "lower", "upper",
    "kind", "ours", "price", "share", "revenue", "cost", "margin", "profit", "statistic",
    "value", "concept", "observed", "predicted", "segment", "rank", "lineup", "expected",
    "pessimistic", "p_best", "score", "reach", "added_reach", "frequency", "category",
    "better", "worse", "question", "difference", "p_holm", "position", "class_share", "n",
    "important",
)  # fmt: skip
_XL_COL_HEADED = (
    "recommendation", "elasticity", "ours_revenue", "ours_profit", "std_error", "label",
    "shown", "best", "worst", "concept_a", "concept_b",
)  # fmt: skip

#: Library column -> the catalogue key of its heading (``{currency}`` and ``{objective}``
#: filled in). A column ``<name>_lower`` / ``_upper`` (or ``_low`` / ``_high``) is
#: "<heading>: lower / upper".
_HEADINGS = {
    **{name: f"col_{name}" for name in _COL_HEADED},
    **{name: f"xl_col_{name}" for name in _XL_COL_HEADED},
    **{k: f"kano_{k}" for k in "AOMIRQ"},
    # the columns whose heading key has another name
    "low": "col_lower", "high": "col_upper", "alternative": "col_offer",
    "holdout task": "col_holdout_task", "se": "xl_col_std_error", "item": "xl_col_code",
    "feature": "xl_col_code", "best_share": "col_picked_best",
    "worst_share": "col_picked_worst", "size": "col_bundle_size", "items": "col_bundle",
    "top_box": "col_top2", "p_value": "col_p", "text": "col_answer",
}  # fmt: skip


def _heading(name: str, t: ReportTexts, fields: dict[str, str]) -> str:
    for end, bound in (("lower", "lower"), ("upper", "upper"), ("low", "lower"), ("high", "upper")):
        stem = name.removesuffix(f"_{end}")
        if stem != name and stem in _HEADINGS:
            return f"{_heading(stem, t, fields)}: {t(f'col_{bound}')}"
    key = _HEADINGS.get(name)
    return t(key, **fields) if key else name


def headed(frame: pd.DataFrame | None, t: ReportTexts, **fields: Any) -> pd.DataFrame | None:
    """``frame`` with its library column names as headings in the report's language
    (English keeps the library's names); ``fields`` fill the headings' ``{currency}`` and
    ``{objective}``. A column that already has words (or a name the library did not
    give) stays as it is."""
    if frame is None or t.language == "en":
        return frame
    values = {"currency": "", "objective": ""} | {k: str(v) for k, v in fields.items()}
    return frame.rename(columns={c: _heading(str(c), t, values) for c in frame.columns})
