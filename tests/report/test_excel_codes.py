"""No cell of the Excel workbook shows a code of the study file: every attribute, level,
page, option, item, feature, concept and market-kind id a reader would meet is shown by its
label in the reader's language, and money and shares carry their formats.

A code is a ``name`` or ``id`` the study YAML gives (``age_35_54``, ``flex_plus``,
``end_of_term``) that is not also a word of the reader's language (``SUV``, ``Leasing``)."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from _example import needs_workbook
from openpyxl import load_workbook

from offerlab.report import write_excel
from offerlab.report._texts import report_catalogue

#: decide's ids of the alternatives' kinds, shown in the shares table.
KIND_CODES = {"offer", "status_quo", "none"}


def _ids(node: Any) -> set[str]:
    """Every ``name`` and ``id`` value in the study YAML."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("name", "id") and isinstance(value, str | int):
                found.add(str(value))
            found |= _ids(value)
    elif isinstance(node, list):
        for value in node:
            found |= _ids(value)
    return found


def _texts(node: Any, language: str) -> set[str]:
    """Every text of the study YAML in ``language`` (a label given per language)."""
    found: set[str] = set()
    if isinstance(node, dict):
        if isinstance(node.get(language), str):
            found.add(node[language])
        for value in node.values():
            found |= _texts(value, language)
    elif isinstance(node, list):
        for value in node:
            found |= _texts(value, language)
    return found


def _codes(study_path, language: str) -> set[str]:
    raw = yaml.safe_load(study_path.read_text(encoding="utf-8"))
    words = _texts(raw, language) | {v.get(language, "") for v in report_catalogue().values()}
    return {c for c in _ids(raw) | KIND_CODES if c not in words and not c.isdigit()}


def _is_code(text: str, codes: set[str]) -> bool:
    text = text.strip()
    if text in codes:
        return True
    parts = [p.strip() for p in re.split(r"[,;]", text) if p.strip()]
    if len(parts) > 1 and all(p in codes for p in parts):
        return True
    tokens = re.split(r"[\s,;:=()]+", text)
    # a code inside words: one with an underscore, or either side of an "=" (code=value)
    keyed = {t for pair in re.findall(r"([\w.]+)=([\w.]+)", text) for t in pair}
    return any(t in codes and ("_" in t or t in keyed) for t in tokens)


def _code_cells(book, codes: set[str], headings: bool = True) -> dict[str, str]:
    """The cells showing a code (``headings``: the bold column headings too)."""
    found = {}
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                value = cell.value
                if not isinstance(value, str) or value.startswith("="):
                    continue
                if (headings or not cell.font.bold) and _is_code(value, codes):
                    found[f"{ws.title}!{cell.coordinate}"] = value
    return found


@pytest.fixture(scope="module")
def workbooks(example, built, tmp_path_factory) -> dict[str, SimpleNamespace]:
    tmp = tmp_path_factory.mktemp("excel-codes")
    # one workbook (the report's build is the cost), the Excel language test's German one
    return {"de": needs_workbook(example, built, "de", tmp)}


def test_the_scan_finds_a_code() -> None:
    codes = {"age_35_54", "flex_plus", "compact"}
    assert _is_code("flex_plus", codes) and _is_code("compact", codes)
    assert _is_code("flexibility, age_35_54", codes) and _is_code("car=compact", codes | {"car"})
    assert not _is_code("Kompaktwagen", codes) and not _is_code("35–54", codes)


def test_no_cell_shows_a_code_of_the_study_file(workbooks, example) -> None:
    codes = _codes(example.study_path, "de")
    assert {"age_35_54", "flex_plus", "end_of_term", "status_quo"} <= codes
    assert _code_cells(workbooks["de"].book, codes) == {}


def test_no_cell_of_the_english_workbook_shows_a_code(example, built, tmp_path) -> None:
    """The English workbook (the demo's): the candidates' line-ups in words, not
    ``monthly_price=990.0, car_class=electric``. Its column headings are the library's
    names by design (analysts script against them), so only the cells below are read."""
    book = load_workbook(write_excel(built.content, tmp_path / "report_en.xlsx"))
    codes = _codes(example.study_path, "en")
    assert _code_cells(book, codes, headings=False) == {}
    lineups = [c.value for c in book["Recommendation"]["B"] if isinstance(c.value, str)]
    assert any("CHF" in x for x in lineups) and not any(".0," in x for x in lineups)


def test_money_and_shares_carry_their_formats(workbooks) -> None:
    """The shares sheet: the price in CHF, the share in percent, the kind in words."""
    book = workbooks["de"].book
    ws = book["Marktanteile"]
    head = {c.value: c.column for c in ws[3]}
    first = 4
    assert ws.cell(first, head["Preis (CHF)"]).number_format == '"CHF" #,##0.00'
    assert ws.cell(first, head["Anteil"]).number_format == "0.0%"
    kinds = {ws.cell(r, head["Art"]).value for r in range(first, ws.max_row + 1)}
    assert kinds <= {"Angebot", "was die Leute heute tun", "keines davon"}, kinds
    assert {ws.cell(r, head["unser"]).value for r in range(first, ws.max_row + 1)} == {
        "ja",
        "nein",
    }


def test_a_latent_class_is_named_in_the_readers_words() -> None:
    """decide names a class "class 2" in its segment shares; the sheet says "Klasse 2"."""
    import pandas as pd
    from _example import EXAMPLES

    from offerlab.report._excel_cells import readable
    from offerlab.report._texts import report_texts
    from offerlab.study import load_study

    study = load_study(EXAMPLES / "car_subscription.yaml")
    content = SimpleNamespace(
        t=report_texts("de"), study=study, language="de", currency="CHF",
        objective="profit",
    )  # fmt: skip
    shares = pd.DataFrame(
        {"segment": ["class 1", "class 2"], "alternative": ["A", "none"],
         "kind": ["offer", "none"], "ours": [True, False], "share": [0.4, 0.6]}
    )  # fmt: skip
    sheet = readable(shares, content)
    assert sheet.frame["segment"].tolist() == ["Klasse 1", "Klasse 2"]
    assert sheet.frame["kind"].tolist() == ["Angebot", "keines davon"]
    assert sheet.frame["ours"].tolist() == ["ja", "nein"]
    assert sheet.frame["alternative"].tolist() == ["A", study.text(study.tasks.none.label, "de")]
    assert sheet.formats == {4: "0.0%"}
