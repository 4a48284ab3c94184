"""The report's offline simulator on an HB fit offers the market by the respondents' own
answers (the example's age band), labelled in the report's language; in Chromium,
picking "18–34" shows decide's filtered shares and intervals, summing to 1. Screenshots
of the simulator at 390x844 and 1280x800 in de and fr go to tests/artifacts/report/."""

from __future__ import annotations

from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "report"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
QUESTION = {"de": "Wie alt sind Sie?", "fr": "Quel âge avez-vous\u202f?"}  # French spacing
LABELS = {"de": ["18–34", "35–54"], "fr": ["18–34\u00a0ans", "35–54\u00a0ans"]}


@pytest.fixture(scope="module")
def hb_simulator(short_hb, built):
    """Unconverged HB chains and their simulator (conftest.short_hb), on the example market."""
    hb = short_hb.results
    return hb, short_hb.sim, built.spec.market(hb.coding)


def _report(example, hb_simulator, language):
    from offerlab.report import build_report, render_html

    hb, sim, market = hb_simulator
    content = build_report(
        hb, example.data, example.study, model="hb", sim=sim, market=market,
        answers=example.survey, language=language, figures=False,
    )  # fmt: skip
    return content, render_html(content)


@pytest.mark.parametrize("language", ["de", "fr"])
def test_the_reports_simulator_filters_by_age_band_as_decide_does(
    example, hb_simulator, language
) -> None:
    from offerlab.decide import filtered_shares, profile_filters, profile_questions
    from offerlab.report._content import tidy_answers

    hb, sim, market = hb_simulator
    content, page_html = _report(example, hb_simulator, language)
    (age,) = [f for f in content.simulator["filters"] if f["question"] == "age_band"]
    assert age["labels"] == LABELS[language] and age["options"] == ["age_18_34", "age_35_54"]
    tidy = tidy_answers(example.survey, example.study)
    filters = profile_filters(sim, hb, tidy, profile_questions(example.study))
    band = next(f for f in filters if f.question == "age_band")
    expected = filtered_shares(sim, market, band, "age_18_34").set_index("alternative")
    assert expected["share"].sum() == pytest.approx(1.0, abs=1e-12)
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is missing")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        errors: list[str] = []
        for width, height in ((390, 844), (1280, 800)):
            page = browser.new_page(viewport={"width": width, "height": height})
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.set_content(page_html)
            page.wait_for_selector("#sim-shares .bar")
            page.select_option("#sim-segment", "age_band=age_18_34")
            bars = {}
            for row in page.locator("#sim-shares .bar").all():
                bars[row.get_attribute("data-alternative")] = {
                    k: float(row.get_attribute(f"data-{k}")) for k in ("share", "lower", "upper")
                }
            labels = {f["name"]: f["label"] for f in content.simulator["fixed"]}
            for name, row in expected.iterrows():
                shown = bars[labels.get(name, name)]
                for k in ("share", "lower", "upper"):
                    assert shown[k] == pytest.approx(row[k], abs=1e-6), (name, k)
            assert sum(b["share"] for b in bars.values()) == pytest.approx(1.0, abs=1e-9)
            groups = page.locator("#sim-segment optgroup")
            assert QUESTION[language] in [g.get_attribute("label") for g in groups.all()]
            options = page.locator("#sim-segment option").all_text_contents()
            assert any(o.startswith(LABELS[language][0] + " (") for o in options), options
            assert not any("age_" in o for o in options)
            page.locator("#sim-segment-box").scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / f"simulator_age_filter_{language}_{width}.png"))
            page.close()
        browser.close()
    assert errors == []
