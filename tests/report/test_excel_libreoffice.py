"""The Excel workbook in real LibreOffice Calc: it opens, computes the library's shares,
follows a user's changes, and gives no number for an input that is not allowed.

Business units open the workbook in Excel; LibreOffice Calc (Debian's
libreoffice-calc-nogui, installed by `.ci/run`) is the real spreadsheet program we can
run. The workbook is written as `offerlab report` writes it, edited with openpyxl the way
a user edits the yellow cells, and every variant is converted to CSV (every sheet) in one
headless `soffice` run: openpyxl writes formulas without cached values, so every number
read back is LibreOffice's own computation. The profile is a throwaway one that always
recalculates on load and pins the en-US locale (a German one writes 0,5 in the CSV; the
workbook itself computes the same in both). The recomputed simulator sheet is saved to
tests/artifacts/excel/ (not committed) for a reviewer.

LibreOffice's shares equal, to 1e-12, those of tests/report/_formulas.py (the evaluator
test_excel.py uses) on the same file: two independent readings of the formulas agree.
They equal the library's MarketSimulator shares to 1e-9: the workbook holds the
population's utilities at full precision (report/_html.py `simulator_data`).
"""

from __future__ import annotations

import copy
import csv
import dataclasses
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from _formulas import Workbook as FormulaEvaluator
from openpyxl import load_workbook

from offerlab.report._excel import write_excel
from offerlab.report._texts import report_texts

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "excel"
# Field separator ",", text delimiter '"', UTF-8, from line 1, language default, then
# (7) quoted fields as text: no, (8) detect special numbers: yes, (9) save cell contents
# as shown: no (full precision), (10) export formulas: no, (11) remove spaces: no,
# (12) sheet: -1 = every sheet, one file each (LibreOffice 7.2 and later).
CSV_FILTER = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"
PROFILE_SETTINGS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
 xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode"
 oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Setup/L10N"><prop oor:name="ooSetupSystemLocale"
 oor:op="fuse"><value>en-US</value></prop></item>
</oor:items>
"""
LANGUAGES = ("de", "fr")
ERROR = re.compile(r"#(?:N/A|NAME\?|VALUE!|REF!|DIV/0!|NUM!|NULL!)|Err:\d+")

# Inputs that are not allowed, one per variant: (sheet cell found by column header and
# row label, value typed, the column the inputs row must name; None for the scale).
OURS = "Our City Compact (ours)"
WRONG = {
    "no_such_level": (OURS, "Car class", "Sports car", OURS),
    "wildcard": (OURS, "Car class", "*", OURS),
    "label_prefix": (OURS, "Car class", "Compact", OURS),
    "price_above_range": (OURS, "Monthly price", 1200, OURS),
    "price_below_range": (OURS, "Monthly price", 300, OURS),
    "price_as_text": (OURS, "Monthly price", "545 CHF", OURS),
    "in_market_y": ("Rival SUV Abo", "in market (yes/no)", "y", "Rival SUV Abo"),
    "in_market_blank": ("Buy a used car", "in market (yes/no)", None, "Buy a used car"),
    "scale_zero": (None, "scale", 0, None),
    "scale_negative": (None, "scale", -1, None),
}


def _soffice() -> str:
    found = shutil.which("soffice")
    if found is not None:
        return found
    reason = "LibreOffice's soffice is not installed (apt-get install libreoffice-calc-nogui)"
    if os.environ.get("CI") == "true":
        pytest.fail(reason + "; CI must open the Excel workbook in LibreOffice")
    pytest.skip(reason)


def _run_soffice(soffice: str, profile: Path, target: str, outdir: Path, files: list[Path]):
    command = [
        soffice, "--headless", "--norestore", "--nologo", "--nodefault",
        f"-env:UserInstallation={profile.as_uri()}", "--convert-to", target,
        "--outdir", str(outdir), *map(str, files),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, f"soffice failed: {done.stdout}\n{done.stderr}"
    return done


def _cells(ws) -> tuple[dict[str, int], dict[str, int]]:
    """The Simulator sheet's columns by alternative and rows by label (column A)."""
    columns = {ws.cell(5, c).value: c for c in range(2, ws.max_column + 1) if ws.cell(5, c).value}
    rows = {ws.cell(r, 1).value: r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value}
    return columns, rows


def _read_sheets(outdir: Path, stem: str, sheetnames: list[str]) -> dict[str, list[list[str]]]:
    sheets = {}
    for name in sheetnames:
        path = outdir / f"{stem}-{name}.csv"
        assert path.exists(), f"LibreOffice wrote no {path.name}: the sheet did not open"
        with path.open(encoding="utf-8", newline="") as handle:
            sheets[name] = list(csv.reader(handle))
    return sheets


def _number(text: str) -> float:
    """A CSV cell as LibreOffice wrote it (full precision; a share keeps its % sign)."""
    if text.endswith("%"):
        return float(text[:-1]) / 100
    return float(text)


@pytest.fixture(scope="module")
def calc(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> SimpleNamespace:
    """The workbook as written, a user's changes, each wrong input, and a latent-class
    workbook (several weighted population rows), as LibreOffice computed them (one soffice
    run for the CSVs, one for the ODS of the original)."""
    soffice = _soffice()  # before building the report: a skip costs nothing
    built = request.getfixturevalue("built")
    tmp = tmp_path_factory.mktemp("libreoffice")
    profile = tmp / "profile"
    (profile / "user").mkdir(parents=True)
    (profile / "user" / "registrymodifications.xcu").write_text(PROFILE_SETTINGS, "utf-8")
    original = write_excel(built.content, tmp / "as_written.xlsx")
    sheetnames = load_workbook(original, read_only=True).sheetnames

    def variant(name: str, edits: dict[tuple[str | None, str], object]) -> Path:
        wb = load_workbook(original)  # formulas; openpyxl keeps validation and protection
        ws = wb["Simulator"]
        columns, rows = _cells(ws)
        for (column, row), value in edits.items():
            if row == "scale":
                ws["B2"].value = value
            else:
                ws.cell(rows[row], columns[column]).value = value
        path = tmp / f"{name}.xlsx"
        wb.save(path)
        return path

    changed = {
        ("Our Flex Electric (ours)", "Minimum term"): "24 months",
        ("Our Flex Electric (ours)", "Handover"): "Pick-up at the dealer",
        (OURS, "Monthly price"): 545,  # between the studied 490 and 590
        (OURS, "Car class"): "Premium saloon",
        ("Rival SUV Abo", "in market (yes/no)"): "no",
    }
    files = [original, variant("changed", changed)]
    files += [variant(name, {(col, row): value}) for name, (col, row, value, _) in WRONG.items()]
    latent = request.getfixturevalue("latent_class_report")  # shared with test_excel.py
    files.append(write_excel(latent.content, tmp / "latent_classes.xlsx"))
    files.append(write_excel(_three_equal_rows(built.content), tmp / "rounded_weights.xlsx"))
    for language in LANGUAGES:  # localized sheet names in every formula that names a sheet
        report = request.getfixturevalue({"de": "german", "fr": "french"}[language])
        files.append(write_excel(report.content, tmp / f"as_written_{language}.xlsx"))
    files.append(_in_market_in_english(tmp / "as_written_de.xlsx", tmp / "english_yes_de.xlsx"))
    out = tmp / "csv"
    _run_soffice(soffice, profile, CSV_FILTER, out, files)
    _run_soffice(soffice, profile, "ods", tmp / "ods", [original])
    books = {
        path.stem: _read_sheets(out, path.stem, load_workbook(path, read_only=True).sheetnames)
        for path in files
    }
    paths = {path.stem: path for path in files}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for stem in ("as_written", "changed", "price_above_range"):
        shutil.copy(out / f"{stem}-Simulator.csv", ARTIFACTS / f"simulator_{stem}_libreoffice.csv")
    with zipfile.ZipFile(tmp / "ods" / "as_written.ods") as ods:
        content = ods.read("content.xml").decode("utf-8")
    return SimpleNamespace(
        books=books, paths=paths, sheetnames=sheetnames, ods_content=content, latent=latent
    )


def _in_market_in_english(german: Path, path: Path) -> Path:
    """The German workbook with "yes" typed for a rival: German "in market" takes ja/nein."""
    wb = load_workbook(german)
    ws = wb[report_texts("de")("xl_sheet_simulator")]
    column = next(c for c in range(2, ws.max_column + 1) if ws.cell(5, c).value == "Rival SUV Abo")
    ws.cell(6, column).value = "yes"
    wb.save(path)
    return path


def _three_equal_rows(content: Any) -> Any:
    """The same population as three equal rows, their weights rounded to 9 digits as the
    report's simulator data stores them: 0.333333333 each, summing to 0.999999999."""
    sim = copy.deepcopy(content.simulator)
    assert len(sim["weights"]) == 1
    sim["weights"] = [float(f"{1 / 3:.9g}")] * 3
    for attribute in sim["attributes"]:
        attribute["utilities"] = attribute["utilities"] * 3
    for alternative in sim["fixed"]:
        alternative["utilities"] = alternative["utilities"] * 3
    return dataclasses.replace(content, simulator=sim)


def _simulator(sheet: list[list[str]]) -> SimpleNamespace:
    """Shares, the total and the inputs row of the Simulator sheet's CSV."""
    rows = {row[0]: row for row in sheet if row}
    header = sheet[4]
    names = [name for name in header[1:] if name]
    share_row, check_row = rows["share of preference"], rows["inputs"]
    return SimpleNamespace(
        names=names,
        shares={name.removesuffix(" (ours)"): share_row[1 + k] for k, name in enumerate(names)},
        total=share_row[share_row.index("total") + 1],
        inputs={name: check_row[1 + k] for k, name in enumerate(names)},
        scale_note=rows[next(label for label in rows if label.startswith("Scale factor"))][2],
    )


def _evaluated_shares(path: Path) -> dict[str, float]:
    """The same file's shares by tests/report/_formulas.py."""
    wb = load_workbook(path)
    ws = wb["Simulator"]
    columns, rows = _cells(ws)
    book = FormulaEvaluator(wb)
    return {name.removesuffix(" (ours)"): book.value("Simulator", rows["share of preference"], c)
            for name, c in columns.items() if name != "alternative"}  # fmt: skip


def _changed_market(built: SimpleNamespace):
    return (
        built.market.with_offer("Our Flex Electric", term=24, delivery="dealer")
        .with_offer("Our City Compact", monthly_price=545, car_class="premium")
        .without("Rival SUV Abo")
    )


def _errors(sheets: dict[str, list[list[str]]]) -> list[str]:
    return [f"{name}!R{i + 1}C{j + 1}: {text}" for name, rows in sheets.items()
            for i, row in enumerate(rows) for j, text in enumerate(row)
            if ERROR.fullmatch(text.strip())]  # fmt: skip


def test_every_sheet_opens_and_the_simulator_gives_the_library_shares(built, calc):
    book = calc.books["as_written"]
    assert set(book) == set(calc.sheetnames) and "Simulator" in book
    assert _errors(book) == []
    sim = _simulator(book["Simulator"])
    expected = built.sim.shares(built.market).set_index("alternative")["share"]
    assert set(sim.shares) == set(expected.index)
    shares = {name: _number(text) for name, text in sim.shares.items()}
    evaluated = _evaluated_shares(calc.paths["as_written"])
    for name, share in shares.items():
        assert share == pytest.approx(evaluated[name], abs=1e-12), name
        assert share == pytest.approx(expected[name], abs=1e-9), name
    assert sum(shares.values()) == pytest.approx(1.0, abs=1e-12)
    assert _number(sim.total) == pytest.approx(1.0, abs=1e-12)
    assert set(sim.inputs.values()) == {"ok"} and sim.scale_note == ""


def test_a_users_changes_are_recomputed_as_the_library_computes_them(built, calc):
    """Other levels of two offers, a price between two studied prices, a rival leaves."""
    book = calc.books["changed"]
    assert _errors(book) == []
    expected = built.sim.shares(_changed_market(built)).set_index("alternative")["share"]
    original = _simulator(calc.books["as_written"]["Simulator"]).shares
    before = {name: _number(text) for name, text in original.items()}
    shares = {k: _number(v) for k, v in _simulator(book["Simulator"]).shares.items()}
    evaluated = _evaluated_shares(calc.paths["changed"])
    assert shares.pop("Rival SUV Abo") == 0 == evaluated.pop("Rival SUV Abo")
    assert set(shares) == set(expected.index)
    for name, share in shares.items():
        assert share == pytest.approx(evaluated[name], abs=1e-12), name
        assert share == pytest.approx(expected[name], abs=1e-9), name
        assert abs(share - before[name]) > 1e-4, f"{name}: LibreOffice did not recompute"
    assert sum(shares.values()) == pytest.approx(1.0, abs=1e-12)


def test_latent_classes_are_averaged_with_their_sizes_in_libreoffice(calc):
    book = calc.books["latent_classes"]
    assert {"Segments", "Segment shares", "Simulator"} <= set(book)
    assert _errors(book) == []
    expected = calc.latent.sim.shares(calc.latent.market).set_index("alternative")["share"]
    shares = {k: _number(v) for k, v in _simulator(book["Simulator"]).shares.items()}
    evaluated = _evaluated_shares(calc.paths["latent_classes"])
    assert set(shares) == set(expected.index)
    for name, share in shares.items():
        assert share == pytest.approx(evaluated[name], abs=1e-12), name
        assert share == pytest.approx(expected[name], abs=1e-9), name
    assert sum(shares.values()) == pytest.approx(1.0, abs=1e-12)


def test_rounded_weights_still_give_shares_that_sum_to_1(calc):
    """Many population rows (HB: up to 2,000) have weights stored to 9 digits: the sheet
    normalises them, so the total is 100%, not 99.9999999%."""
    book = calc.books["rounded_weights"]
    assert _errors(book) == []
    sim = _simulator(book["Simulator"])
    one_row = _simulator(calc.books["as_written"]["Simulator"])
    shares = {name: _number(text) for name, text in sim.shares.items()}
    for name, share in shares.items():
        assert share == pytest.approx(_number(one_row.shares[name]), abs=1e-12), name
    assert sum(shares.values()) == pytest.approx(1.0, abs=1e-12)
    assert _number(sim.total) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("case", list(WRONG))
def test_an_input_that_is_not_allowed_gives_no_number_and_names_its_column(calc, case):
    named = WRONG[case][3]
    sim = _simulator(calc.books[case]["Simulator"])
    for name, text in [*sim.shares.items(), ("total", sim.total)]:
        assert text == "#N/A", f"{case}: the share of {name} is {text!r}, not #N/A"
    if named is None:  # the scale factor: every column fails, the note beside it says why
        assert sim.scale_note.startswith("←") and "above 0" in sim.scale_note
        return
    assert sim.scale_note == ""
    for name, status in sim.inputs.items():
        if name == named:
            assert status.startswith("check:"), (case, status)
        else:
            assert status == "ok", (case, name, status)


def test_libreoffice_reads_the_validation_of_every_input_and_the_protection(calc):
    """Typing stops at LibreOffice's (as Excel's) validation: the lists are the study's
    level labels, the price is limited to the studied range, in market is yes or no. The
    simulator and its two helper sheets stay protected, the yellow cells unlocked."""
    content = calc.ods_content
    protected = set(re.findall(r'<table:table table:name="([^"]+)"[^>]*table:protected="true"',
                               content))  # fmt: skip
    assert protected == {"Simulator", "Lookup", "Calc"}
    assert 'style:cell-protect="none"' in content
    validations = dict(
        re.findall(
            r'<table:content-validation table:name="([^"]+)" table:condition="([^"]+)"', content
        )
    )
    stops = re.findall(r'<table:error-message table:message-type="stop" table:display="true"',
                       content)  # fmt: skip
    assert len(stops) == len(validations) >= 10
    conditions = [c.replace("&quot;", '"') for c in validations.values()]
    assert 'of:cell-content-is-in-list("yes";"no")' in conditions
    assert "of:cell-content-is-decimal-number() and cell-content-is-between(390,990)" in conditions
    assert "of:cell-content-is-decimal-number() and cell-content()&gt;0" in conditions
    lookup = calc.books["as_written"]["Lookup"]
    lists = [re.fullmatch(r"of:cell-content-is-in-list\(\[\$Lookup\.\$B\$(\d+):\.\$B\$(\d+)\]\)", c)
             for c in conditions]  # fmt: skip
    lists = [m for m in lists if m]
    assert len(lists) == 7  # every attribute but the price
    attributes = set()
    for m in lists:
        first, last = int(m[1]), int(m[2])
        block = lookup[first - 1 : last]
        attributes.add(block[0][0])
        assert {row[0] for row in block} == {block[0][0]}, "a list mixes two attributes"
        assert lookup[first - 2][0] != block[0][0] and lookup[last][0] != block[0][0], (
            f"the list of {block[0][0]} misses some of its levels"
        )
    assert len(attributes) == 7
    # Every input cell of the Simulator sheet carries one of them.
    simulator = content[content.index('table:name="Simulator"') :]
    simulator = simulator[: simulator.index("</table:table>")]
    used = set(re.findall(r'table:content-validation-name="([^"]+)"', simulator))
    assert used == set(validations)


def _localized_simulator(sheet: list[list[str]], language: str) -> SimpleNamespace:
    """Shares, total and inputs row of a Simulator sheet in ``language`` (its own words)."""
    t = report_texts(language)
    rows = {row[0]: row for row in sheet if row}
    names = [name for name in sheet[4][1:] if name]
    share_row, check_row = rows[t("xl_sim_share")], rows[t("xl_sim_inputs")]
    return SimpleNamespace(
        shares={name.removesuffix(t("xl_sim_ours")): share_row[1 + k]
                for k, name in enumerate(names)},
        total=share_row[share_row.index(t("xl_sim_total")) + 1],
        inputs={name.removesuffix(t("xl_sim_ours")): check_row[1 + k]
                for k, name in enumerate(names)},
    )  # fmt: skip


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_localized_workbook_computes_the_library_shares_in_libreoffice(
    built, calc, language
) -> None:
    """Simulator, lookup and calculation sheets carry the report's language in their names
    (French ones with spaces and accents, quoted in every formula): LibreOffice opens every
    sheet without an error and gives the library's shares."""
    t = report_texts(language)
    book = calc.books[f"as_written_{language}"]
    assert {t("xl_sheet_simulator"), t("xl_sheet_lookup"), t("xl_sheet_calc")} <= set(book)
    assert "Simulator" not in book or t("xl_sheet_simulator") == "Simulator"
    assert _errors(book) == []
    sim = _localized_simulator(book[t("xl_sheet_simulator")], language)
    expected = built.sim.shares(built.market).set_index("alternative")["share"]
    shares = {name: _number(text) for name, text in sim.shares.items()}
    assert set(shares) == set(expected.index)
    for name, share in shares.items():
        assert share == pytest.approx(expected[name], abs=1e-9), name
    assert _number(sim.total) == pytest.approx(1.0, abs=1e-12)
    assert set(sim.inputs.values()) == {t("xl_sim_ok")}


def test_the_german_in_market_cell_takes_ja_and_refuses_yes(calc) -> None:
    t = report_texts("de")
    sim = _localized_simulator(calc.books["english_yes_de"][t("xl_sheet_simulator")], "de")
    assert set(sim.shares.values()) == {"#N/A"}
    assert sim.inputs["Rival SUV Abo"].startswith(t("xl_sim_check", what=""))
    assert "ja oder nein" in sim.inputs["Rival SUV Abo"]
