"""The report's needs-and-obstacles page and concept page (issue 16): the numbers they show,
computed again here from the answers (a best–worst logit fitted with scipy, the Kano
evaluation table written out, Wilson intervals and McNemar's test by their formulas), in
the HTML and in the PDF's text, in German and French; respondents' words escaped; a
sentence where a page has no data. Screenshots of both pages at 390 x 844 and 1280 x 800
go to tests/artifacts/report/."""

from __future__ import annotations

import html
import itertools
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from _example import KeptMaxDiffHB, maxdiff_fits_kept
from markupsafe import escape as jinja_escape
from scipy import optimize, special, stats

from offerlab.models import MaxDiffHBResults
from offerlab.report import build_report, render_html, write_excel, write_pdf
from offerlab.report._texts import report_texts
from offerlab.simulate import simulate_needs_answers
from offerlab.study import ConceptTestPage, KanoPage, MaxDiffPage

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'
FORMULA = '=HYPERLINK("http://evil.example","click")'


@pytest.fixture(scope="module")
def kept_fits() -> Iterator[dict[tuple, MaxDiffHBResults]]:
    """The needs page's individual fits (_example.KeptMaxDiffHB), while this module runs."""
    with maxdiff_fits_kept() as fits:
        yield fits


@pytest.fixture(scope="module", params=["de", "fr"])
def pages(request, example, tmp_path_factory, kept_fits) -> SimpleNamespace:
    """The example's report with simulated MaxDiff, Kano and concept answers (two hostile
    open answers among them), rendered to HTML and PDF."""
    language = request.param
    needs = simulate_needs_answers(
        example.study, example.truth["respondent"], language=language, rng=11
    )
    concepts = needs.concepts.copy()
    concepts.loc[0, "change"] = HOSTILE
    concepts.loc[1, "change"] = FORMULA
    # the unanchored page (the example's anchor is left out; tests/report/
    # test_needs_anchor.py checks the anchored one)
    needs = replace(needs, maxdiff=needs.maxdiff.drop(columns="anchor", errors="ignore"))
    content = build_report(
        example.results, example.data, example.study, model="mnl", language=language,
        maxdiff=needs.maxdiff, kano=needs.kano, concepts=concepts,
    )  # fmt: skip
    tmp = tmp_path_factory.mktemp(f"needs-{language}")
    pdf = write_pdf(content, tmp / "report.pdf")
    text = ""
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout
    return SimpleNamespace(
        language=language, t=report_texts(language), content=content, html=render_html(content),
        pdf_text=_plain(text), needs=needs, concepts=concepts, tmp=tmp, study=example.study,
    )  # fmt: skip


def _plain(text: str) -> str:
    """Spaces of every kind as one space (French numbers and intervals use no-break ones)."""
    return " ".join(text.replace("\u202f", " ").replace("\u00a0", " ").split())


def _page(study, kind):
    return next(p for p in study.questionnaire.pages if isinstance(p, kind))


def _cell(page_html: str, column: str, row_label: str, value_column: str) -> str:
    """The text of ``value_column`` in the table row whose ``column`` cell is ``row_label``."""
    row = re.search(
        rf'<td data-label="{re.escape(html.escape(column))}">{re.escape(html.escape(row_label))}'
        rf"</td>(.*?)</tr>",
        page_html,
    )
    assert row, (column, row_label)
    cell = re.search(rf'data-label="{re.escape(html.escape(value_column))}">([^<]*)<', row[1])
    assert cell, (row_label, value_column)
    return html.unescape(cell[1])


def _text(sentence: str) -> str:
    """A sentence as the page's template writes it (Jinja's autoescape)."""
    return str(jinja_escape(sentence))


def _number(text: str) -> float:
    return float(text.replace("\u202f", "").replace("'", "").replace("%", "").replace(",", "."))


# -- MaxDiff -------------------------------------------------------------------------------


def _best_worst_logit(frame: pd.DataFrame, items: list[str]) -> np.ndarray:
    """Utilities (mean 0) of the sequential best–worst logit, by scipy's BFGS."""
    frame = frame.sort_values(["respondent", "task"], kind="stable")
    code = frame["item"].map({item: j for j, item in enumerate(items)}).to_numpy()
    per_task = int(frame.groupby(["respondent", "task"]).size().iloc[0])
    shown = code.reshape(-1, per_task)  # every task shows the same number of items
    best = frame["best"].to_numpy().reshape(-1, per_task).argmax(axis=1)
    worst = frame["worst"].to_numpy().reshape(-1, per_task).argmax(axis=1)
    rows = np.arange(len(shown))

    def minus_loglike(free: np.ndarray) -> float:
        u = np.append(free, 0.0)[shown]
        rest = np.where(np.arange(per_task) == best[:, None], -np.inf, -u)
        picked_best = u[rows, best] - special.logsumexp(u, axis=1)
        picked_worst = -u[rows, worst] - special.logsumexp(rest, axis=1)
        return -float(np.sum(picked_best + picked_worst))

    fit = optimize.minimize(minus_loglike, np.zeros(len(items) - 1), method="BFGS",
                            options={"gtol": 1e-7})  # fmt: skip
    u = np.append(fit.x, 0.0)
    return u - u.mean()


def test_the_needs_page_shows_the_maxdiff_scores_and_counts_of_the_answers(pages):
    t, study = pages.t, pages.study
    page = _page(study, MaxDiffPage)
    items = [i.name for i in page.items]
    frame = pages.needs.maxdiff
    u = _best_worst_logit(frame, items)
    per_task = frame.groupby(["respondent", "task"]).size().mean()
    share = np.exp(u) / (np.exp(u) + per_task - 1)
    scores = 100 * share / share.sum()
    shown = frame.groupby("item").size()
    best = frame.groupby("item")["best"].sum() / shown
    section = pages.html.split('id="needs-page"')[1].split("</section>")[0]
    for item, score in zip(items, scores, strict=True):
        label = study.text(next(i.label for i in page.items if i.name == item), t.language)
        cell = _cell(section, t("col_need"), label, t("col_score"))
        assert _number(cell) == pytest.approx(score, abs=0.051), (item, cell, score)
        picked = _cell(section, t("col_need"), label, t("col_picked_best"))
        assert _number(picked) == pytest.approx(100 * best[item], abs=0.051)
        if pages.pdf_text:
            assert _plain(cell) in pages.pdf_text and _plain(picked) in pages.pdf_text
    # unanchored: the page says so and draws the average item's line
    average = t.number(100 / len(items), 1)
    assert _text(t("np_no_anchor", average=average)) in section
    assert t("lg_average", average=average) in pages.content.captions["maxdiff"]


def test_the_needs_page_bundle_reaches_the_most_people(pages, kept_fits):
    """The bundle shown reaches as many people as the best of all bundles of its size,
    searched here by brute force over the same individual scores."""
    from offerlab.decide import NeedsOptions
    from offerlab.models import maxdiff_answers

    t, study = pages.t, pages.study
    page = _page(study, MaxDiffPage)
    items = [i.name for i in page.items]
    options = NeedsOptions()
    from offerlab.decide._needs_results import _default_hb

    # the page's own fit (kept_fits): the default sampler on these answers, not a new one
    fits = len(kept_fits)
    scores = (
        KeptMaxDiffHB(_default_hb(options.seed))
        .fit(maxdiff_answers(pages.needs.maxdiff, items))
        .individual_scores.to_numpy()
    )
    assert len(kept_fits) == fits, "the page's sampler or answers differ from the default's"
    top = np.argsort(-scores, axis=1)[:, : options.top]
    reached = np.zeros_like(scores, dtype=bool)
    np.put_along_axis(reached, top, True, axis=1)
    best = max(
        reached[:, list(c)].any(axis=1).mean()
        for c in itertools.combinations(range(len(items)), options.bundle)
    )
    section = pages.html.split('id="needs-page"')[1].split("</section>")[0]
    sentence = re.search(re.escape(_text(t("np_turf_lead", top=options.top,
                                                   k=options.bundle, reach="§", items="¶")))
                         .replace("§", "(.*?)").replace("¶", ".*?"), section)  # fmt: skip
    assert sentence, "the bundle's sentence"
    assert html.unescape(sentence[1]) == t.percent(best, 0)
    if pages.pdf_text:
        assert _plain(t.percent(best, 0)) in pages.pdf_text


_KANO = {  # functional -> dysfunctional -> category (Berger et al. 1993, written out)
    "like": dict(like="Q", expect="A", neutral="A", tolerate="A", dislike="O"),
    "expect": dict(like="R", expect="I", neutral="I", tolerate="I", dislike="M"),
    "neutral": dict(like="R", expect="I", neutral="I", tolerate="I", dislike="M"),
    "tolerate": dict(like="R", expect="I", neutral="I", tolerate="I", dislike="M"),
    "dislike": dict(like="R", expect="R", neutral="R", tolerate="R", dislike="Q"),
}


def test_the_needs_page_shows_the_kano_shares_and_coefficients(pages):
    t, study = pages.t, pages.study
    page = _page(study, KanoPage)
    kano = pages.needs.kano
    section = pages.html.split('id="needs-page"')[1].split("</section>")[0]
    for feature in page.features:
        mine = kano[kano["feature"] == feature.name]
        cats = pd.Series([_KANO[f][d] for f, d in zip(mine["functional"], mine["dysfunctional"],
                                                      strict=True)])  # fmt: skip
        counts = cats.value_counts()
        a, o, m, i = (int(counts.get(k, 0)) for k in "AOMI")
        label = study.text(feature.label, t.language)
        for letter in "AOMI":
            cell = _cell(section, t("col_feature"), label, t(f"kano_{letter}"))
            assert cell == t.percent(counts.get(letter, 0) / len(cats)), (label, letter)
        better = _cell(section, t("col_feature"), label, t("col_better"))
        worse = _cell(section, t("col_feature"), label, t("col_worse"))
        assert better == t.number((a + o) / (a + o + m + i), 2)
        assert worse == t.number(-(o + m) / (a + o + m + i), 2)
        if pages.pdf_text:
            assert _plain(better) in pages.pdf_text and _plain(worse) in pages.pdf_text


# -- concepts ------------------------------------------------------------------------------


def _wilson(x: int, n: int) -> tuple[float, float]:
    z = stats.norm.ppf(0.975)
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def test_the_concept_page_shows_top_two_box_intervals_and_the_paired_test(pages):
    t, study = pages.t, pages.study
    page = _page(study, ConceptTestPage)
    data = pages.concepts
    section = pages.html.split('id="concepts"')[1].split("</section>")[0]
    rows = re.findall(r"<tr>(.*?)</tr>", section)
    a, b = (c.name for c in page.concepts)
    title = {c.name: study.text(c.title, t.language) for c in page.concepts}
    for question in ("appeal", "intent", "value"):
        for concept in (a, b):
            ratings = data.loc[data["concept"] == concept, question]
            x, n = int((ratings >= 4).sum()), len(ratings)
            lo, hi = _wilson(x, n)
            share = t.percent(x / n)
            interval = t("interval_range", lo=t.percent(lo), hi=t.percent(hi)).replace(" ", "\xa0")
            shown = f">{html.escape(f'{share} ({interval})')}<"
            head = t("col_concept_top2", concept=title[concept], n=t.number(n))
            row = [r for r in rows if f">{html.escape(head)}<" in r]
            label = f'data-label="{html.escape(t(f"q_{question}"))}"{shown}'
            assert row and label in row[0], (question, concept, shown)
            if pages.pdf_text:
                assert _plain(f"({interval})") in pages.pdf_text  # wraps after the share
        # McNemar on the discordant pairs; one pair of concepts, so Holm leaves p as it is
        wide = data.pivot_table(index="respondent", columns="concept", values=question)
        only_a = int(((wide[a] >= 4) & (wide[b] < 4)).sum())
        only_b = int(((wide[a] < 4) & (wide[b] >= 4)).sum())
        p = 2 * stats.norm.sf(abs(only_a - only_b) / np.sqrt(only_a + only_b))
        difference = t.number(100 * (only_a - only_b) / len(wide), 1)
        p_text = "< " + t.number(0.001, 3) if p < 0.001 else t.number(p, 3)
        row = [r for r in rows if f">{html.escape(t(f'q_{question}'))}<" in r and " – " in r]
        assert row and f">{difference}<" in row[0] and f">{html.escape(p_text)}<" in row[0]
    assert _text(t("cp_pairs_paired", pct=95, pairs=1)) in section


def test_respondents_words_are_escaped_in_html_and_neutralised_in_excel(pages):
    section = pages.html.split('id="concepts"')[1].split("</section>")[0]
    assert HOSTILE not in pages.html and "<script>alert" not in pages.html
    assert html.escape(HOSTILE) in section  # shown, as text
    if pages.pdf_text:
        assert _plain(HOSTILE) in pages.pdf_text
    from openpyxl import load_workbook

    path = write_excel(pages.content, pages.tmp / "report.xlsx")
    from offerlab.report._excel_words import page_sheet_name

    sheet = load_workbook(path)[page_sheet_name(pages.t, "Concept open answers")]
    texts = [c.value for row in sheet.iter_rows() for c in row if isinstance(c.value, str)]
    assert "'" + FORMULA in texts and FORMULA not in texts


def test_pages_without_answers_say_so_in_a_sentence(example):
    content = build_report(
        example.results, example.data, example.study, model="mnl", language="fr", figures=False
    )
    t = report_texts("fr")
    page = render_html(content)
    assert _text(t("np_empty")) in page and _text(t("cp_empty")) in page
    needs_only = build_report(
        example.results, example.data, example.study, model="mnl", language="de", figures=False,
        kano=simulate_needs_answers(example.study, range(1, 41), rng=1).kano,
    )  # fmt: skip
    de = report_texts("de")
    page = render_html(needs_only)
    assert _text(de("np_no_maxdiff")) in page and _text(de("h_kano")) in page


# -- screenshots ---------------------------------------------------------------------------


@pytest.mark.browser
def test_screenshots_of_both_pages_on_a_phone_and_a_desktop(pages, browser):
    """Both pages at 390 x 844 and 1280 x 800; nothing wider than the screen."""
    from _browser import offline_page
    from test_browser_report import ARTIFACTS
    from test_report_phone import DESKTOP, OVERFLOW, PHONE

    from offerlab.report import write_html

    path = write_html(pages.content, pages.tmp / "report.html")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for name, size in (("phone", PHONE), ("desktop", DESKTOP)):
        context = browser.new_context(**size)
        page = offline_page(context, path)
        for section in ("needs-page", "concepts"):
            page.locator(f"#{section}").screenshot(
                path=str(ARTIFACTS / f"{section}-{pages.language}-{name}.png")
            )
        measured = page.evaluate(OVERFLOW, size["viewport"]["width"])
        context.close()
        assert measured["scroll"] <= measured["width"], (name, measured)
        assert not measured["wide"], (name, measured)
