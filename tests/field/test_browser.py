"""A respondent on a phone completes the example survey in German in Debian's Chromium.

Playwright's Python client drives /usr/bin/chromium (never a downloaded browser): a
browser test takes the ``browser`` fixture (tests/conftest.py, one Chromium per module)
and opens a context of its own; a test that must start a Chromium itself takes CHROMIUM,
CHROMIUM_ARGS and needs_browser from tests/_browser.py. Screenshots of the pages go to
tests/artifacts/browser/ (not committed).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from _reload import reload_when
from _respondent import open_fielding
from _screenshots import save_png
from _server import running

from offerlab.field import create_app

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "browser"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
ANSWERS = {
    "consent": "agree",
    "age_band": "age_35_54",
    "licence": "yes",
    "region": "german",
    "car_now": "lease",
    "lease_end": "within_year",
    "attention": "somewhat",
}

pytestmark = pytest.mark.browser


def _answer(page, key: str, step: int) -> None:
    """Answer the current page as a person would, by its labelled controls."""
    base = key.split(".")[0]
    if base in ANSWERS:
        page.check(f"input[name=answer][value={ANSWERS[base]}]")
    elif key.startswith("tasks."):
        page.check(f"input[name=choice][value='{1 + step % 3}']")
        page.check(f"input[name=would_buy][value='{step % 2}']")
    elif base == "motives":
        for radio in page.locator("input[type=radio][value='4']").all():
            radio.check()
    elif base == "obstacles":
        page.check("input[name=answer][value=price]")
    elif key == "price_sensitivity":
        for name, value in zip(
            ("too_cheap", "cheap", "expensive", "too_expensive"),
            ("200", "450", "700", "950"),
            strict=True,
        ):
            page.fill(f"#{name}", value)
    elif key == "price_sensitivity.nms":
        page.check("input[name=at_cheap][value='4']")
        page.check("input[name=at_expensive][value='2']")
    elif base == "price_ladder":
        page.check("input[name=likelihood][value='4']")
    elif base == "trade_offs":  # MaxDiff: most important first row, least the last
        page.locator("input[name=best]").first.check()
        page.locator("input[name=worst]").last.check()
        page.check("input[name=anchor][value=some]")  # the example's dual-response anchor
    elif base == "new_offers":  # concept test: every question on 4 of 5
        for radio in page.locator("input[type=radio][value='4']").all():
            radio.check()
    elif base == "perks":  # Kano: glad to have it, would mind its absence
        page.check("input[name=functional][value=like]")
        page.check("input[name=dysfunctional][value=dislike]")
    elif base in ("obstacles_more", "comments"):
        page.fill("#text", "Günstiger und flexibler wäre gut.")
    else:
        raise AssertionError(f"no answer for page {key}")


def _to_the_panel(request) -> bool:
    return request.url.startswith("https://panel.example.com/")


def test_a_phone_respondent_completes_the_survey_in_german_resumes_and_is_redirected(
    tmp_path, study, study_text, design, browser
) -> None:
    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS)
    ARTIFACTS.mkdir(parents=True)
    fielding = open_fielding(f"sqlite:///{tmp_path / 'browser.db'}", study, study_text, design)
    with running(create_app(fielding)) as base:
        context = browser.new_context(**PHONE, locale="de-CH")
        # The panel's site is outside this closed machine: record that the browser goes there.
        requested: list[str] = []
        context.on("request", lambda request: requested.append(request.url))
        page = context.new_page()
        page.goto(f"{base}/s/car_subscription?psid=PW-1&lang=de")
        assert page.locator("html").get_attribute("lang") == "de"
        shots = {"consent", "motives", "obstacles", "tasks.1", "price_sensitivity", "price_ladder"}
        resumed = False
        for step in range(60):
            if any(url.startswith("https://panel.example.com/") for url in requested):
                break
            key = page.locator("input[name=page]").get_attribute("value", timeout=5000)
            if key == "tasks.3" and not resumed:  # close the phone's tab halfway, reopen the link
                page.close()
                page = context.new_page()
                page.goto(f"{base}/s/car_subscription?psid=PW-1")
                assert page.locator("input[name=page]").get_attribute("value") == key
                resumed = True
            # nothing wider than the phone's screen
            assert page.evaluate(
                "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
            ), key
            _answer(page, key, step)
            if key.split(".")[0] in shots or key == "tasks.1":
                # Playwright's capture: it restores the phone's emulation afterwards
                page.screenshot(path=str(ARTIFACTS / f"{step:02d}_{key}.png"), full_page=True)
            if key == "comments":  # the last page: the browser is sent to the panel
                with context.expect_event("request", predicate=_to_the_panel):
                    page.locator("button[type=submit]").click()
                continue
            with page.expect_navigation():
                page.locator("button[type=submit]").click()
        else:
            raise AssertionError("the survey did not end")
        assert resumed
        assert requested[-1] == "https://panel.example.com/return?psid=PW-1&status=complete"
    assert len(list(ARTIFACTS.glob("*.png"))) >= 6


def test_keyboard_only_answers_a_question(tmp_path, study, study_text, design, browser) -> None:
    """Tab to the first option, Space to choose it, Enter to send: no mouse needed."""
    fielding = open_fielding(f"sqlite:///{tmp_path / 'keys.db'}", study, study_text, design)
    with running(create_app(fielding)) as base:
        page = browser.new_page()
        page.goto(f"{base}/s/car_subscription?lang=en")
        for _ in range(10):  # past the language links to the first answer
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.name") == "answer":
                break
        page.keyboard.press("Space")
        assert page.evaluate("document.activeElement.checked")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert page.locator("input[name=page]").get_attribute("value") == "age_band"


def _open_tiny_in_the_console(page, base: str, email: str) -> None:
    """Log in through the form as a person does, and open the study 'tiny'."""
    from test_console import PASSWORD

    page.goto(f"{base}/console/login")  # in the browser's language: fields by their ids
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator("form[action='/console/login'] button[type=submit]").click()
    page.wait_for_url(f"{base}/console/")
    with page.expect_navigation():
        page.get_by_role("link", name="tiny").click()


def test_an_analyst_launches_and_downloads_and_a_viewer_cannot_change_anything(
    tmp_path, browser
) -> None:
    import httpx
    import numpy as np
    import pandas as pd
    from _respondent import QUALIFY
    from test_console import _setup

    from offerlab.data import ChoiceData
    from offerlab.field._bot import _pairs, fill_form, read_form

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    fielding, _ = _setup(f"sqlite:///{tmp_path / 'console.db'}")
    fielding.set_status("testing")
    with running(create_app(fielding)) as base:

        def log_in(email: str):
            page = browser.new_context(accept_downloads=True).new_page()
            _open_tiny_in_the_console(page, base, email)
            return page

        analyst = log_in("analyst@a.ch")
        assert analyst.get_by_role("button", name="Close").count() == 0  # not from testing
        with analyst.expect_navigation():
            analyst.get_by_role("button", name="Launch").click()
        assert "it will be live" in analyst.content()  # a confirmation first
        assert fielding.status() == "testing"
        with analyst.expect_navigation():
            analyst.get_by_role("button", name="Yes, launch").click()
        assert "(live)" in analyst.locator("h1").inner_text()
        assert analyst.get_by_role("button", name="Launch").count() == 0
        with httpx.Client(base_url=base, timeout=30) as c:  # a respondent answers
            url = "/s/tiny?pid=pw"  # the entry form first, then the respondent's pages
            rng = np.random.default_rng(1)
            while (r := c.get(url)).status_code == 200:
                page = read_form(r.text)
                sent = c.post(page.action, data=_pairs(fill_form(page, rng, QUALIFY)))
                url = sent.headers["location"]
                if not url.startswith("/r/"):  # the panel's address: the end
                    break
        analyst.reload()
        save_png(analyst, ARTIFACTS / "console_analyst.png")
        with analyst.expect_download() as download:
            analyst.get_by_role("link", name="Choice data (CSV)").click()
        saved = ARTIFACTS / "tiny_choices.csv"
        download.value.save_as(saved)
        data = ChoiceData.from_frame(pd.read_csv(saved), fielding.study, source="download")
        assert data.n_respondents == 1

        viewer = log_in("viewer@a.ch")
        save_png(viewer, ARTIFACTS / "console_viewer.png")
        assert viewer.get_by_role("button", name="Pause").count() == 0
        assert viewer.get_by_role("link", name="Choice data (CSV)").count() == 0
        csrf = viewer.locator("input[name=csrf]").first.get_attribute("value")
        forged = viewer.request.post(
            f"{base}/console/studies/tiny/status", form={"action": "close", "csrf": csrf}
        )
        assert forged.status == 403
        assert viewer.request.get(f"{base}/console/studies/tiny/choices.csv").status == 403
    assert fielding.status() == "live"


def _bars(page, what: str = "share") -> dict[str, float]:
    rows = page.locator("#sim-shares .bar").all()
    return {r.get_attribute("data-alternative"): float(r.get_attribute(f"data-{what}") or "nan")
            for r in rows}  # fmt: skip


def _library_shares(fielding, ours: dict[str, object]):
    """MarketSimulator's shares for the console's market with our offer changed."""
    from test_console import MARKET

    from offerlab.data import ChoiceData
    from offerlab.decide import parse_market, simulator_for
    from offerlab.field._export import choice_data
    from offerlab.models import MultinomialLogit

    study = fielding.study
    results = MultinomialLogit().fit(
        ChoiceData.from_frame(choice_data(fielding), study), study=study
    )
    market = parse_market(MARKET, study).market(results.coding).with_offer("Ours", **ours)
    frame = simulator_for(results, "sop", n_draws=200, seed=0).shares(market)
    return frame.assign(alternative=frame["alternative"].replace({"none": "Neither"})).set_index(
        "alternative"
    )


def test_an_analyst_publishes_the_simulator_and_a_shared_viewer_plays_with_it(
    tmp_path, browser
) -> None:
    from _respondent import QUALIFY, Browser, client
    from test_console import MARKET, _setup

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    fielding, _ = _setup(f"sqlite:///{tmp_path / 'simulator.db'}")
    for i in range(40):  # completes to fit on
        respondent = Browser(client(fielding), seed=i)
        respondent.enter(f"/s/tiny?pid=p{i}")
        respondent.finish({**QUALIFY, "band": {"answer": "old"}})  # 'young' fills at 5
    with running(create_app(fielding)) as base:
        problems: list[str] = []

        def log_in(email: str, **context_options):
            page = browser.new_context(**context_options).new_page()
            page.on("pageerror", lambda exc: problems.append(f"{email}: {exc}"))
            page.on(  # a blocked inline script (CSP) shows up as a console error
                "console",
                lambda m: (
                    problems.append(f"{email}: {m.text}")
                    if m.type == "error" and not m.text.startswith("Failed to load resource")
                    else None
                ),
            )
            page.on(  # every request but the browser's own favicon guess must succeed
                "response",
                lambda r: (
                    problems.append(f"{email}: {r.status} {r.url}")
                    if r.status >= 400 and not r.url.endswith("/favicon.ico")
                    else None
                ),
            )
            _open_tiny_in_the_console(page, base, email)
            with page.expect_navigation():
                page.get_by_role("link", name="Market simulator").click()
            return page

        analyst = log_in("analyst@a.ch")
        analyst.fill("#market_yaml", MARKET)
        analyst.select_option("#model", "mnl")
        with analyst.expect_navigation():
            analyst.get_by_role("button", name="Fit and publish").click()
        reload_when(analyst, r'<section id="simulator">')  # the fit runs after the redirect
        analyst.wait_for_selector("#sim-shares .bar")
        save_png(analyst, ARTIFACTS / "console_simulator_analyst.png")

        viewer = log_in("viewer@a.ch", viewport={"width": 390, "height": 844}, is_mobile=True)
        viewer.wait_for_selector("#sim-shares .bar")
        assert viewer.locator("#market_yaml").count() == 0  # viewers do not publish
        before = _bars(viewer)
        assert set(before) == {"Ours", "Theirs", "Neither"}
        assert abs(sum(before.values()) - 1) < 1e-9
        lower, upper = _bars(viewer, "lower"), _bars(viewer, "upper")
        assert all(lower[n] <= before[n] <= upper[n] for n in before)
        assert viewer.locator("#sim-total").inner_text() == "100.0%"
        # a business user makes our offer dearer: our share falls, the total stays 100%
        viewer.fill("#sim-Ours-price", "30")
        viewer.locator("#sim-Ours-price").dispatch_event("change")
        dearer = _bars(viewer)
        assert dearer["Ours"] != pytest.approx(before["Ours"], abs=1e-6)
        assert abs(sum(dearer.values()) - 1) < 1e-9
        revenue = _bars(viewer, "revenue")
        assert revenue["Ours"] == pytest.approx(30 * dearer["Ours"], rel=1e-6)
        viewer.select_option("#sim-Ours-colour", "blue")
        blue = _bars(viewer)
        assert blue["Ours"] != pytest.approx(dearer["Ours"], abs=1e-6)
        assert abs(sum(blue.values()) - 1) < 1e-9
        # the page's shares and intervals are the library's for the changed offers
        library = _library_shares(fielding, {"price": 30, "colour": "blue"})
        for name, share in blue.items():
            assert share == pytest.approx(library.loc[name, "share"], abs=1e-5), name
        for bound in ("lower", "upper"):
            shown = _bars(viewer, bound)
            for name in blue:
                assert shown[name] == pytest.approx(library.loc[name, bound], abs=1e-5), name
        viewer.uncheck("#sim-Theirs-on")  # the competitor leaves the market
        alone = _bars(viewer)
        assert alone["Theirs"] == 0 and abs(sum(alone.values()) - 1) < 1e-9
        assert viewer.locator("#sim-total").inner_text() == "100.0%"
        save_png(viewer, ARTIFACTS / "console_simulator_viewer.png")
    assert not problems, problems
