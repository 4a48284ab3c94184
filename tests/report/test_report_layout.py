"""The report as a business unit reads it: every table whole in the PDF, the report's own
words in its language, human labels, and a sentence where a section has no data."""

from __future__ import annotations

import html
import re
import shutil
import subprocess

import pytest
from _example import PDF_DATE

from offerlab.report import build_report, render_html, write_pdf
from offerlab.report._texts import report_catalogue


def _normal(text: str) -> str:
    """Whitespace (no-break spaces and line breaks included) as single spaces."""
    return re.sub(r"\s+", " ", text.replace("\u00a0", " ").replace("\u202f", " ")).strip()


def _pdf_text(path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext is missing (apt-get install poppler-utils)")
    # -raw: the text in the order it is drawn, so a cell wrapped over lines reads whole
    run = subprocess.run(["pdftotext", "-raw", "-enc", "UTF-8", str(path), "-"],
                         capture_output=True, check=True)  # fmt: skip
    return _normal(run.stdout.decode("utf-8"))


@pytest.mark.parametrize("language", ["en", "de"])
def test_every_table_cell_is_whole_in_the_pdf_text(
    built, german, german_pdf, language, tmp_path
) -> None:
    """No column dropped, no cell cut: each table's header and cell text is in the text
    pdftotext extracts, in one piece (wrapped cells are read across their lines)."""
    content = built.content if language == "en" else german.content
    pdf = german_pdf if language == "de" else write_pdf(content, tmp_path / "report.pdf")
    text = _pdf_text(pdf)
    tables = list(content.tables.values()) + list(content.needs_tables)
    assert {"candidates", "shares", "importance", "partworths", "wtp", "pricing"} <= set(
        content.tables
    )
    missing = [
        (table.title or key, cell)
        for key, table in [*content.tables.items(), *(("needs", t) for t in tables[-2:])]
        for cell in table.cells()
        if _normal(cell) and _normal(cell) not in text
    ]
    assert not missing, missing[:10]
    # the line-up column the old PDF dropped is there, in words
    lineups = content.tables["candidates"].frame.iloc[:, 1]
    assert all(_normal(line) in text for line in lineups)


def _english_fragments() -> list[str]:
    """Pieces of the report's English texts that differ from the German ones (the parts
    between {fields}, long enough not to be a name or a number)."""
    out = []
    for entry in report_catalogue().values():
        if entry["en"] == entry["de"]:
            continue
        for piece in re.split(r"\{[a-z_]+\}", entry["en"]):
            piece = piece.strip(" .,:;()'")
            if len(piece) >= 12:
                out.append(piece)
    return out


def _visible(page: str) -> str:
    body = page[page.index("<main>") :]
    body = re.sub(r"<script.*?</script>", " ", body, flags=re.S)
    body = re.sub(r'id="simulator".*?</section>', " ", body, flags=re.S)  # its own texts
    return _normal(html.unescape(re.sub(r"<[^>]+>", " ", body)))


def test_a_german_report_contains_none_of_the_report_english_words(german, german_pdf) -> None:
    """Headings, captions, sentences, column headers and axis words come from the
    catalogue in the report's language (the decisions' own sentences aside)."""
    assert '<html lang="de">' in german.html
    page = _visible(german.html)
    pricing = german.content.pricing
    # decide's own sentences and the pricing page's measures are not the report's words
    decide_sentences = [*german.content.verdict, *pricing.comparison, *pricing.table["measure"]]
    for sentence in decide_sentences:
        page = page.replace(_normal(sentence), " ")
    fragments = _english_fragments()
    assert len(fragments) > 100
    left = [f for f in fragments if f in page]
    assert not left, left
    headings = ("Empfehlung", "Die Stichprobe", "Was die Wahl bestimmt", "Zahlungsbereitschaft",
                "Der Markt", "Die Methode in einfachen Worten")  # fmt: skip
    for heading in headings:
        assert f">{heading}<" in german.html, heading
    pdf = _pdf_text(german_pdf)
    for sentence in decide_sentences:
        pdf = pdf.replace(_normal(sentence), " ")
    assert not [f for f in fragments if f in pdf]


def test_tables_show_labels_not_codes(built, german) -> None:
    """The candidates and the tornado read as the survey showed the offers: no
    ``attribute=value`` pairs, no snake_case names, in German no level code either."""
    level_codes = {"compact", "electric", "suv", "premium", "home", "dealer", "own", "included"}

    def codes(text: str, language: str) -> set[str]:
        words = set(re.findall(r"\b[a-z][a-z_]*\b", text))
        return {w for w in words if "_" in w or (language == "de" and w in level_codes)}

    for content in (built.content, german.content):
        lineups = " ".join(content.tables["candidates"].frame.iloc[:, 1])
        assert "=" not in lineups and not codes(lineups, content.language), lineups
    lineups = " ".join(german.content.tables["candidates"].frame.iloc[:, 1])
    assert "Monat" in lineups and "wie Nr. 1, aber" in lineups
    from offerlab.decide import sensitivity, tornado
    from offerlab.report._figures import _labelled_tornado

    table = tornado(sensitivity(built.sim, built.market, "Our City Compact"))
    shown = _labelled_tornado(german.content, table)
    words = " ".join(map(str, [*shown["attribute"], *shown["low_level"], *shown["high_level"]]))
    assert not codes(words, "de"), words
    assert "Preis pro Monat" in words and "CHF" in words


def test_holdout_accuracy_stands_in_the_sample_section(built) -> None:
    content = built.content
    page = render_html(content)
    sample = page[page.index('id="sample"') : page.index('id="drivers"')]
    assert content.holdout_lines and "percentage points on average" in content.holdout_lines[-1]
    assert all(_normal(line) in _normal(sample) for line in content.holdout_lines)


def test_sections_without_data_say_so_in_a_sentence(example) -> None:
    """No market file, no survey answers, no respondents table: each section says what
    is missing instead of showing an empty box."""
    from offerlab.report._texts import report_texts

    for language in ("en", "fr"):
        content = build_report(example.results, example.data, example.study,
                               language=language, figures=False)  # fmt: skip
        page = render_html(content)
        t = report_texts(language)
        for key, section in (("no_market", "market"), ("no_pricing", "pricing"),
                             ("no_needs", "needs"), ("no_optimisation", "recommendation"),
                             ("no_quality", "sample")):  # fmt: skip
            html_text = page[page.index(f'id="{section}"') :]
            html_text = html_text[: html_text.index("</section>")]
            assert f'<p class="empty">{t(key)}</p>'.replace("'", "&#39;") in html_text, key
        assert "<table><thead><tr></tr>" not in page and '<div class="lead"></div>' not in page


def test_the_german_workbook_names_its_columns_in_german(german, tmp_path) -> None:
    from openpyxl import load_workbook

    from offerlab.report import write_excel

    book = load_workbook(write_excel(german.content, tmp_path / "report.xlsx"), read_only=True)
    rows = list(book["Wichtigkeit"].iter_rows(max_row=3, values_only=True))
    assert rows[0][0].startswith("Aus dem Modell multinomiales Logit")
    assert rows[2][:4] == ("Merkmal", "Wichtigkeit (%)", "untere Grenze", "obere Grenze")
    shares = list(book["Marktanteile"].iter_rows(max_row=3, values_only=True))[2]
    assert "Angebot" in shares and "Gewinn (CHF)" in shares and "Marge pro Verkauf (CHF)" in shares
    readme = [r[0] for r in book["Zuerst lesen"].iter_rows(values_only=True)]
    assert any(str(line).startswith("Simulator: Ändern Sie") for line in readme)


def test_a_table_too_wide_for_a_page_goes_landscape_and_splits_whole(tmp_path) -> None:
    """Twelve columns of long words fit no A4 page without cutting a word: the table goes
    on landscape pages, split by columns (the first column in each part), every cell whole."""
    import pandas as pd
    from matplotlib.backends.backend_pdf import PdfPages

    from offerlab.report._pdf import _Flow
    from offerlab.report._tables import Table

    columns = [f"Zahlungsbereitschaftsintervall{j}" for j in range(12)]
    frame = pd.DataFrame(
        [[f"Servicepauschalenvereinbarung{i}{j}" for j in range(12)] for i in range(30)],
        columns=columns,
    )
    table = Table("Eine sehr breite Tabelle", frame, ())
    path = tmp_path / "wide.pdf"
    with PdfPages(path) as pdf:
        flow = _Flow(pdf)
        flow.paragraph("Vorher")
        flow.table(table)
        flow.close()
    text = _pdf_text(path)
    assert all(_normal(cell) in text for cell in table.cells())
    info = subprocess.run(["pdfinfo", "-l", "9", str(path)], capture_output=True, text=True)
    sizes = re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", info.stdout)
    assert any(float(w) > float(h) for w, h in sizes), sizes  # a landscape page
    assert float(sizes[0][0]) < float(sizes[0][1])  # the text before it stays portrait


def test_the_pdf_drawn_from_its_stored_json_document_is_the_same_pdf(
    german, german_pdf, tmp_path, monkeypatch
) -> None:
    """The console stores a published version's PDF as its JSON document and draws it on
    the first download: through JSON, the same bytes as the PDF written at once."""
    import json

    from offerlab.report import pdf_document, write_pdf_document

    monkeypatch.setenv("SOURCE_DATE_EPOCH", PDF_DATE)  # the date german_pdf was written with
    direct = german_pdf.read_bytes()  # written at once
    stored = json.loads(json.dumps(pdf_document(german.content)))
    assert any(step[0] == "table" and step[4] for step in stored["steps"])  # numbers right
    assert stored["figures"]  # the figures travel as PNG
    drawn = write_pdf_document(stored, tmp_path / "drawn.pdf").read_bytes()
    assert drawn == direct
    assert not list(tmp_path.glob("*.part"))
    with pytest.raises(ValueError, match="layout version"):
        write_pdf_document({**stored, "format": 0}, tmp_path / "old.pdf")
    assert not (tmp_path / "old.pdf").exists()
