"""The console simulator's segment filter beyond hierarchical Bayes: a latent-class fit
offers the study's profile question (each segment its people's class mix), and an MNL
fit, which has no one's own part-worths, says so on the page in the viewer's language
instead of offering nothing without a word. Screenshots of the MNL page at 390x844 and
1280x800 in de and fr go to tests/artifacts/browser/."""

from __future__ import annotations

import json

import pytest
from test_browser import ARTIFACTS, PHONE
from test_browser_simulator_report import WIDE, _log_in, _publish_simulator
from test_browser_simulator_segments import _complete
from test_console import _setup

from offerlab.field import create_app

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def completes(tmp_path_factory):
    """40 completes of the tiny study: 14 say they are young, 26 old."""
    fielding, _ = _setup(f"sqlite:///{tmp_path_factory.mktemp('filters') / 'console.db'}")
    _complete(fielding, 0, 14, "young")
    _complete(fielding, 14, 40, "old")
    return fielding


def _payload(fielding) -> dict:
    from offerlab.field._simulator import published_simulators

    ready, _ = published_simulators(fielding.engine, fielding.study_id)
    return json.loads(ready.payload)


def test_a_latent_class_simulator_is_filtered_by_the_age_band(completes) -> None:
    _publish_simulator(completes, "lc")
    data = _payload(completes)
    (band,) = data["filters"]
    assert band["question"] == "band" and band["options"] == ["young", "old"]
    # each option's share of the people in the fit who answered, by their answers
    from offerlab.field._export import answers_table, choice_data

    fitted = set(choice_data(completes)["respondent"])
    answers = answers_table(completes)
    said = answers[(answers["page"] == "band") & answers["respondent"].isin(fitted)]
    counts = said["value"].value_counts()
    expected = [counts["young"] / len(said), counts["old"] / len(said)]
    assert band["mass"] == pytest.approx(expected, abs=1e-6)
    assert len(band["class_weights"]) == 2 and not data["filters_unavailable"]


@pytest.mark.parametrize("language", ["de", "fr"])
def test_an_mnl_simulator_says_why_it_has_no_filter(completes, browser, language) -> None:
    from _server import running

    from offerlab.report._texts import report_texts

    _publish_simulator(completes, "mnl")
    assert _payload(completes)["filters"] == [] and _payload(completes)["filters_unavailable"]
    problems: list[str] = []
    with running(create_app(completes)) as base:
        for name, size in (("1280", WIDE), ("390", PHONE)):
            page = _log_in(browser, base, "viewer@a.ch", problems, **size, locale=language)
            page.goto(f"{base}/console/studies/tiny/simulator")
            page.wait_for_selector("#sim-ours .bar")
            why = page.locator("#sim-segment-unavailable")
            assert why.is_visible() and not page.locator("#sim-segment").is_visible()
            assert why.text_content() == report_texts(language)("sim_js_filter_unavailable")
            assert (
                page.evaluate("document.documentElement.scrollWidth") <= size["viewport"]["width"]
            )
            why.scroll_into_view_if_needed()
            page.screenshot(
                path=str(ARTIFACTS / f"console_simulator_no_filter_{language}_{name}.png")
            )
            page.context.close()
    assert problems == []
