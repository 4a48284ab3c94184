"""The report as an Excel workbook: the tables, and a simulator sheet that cannot be
mis-coded.

Sheets: ``Read me``, ``Recommendation``, ``Sample``, ``Importance``, ``Part-worths``,
``WTP``, ``Segments``, ``Shares``, ``Pricing``, then the simulator:

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
shares #N/A, and an "inputs" row under the shares names the column to fix. Data
validation stops such entries when typed, but not when pasted or written by a program.

Only INDEX, MATCH, MIN, IF, EXP, SUM, NA and ISNUMBER are used, so the sheet computes the
same in Excel, LibreOffice (tests/report/test_excel_libreoffice.py) and the small
evaluator the tests use.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from offerlab.data import neutralise_formula
from offerlab.exceptions import OfferlabError
from offerlab.report._content import ReportContent
from offerlab.report._needs_pages import page_sheets

__all__ = ["write_excel"]

_HEADER_FILL = "EDF2F7"
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


def _frame_sheet(wb: Any, title: str, frame: pd.DataFrame | None, note: str = "") -> None:
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
            ws.cell(i, j, _cell_value(value))
    ws.freeze_panes = ws.cell(row + 1, 1)


def _headed(frame: pd.DataFrame | None, content: ReportContent) -> pd.DataFrame | None:
    """Column names in the report's language (English keeps the library's names)."""
    if frame is None or content.language == "en":
        return frame
    t, cur = content.t, content.currency
    words = {
        "attribute": t("col_attribute"), "level": t("col_level"),
        "importance": t("col_importance"), "utility": t("col_utility"),
        "wtp": t("col_wtp", currency=cur), "per_unit": t("col_per_unit"),
        "lower": t("col_lower"), "upper": t("col_upper"), "alternative": t("col_offer"),
        "kind": t("col_kind"), "ours": t("col_ours"), "price": t("col_price", currency=cur),
        "share": t("col_share"), "revenue": t("col_revenue", currency=cur),
        "cost": t("col_cost", currency=cur), "margin": t("col_margin", currency=cur),
        "profit": t("col_profit", currency=cur), "statistic": t("col_statistic"),
        "value": t("col_value"), "holdout task": t("col_holdout_task"),
        "concept": t("col_concept"), "observed": t("col_observed"),
        "predicted": t("col_predicted"), "segment": t("col_segment"),
    }  # fmt: skip
    for what in ("share", "revenue", "profit"):
        for end in ("lower", "upper"):
            words[f"{what}_{end}"] = f"{words[what]}: {words[end]}"
    return frame.rename(columns={c: words.get(str(c), c) for c in frame.columns})


def _number(value: Any) -> str:
    """A number as formula text, without the rounding of ``:g`` (1234567 -> 1.23457e+06)."""
    return f"{float(value):.15g}"


def _col(n: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(n)


def _simulator(wb: Any, sim: dict[str, Any]) -> None:
    """The Lookup, Calc and Simulator sheets (see the module docstring)."""
    from openpyxl.styles import Font, PatternFill, Protection
    from openpyxl.worksheet.datavalidation import DataValidation

    attributes = sim["attributes"]
    offers = sim["offers"]
    fixed = sim["fixed"]
    R = len(sim["weights"])
    J, F, A = len(offers), len(fixed), len(attributes)
    bold = Font(bold=True)

    # -- Lookup: rows 3.. hold the utilities T (one row per level, then the fixed
    # alternatives, then a zero row so that INDEX(T, k + 1) exists for the last level).
    lk = wb.create_sheet("Lookup")
    lk.append(["attribute", "level (as shown)", "value", "", *[f"row {r + 1}" for r in range(R)]])
    lk.append(["weight", "", "", "", *sim["weights"]])
    for c in lk[1]:
        c.font = bold
    first_col, last_col = _col(5), _col(4 + R)
    base: list[int] = []  # 1-based position in T of each attribute's first level
    position = 1
    for a in attributes:
        base.append(position)
        per_level = list(zip(*a["utilities"], strict=True))  # (levels, R)
        for label, value, utilities in zip(a["labels"], a["levels"], per_level, strict=True):
            lk.append([a["name"], neutralise_formula(label), value, "", *utilities])
            position += 1
    fixed_pos = []
    for f in fixed:
        fixed_pos.append(position)
        lk.append(
            [neutralise_formula(f["name"]), neutralise_formula(f["label"]), "", "", *f["utilities"]]
        )
        position += 1
    lk.append(["(end)", "", "", "", *([0.0] * R)])
    last_row = 2 + position
    T = f"Lookup!${first_col}$3:${last_col}${last_row}"
    weights = f"Lookup!${first_col}$2:${last_col}$2"

    def labels_range(i: int) -> str:
        start = 2 + base[i]
        return f"Lookup!$B${start}:$B${start + len(attributes[i]['levels']) - 1}"

    def values_range(i: int) -> str:
        start = 2 + base[i]
        return f"Lookup!$C${start}:$C${start + len(attributes[i]['levels']) - 1}"

    def value_cell(i: int, k: int) -> str:
        """The Lookup cell of attribute i's k-th level value (0-based k)."""
        return f"Lookup!$C${2 + base[i] + k}"

    # -- Simulator
    ws = wb.create_sheet("Simulator", 0)
    ws["A1"] = "Market simulator (share of preference)"
    ws["A1"].font = Font(bold=True, size=14)
    ws["A2"] = "Scale factor (1 = as estimated; below 1 flattens the shares)"
    ws["B2"] = float(sim["scale"])
    inputs = [ws["B2"]]
    ws["A3"] = (
        "Yellow cells are the only ones you can change: pick levels from the lists, type "
        f"prices within the tested range ({sim['currency']}). The shares follow; #N/A in "
        "them means an input is not allowed, and the inputs row under them says which column."
    )
    top = 5
    ws.cell(top, 1, "alternative").font = bold
    ws.cell(top + 1, 1, "in market (yes/no)").font = bold
    for i, a in enumerate(attributes):
        ws.cell(top + 2 + i, 1, neutralise_formula(a["label"])).font = bold
    share_row = top + 3 + A
    ws.cell(share_row, 1, "share of preference").font = bold
    ws.cell(share_row, 3 + J + F, "total").font = bold
    yes_no = DataValidation(type="list", formula1='"yes,no"', allow_blank=False)
    yes_no.error, yes_no.showErrorMessage = "Type yes or no.", True
    ws.add_data_validation(yes_no)
    scale_ok = DataValidation(type="decimal", operator="greaterThan", formula1="0")
    scale_ok.showErrorMessage = True
    ws.add_data_validation(scale_ok)
    scale_ok.add("B2")
    # Typed (with interpolation): the price, and a numeric attribute some offer sets
    # between two levels; every other attribute is picked from its levels.
    typed = [
        a["kind"] == "price"
        or (
            a["kind"] == "numeric"
            and any(
                float(o["levels"][a["name"]]) not in [float(v) for v in a["levels"]] for o in offers
            )
        )
        for a in attributes
    ]
    lists = []
    for i, a in enumerate(attributes):
        if typed[i]:
            low, high = _number(a["levels"][0]), _number(a["levels"][-1])
            dv = DataValidation(type="decimal", operator="between", formula1=low, formula2=high)
            dv.error = f"Type a number from {a['levels'][0]:g} to {a['levels'][-1]:g}."
        else:
            # The formula text of a validation has no leading "=" in the file (ECMA-376
            # ST_Formula, as Excel and LibreOffice write it).
            dv = DataValidation(type="list", formula1=labels_range(i), allow_blank=False)
            dv.error = "Pick a level from the list."
        dv.showErrorMessage = True
        ws.add_data_validation(dv)
        lists.append(dv)
    for j, o in enumerate(offers):
        col = 2 + j
        header = neutralise_formula(o["name"] + (" (ours)" if o["ours"] else ""))
        ws.cell(top, col, header).font = bold
        c = ws.cell(top + 1, col, "yes")
        yes_no.add(c)
        inputs.append(c)
        for i, a in enumerate(attributes):
            value = o["levels"][a["name"]]
            if typed[i]:
                shown: Any = float(value)
            else:
                k = (
                    [str(v) for v in a["levels"]].index(str(value))
                    if a["kind"] == "categorical"
                    else [float(v) for v in a["levels"]].index(float(value))
                )
                shown = neutralise_formula(a["labels"][k])  # as on the Lookup sheet
            c = ws.cell(top + 2 + i, col, shown)
            lists[i].add(c)
            inputs.append(c)
        ws.column_dimensions[_col(col)].width = 30
    for f_i, f in enumerate(fixed):
        col = 2 + J + f_i
        ws.cell(top, col, neutralise_formula(f["label"])).font = bold
        c = ws.cell(top + 1, col, "yes")
        yes_no.add(c)
        inputs.append(c)
        ws.column_dimensions[_col(col)].width = 18
    ws.column_dimensions["A"].width = 34
    for c in inputs:
        c.protection = Protection(locked=False)
        c.fill = PatternFill("solid", fgColor=_INPUT_FILL)
    # Helper rows (k = level position, t = interpolation weight), below the shares.
    helper = share_row + 3
    ws.cell(helper - 1, 1, "(helper: level position k and interpolation weight t)").font = Font(
        italic=True, color="808080"
    )
    k_row = {i: helper + 2 * i for i in range(A)}
    # The scale factor the formulas use: #N/A unless it is a number above 0 (0 would make
    # every share equal, a negative one would reverse the preferences).
    scale_row = helper + 2 * A
    ws.cell(scale_row, 1, "scale factor (checked)").font = Font(color="808080")
    ws.cell(scale_row, 2, "=IF(ISNUMBER($B$2),IF($B$2>0,$B$2,NA()),NA())")
    scale = f"Simulator!$B${scale_row}"
    for j in range(J):
        col = _col(2 + j)
        for i, a in enumerate(attributes):
            choice = f"{col}${top + 2 + i}"
            n = len(a["levels"])
            kr, tr = k_row[i], k_row[i] + 1
            if typed[i]:
                # Outside the studied range: #N/A, not an extrapolation (MATCH already
                # gives #N/A below the first level and for text).
                vals = values_range(i)
                ws[f"{col}{kr}"] = (
                    f"=IF({choice}>{value_cell(i, n - 1)},NA(),"
                    f"MIN(MATCH({choice},{vals},1),{n - 1}))"
                )
                ws[f"{col}{tr}"] = (
                    f"=({choice}-INDEX({vals},{col}{kr}))/"
                    f"(INDEX({vals},{col}{kr}+1)-INDEX({vals},{col}{kr}))"
                )
            else:
                # MATCH(…, 0) takes * and ? as wildcards ("*" would match the first
                # level): the label found must equal the entry.
                labels = labels_range(i)
                found = f"MATCH({choice},{labels},0)"
                ws[f"{col}{kr}"] = f"=IF(INDEX({labels},{found})={choice},{found},NA())"
                ws[f"{col}{tr}"] = "=0"
        for i in range(A):
            ws.cell(k_row[i], 1, f"k: {attributes[i]['name']}").font = Font(color="808080")
            ws.cell(k_row[i] + 1, 1, f"t: {attributes[i]['name']}").font = Font(color="808080")

    # -- Calc: one row per population row.
    calc = wb.create_sheet("Calc")
    head = ["row", "weight"]
    head += [f"V {o['name']}" for o in offers] + [f"V {f['name']}" for f in fixed]
    head += [f"e {o['name']}" for o in offers] + [f"e {f['name']}" for f in fixed]
    head += ["denominator"] + [f"p {o['name']}" for o in offers] + [f"p {f['name']}" for f in fixed]
    calc.append(head)
    n_alt = J + F
    V0, E0 = 3, 3 + n_alt  # first V and first e column
    D = E0 + n_alt
    P0 = D + 1
    for r in range(1, R + 1):
        row = r + 1
        calc.cell(row, 1, r)
        # Normalised here: the stored weights are rounded (9 digits), and 900 rows of
        # 0.00111111111 would make the shares sum to 99.9999999%.
        calc.cell(row, 2, f"=INDEX({weights},1,A{row})/SUM({weights})")
        for j in range(J):
            sc = _col(2 + j)
            terms = []
            for i in range(A):
                k = f"Simulator!${sc}${k_row[i]}"
                t = f"Simulator!${sc}${k_row[i] + 1}"
                terms.append(
                    f"(1-{t})*INDEX({T},{base[i] - 1}+{k},$A{row})"
                    f"+{t}*INDEX({T},{base[i]}+{k},$A{row})"
                )
            calc.cell(row, V0 + j, f"={scale}*(" + "+".join(terms) + ")")
        for f_i in range(F):
            calc.cell(row, V0 + J + f_i, f"={scale}*INDEX({T},{fixed_pos[f_i]},$A{row})")
        for m in range(n_alt):
            # "in market" is yes or no; anything else (blank, "y", "ja") is #N/A rather
            # than silently out of the market.
            flag = f"Simulator!${_col(2 + m)}${top + 1}"
            calc.cell(
                row,
                E0 + m,
                f'=IF({flag}="yes",EXP({_col(V0 + m)}{row}),IF({flag}="no",0,NA()))',
            )
        calc.cell(row, D, f"=SUM({_col(E0)}{row}:{_col(E0 + n_alt - 1)}{row})")
        for m in range(n_alt):
            calc.cell(row, P0 + m, f"=B{row}*{_col(E0 + m)}{row}/{_col(D)}{row}")
    for m in range(n_alt):
        col = _col(P0 + m)
        c = ws.cell(share_row, 2 + m, f"=SUM(Calc!{col}2:{col}{R + 1})")
        c.number_format = "0.0%"
    # Which column to fix when the shares are #N/A (an error anywhere makes them all #N/A).
    ws.cell(share_row + 1, 1, "inputs").font = Font(italic=True)
    ws["C2"] = f'=IF(ISNUMBER({scale}),"","← type a number above 0")'
    for m in range(n_alt):
        if m < J:
            ranges = [
                f"{a['label']} {a['levels'][0]:g} to {a['levels'][-1]:g}"
                for i, a in enumerate(attributes)
                if typed[i]
            ]
            fix = "check: levels from the lists, " + ", ".join([*ranges, "in market yes or no"])
        else:
            fix = "check: in market yes or no"
        e = f"Calc!{_col(E0 + m)}2:{_col(E0 + m)}{R + 1}"
        fix = fix.replace('"', '""')  # a quote inside a formula's text is doubled
        ws.cell(share_row + 1, 2 + m, f'=IF(ISNUMBER(SUM({e})),"ok","{fix}")')
    total = ws.cell(
        share_row, 3 + J + F + 1, f"=SUM({_col(2)}{share_row}:{_col(1 + n_alt)}{share_row})"
    )
    total.number_format = "0.0%"
    for sheet in (ws, lk, calc):
        sheet.protection.sheet = True  # unprotect deliberately (Review ▸ Unprotect) to change
    lk.sheet_properties.tabColor = "A0AEC0"
    calc.sheet_properties.tabColor = "A0AEC0"


def write_excel(content: ReportContent, path: Path | str) -> Path:
    """Write the workbook to ``path`` atomically (a half-written file never remains)."""
    try:
        from openpyxl import Workbook
        from openpyxl.styles import Font
    except ImportError:  # pragma: no cover - openpyxl is a dependency
        raise OfferlabError("the Excel report needs openpyxl (pip install openpyxl)") from None
    path = Path(path)
    wb = Workbook()
    readme = wb.active
    readme.title = "Read me"
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
    if content.recommendation:
        rec = pd.DataFrame({"recommendation": content.recommendation})
        _frame_sheet(wb, "Recommendation", rec)
        if content.optimisation is not None:
            ws = wb["Recommendation"]
            start = len(content.recommendation) + 3
            table = content.optimisation.table
            for j, name in enumerate(table.columns, start=1):
                ws.cell(start, j, neutralise_formula(str(name))).font = Font(bold=True)
            for i, values in enumerate(table.itertuples(index=False), start=start + 1):
                for j, value in enumerate(values, start=1):
                    ws.cell(i, j, _cell_value(value))
    _frame_sheet(wb, "Sample", content.sample)
    _frame_sheet(wb, "Quality", content.quality)
    _frame_sheet(wb, "Holdouts", _headed(content.holdouts, content))
    drivers = content.sources.get("drivers", "")
    _frame_sheet(wb, "Fit", _headed(content.fit, content), note=content.sources.get("fit", ""))
    _frame_sheet(wb, "Importance", _headed(content.importance, content), note=drivers)
    _frame_sheet(wb, "Part-worths", _headed(content.partworths, content), note=drivers)
    _frame_sheet(wb, "WTP", _headed(content.wtp, content), note=content.sources.get("wtp", drivers))
    _frame_sheet(wb, "Segments", content.segments)
    _frame_sheet(wb, "Segment importance", content.segment_importance)
    _frame_sheet(
        wb,
        "Shares",
        _headed(content.shares, content),
        note=content.sources.get("decisions", "") + " " + content.t("market_note"),
    )
    _frame_sheet(wb, "Segment shares", content.segment_shares)
    if content.pricing is not None:
        note = " ".join(content.pricing.comparison)
        _frame_sheet(wb, "Pricing", content.pricing.table, note=note)
        if content.pricing.demand is not None:
            _frame_sheet(wb, "Demand curve", content.pricing.demand)
    for name, frame, note in page_sheets(content.pages):
        _frame_sheet(wb, name, frame, note=note)
    if content.simulator is not None:
        _simulator(wb, content.simulator)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".part")
    wb.save(tmp)
    tmp.replace(path)
    return path
