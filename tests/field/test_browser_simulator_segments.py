"""The console simulator's segment filter by the respondents' own answers on an
individual-level (HB) fit: a German and a French viewer pick "Under 40" and see decide's
filtered shares (point and interval) of the people who said so, labelled in words; the
shares still sum to 1. Screenshots at 390x844 and 1280x800 in de and fr go to
tests/artifacts/browser/."""

from __future__ import annotations

import json
import re

import pytest
from _respondent import QUALIFY, Browser, client
from _screenshots import save_png
from _server import running
from test_browser import ARTIFACTS, PHONE
from test_browser_simulator_report import WIDE, _bars, _log_in, _publish_simulator
from test_console import MARKET, _setup

from offerlab.field import create_app

pytestmark = pytest.mark.browser


def _complete(fielding, start: int, stop: int, band: str) -> None:
    for i in range(start, stop):
        b = Browser(client(fielding), seed=i)
        b.enter(f"/s/tiny?pid=p{i}")
        b.finish({**QUALIFY, "band": {"answer": band}})


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """The tiny study with 14 young and 26 old completes and its HB simulator, published
    once for both languages (the pages only read it); the fit the console made, kept as it
    made it, and decide's simulator and "young" filter on that fit.

    The test used to refit the same seeded sampling to compare with (and each language
    fielded and published its own): one HB sampling instead of four.

    What is checked is the page's segment filter against decide's on the fit the console
    made, not how well the sampler converged: short chains (200 + 200 draws instead of
    2,000 + up to 2,000; individual part-worths all the same) give the filter the same
    work for a tenth of the sampling. The web's own settings run end to end in
    test_console_hb_diagnostics.py and test_browser_needs.py."""
    import offerlab.field._simulator as console_simulator
    from offerlab.decide import parse_market, profile_filters, simulator_for
    from offerlab.field._export import answers_table
    from offerlab.field._simulator import UNCERTAINTY_DRAWS
    from offerlab.models import DecisionFit

    short_fit = DecisionFit(burn_in=200, iterations=200, n_jobs=1)

    ARTIFACTS.mkdir(parents=True, exist_ok=True)  # this module may be the first to save
    fielding, _ = _setup(f"sqlite:///{tmp_path_factory.mktemp('profile') / 'profile.db'}")
    _complete(fielding, 0, 14, "young")
    _complete(fielding, 14, 40, "old")
    kept = []

    def keeping(model, data, study, *args, _fit=console_simulator.fit_decision_model):
        kept.append((model, args, _fit(model, data, study, *args)))
        return kept[-1][2]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(console_simulator, "fit_decision_model", keeping)
        patch.setattr(console_simulator, "WEB_FIT", short_fit)
        _publish_simulator(fielding, "hb")
    [(model, args, results)] = kept  # the console's one fit: HB with the web's settings
    assert model == "hb" and args == (short_fit,)
    # the console's simulator on that fit (seeded as the console seeds it)
    sim = simulator_for(results, "sop", n_draws=UNCERTAINTY_DRAWS, seed=0)
    market = parse_market(MARKET, fielding.study, "m").market(results.coding)
    (band,) = profile_filters(sim, results, answers_table(fielding), {"band": ["young", "old"]})
    return fielding, sim, market, band


@pytest.mark.parametrize("language", ["de", "fr"])
def test_a_viewer_filters_the_hb_market_to_the_people_under_40(fitted, browser, language) -> None:
    from offerlab.decide import filtered_shares

    fielding, sim, market, band = fitted
    young = filtered_shares(sim, market, band, "young").set_index("alternative")
    problems: list[str] = []
    locale = {"de": "de-CH", "fr": "fr-CH"}[language]
    with running(create_app(fielding)) as base:
        for size in (WIDE, PHONE):
            page = _log_in(browser, base, "viewer@a.ch", problems, **size, locale=locale)
            page.goto(f"{base}/console/studies/tiny/simulator")
            page.wait_for_selector("#sim-ours .bar")
            data_json = json.loads(page.locator("#simulator-data").text_content())
            assert [f["question"] for f in data_json["filters"]] == ["band"]
            assert page.locator("#sim-segment-box").is_visible()
            group = page.locator("#sim-segment optgroup")
            assert (
                group.get_attribute("label") == {"de": "Ihr Alter?", "fr": "Your age?"}[language]
            )  # the study has no French text: its default language's
            options = page.locator("#sim-segment option").all_text_contents()
            under_40 = next(o for o in options if o.startswith(("Unter 40 (", "Under 40 (")))
            share = float(re.search(r"\((\d+[.,]\d)", under_40)[1].replace(",", "."))
            assert share == pytest.approx(100 * band.mass(sim.population.w)[0], abs=0.051)
            assert not any("young" in o for o in options)
            whole = _bars(page)
            page.select_option("#sim-segment", "band=young")
            shown, lower, upper = _bars(page), _bars(page, "lower"), _bars(page, "upper")
            alternatives = []
            for name, row in young.iterrows():
                # "none" shows the study's words for it, in the reader's language; our
                # offers together are the row whose data-alternative is "(our offers)"
                (none,) = set(whole) - set(young.index) - {"(our offers)"}
                key = name if name in shown else none
                alternatives.append(key)
                assert shown[key] == pytest.approx(row["share"], abs=1e-6), name
                assert lower[key] == pytest.approx(row["lower"], abs=1e-6), name
                assert upper[key] == pytest.approx(row["upper"], abs=1e-6), name
            assert sum(shown[k] for k in alternatives) == pytest.approx(1.0, abs=1e-9)
            assert shown != whole
            width = size["viewport"]["width"]
            save_png(page, ARTIFACTS / f"simulator_profile_filter_{language}_{width}.png")
            page.context.close()
    assert not problems, problems
