"""The live field dashboard in Debian's Chromium: a complete shows without a reload, the
page passes axe-core, and screenshots at 390×844 and 1280×800 in German and French.

Screenshots go to tests/artifacts/browser/ (not committed).
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from _axe import serious_violations
from _respondent import QUALIFY, open_fielding
from _server import running
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from test_browser import ARTIFACTS
from test_console import PASSWORD, _setup

from offerlab.field import _auth, create_app, new_token
from offerlab.store import QuotaCell, Respondent, StudyRow, Venture

pytestmark = pytest.mark.browser


def _log_in(page, base: str, study: str) -> None:
    """Log in through the form (its fields by their names: the labels are translated)."""
    page.goto(f"{base}/console/login")
    page.fill("input[name=email]", "analyst@a.ch")
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_url(f"{base}/console/")
    page.goto(f"{base}/console/studies/{study}")


def _complete(base: str, pid: str) -> None:
    """A respondent answers the tiny study to the end over HTTP, as a browser would."""
    import httpx

    from offerlab.field._bot import _pairs, fill_form, read_form

    rng = np.random.default_rng(7)
    with httpx.Client(base_url=base, timeout=30) as c:
        url = f"/s/tiny?pid={pid}"
        while (r := c.get(url)).status_code == 200:
            form = read_form(r.text)
            url = c.post(form.action, data=_pairs(fill_form(form, rng, QUALIFY))).headers[
                "location"
            ]
            if not url.startswith("/r/"):
                return
    raise AssertionError(f"the survey did not end: {r.status_code}")


def test_a_complete_appears_on_the_open_dashboard_without_a_reload(
    tmp_path, axe_source, browser
) -> None:
    from playwright.sync_api import expect

    fielding, _ = _setup(f"sqlite:///{tmp_path / 'live.db'}")
    with running(create_app(fielding)) as base:
        _complete(base, "first")
        context = browser.new_context(locale="de-CH", viewport={"width": 1280, "height": 800})
        requests: list[str] = []
        context.on("request", lambda r: requests.append(r.url))
        page = context.new_page()
        refused: list[str] = []  # the app's Content-Security-Policy is in force here
        page.on("console", lambda m: refused.append(m.text) if "Security Policy" in m.text else 0)
        _log_in(page, base, "tiny")
        expect(page.locator("#completes")).to_have_text("1")
        assert page.locator("html").get_attribute("lang") == "de"
        page.evaluate("window.notReloaded = true")
        loads = sum(url.endswith("/console/studies/tiny") for url in requests)
        _complete(base, "second")
        done = time.monotonic()
        expect(page.locator("#completes")).to_have_text("2", timeout=5000)
        seen = time.monotonic() - done
        assert page.evaluate("window.notReloaded === true")  # the same document
        assert sum(url.endswith("/console/studies/tiny") for url in requests) == loads
        assert any("/dashboard.json" in url for url in requests)
        assert "2 abgeschlossen" in page.locator("#dash-announce").inner_text()
        print(f"the complete showed after {seen:.1f} s")
        assert refused == []
        # axe-core is injected as an inline script: only a page without the policy takes it
        checked = browser.new_context(locale="de-CH", bypass_csp=True).new_page()
        _log_in(checked, base, "tiny")
        assert serious_violations(checked, axe_source) == []


def test_without_javascript_the_dashboard_shows_and_the_link_reloads_it(tmp_path, browser) -> None:
    fielding, _ = _setup(f"sqlite:///{tmp_path / 'nojs.db'}")
    with running(create_app(fielding)) as base:
        page = browser.new_context(java_script_enabled=False, locale="fr-CH").new_page()
        _log_in(page, base, "tiny")
        assert page.locator("#completes").inner_text() == "0"
        _complete(base, "nojs")
        with page.expect_navigation():
            page.get_by_role("link", name="Actualiser").click()
        assert page.locator("#completes").inner_text() == "1"


# -- screenshots of a study some days into its fieldwork --------------------------------


def _example_in_the_field(url: str, study, study_text: str, design):
    """The example study, twelve days into fieldwork, with an analyst of its venture."""
    fielding = open_fielding(url, study, study_text, design)
    rng = np.random.default_rng(14)
    now = time.time()
    survey = fielding.survey
    with Session(fielding.engine) as s, s.begin():
        _auth.add_member(s, "Mobility", "analyst@a.ch", "analyst", PASSWORD)
        venture = s.execute(select(Venture.id).where(Venture.name == "Mobility")).scalar_one()
        s.get_one(StudyRow, fielding.study_id).venture_id = venture
        counts = {"age_18_34": 0, "age_35_54": 0, "age_55_plus": 0}
        for i in range(420):
            started = now - rng.uniform(0, 12 * 86400) ** 1.0
            seed = int(rng.integers(2**31))
            sequence = survey.sequence(seed)
            status = str(rng.choice(["complete", "screenout", "overquota", "active"],
                                    p=[0.62, 0.16, 0.04, 0.18]))  # fmt: skip
            finished = started + rng.lognormal(np.log(11 * 60), 0.35)
            position = len(sequence)
            if status == "active":
                position = int(rng.integers(1, len(sequence)))
                finished = None
            elif status == "complete":
                band = str(rng.choice(list(counts), p=[0.3, 0.42, 0.28]))
                counts[band] += 1
            s.add(
                Respondent(
                    study_id=fielding.study_id,
                    token=new_token(),
                    version=1 + i % 4,
                    seed=seed,
                    language="de",
                    status=status,
                    sequence=sequence,
                    position=position,
                    nonce="n",
                    panel={},
                    flags={"test": True} if i % 60 == 0 else {},
                    is_test=i % 60 == 0,
                    started_at=started,
                    finished_at=finished,
                    shown_at=now - rng.uniform(30, 900) if i % 9 == 0 else started + 90,
                )
            )
        for option, n in counts.items():
            s.execute(
                update(QuotaCell)
                .where(QuotaCell.study_id == fielding.study_id, QuotaCell.option == option)
                .values(count=n)
            )
    return fielding


@pytest.mark.parametrize("lang", ["de", "fr"])
def test_screenshots_of_the_dashboard(
    tmp_path, study, study_text, design, lang, axe_source, browser
) -> None:
    """Twelve days into fieldwork: no sideways scroll, axe-core finds nothing serious."""

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{tmp_path / 'shots.db'}"
    fielding = _example_in_the_field(url, study, study_text, design)
    with running(create_app(fielding)) as base:
        for width, height in ((390, 844), (1280, 800)):
            phone = width < 600
            context = browser.new_context(
                locale=f"{lang}-CH",
                viewport={"width": width, "height": height},
                is_mobile=phone,
                has_touch=phone,
                bypass_csp=True,  # for axe-core's inline script
            )
            page = context.new_page()
            _log_in(page, base, "car_subscription")
            page.locator("#dashboard").wait_for()
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{overflow} px of sideways scroll at {width} px"
            page.locator("#dashboard").screenshot(
                path=str(ARTIFACTS / f"dashboard_{lang}_{width}.png")
            )
            page.screenshot(path=str(ARTIFACTS / f"dashboard_{lang}_{width}_top.png"))
            page.locator("#dashboard details summary").click()  # the table behind the plot
            assert serious_violations(page, axe_source) == []
            context.close()
