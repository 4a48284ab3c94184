"""The report as an Excel workbook: the tables, and a simulator sheet that cannot be
mis-coded.

Sheets (named here in English; the workbook names them, and heads their columns, in the
report's language, report/_excel_words.py): ``Read me``, ``Recommendation``, ``Sample``,
``Importance``, ``Part-worths``, ``WTP``, ``Segments``, ``Shares``, ``Pricing``, the needs
and concept pages' sheets, then the simulator:

* ``Simulator`` — one column per offer: a level for every attribute picked from a
  drop-down (data validation on the study's level labels), the price typed within the
  studied range only (decimal validation), "in market" yes/no; the status-quo options
  and none with yes/no; a scale factor; the shares. Only these input cells are unlocked.
* ``Lookup`` (protected) — the utility of every level for every population row
  (u = β_r · x(level) with the fit's own coding, as the HTML simulator uses), the row
  weights, and the utilities of the status-quo options and none.
* ``Calc`` (protected) — per population row: the weight (normalised to sum to 1), each
  alternative's utility, exp(λV), the logit denominator and the weighted probability;
  a price between two studied prices gets the linear interpolation of their utilities,
  as ``ConjointCoding.code_offer``.

A wrong input never gives a number: a label that is not exactly one of the levels (a
typo, a wildcard such as ``*``, which MATCH would otherwise accept), a price or numeric
value outside the studied range (it would be extrapolated), "in market" other than yes/no
(it would silently drop the offer), or a scale factor that is not above 0 makes the
shares #N/A, and an "inputs" row under the shares names the column to fix. "yes" and
"no" are the report language's words (ja/nein, oui/non, sì/no); every formula that names a
sheet quotes a localized name that needs it ('Table des utilités'!B3). Data
validation stops such entries when typed, but not when pasted or written by a program.

Only INDEX, MATCH, MIN, IF, EXP, SUM, NA and ISNUMBER are used, so the sheet computes the
same in Excel, LibreOffice (tests/report/test_excel_libreoffice.py) and the small
evaluator the tests use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from offerlab.data import neutralise_formula, plain_spaces
from offerlab.exceptions import OfferlabError
from offerlab.report._content import ReportContent
from offerlab.report._excel_cells import SheetFrame, readable
from offerlab.report._excel_words import headed, page_sheet_name, sheet_name, sheet_ref
from offerlab.report._findings import measure_row
from offerlab.report._labels import offer_parts, parse_lineup
from offerlab.report._layout import _statistic
from offerlab.report._needs_pages import page_sheets
from offerlab.report._texts import ReportTexts

__all__ = ["write_excel"]

_HEADER_FILL = "EDF2F7"
#: A column's number format by its position (money in the currency, shares in percent).
Formats = dict[int, str] | None
_INPUT_FILL = "FFF7D6"


def _cell_value(value: Any) -> Any:
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, float) and not np.isfinite(value):
        return None
    text = value if isinstance(value, int | float | str) or value is None else str(value)
    return neutralise_formula(text)


def _frame_sheet(
    wb: Any, title: str, frame: pd.DataFrame | None, note: str = "", formats: Formats = None
) -> None:
    """A sheet of ``frame``; ``formats``: the number format of a column (by position)."""
    from openpyxl.styles import Font, PatternFill

    if frame is None or frame.empty:
        return
    ws = wb.create_sheet(title)
    row = 1
    if note:
        ws.cell(1, 1, neutralise_formula(note)).font = Font(italic=True)
        row = 3
    for j, name in enumerate(frame.columns, start=1):
        c = ws.cell(row, j, neutralise_formula(str(name)))
        c.font = Font(bold=True)
        c.fill = PatternFill("solid", fgColor=_HEADER_FILL)
        ws.column_dimensions[c.column_letter].width = max(12, min(45, len(str(name)) + 4))
    for i, values in enumerate(frame.itertuples(index=False), start=row + 1):
        for j, value in enumerate(values, start=1):
            c = ws.cell(i, j, _cell_value(value))
            if formats and j - 1 in formats:
                c.number_format = formats[j - 1]
    ws.freeze_panes = ws.cell(row + 1, 1)


def _number(value: Any) -> str:
    """A number as formula text, without the rounding of ``:g`` (1234567 -> 1.23457e+06)."""
    return f"{float(value):.15g}"


def _col(n: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(n)


#: The Simulator sheet's row of offer names; the "in market" row and the attributes follow.
_TOP = 5
_GREY = "808080"


@dataclass
class _Parts:
    """The simulator's content and where its rows go on the Simulator sheet."""

    attributes: list[dict[str, Any]]
    offers: list[dict[str, Any]]
    fixed: list[dict[str, Any]]
    weights: list[float]
    t: ReportTexts
    typed: list[bool] = field(init=False)

    def __post_init__(self) -> None:
        # Typed (with interpolation): the price, and a numeric attribute some offer sets
        # between two levels; every other attribute is picked from its levels.
        self.typed = [
            a["kind"] == "price"
            or (
                a["kind"] == "numeric"
                and any(
                    float(o["levels"][a["name"]]) not in [float(v) for v in a["levels"]]
                    for o in self.offers
                )
            )
            for a in self.attributes
        ]

    def sheet(self, key: str) -> str:
        """The name of the simulator's sheet ``key`` (simulator, lookup, calc)."""
        return sheet_name(self.t, key)

    def ref(self, key: str) -> str:
        """How a formula names the sheet ``key``: quoted, as a localized name needs."""
        return sheet_ref(self.sheet(key))

    @property
    def rows(self) -> int:
        """Population rows."""
        return len(self.weights)

    @property
    def n_alternatives(self) -> int:
        return len(self.offers) + len(self.fixed)

    @property
    def share_row(self) -> int:
        return _TOP + 3 + len(self.attributes)

    @property
    def k_rows(self) -> dict[int, int]:
        """Per attribute the helper row of its level position k (its weight t is below)."""
        return {i: self.share_row + 3 + 2 * i for i in range(len(self.attributes))}

    @property
    def scale_row(self) -> int:
        return self.share_row + 3 + 2 * len(self.attributes)


@dataclass
class _Lookup:
    """Where the Lookup sheet holds the utilities T, the row weights and the levels."""

    sheet: Any
    ref: str  # how a formula names the sheet: 'Lookup'!
    table: str
    weights: str
    base: list[int]  # 1-based position in T of each attribute's first level
    fixed_positions: list[int]
    n_levels: list[int]

    def labels(self, i: int) -> str:
        start = 2 + self.base[i]
        return f"{self.ref}$B${start}:$B${start + self.n_levels[i] - 1}"

    def values(self, i: int) -> str:
        start = 2 + self.base[i]
        return f"{self.ref}$C${start}:$C${start + self.n_levels[i] - 1}"

    def value_cell(self, i: int, k: int) -> str:
        """The Lookup cell of attribute i's k-th level value (0-based k)."""
        return f"{self.ref}$C${2 + self.base[i] + k}"


def _simulator(wb: Any, sim: dict[str, Any], t: ReportTexts) -> None:
    """The Lookup, Calc and Simulator sheets (see the module docstring), named and
    labelled in the report's language."""
    parts = _Parts(sim["attributes"], sim["offers"], sim["fixed"], sim["weights"], t)
    lookup = _lookup_sheet(wb, sim, parts)
    ws = wb.create_sheet(parts.sheet("simulator"), 0)
    _simulator_labels(ws, sim, parts)
    _simulator_inputs(ws, parts, lookup)
    scale = _level_positions(ws, parts, lookup)
    calc = _calc_sheet(wb, parts, lookup, scale)
    _shares(ws, parts, scale)
    for sheet in (ws, lookup.sheet, calc):
        sheet.protection.sheet = True  # unprotect deliberately (Review ▸ Unprotect) to change
    lookup.sheet.sheet_properties.tabColor = "A0AEC0"
    calc.sheet_properties.tabColor = "A0AEC0"


def _lookup_sheet(wb: Any, sim: dict[str, Any], parts: _Parts) -> _Lookup:
    """Rows 3.. hold the utilities T (one row per level, then the fixed alternatives, then
    a zero row so that INDEX(T, k + 1) exists for the last level)."""
    from openpyxl.styles import Font

    R, t = parts.rows, parts.t
    lk = wb.create_sheet(parts.sheet("lookup"))
    rows = [t("xl_sim_row", n=r + 1) for r in range(R)]
    lk.append([t("xl_sim_attribute"), t("xl_sim_level_shown"), t("xl_sim_value"), "", *rows])
    lk.append([t("xl_sim_weight"), "", "", "", *sim["weights"]])
    for c in lk[1]:
        c.font = Font(bold=True)
    first_col, last_col = _col(5), _col(4 + R)
    base: list[int] = []
    position = 1
    for a in parts.attributes:
        base.append(position)
        per_level = list(zip(*a["utilities"], strict=True))  # (levels, R)
        for label, value, utilities in zip(a["labels"], a["levels"], per_level, strict=True):
            # The value column serves only the interpolation of typed (numeric) entries: a
            # category's code from the study file is no word for a reader.
            shown = value if a["kind"] != "categorical" else ""
            lk.append(
                [neutralise_formula(a["label"]), neutralise_formula(label), shown, "", *utilities]
            )
            position += 1
    fixed_positions = []
    for f in parts.fixed:
        fixed_positions.append(position)
        lk.append(
            [neutralise_formula(f["name"]), neutralise_formula(f["label"]), "", "", *f["utilities"]]
        )
        position += 1
    lk.append([t("xl_sim_end"), "", "", "", *([0.0] * R)])
    last_row = 2 + position
    ref = parts.ref("lookup")
    return _Lookup(
        sheet=lk,
        ref=ref,
        table=f"{ref}${first_col}$3:${last_col}${last_row}",
        weights=f"{ref}${first_col}$2:${last_col}$2",
        base=base,
        fixed_positions=fixed_positions,
        n_levels=[len(a["levels"]) for a in parts.attributes],
    )


def _simulator_labels(ws: Any, sim: dict[str, Any], parts: _Parts) -> None:
    """The title, the scale factor, the instructions and the row labels."""
    from openpyxl.styles import Font

    bold, t = Font(bold=True), parts.t
    ws["A1"] = t("xl_sim_title")
    ws["A1"].font = Font(bold=True, size=14)
    ws["A2"] = t("xl_sim_scale")
    ws["B2"] = float(sim["scale"])
    ws["A3"] = t("xl_sim_help", currency=sim["currency"])
    ws.cell(_TOP, 1, t("xl_sim_alternative")).font = bold
    ws.cell(_TOP + 1, 1, t("xl_sim_in_market", yes=t("xl_sim_yes"), no=t("xl_sim_no"))).font = bold
    for i, a in enumerate(parts.attributes):
        ws.cell(_TOP + 2 + i, 1, neutralise_formula(a["label"])).font = bold
    ws.cell(parts.share_row, 1, t("xl_sim_share")).font = bold
    ws.cell(parts.share_row, 3 + parts.n_alternatives, t("xl_sim_total")).font = bold


def _simulator_inputs(ws: Any, parts: _Parts, lookup: _Lookup) -> None:
    """The input cells (scale factor, offers' levels, in market): validated, unlocked."""
    from openpyxl.styles import Font, PatternFill, Protection
    from openpyxl.worksheet.datavalidation import DataValidation

    bold, t = Font(bold=True), parts.t
    yes, no = t("xl_sim_yes"), t("xl_sim_no")
    inputs = [ws["B2"]]
    yes_no = DataValidation(type="list", formula1=f'"{yes},{no}"', allow_blank=False)
    yes_no.error, yes_no.showErrorMessage = t("xl_sim_type_yes_no", yes=yes, no=no), True
    ws.add_data_validation(yes_no)
    scale_ok = DataValidation(type="decimal", operator="greaterThan", formula1="0")
    scale_ok.showErrorMessage = True
    ws.add_data_validation(scale_ok)
    scale_ok.add("B2")
    lists = _level_validations(ws, parts, lookup)
    J = len(parts.offers)
    for j, o in enumerate(parts.offers):
        col = 2 + j
        header = neutralise_formula(o["name"] + (t("xl_sim_ours") if o["ours"] else ""))
        ws.cell(_TOP, col, header).font = bold
        c = ws.cell(_TOP + 1, col, yes)
        yes_no.add(c)
        inputs.append(c)
        for i, a in enumerate(parts.attributes):
            c = ws.cell(_TOP + 2 + i, col, _shown_level(a, o["levels"][a["name"]], parts.typed[i]))
            lists[i].add(c)
            inputs.append(c)
        ws.column_dimensions[_col(col)].width = 30
    for f_i, f in enumerate(parts.fixed):
        col = 2 + J + f_i
        ws.cell(_TOP, col, neutralise_formula(f["label"])).font = bold
        c = ws.cell(_TOP + 1, col, yes)
        yes_no.add(c)
        inputs.append(c)
        ws.column_dimensions[_col(col)].width = 18
    ws.column_dimensions["A"].width = 34
    for c in inputs:
        c.protection = Protection(locked=False)
        c.fill = PatternFill("solid", fgColor=_INPUT_FILL)


def _level_validations(ws: Any, parts: _Parts, lookup: _Lookup) -> list[Any]:
    """Per attribute: a number within the studied range (typed) or one of the level labels."""
    from openpyxl.worksheet.datavalidation import DataValidation

    lists = []
    for i, a in enumerate(parts.attributes):
        if parts.typed[i]:
            low, high = _number(a["levels"][0]), _number(a["levels"][-1])
            dv = DataValidation(type="decimal", operator="between", formula1=low, formula2=high)
            dv.error = parts.t(
                "xl_sim_type_range", low=f"{a['levels'][0]:g}", high=f"{a['levels'][-1]:g}"
            )
        else:
            # The formula text of a validation has no leading "=" in the file (ECMA-376
            # ST_Formula, as Excel and LibreOffice write it).
            dv = DataValidation(type="list", formula1=lookup.labels(i), allow_blank=False)
            dv.error = parts.t("xl_sim_pick_level")
        dv.showErrorMessage = True
        ws.add_data_validation(dv)
        lists.append(dv)
    return lists


def _shown_level(attribute: dict[str, Any], value: Any, typed: bool) -> Any:
    """An offer's level as its input cell shows it: a number, or the level's label."""
    if typed:
        return float(value)
    k = (
        [str(v) for v in attribute["levels"]].index(str(value))
        if attribute["kind"] == "categorical"
        else [float(v) for v in attribute["levels"]].index(float(value))
    )
    return neutralise_formula(attribute["labels"][k])  # as on the Lookup sheet


def _level_positions(ws: Any, parts: _Parts, lookup: _Lookup) -> str:
    """Helper rows below the shares: per offer and attribute the level position k and the
    interpolation weight t; the checked scale factor. Returns the scale factor's cell."""
    from openpyxl.styles import Font

    k_rows, words = parts.k_rows, parts.t
    ws.cell(parts.share_row + 2, 1, words("xl_sim_helper")).font = Font(italic=True, color=_GREY)
    # The scale factor the formulas use: #N/A unless it is a number above 0 (0 would make
    # every share equal, a negative one would reverse the preferences).
    ws.cell(parts.scale_row, 1, words("xl_sim_scale_checked")).font = Font(color=_GREY)
    ws.cell(parts.scale_row, 2, "=IF(ISNUMBER($B$2),IF($B$2>0,$B$2,NA()),NA())")
    for j in range(len(parts.offers)):
        col = _col(2 + j)
        for i in range(len(parts.attributes)):
            choice = f"{col}${_TOP + 2 + i}"
            k_formula, t_formula = _position_formulas(choice, f"{col}{k_rows[i]}", i, parts, lookup)
            ws[f"{col}{k_rows[i]}"] = k_formula
            ws[f"{col}{k_rows[i] + 1}"] = t_formula
    for i, a in enumerate(parts.attributes):
        label = neutralise_formula(a["label"])
        ws.cell(k_rows[i], 1, f"k: {label}").font = Font(color=_GREY)
        ws.cell(k_rows[i] + 1, 1, f"t: {label}").font = Font(color=_GREY)
    return f"{parts.ref('simulator')}$B${parts.scale_row}"


def _position_formulas(
    choice: str, k_cell: str, i: int, parts: _Parts, lookup: _Lookup
) -> tuple[str, str]:
    """The formulas of k (level position of the entry in ``choice``) and t (its weight)."""
    if parts.typed[i]:
        # Outside the studied range: #N/A, not an extrapolation (MATCH already gives #N/A
        # below the first level and for text).
        n = lookup.n_levels[i]
        vals = lookup.values(i)
        last = lookup.value_cell(i, n - 1)
        k = f"=IF({choice}>{last},NA(),MIN(MATCH({choice},{vals},1),{n - 1}))"
        t = f"=({choice}-INDEX({vals},{k_cell}))/(INDEX({vals},{k_cell}+1)-INDEX({vals},{k_cell}))"
        return k, t
    # MATCH(…, 0) takes * and ? as wildcards ("*" would match the first level): the label
    # found must equal the entry.
    labels = lookup.labels(i)
    found = f"MATCH({choice},{labels},0)"
    return f"=IF(INDEX({labels},{found})={choice},{found},NA())", "=0"


def _calc_sheet(wb: Any, parts: _Parts, lookup: _Lookup, scale: str) -> Any:
    """Per population row: weight, utilities V, exp(λV), denominator, weighted shares."""
    offers, fixed = parts.offers, parts.fixed
    J, n_alt = len(offers), parts.n_alternatives
    t = parts.t
    calc = wb.create_sheet(parts.sheet("calc"))
    names = [a["name"] for a in (*offers, *fixed)]
    head = [t("xl_sim_calc_row"), t("xl_sim_weight")]
    head += [t("xl_sim_utility_of", name=n) for n in names]
    head += [t("xl_sim_exp_of", name=n) for n in names]
    head += [t("xl_sim_denominator")] + [t("xl_sim_probability_of", name=n) for n in names]
    calc.append([neutralise_formula(h) for h in head])
    yes, no = (_formula_text(t(k)) for k in ("xl_sim_yes", "xl_sim_no"))
    V0, E0 = 3, 3 + n_alt  # first V and first e column
    D = E0 + n_alt
    P0 = D + 1
    T = lookup.table
    for r in range(1, parts.rows + 1):
        row = r + 1
        calc.cell(row, 1, r)
        # Normalised here: the stored weights are rounded (9 digits), and 900 rows of
        # 0.00111111111 would make the shares sum to 99.9999999%.
        calc.cell(row, 2, f"=INDEX({lookup.weights},1,A{row})/SUM({lookup.weights})")
        for j in range(J):
            calc.cell(row, V0 + j, f"={scale}*(" + _offer_utility(j, row, parts, lookup) + ")")
        for f_i in range(len(fixed)):
            position = lookup.fixed_positions[f_i]
            calc.cell(row, V0 + J + f_i, f"={scale}*INDEX({T},{position},$A{row})")
        for m in range(n_alt):
            # "in market" is yes or no (in the report's language); anything else (blank,
            # "y", yes in another language) is #N/A rather than silently out of the market.
            flag = f"{parts.ref('simulator')}${_col(2 + m)}${_TOP + 1}"
            calc.cell(
                row,
                E0 + m,
                f'=IF({flag}="{yes}",EXP({_col(V0 + m)}{row}),IF({flag}="{no}",0,NA()))',
            )
        calc.cell(row, D, f"=SUM({_col(E0)}{row}:{_col(E0 + n_alt - 1)}{row})")
        for m in range(n_alt):
            calc.cell(row, P0 + m, f"=B{row}*{_col(E0 + m)}{row}/{_col(D)}{row}")
    return calc


def _offer_utility(j: int, row: int, parts: _Parts, lookup: _Lookup) -> str:
    """Offer j's utility for the population row in Calc's ``row``: per attribute the
    utilities of levels k and k + 1 weighted by 1 - t and t."""
    sc = _col(2 + j)
    T, sheet = lookup.table, parts.ref("simulator")
    terms = []
    for i in range(len(parts.attributes)):
        k = f"{sheet}${sc}${parts.k_rows[i]}"
        t = f"{sheet}${sc}${parts.k_rows[i] + 1}"
        terms.append(
            f"(1-{t})*INDEX({T},{lookup.base[i] - 1}+{k},$A{row})"
            f"+{t}*INDEX({T},{lookup.base[i]}+{k},$A{row})"
        )
    return "+".join(terms)


def _shares(ws: Any, parts: _Parts, scale: str) -> None:
    """The shares, their total, and the inputs row that names a column to fix."""
    from openpyxl.styles import Font

    R, J, n_alt, share_row = parts.rows, len(parts.offers), parts.n_alternatives, parts.share_row
    t, calc = parts.t, parts.ref("calc")
    P0 = 3 + 2 * n_alt + 1  # Calc's first p column
    E0 = 3 + n_alt  # Calc's first e column
    for m in range(n_alt):
        col = _col(P0 + m)
        c = ws.cell(share_row, 2 + m, f"=SUM({calc}{col}2:{col}{R + 1})")
        c.number_format = "0.0%"
    # Which column to fix when the shares are #N/A (an error anywhere makes them all #N/A).
    ws.cell(share_row + 1, 1, t("xl_sim_inputs")).font = Font(italic=True)
    ws["C2"] = f'=IF(ISNUMBER({scale}),"","{_formula_text(t("xl_sim_scale_fix"))}")'
    ranges = [
        t("xl_sim_range", label=a["label"], low=f"{a['levels'][0]:g}", high=f"{a['levels'][-1]:g}")
        for i, a in enumerate(parts.attributes)
        if parts.typed[i]
    ]
    in_market = t("xl_sim_check_in_market", yes=t("xl_sim_yes"), no=t("xl_sim_no"))
    ok = _formula_text(t("xl_sim_ok"))
    for m in range(n_alt):
        what = [t("xl_sim_check_levels"), *ranges, in_market] if m < J else [in_market]
        fix = _formula_text(t("xl_sim_check", what=", ".join(what)))
        e = f"{calc}{_col(E0 + m)}2:{_col(E0 + m)}{R + 1}"
        ws.cell(share_row + 1, 2 + m, f'=IF(ISNUMBER(SUM({e})),"{ok}","{fix}")')
    total = ws.cell(
        share_row, 3 + n_alt + 1, f"=SUM({_col(2)}{share_row}:{_col(1 + n_alt)}{share_row})"
    )
    total.number_format = "0.0%"


def _formula_text(text: str) -> str:
    """``text`` as it stands between quotes in a formula (a quote inside is doubled)."""
    return text.replace('"', '""')


def _measures_frame(content: ReportContent) -> pd.DataFrame:
    """The pricing page's price points, named and valued in the report's language."""
    t = content.t
    rows = [measure_row(m, t, content.currency) for m in content.pricing.measures]  # type: ignore[union-attr]
    return pd.DataFrame(rows, columns=[t("col_measure"), t("col_value")])


def _headed(frame: pd.DataFrame | None, content: ReportContent) -> pd.DataFrame | None:
    """``frame``'s columns headed in the report's language."""
    objective = content.t(f"objective_{content.objective}") if content.objective else ""
    return headed(frame, content.t, currency=content.currency, objective=objective)


def _worded(frame: pd.DataFrame | None, content: ReportContent) -> SheetFrame:
    """``frame`` in the reader's words (codes as words, money and shares formatted), its
    columns headed in the report's language."""
    sheet = readable(frame, content)
    return SheetFrame(_headed(sheet.frame, content), sheet.formats)


def _fit_frame(content: ReportContent) -> pd.DataFrame | None:
    """The fit's statistics by their names in the report's language (as the HTML table)."""
    fit = readable(content.fit, content).frame
    if fit is None or content.language == "en" or "statistic" not in fit.columns:
        return _headed(fit, content)
    named = fit.assign(statistic=[_statistic(str(s), content.t) for s in fit["statistic"]])
    return _headed(named, content)


def _candidates_frame(content: ReportContent) -> SheetFrame:
    """The optimiser's candidates, each line-up in words (the study's level labels, in
    every language: the library's line-up text names levels by their codes); the numbers
    stay numbers."""
    table = content.optimisation.table  # type: ignore[union-attr]
    if "lineup" in table.columns:
        t = content.t
        words = [
            "; ".join(", ".join(offer_parts(content.study, offer, t)) for offer in parse_lineup(x))
            for x in table["lineup"]
        ]
        table = table.assign(lineup=words)
    return _worded(table, content)


def _recommendation_sheet(wb: Any, content: ReportContent) -> None:
    from openpyxl.styles import Font

    name = sheet_name(content.t, "recommendation")
    rec = pd.DataFrame({"recommendation": content.recommendation})
    _frame_sheet(wb, name, _headed(rec, content))
    if content.optimisation is None:
        return
    ws = wb[name]
    start = len(content.recommendation) + 3
    sheet = _candidates_frame(content)
    table, formats = sheet.frame, sheet.formats
    for j, heading in enumerate(table.columns, start=1):  # type: ignore[union-attr]
        ws.cell(start, j, neutralise_formula(str(heading))).font = Font(bold=True)
    for i, values in enumerate(table.itertuples(index=False), start=start + 1):  # type: ignore[union-attr]
        for j, value in enumerate(values, start=1):
            ws.cell(i, j, _cell_value(value)).number_format = formats.get(j - 1, "General")


def _readme_sheet(wb: Any, content: ReportContent) -> None:
    from openpyxl.styles import Font

    readme = wb.active
    readme.title = sheet_name(content.t, "readme")
    readme["A1"] = neutralise_formula(content.title)
    readme["A1"].font = Font(bold=True, size=14)
    lines = [
        "",
        content.t("xl_readme_simulator"),
        content.t("xl_readme_tables"),
        "",
        content.t("h_method") + ":",
        *content.method,
    ]
    for i, line in enumerate(lines, start=2):
        readme.cell(i, 1, neutralise_formula(line))
    readme.column_dimensions["A"].width = 140


def _with_plain_spaces(wb: Any) -> None:
    """Every text, formula and drop-down list with plain spaces: a reader who types a
    level ("CHF 590.– / Monat") must match the list's, which the report's pages set with
    no-break spaces."""
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    cell.value = plain_spaces(cell.value)
        for validation in ws.data_validations.dataValidation:
            validation.formula1 = plain_spaces(validation.formula1)


def write_excel(content: ReportContent, path: Path | str) -> Path:
    """Write the workbook to ``path`` atomically (a half-written file never remains)."""
    try:
        from openpyxl import Workbook
    except ImportError:  # pragma: no cover - openpyxl is a dependency
        raise OfferlabError("the Excel report needs openpyxl (pip install openpyxl)") from None
    path = Path(path)
    t = content.t
    wb = Workbook()
    _readme_sheet(wb, content)
    if content.recommendation:
        _recommendation_sheet(wb, content)
    drivers = content.sources.get("drivers", "")
    tables = [
        ("sample", _worded(content.sample, content), ""),
        ("quality", _worded(content.quality, content), ""),
        ("holdouts", _worded(content.holdouts, content), ""),
        ("fit", SheetFrame(_fit_frame(content)), content.sources.get("fit", "")),
        ("importance", _worded(content.importance, content), drivers),
        ("partworths", _worded(content.partworths, content), drivers),
        ("wtp", _worded(content.wtp, content), content.sources.get("wtp", drivers)),
        ("segments", _worded(content.segments, content), ""),
        ("segment_importance", SheetFrame(content.segment_importance), ""),
        ("shares", _worded(content.shares, content),
         content.sources.get("decisions", "") + " " + t("market_note")),
        ("segment_shares", _worded(content.segment_shares, content), ""),
    ]  # fmt: skip
    if content.pricing is not None:
        pricing = SheetFrame(_measures_frame(content))
        tables.append(("pricing", pricing, " ".join(content.pricing_lines)))
        if content.pricing.demand is not None:
            tables.append(("demand", _worded(content.pricing.demand, content), ""))
    for key, sheet, note in tables:
        _frame_sheet(wb, sheet_name(t, key), sheet.frame, note=note, formats=sheet.formats)
    for name, frame, note in page_sheets(content.pages):
        sheet = _worded(frame, content)
        _frame_sheet(wb, page_sheet_name(t, name), sheet.frame, note=note, formats=sheet.formats)
    if content.simulator is not None:
        _simulator(wb, content.simulator, t)
    _with_plain_spaces(wb)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".part")
    wb.save(tmp)
    tmp.replace(path)
    return path
