"""The report's simulator filters a latent-class market by the respondents' answers -- a
single-choice question (age band) and a multi-select one (the obstacles ticked) -- as
decide's :func:`filtered_shares` computes it (the segment's class mix from its people's
posteriors); an MNL report, which has no one's own part-worths, says so in a sentence in
the report's language instead of offering nothing. Screenshots of both at 390x844 and
1280x800 in de and fr go to tests/artifacts/report/."""

from __future__ import annotations

from pathlib import Path

import pytest
from _screenshots import save_png

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "report"
SIZES = ((390, 844), (1280, 800))


@pytest.fixture(scope="module")
def classes(example, built):
    """A two-class panel fit of the example's answers (one start: a few CPU seconds)."""
    from offerlab.decide import simulator_for
    from offerlab.models import LatentClassLogit

    lc = LatentClassLogit(n_classes=2, n_starts=1, seed=1).fit(example.data, study=example.study)
    return lc, simulator_for(lc, "sop", n_draws=40, seed=0), built.spec.market(lc.coding)


def _report(example, results, sim, market, model: str, language: str):
    from offerlab.report import build_report, render_html

    content = build_report(
        results, example.data, example.study, model=model, sim=sim, market=market,
        answers=example.survey, language=language, figures=False,
    )  # fmt: skip
    return content, render_html(content)


def _bars(page) -> dict[str, dict[str, float]]:
    return {
        row.get_attribute("data-alternative"): {
            k: float(row.get_attribute(f"data-{k}")) for k in ("share", "lower", "upper")
        }
        for row in page.locator("#sim-shares .bar").all()
    }


@pytest.mark.parametrize("language", ["de", "fr"])
def test_a_latent_class_market_filters_by_age_and_by_a_ticked_obstacle(
    example, classes, browser, language
) -> None:
    from offerlab.decide import filtered_shares, multi_questions, profile_filters, profile_questions
    from offerlab.report._content import tidy_answers

    lc, sim, market = classes
    content, page_html = _report(example, lc, sim, market, "lc", language)
    shown = {f["question"]: f for f in content.simulator["filters"]}
    assert {"age_band", "obstacles"} <= set(shown)
    assert shown["obstacles"]["multi"] and "class_weights" in shown["obstacles"]
    assert not content.simulator["filters_unavailable"]
    tidy = tidy_answers(example.survey, example.study)
    questions = profile_questions(example.study)
    filters = {
        f.question: f
        for f in profile_filters(sim, lc, tidy, questions, multi_questions(example.study))
    }
    labels = {f["name"]: f["label"] for f in content.simulator["fixed"]}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    for width, height in SIZES:
        page = browser.new_page(viewport={"width": width, "height": height})
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.set_content(page_html)
        page.wait_for_selector("#sim-shares .bar")
        for question, option in (("age_band", "age_18_34"), ("obstacles", "price")):
            page.select_option("#sim-segment", f"{question}={option}")
            expected = filtered_shares(sim, market, filters[question], option)
            bars = _bars(page)
            for row in expected.itertuples():
                got = bars[labels.get(row.alternative, row.alternative)]
                for k in ("share", "lower", "upper"):
                    assert got[k] == pytest.approx(getattr(row, k), abs=1e-6), (question, k)
        whole = filtered_shares(sim, market, filters["obstacles"], "price")["share"]
        page.select_option("#sim-segment", "")
        assert [b["share"] for b in _bars(page).values()] != pytest.approx(whole.tolist())
        page.select_option("#sim-segment", "obstacles=price")
        page.locator("#sim-segment-box").scroll_into_view_if_needed()
        save_png(page, ARTIFACTS / f"simulator_classes_{language}_{width}.png", full_page=False)
        page.close()
    assert errors == []


@pytest.mark.parametrize("language", ["de", "fr"])
def test_an_mnl_report_says_why_it_has_no_segment_filter(example, built, browser, language) -> None:
    from offerlab.report._texts import report_texts

    content, page_html = _report(example, example.results, built.sim, built.market, "mnl", language)
    assert content.simulator["filters"] == [] and content.simulator["filters_unavailable"]
    for width, height in SIZES:
        page = browser.new_page(viewport={"width": width, "height": height})
        page.set_content(page_html)
        page.wait_for_selector("#sim-shares .bar")
        why = page.locator("#sim-segment-unavailable")
        assert why.is_visible()
        assert why.text_content() == report_texts(language)("sim_js_filter_unavailable")
        assert not page.locator("#sim-segment").is_visible()
        why.scroll_into_view_if_needed()
        save_png(page, ARTIFACTS / f"simulator_no_filter_{language}_{width}.png", full_page=False)
        page.close()
