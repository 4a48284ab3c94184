"""The business units' simulator and the published decision report, in Debian's Chromium.

An analyst publishes the report; a viewer with a German browser (de-CH) reads it in
German, downloads its PDF and, after a second publication, sees what changed. A viewer
saves a simulator scenario, reloads, compares it with the base case and exports it as
CSV and PNG; a latent-class simulator's segment filter shows the library's segment
shares. axe-core finds nothing serious on either page. Screenshots (390x844 and
1280x800, German and French) go to tests/artifacts/browser/ (not committed).
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from _axe import serious_violations
from _reload import reload_when
from _respondent import QUALIFY, Browser, client
from _screenshots import save_png
from _server import running
from test_browser import ARTIFACTS, PHONE
from test_console import MARKET, PASSWORD, _csrf, _login, _setup

from offerlab.field import create_app
from offerlab.field._console_texts import console_catalogue

pytestmark = pytest.mark.browser

WIDE = {"viewport": {"width": 1280, "height": 800}}


def _complete(fielding, start: int, stop: int) -> None:
    for i in range(start, stop):
        b = Browser(client(fielding), seed=i)
        b.enter(f"/s/tiny?pid=p{i}")
        b.finish({**QUALIFY, "band": {"answer": "old"}})


def _log_in(browser, base: str, email: str, problems: list[str], **options):
    """A fresh context logged in through the form (by field names: the form's words
    depend on the browser's language)."""
    page = browser.new_context(**options).new_page()
    page.on("pageerror", lambda exc: problems.append(f"{email}: {exc}"))
    page.on(  # a script the policy blocks shows up as a console error
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
    page.goto(f"{base}/console/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form[action='/console/login'] button[type=submit]").click()
    page.wait_for_url(f"{base}/console/")
    return page


#: Sentences the report writes (its recommendation), localized by the report, not here;
#: and what is no text (the page's data and style).
FROM_THE_REPORT = "#report-recommendation, #report-changes, script, style"


def _english_left(page, prefixes: tuple[str, ...]) -> list[str]:
    """Catalogue texts of these areas whose English words show on a page in another
    language (texts the same in both languages, like 'Segment', do not count)."""
    text = page.evaluate(
        """(skip) => { const copy = document.body.cloneNode(true);
        copy.querySelectorAll(skip).forEach((e) => e.remove()); return copy.textContent; }""",
        FROM_THE_REPORT,
    )
    lang = page.locator("html").get_attribute("lang")
    left = []
    catalogue = console_catalogue()
    own_words = "\n".join(texts[lang] for texts in catalogue.values())
    for key, texts in catalogue.items():
        english = texts["en"].split("{")[0].strip()
        # a text that is also this language's (Version, Segment, Excel) does not count
        if not key.startswith(prefixes) or len(english) < 6 or english in own_words:
            continue
        if english in text:
            left.append(f"{key}: {english}")
    return left


def _wait_for_version(page, version: int) -> None:
    """The build runs after the redirect: reload once the version is published."""
    reload_when(page, f'id="report-current" data-version="{version}"')
    page.wait_for_selector(f"#report-current[data-version='{version}']")


def _axe_on(browser, base: str, email: str, path: str, axe_source: str, **options) -> list[str]:
    """axe's serious findings on a page, opened in a context that lets the test inject
    axe (the console's policy allows no injected script; the pages are the same)."""
    page = _log_in(browser, base, email, [], bypass_csp=True, **options)
    page.goto(base + path)
    if "simulator" in path:
        page.wait_for_selector("#sim-ours .bar")
    found = serious_violations(page, axe_source)
    page.context.close()
    return found


def _shots(page, name: str) -> None:
    save_png(page, ARTIFACTS / f"{name}.png")


def test_an_analyst_publishes_and_a_german_viewer_reads_downloads_and_sees_the_change(
    tmp_path, axe_source, browser
) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    fielding, _ = _setup(f"sqlite:///{tmp_path / 'report.db'}")
    _complete(fielding, 0, 30)
    problems: list[str] = []
    with running(create_app(fielding)) as base:
        analyst = _log_in(browser, base, "analyst@a.ch", problems, **WIDE)
        analyst.goto(f"{base}/console/studies/tiny")
        with analyst.expect_navigation():
            analyst.get_by_role("link", name="Decision report").click()
        analyst.fill("#market_yaml", MARKET)
        analyst.select_option("#model", "mnl")
        with analyst.expect_navigation():
            analyst.locator("#report-publish").click()
        building = analyst.locator("#report-building")
        assert building.count() == 0 or "Building version 1" in building.inner_text()
        _wait_for_version(analyst, 1)

        viewer = _log_in(browser, base, "viewer@a.ch", problems, locale="de-CH", **WIDE)
        viewer.goto(f"{base}/console/studies/tiny/report")
        assert viewer.locator("html").get_attribute("lang") == "de"
        assert "Entscheidungsbericht" in viewer.locator("h1").inner_text()
        assert "Dies ist die erste veröffentlichte Version." in viewer.inner_text("main")
        assert viewer.locator("#report-publish").count() == 0  # viewers read only
        assert _english_left(viewer, ("pub_", "sim_")) == []
        with viewer.expect_download() as download:
            viewer.locator("#report-pdf").click()
        pdf = download.value
        assert pdf.suggested_filename == "tiny_report_v1_de.pdf"
        assert Path(pdf.path()).read_bytes()[:5] == b"%PDF-"
        # the report itself opens under its own policy: its simulator script runs
        viewer.locator("#report-open").click()
        viewer.wait_for_selector("#sim-shares .bar")
        _shots(viewer, "report_v1_de_1280")

        _complete(fielding, 30, 40)
        analyst.goto(f"{base}/console/studies/tiny/report")
        analyst.fill("#market_yaml", MARKET.replace("price: 15", "price: 25"))
        with analyst.expect_navigation():
            analyst.locator("#report-publish").click()
        _wait_for_version(analyst, 2)

        viewer.goto(f"{base}/console/studies/tiny/report")
        assert viewer.locator("#report-current").get_attribute("data-version") == "2"
        changes = viewer.locator("#report-changes").inner_text()
        assert "Was sich seit Version 1 geändert hat" in viewer.inner_text("main")
        assert "Befragte: 30 → 40" in changes
        assert "Preis von Ours: CHF\u00a015.00 → CHF\u00a025.00" in changes
        assert viewer.locator("#report-versions tbody tr").count() == 2
        for email in ("viewer@a.ch", "analyst@a.ch"):
            found = _axe_on(browser, base, email, "/console/studies/tiny/report", axe_source,
                            locale="de-CH", **WIDE)  # fmt: skip
            assert found == [], (email, found)
        _shots(viewer, "console_report_de_1280")
        for lang, size in [("de", PHONE), ("fr", PHONE), ("fr", WIDE)]:
            page = _log_in(browser, base, "viewer@a.ch", problems, locale=f"{lang}-CH", **size)
            page.goto(f"{base}/console/studies/tiny/report")
            assert page.locator("html").get_attribute("lang") == lang
            assert _english_left(page, ("pub_", "sim_")) == []
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= size["viewport"]["width"], (lang, width)
            _shots(page, f"console_report_{lang}_{size['viewport']['width']}")
    assert not problems, problems


def _publish_simulator(fielding, model: str = "mnl") -> None:
    c = client(fielding)
    _login(c, "analyst@a.ch")
    r = c.post(
        "/console/studies/tiny/simulator",
        data={"model": model, "market_yaml": MARKET, "csrf": _csrf(c)},
    )
    assert r.status_code == 303
    assert "simulator-status" not in c.get("/console/studies/tiny/simulator").text


def _bars(page, what: str = "share") -> dict[str, float]:
    out = {}
    for row in page.locator("#sim-shares .bar, #sim-ours .bar").all():
        value = row.get_attribute(f"data-{what}")
        if value is not None:
            out[row.get_attribute("data-alternative")] = float(value)
    return out


def test_a_viewer_saves_a_scenario_reloads_compares_with_the_base_and_exports(
    tmp_path, axe_source, browser
) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    fielding, _ = _setup(f"sqlite:///{tmp_path / 'scenario.db'}")
    _complete(fielding, 0, 30)
    _publish_simulator(fielding)
    problems: list[str] = []
    with running(create_app(fielding)) as base:
        page = _log_in(browser, base, "viewer@a.ch", problems, locale="de-CH", **WIDE)
        page.goto(f"{base}/console/studies/tiny/simulator")
        page.wait_for_selector("#sim-ours .bar")
        assert page.locator("html").get_attribute("lang") == "de"
        assert _english_left(page, ("sim_",)) == []
        assert "Preis" in page.inner_text("#sim-offers")  # the study's own German labels
        # the results sit beside the offers and above the fold of a 1280x800 screen
        offers = page.locator("#sim-offers").bounding_box()
        ours = page.locator("#sim-ours .bar").bounding_box()
        assert ours["x"] > offers["x"] + offers["width"] and ours["y"] + ours["height"] < 800
        published = _bars(page)
        page.fill("#sim-Ours-price", "25")
        page.locator("#sim-Ours-price").dispatch_event("change")
        page.select_option("#sim-Ours-colour", "blue")
        dearer = _bars(page)
        page.fill("#sim-scenario-name", "Teurer und blau")
        page.locator("#sim-scenario-save").click()
        page.locator("#sim-scenario-status", has_text="gespeichert").wait_for()
        page.reload()
        page.wait_for_selector("#sim-ours .bar")
        assert _bars(page) == pytest.approx(published)  # a reload starts from the base
        page.wait_for_selector(
            "#sim-scenario-list option:has-text('Teurer und blau')", state="attached"
        )
        page.select_option("#sim-scenario-list", label="Teurer und blau")
        page.locator("#sim-scenario-load").click()
        assert page.input_value("#sim-Ours-price") == "25"
        assert page.input_value("#sim-Ours-colour") == "blue"
        assert _bars(page) == pytest.approx(dearer)
        page.select_option("#sim-compare", "published")
        delta = _bars(page, "delta-share")
        for name in ("Ours", "Theirs", "Neither"):
            name_de = "Keines" if name == "Neither" else name
            assert delta[name_de] == pytest.approx(dearer[name_de] - published[name_de], abs=1e-9)
        # the change is shown with its sign, in percentage points (random answers: either way)
        cell = page.locator("#sim-shares .bar[data-alternative='Ours'] .delta-share").inner_text()
        sign = r"\+" if delta["Ours"] > 0 else "[−-]"  # the locale's minus sign
        assert re.fullmatch(sign + r"\d+\.\d Pp\.", cell), cell
        assert abs(float(cell[1:-4])) == pytest.approx(100 * abs(delta["Ours"]), abs=0.051)
        _shots(page, "console_simulator_compare_de_1280")
        with page.expect_download() as download:
            page.locator("#sim-export-csv").click()
        exported = download.value
        assert exported.suggested_filename == "tiny_scenario.csv"
        text = Path(exported.path()).read_text(encoding="utf-8")
        rows = list(csv.DictReader(io.StringIO(text)))
        assert rows[0]["Szenario"] == "Teurer und blau"
        by_offer = {r["Angebot"]: r for r in rows}
        assert float(by_offer["Ours"]["Anteil"]) == pytest.approx(dearer["Ours"], abs=1e-9)
        assert float(by_offer["Ours"]["± Anteil ggü. Basis"]) == pytest.approx(delta["Ours"])
        assert "Unsere Angebote zusammen" in by_offer
        with page.expect_download() as download:
            page.locator("#sim-export-png").click()
        assert Path(download.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        download.value.save_as(ARTIFACTS / "console_simulator_export_de.png")
        for lang, size in [("de", PHONE), ("fr", PHONE), ("fr", WIDE)]:
            other = _log_in(browser, base, "viewer@a.ch", problems, locale=f"{lang}-CH", **size)
            other.goto(f"{base}/console/studies/tiny/simulator")
            other.wait_for_selector("#sim-ours .bar")
            assert _english_left(other, ("sim_",)) == []
            width = other.evaluate("document.documentElement.scrollWidth")
            assert width <= size["viewport"]["width"], (lang, width)
            _shots(other, f"console_simulator_{lang}_{size['viewport']['width']}")
        for email, size in (("viewer@a.ch", PHONE), ("analyst@a.ch", WIDE)):
            found = _axe_on(browser, base, email, "/console/studies/tiny/simulator", axe_source,
                            locale="fr-CH", **size)  # fmt: skip
            assert found == [], (email, found)
        analyst = _log_in(browser, base, "analyst@a.ch", problems, locale="fr-CH", **WIDE)
        analyst.goto(f"{base}/console/studies/tiny/simulator")
        analyst.wait_for_selector("#sim-ours .bar")
        _shots(analyst, "console_simulator_analyst_fr_1280")
    assert not problems, problems


def test_the_segment_filter_shows_the_librarys_segment_shares(tmp_path, browser) -> None:
    import offerlab.field._simulator as console_simulator
    from offerlab.decide import parse_market, simulator_for
    from offerlab.field._simulator import UNCERTAINTY_DRAWS, WEB_FIT

    fielding, _ = _setup(f"sqlite:///{tmp_path / 'segments.db'}")
    _complete(fielding, 0, 40)
    kept = []  # the fit the console makes, as it made it (not a second fit of the same)

    def keeping(model, data, study, *args, _fit=console_simulator.fit_decision_model):
        kept.append((model, args, _fit(model, data, study, *args)))
        return kept[-1][2]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(console_simulator, "fit_decision_model", keeping)
        _publish_simulator(fielding, "lc")
    [(model, args, results)] = kept
    assert model == "lc" and args == (WEB_FIT,)
    sim = simulator_for(results, "sop", n_draws=UNCERTAINTY_DRAWS, seed=0)
    market = parse_market(MARKET, fielding.study, "m").market(results.coding)
    library = sim.shares(market, by_segment=True)
    problems: list[str] = []
    with running(create_app(fielding)) as base:
        page = _log_in(browser, base, "viewer@a.ch", problems, **WIDE)
        page.goto(f"{base}/console/studies/tiny/simulator")
        page.wait_for_selector("#sim-ours .bar")
        assert page.locator("#sim-segment-box").is_visible()
        labels = json.loads(page.locator("#simulator-data").text_content())["segments"]["labels"]
        for label in labels:
            page.select_option("#sim-segment", label)  # a segment is chosen by its key
            shown = _bars(page)
            expected = library[library["segment"] == label].set_index("alternative")["share"]
            for name, share in expected.items():
                assert shown["Neither" if name == "none" else name] == pytest.approx(
                    share, abs=1e-6
                ), (label, name)
        page.select_option("#sim-segment", "")
        whole = sim.shares(market).set_index("alternative")["share"]
        assert _bars(page)["Ours"] == pytest.approx(whole["Ours"], abs=1e-6)
    assert not problems, problems
