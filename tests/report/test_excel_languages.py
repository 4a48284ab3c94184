"""The Excel workbook in the reader's language throughout: the German and French workbooks
(with the needs and concept pages' sheets) hold no English sheet name, no English column
heading and no English label on the simulator sheets -- neither a word of the English
catalogue nor a heading the English workbook shows (the library's column names such as
``share_lower``)."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from _example import maxdiff_fits_kept, needs_workbook

from offerlab.data import plain_spaces
from offerlab.report._excel_words import sheet_name, sheet_ref
from offerlab.report._texts import report_catalogue, report_texts

#: Catalogue keys whose English words are headings or labels somewhere in the workbook.
HEADING_KEYS = ("xl_", "col_", "kano_", "stat_")


def _headings(book) -> dict[str, str]:
    """Sheet names, every bold cell (the column headings and the simulator's row labels),
    the simulator sheet's column A, and the first row of every sheet -> where found."""
    found = {}
    for position, ws in enumerate(book.worksheets):
        found.setdefault(ws.title, "sheet name")
        for row in ws.iter_rows():
            for cell in row:
                value = cell.value
                if not isinstance(value, str) or value.startswith("="):
                    continue
                if cell.font.bold or cell.row == 1 or (position == 0 and cell.column == 1):
                    found.setdefault(value, f"{ws.title}!{cell.coordinate}")
    return found


@pytest.fixture(scope="module")
def workbooks(example, built, tmp_path_factory) -> dict[str, SimpleNamespace]:
    """The three workbooks. Their MaxDiff answers are the same (the simulation's language
    only changes the open answers): the needs page's sampler runs once, for all three."""
    tmp = tmp_path_factory.mktemp("excel-languages")
    with maxdiff_fits_kept():
        return {lang: needs_workbook(example, built, lang, tmp) for lang in ("en", "de", "fr")}


@pytest.mark.parametrize("language", ["de", "fr"])
def test_no_english_heading_is_left_in_the_workbook(workbooks, built, language) -> None:
    catalogue = report_catalogue()
    # the workbook's texts have plain spaces where the catalogue sets no-break ones
    english_words = {
        plain_spaces(v["en"]) for k, v in catalogue.items() if k.startswith(HEADING_KEYS)
    }
    english_words |= set(_headings(workbooks["en"].book))
    # the same word in both languages ("Kano", "p", "n", French "importance") is not a leak,
    # nor are the names the market file gives the offers
    own_words = {plain_spaces(v.get(language, "")) for v in catalogue.values()}
    given = {str(name) for name in built.market.names}
    headings = _headings(workbooks[language].book)
    english = {
        text: where
        for text, where in headings.items()
        if text in english_words
        and text not in own_words
        and text not in given
        and not text.startswith(tuple(given))
    }
    assert english == {}, f"English left in the {language} workbook: {english}"
    library_names = {t: w for t, w in headings.items() if re.fullmatch(r"[a-z]+(_[a-z]+)+", t)}
    assert library_names == {}, library_names
    t = report_texts(language)
    # the sheets the simulator's formulas name, and the needs pages' sheets, in the language
    for key in ("simulator", "lookup", "calc", "maxdiff_scores", "kano", "concept_differences"):
        assert sheet_name(t, key) in workbooks[language].book.sheetnames, key
    assert plain_spaces(t("xl_sim_share")) in headings
    assert plain_spaces(t("xl_sim_help", currency="CHF")) in headings


@pytest.mark.parametrize("language", ["de", "fr"])
def test_the_sheet_names_follow_excels_rules(workbooks, language) -> None:
    names = workbooks[language].book.sheetnames
    assert len(set(names)) == len(names)
    for name in names:
        assert 0 < len(name) <= 31 and not re.search(r"[\[\]:*?/\\]", name), name
        assert not name.startswith("'") and not name.endswith("'"), name


def test_a_formula_names_a_sheet_bare_only_where_excel_does() -> None:
    assert sheet_ref("Lookup") == "Lookup!" and sheet_ref("Berechnung") == "Berechnung!"
    assert sheet_ref("Table des utilités") == "'Table des utilités'!"
    assert sheet_ref("AB12") == "'AB12'!" and sheet_ref("R1C1") == "'R1C1'!"
    assert sheet_ref("l'Calc") == "'l''Calc'!"


def test_every_formula_of_the_french_simulator_names_its_sheets_quoted(workbooks) -> None:
    """French sheet names have spaces and accents: a bare one would break the formula."""
    t = report_texts("fr")
    book = workbooks["fr"].book
    lookup = t("xl_sheet_lookup")
    assert " " in lookup
    formulas = [
        str(c.value)
        for ws in book.worksheets
        for row in ws.iter_rows()
        for c in row
        if isinstance(c.value, str) and c.value.startswith("=")
    ]
    assert any(f"'{lookup}'!" in f for f in formulas)
    assert not any(re.search(rf"(?<!')\b{re.escape(lookup)}!", f) for f in formulas)
    validations = book[t("xl_sheet_simulator")].data_validations.dataValidation
    lists = [v.formula1 for v in validations if v.type == "list" and "!" in (v.formula1 or "")]
    assert lists and all(f.startswith(f"'{lookup}'!") for f in lists)
    assert any(v.formula1 == '"oui,non"' for v in validations)
