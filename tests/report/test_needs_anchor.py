"""The report's needs page for an anchored MaxDiff (the example's dual-response anchor):
the anchor line from the logit, 'important to x % (interval)' per item from the individual
HB utilities, TURF on the items above each person's threshold — in German and French."""

from __future__ import annotations

import html
import warnings
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from _example import KeptMaxDiffHB, maxdiff_fits_kept

from offerlab.decide import NeedsOptions
from offerlab.models import HierarchicalBayes, MaxDiffLogit, maxdiff_answers
from offerlab.report import build_report, render_html
from offerlab.report._texts import report_texts
from offerlab.simulate import simulate_needs_answers
from offerlab.study import MaxDiffPage, one_line


def _sampler() -> HierarchicalBayes:
    return HierarchicalBayes(burn_in=400, draws=400, chains=1, keep_draws=20, seed=0)


@pytest.fixture(scope="module")
def kept_fits() -> Iterator[dict]:
    """The needs page's individual fits (_example.KeptMaxDiffHB): the German and French
    reports' answers differ only in their open answers, so the sampler runs once."""
    with maxdiff_fits_kept() as fits:
        yield fits


@pytest.fixture(scope="module", params=["de", "fr"])
def anchored(request, example, kept_fits) -> SimpleNamespace:
    language = request.param
    needs = simulate_needs_answers(
        example.study, example.truth["respondent"], language=language, rng=11
    )
    assert set(needs.maxdiff["anchor"]) == {"all", "some", "none"}
    content = build_report(
        example.results, example.data, example.study, model="mnl", language=language,
        maxdiff=needs.maxdiff, kano=needs.kano, concepts=needs.concepts,
        needs=NeedsOptions(hb=_sampler()),
    )  # fmt: skip
    page = next(p for p in example.study.questionnaire.pages if isinstance(p, MaxDiffPage))
    return SimpleNamespace(
        t=report_texts(language), content=content, html=render_html(content), needs=needs,
        items=[i.name for i in page.items], page=page, study=example.study,
    )  # fmt: skip


def test_the_page_draws_the_anchor_line_of_the_logit(anchored) -> None:
    t = anchored.t
    answers = maxdiff_answers(anchored.needs.maxdiff, anchored.items)
    anchor = MaxDiffLogit().fit(answers).anchor_score()[0]
    section = html.unescape(anchored.html.split('id="needs-page"')[1].split("</section>")[0])
    assert t("np_anchor", anchor=t.number(anchor, 1)) in one_line(section)
    assert t("lg_anchor", anchor=t.number(anchor, 1)) in anchored.content.captions["maxdiff"]
    assert t("np_no_anchor", average=t.number(100 / len(anchored.items), 1)) not in section


def test_each_item_says_whom_it_is_important_to_with_its_interval(anchored, kept_fits) -> None:
    t = anchored.t
    answers = maxdiff_answers(anchored.needs.maxdiff, anchored.items)
    # the page's own fit (kept_fits): this sampler on these answers, not a new one
    fits = len(kept_fits)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        shares = KeptMaxDiffHB(_sampler()).fit(answers).above_threshold()
    assert len(kept_fits) == fits, "the page's sampler or answers differ from this test's"
    section = html.unescape(anchored.html.split('id="needs-page"')[1].split("</section>")[0])
    for item in anchored.items:
        label = anchored.study.text(
            next(i.label for i in anchored.page.items if i.name == item), t.language
        )
        row = section.split(f">{label}</td>")[1].split("</tr>")[0]
        share = shares.loc[item]
        assert f'data-label="{t("col_important")}">{t.percent(share["share"])}<' in row
        column = t("col_important_interval", pct=95)
        interval = t.interval(share["low"], share["high"], t.percent) if hasattr(
            t, "interval") else None  # fmt: skip
        cell = row.split(f'data-label="{column}">')[1].split("<")[0]
        assert t.percent(share["low"]) in cell and t.percent(share["high"]) in cell, cell
        assert interval is None or cell == interval
    # the score's own interval keeps its column (a header once hid it)
    assert t("col_interval", pct=95) != t("col_important_interval", pct=95)
    assert section.count(f'data-label="{t("col_interval", pct=95)}"') == len(anchored.items)
    # against the truth the simulation drew: the share of people above the threshold
    truth = (anchored.needs.truth.maxdiff > 0).mean()
    assert (shares["share"] - truth).abs().max() < 0.1
    # the bundle counts the items above each person's own threshold
    turf_lead = t("np_turf_lead_anchor", k=3, items="", reach="").split(",")[0]
    assert turf_lead in one_line(section)
