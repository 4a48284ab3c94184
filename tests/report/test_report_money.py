"""Money on every surface: the pricing page with costs, the market table's profit, the
model behind every number (issue 13, findings 6, 7 and 8)."""

from __future__ import annotations

import numpy as np
import pytest


def test_the_pricing_page_gives_the_profit_maximising_price_with_the_cost(built) -> None:
    """Finding 7: City Compact costs CHF 540; a revenue-maximising CHF 390 loses money on
    every sale, so the page leads with the profit-maximising price, above cost."""
    from offerlab.decide import Costs

    pricing = built.content.pricing
    assert pricing.cost == pytest.approx(Costs.from_spec(built.spec).of(_offer(built)))
    assert pricing.cost == pytest.approx(540)
    assert pricing.profit_best is not None and pricing.profit_best.price > pricing.cost
    low, high = pricing.profit_best.interval
    assert low <= pricing.profit_best.price <= high
    measures = " ".join(pricing.table["measure"])
    assert "profit-maximising price" in measures and "revenue-maximising price" in measures
    assert "Cost per sale" in measures
    # the profit-maximising price is the best of the demand curve's profit of our offers
    curve = pricing.demand
    assert pricing.profit_best.price == curve["price"][curve["ours_profit"].idxmax()]
    assert pricing.profit_best.value == pytest.approx(curve["ours_profit"].max())
    assert any("lies below cost" in line for line in pricing.comparison)


def test_agreement_at_the_edge_of_the_tested_prices_is_not_called_agreement(built) -> None:
    """Finding 7: Gabor–Granger's and the conjoint's revenue optima both sit at the lowest
    price tested (CHF 390): that is where the test ended, not an agreement."""
    pricing = built.content.pricing
    text = " ".join(pricing.comparison)
    assert pricing.gabor_granger.revenue_price == pricing.gabor_granger.curve["price"].min()
    assert "agree." not in text and "they agree" not in text
    assert pricing.revenue_best.edge == "lowest"
    assert "Gabor–Granger's revenue-maximising price (CHF 390) and the conjoint's" in text
    assert "cannot be compared" in text and "lowest price" in text


def test_the_market_table_shows_revenue_margin_and_profit_with_intervals(built) -> None:
    """Finding 8: the report's market table holds decide's money for the same offers."""
    from offerlab.decide import Costs, market_money

    money = market_money(built.sim, built.market, Costs.from_spec(built.spec))
    table = built.content.shares.set_index("alternative")
    for name, row in money.table.set_index("alternative").iterrows():
        for col in ("share", "lower", "upper", "revenue"):
            assert table.loc[name, col] == pytest.approx(row[col], nan_ok=True), (name, col)
        if row["ours"]:
            assert row["margin"] == pytest.approx(row["price"] - row["cost"])
            assert row["profit"] == pytest.approx(row["margin"] * row["share"])
            assert row["profit_lower"] <= row["profit"] <= row["profit_upper"]
            for col in ("cost", "margin", "profit", "profit_lower", "profit_upper"):
                assert table.loc[name, col] == pytest.approx(row[col]), (name, col)
        else:
            assert np.isnan(table.loc[name, "profit"])
    ours = money.table[money.table["ours"]]
    assert money.total["profit"] == pytest.approx(ours["profit"].sum())
    assert money.total["profit_lower"] <= money.total["profit"] <= money.total["profit_upper"]
    from offerlab.report._html import render_html

    page = render_html(built.content)
    assert "profit (CHF)" in page and "95% interval" in page and "our offers together" in page
    low, high = money.total["profit_lower"], money.total["profit_upper"]
    assert f"{low:,.2f}\u00a0to\u00a0{high:,.2f}" in page  # an interval never wraps
    assert built.content.simulator["costs"] == Costs.from_spec(built.spec).to_json()


@pytest.fixture(scope="module")
def hb_report(example, short_hb):
    """A report on hierarchical Bayes chains far too short to converge (conftest.short_hb)."""
    from offerlab.decide import load_market
    from offerlab.report._html import build_report, render_html

    hb, sim = short_hb.results, short_hb.sim
    spec = load_market(example.market_path, example.study)
    content = build_report(
        hb, example.data, example.study, model="hb", sim=sim, market=spec.market(hb.coding),
        objective="profit", optimise={"slots": spec.tiers, "costs": spec.costs,
                                      "base_cost": spec.file.base_cost},
        pricing_offer=spec.pricing_offer, figures=False,
    )  # fmt: skip
    return content, render_html(content), hb


def test_an_unconverged_hb_fit_is_called_so_next_to_the_recommendation(hb_report) -> None:
    """Finding 6: the console says "not converged … not for a decision"; the report too,
    in the recommendation, with the holdout accuracy."""
    _, page, hb = hb_report
    assert not hb.converged
    recommendation = page[page.index('id="recommendation"') : page.index('id="sample"')]
    assert "not converged" in recommendation and "not for a decision" in recommendation
    assert f"max R-hat {hb.convergence['rhat'].max():.2f}" in recommendation
    assert f"predicts {100 * hb.holdout_hit_rate:.0f}% of the holdout choices" in recommendation


def test_every_number_names_the_model_it_came_from(hb_report, example, tmp_path) -> None:
    """Finding 6: importance, part-worths and WTP come from the model the decisions use
    (HB: per person and draw, averaged), and every section says which model that is."""
    content, page, _ = hb_report
    drivers = page[page.index('id="drivers"') : page.index('id="wtp"')]
    wtp = page[page.index('id="wtp"') :]
    for section in (drivers, wtp[: wtp.index("</section>")]):
        assert "From the hierarchical Bayes" in section
        assert "averaged over" in section and "aggregate" not in section
    assert content.drivers.model == "hierarchical Bayes" and content.drivers.level == "individual"
    # not the aggregate logit's numbers any more
    mnl = example.results.importance().set_index("attribute")["importance"]
    hb_imp = content.drivers.importance.set_index("attribute")["importance"]
    assert (hb_imp - mnl.reindex(hb_imp.index)).abs().max() > 0.5
    sample = page[page.index('id="sample"') : page.index('id="drivers"')]
    assert "Fit of the hierarchical Bayes" in sample
    assert set(content.fit["statistic"]) >= {"max R-hat", "holdout hit rate", "converged"}
    market = page[page.index('id="market"') :]
    assert "From the hierarchical Bayes" in market[: market.index("</section>")]
    from openpyxl import load_workbook

    from offerlab.report import write_excel

    book = load_workbook(write_excel(content, tmp_path / "report.xlsx"), read_only=True)
    for sheet in ("Importance", "Part-worths", "WTP"):
        note = str(next(book[sheet].iter_rows(max_row=1, values_only=True))[0])
        assert "From the hierarchical Bayes" in note, sheet
    fit_note = str(next(book["Fit"].iter_rows(max_row=1, values_only=True))[0])
    assert "Fit of the hierarchical Bayes" in fit_note


def _offer(built) -> dict[str, object]:
    market = built.market
    return dict(market.offers[market.index(built.spec.pricing_offer)])


def test_simulated_survey_answers_fill_the_needs_and_pricing_pages(example, built) -> None:
    """Finding 4: the demo's other answers (needs, obstacles, price questions) come from the
    same simulated people and fill the report's needs and pricing pages."""
    from offerlab.report._html import build_report, render_html
    from offerlab.simulate import reservation_prices, simulate_survey_answers

    market = built.market
    offer = dict(market.offers[market.index(built.spec.pricing_offer)])
    answers = simulate_survey_answers(example.study, example.truth, offer, rng=5)
    assert {"motives", "obstacles", "price_sensitivity", "age_band"} <= set(answers["page"])
    vw = answers[answers["page"] == "price_sensitivity"].pivot(
        index="respondent", columns="item", values="value"
    )
    prices = vw[["too_cheap", "cheap", "expensive", "too_expensive"]].astype(float)
    assert (prices.diff(axis=1).iloc[:, 1:] > 0).all().all()  # strictly increasing
    # "too expensive" is an obstacle exactly for those whose reservation price is below
    # the offer's price
    reservation = reservation_prices(example.truth, example.study, offer)
    said_price = set(
        answers[(answers["page"] == "obstacles") & (answers["item"] == "price")]["respondent"]
    )
    assert said_price == set(reservation[reservation < offer["monthly_price"]].index)
    content = build_report(
        example.results, example.data, example.study, sim=built.sim, market=market,
        pricing_offer=built.spec.pricing_offer, answers=answers, figures=False,
    )  # fmt: skip
    page = render_html(content)
    assert 'id="needs"' in page and "Van Westendorp: acceptable range" in page
    assert content.pricing.gabor_granger is not None and len(content.needs) == 2
