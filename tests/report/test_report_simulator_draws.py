"""The uncertainty draws the report's page carries when not all of them fit: every
respondent in the first draws, before fewer respondents in each draw; and the page says
which, in the reader's language (the report's tables keep all of them)."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest


def test_the_page_keeps_every_row_of_the_first_draws_before_it_keeps_fewer_rows() -> None:
    from offerlab.report._simulator_data import MIN_PAGE_DRAWS, page_draws

    assert page_draws(200, 1, 20_000) == (200, 1)  # an MNL: every draw
    assert page_draws(200, 100, 20_000) == (200, 100)  # 20,000 rows: they fit
    assert page_draws(200, 500, 20_000) == (40, 500)  # the demo: 40 draws of everyone
    # 20 draws of 3,000 people would be 60,000 rows: 20 draws of 1,000 of them
    assert page_draws(200, 3_000, 20_000) == (MIN_PAGE_DRAWS, 1_000)
    assert page_draws(10, 3_000, 20_000) == (10, 2_000)  # fewer draws than the floor


@pytest.fixture(scope="module")
def draws_of_the_hb(short_hb, built):
    """60 uncertainty draws of the unconverged HB fit (conftest.short_hb), on the example
    market: more than the page keeps in the cases below."""
    from offerlab.decide import simulator_for

    hb = short_hb.results
    sim = simulator_for(hb, "sop", n_draws=60, seed=0)
    return SimpleNamespace(hb=hb, sim=sim, market=built.spec.market(hb.coding))


def _page_data(draws_of_the_hb, rows: int, language: str = "en"):
    from offerlab.report._simulator_data import simulator_data

    fit = draws_of_the_hb
    return simulator_data(fit.sim, fit.market, fit.hb.coding, language, max_draw_rows=rows)


def test_a_page_short_of_room_carries_the_first_draws_of_every_respondent(
    draws_of_the_hb,
) -> None:
    sim, market = draws_of_the_hb.sim, draws_of_the_hb.market
    D = sim.uncertainty_draws()
    S, R, _ = D.shape
    data = _page_data(draws_of_the_hb, 30 * R)
    draws = data["draws"]
    assert (draws["n"], draws["rows"], draws["of_draws"], draws["of_rows"]) == (30, R, S, R)
    assert draws["weights"] == pytest.approx(sim.population.draw_weights(R).tolist())
    assert draws["note"].startswith("Intervals: 95% of the first 30 of the 60 draws")
    # each kept draw is the library's own, whole: the status quo's utility in every row
    (status_quo,) = [f for f in data["fixed"] if f["name"] == "Keep leasing"]
    j = list(market.names).index("Keep leasing")
    expected = D[:30].reshape(30 * R, -1) @ market.X[j] + market.offset[j]
    assert np.allclose(status_quo["draw_utilities"], expected, rtol=1e-6, atol=1e-9)


def test_a_page_without_room_for_20_draws_of_everyone_says_its_intervals_are_wider(
    draws_of_the_hb,
) -> None:
    S, R, _ = draws_of_the_hb.sim.uncertainty_draws().shape
    data = _page_data(draws_of_the_hb, 10 * R)
    draws = data["draws"]
    assert (draws["n"], draws["rows"], draws["of_draws"], draws["of_rows"]) == (20, R // 2, S, R)
    assert sum(draws["weights"]) == pytest.approx(1.0)
    assert "wider than the report's" in draws["note"]


NOTES = {
    "first": {
        "de": "Intervalle: 95 % der ersten 30 von 60 Ziehungen",
        "fr": "Intervalles : 95 % des 30 premiers des 60 tirages",
    },
    "people": {
        "de": "mit je {rows} der {people} Personen",
        "fr": "de {rows} des {people} personnes",
    },
}


@pytest.mark.parametrize("language", ["de", "fr"])
def test_the_page_says_in_its_language_which_draws_its_intervals_come_from(
    german, french, draws_of_the_hb, browser, language
) -> None:
    from offerlab.report import render_html

    R = draws_of_the_hb.sim.uncertainty_draws().shape[1]
    content = (german if language == "de" else french).content
    pages = {}
    for case, rows in (("first", 30 * R), ("people", 10 * R)):
        # the example's report in that language, its simulator on the HB's draws, short of
        # room (no filters: the report's are the MNL's)
        data = _page_data(draws_of_the_hb, rows, language) | {"filters": []}
        pages[case] = render_html(replace(content, simulator=data))
    page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    for case, html in pages.items():
        page.set_content(html)
        page.wait_for_selector("#sim-shares .bar")
        shown = " ".join(page.locator("#sim-interval-note").inner_text().split())
        want = NOTES[case][language].format(rows=R // 2, people=R)
        assert want in shown, (case, shown)
    assert errors == []
