"""The Excel workbook: its simulator sheet computes the library's share of preference.

The workbook's formulas are evaluated by tests/report/_formulas.py (INDEX, MATCH, MIN,
IF, EXP, SUM: all the sheet uses), fast and without a spreadsheet program;
test_excel_libreoffice.py opens the same workbook in LibreOffice Calc itself.
"""

from __future__ import annotations

import pytest
from _formulas import Workbook
from openpyxl import load_workbook

from offerlab.report._excel import write_excel


def _shares(wb, names: list[str]) -> dict[str, float]:
    book = Workbook(wb)
    ws = wb["Simulator"]
    header = {ws.cell(5, c).value: c for c in range(2, ws.max_column + 1)}
    share_row = next(r for r in range(1, 60) if ws.cell(r, 1).value == "share of preference")
    out = {}
    for name in names:
        col = header.get(name, header.get(f"{name} (ours)"))
        out[name] = book.value("Simulator", share_row, col)
    return out


def test_the_simulator_sheet_gives_the_library_shares_and_follows_changes(built, tmp_path):
    path = write_excel(built.content, tmp_path / "report.xlsx")
    wb = load_workbook(path)  # formulas, not cached values
    names = list(built.market.names)
    expected = built.sim.shares(built.market).set_index("alternative")["share"]
    got = _shares(wb, names)
    for name in names:
        assert got[name] == pytest.approx(expected[name], abs=1e-6)
    assert sum(got.values()) == pytest.approx(1.0, abs=1e-12)

    # A user types a price between two studied prices and picks another car class.
    ws = wb["Simulator"]
    col = next(c for c in range(2, 12) if ws.cell(5, c).value == "Our City Compact (ours)")
    rows = {ws.cell(r, 1).value: r for r in range(6, 20)}
    ws.cell(rows["Monthly price"], col).value = 545
    ws.cell(rows["Car class"], col).value = "Premium saloon"
    rival = next(c for c in range(2, 12) if ws.cell(5, c).value == "Rival SUV Abo")
    ws.cell(6, rival).value = "no"  # the rival leaves the market
    changed = built.market.with_offer(
        "Our City Compact", monthly_price=545, car_class="premium"
    ).without("Rival SUV Abo")
    expected = built.sim.shares(changed).set_index("alternative")["share"]
    got = _shares(wb, names)
    assert got["Rival SUV Abo"] == 0
    for name in expected.index:
        assert got[name] == pytest.approx(expected[name], abs=1e-6)


def test_inputs_are_validated_and_the_rest_is_locked(built, tmp_path):
    wb = load_workbook(write_excel(built.content, tmp_path / "report.xlsx"))
    ws = wb["Simulator"]
    assert ws.protection.sheet and wb["Lookup"].protection.sheet and wb["Calc"].protection.sheet
    validations = ws.data_validations.dataValidation
    price = [v for v in validations if v.type == "decimal" and v.operator == "between"]
    assert price and {price[0].formula1, price[0].formula2} == {"390", "990"}
    lists = [v for v in validations if v.type == "list" and "Lookup!" in (v.formula1 or "")]
    assert len(lists) == 7  # every attribute but the price
    unlocked = [c.coordinate for row in ws.iter_rows() for c in row if not c.protection.locked]
    assert "B2" in unlocked and len(unlocked) == 1 + 5 + 3 * 8  # scale, in-market, levels
    for sheet in ("Importance", "Part-worths", "WTP", "Shares", "Pricing", "Recommendation"):
        assert sheet in wb.sheetnames


def test_a_population_of_several_rows_is_averaged_with_its_weights(latent_class_report, tmp_path):
    """Latent classes: the sheet averages the classes' logit shares with the class sizes."""
    lc, sim, market = (latent_class_report.results, latent_class_report.sim,
                       latent_class_report.market)  # fmt: skip
    wb = load_workbook(write_excel(latent_class_report.content, tmp_path / "lc.xlsx"))
    assert wb["Lookup"].cell(2, 5).value == pytest.approx(lc.shares[0])
    expected = sim.shares(market).set_index("alternative")["share"]
    got = _shares(wb, list(market.names))
    for name, share in expected.items():
        assert got[name] == pytest.approx(share, abs=1e-6)
    assert "Segments" in wb.sheetnames and "Segment shares" in wb.sheetnames
