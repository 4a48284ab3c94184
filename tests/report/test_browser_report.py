"""The HTML report in Debian's Chromium: it opens offline and its simulator reacts.

Playwright's Python client drives /usr/bin/chromium (never a downloaded browser; the
``browser`` fixture of tests/conftest.py), with every network request blocked and
recorded: the report must need none. Screenshots go to tests/artifacts/report/ (not
committed).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from offerlab.report._html import write_html

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "report"

pytestmark = pytest.mark.browser


def _shares(page, what: str = "share") -> dict[str, float]:
    """``data-share`` (or ``data-lower``, ``data-revenue``…) of every alternative shown."""
    rows = page.locator("#sim-shares .bar").all()
    out = {}
    for row in rows:
        value = row.get_attribute(f"data-{what}")
        out[row.get_attribute("data-alternative")] = float("nan") if value is None else float(value)
    return out


def check_against_library(page, library) -> None:
    """The page's shares, 95% intervals and revenue are the library's for the same market."""
    library = library.set_index("alternative")
    shown = {what: _shares(page, what) for what in ("share", "lower", "upper", "revenue")}
    for name, row in library.iterrows():
        label = name if name in shown["share"] else None
        if label is None:  # status quo shown by its label: same order, same values
            continue
        assert shown["share"][label] == pytest.approx(row["share"], abs=1e-5), label
        assert shown["lower"][label] == pytest.approx(row["lower"], abs=1e-5), label
        assert shown["upper"][label] == pytest.approx(row["upper"], abs=1e-5), label
        if np.isfinite(row["revenue"]):
            assert shown["revenue"][label] == pytest.approx(row["revenue"], rel=1e-5), label


def test_the_report_opens_offline_and_its_simulator_follows_a_changed_offer(
    built, tmp_path, browser
):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = write_html(built.content, tmp_path / "report.html")
    expected = built.sim.shares(built.market).set_index("alternative")["share"]
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    outside: list[str] = []

    def block(route) -> None:  # anything but the file itself is a failure
        if not route.request.url.startswith(("file://", "data:")):
            outside.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    context.route("**/*", block)
    errors: list[str] = []
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(path.as_uri())
    page.wait_for_selector("#sim-shares .bar")
    # every figure is embedded and decoded
    images = page.locator("img").all()
    assert len(images) >= 6
    assert all(page.evaluate("(i) => i.complete && i.naturalWidth > 0", img.element_handle())
               for img in images)  # fmt: skip
    page.screenshot(path=str(ARTIFACTS / "report_top.png"))
    # the simulator starts where the library is: its share of preference
    before = _shares(page)
    ours = "Our City Compact"
    assert abs(sum(before.values()) - 1) < 1e-9
    assert before[ours] == pytest.approx(expected[ours], abs=1e-5)
    assert before["Rival SUV Abo"] == pytest.approx(expected["Rival SUV Abo"], abs=1e-5)
    check_against_library(page, built.sim.shares(built.market))
    # a business user makes our compact offer dearer and gives it a premium saloon
    page.locator("#simulator").scroll_into_view_if_needed()
    page.fill("#sim-Our_City_Compact-monthly_price", "790")
    page.locator("#sim-Our_City_Compact-monthly_price").dispatch_event("change")
    dearer = _shares(page)
    assert dearer[ours] < before[ours] - 0.01
    page.select_option("#sim-Our_City_Compact-car_class", "premium")
    premium = _shares(page)
    assert premium[ours] != pytest.approx(dearer[ours], abs=1e-6)
    for shares in (dearer, premium):
        assert abs(sum(shares.values()) - 1) < 1e-9
    total = float(page.locator("#sim-total").get_attribute("data-total"))
    assert abs(total - 1) < 1e-9
    # the same offers in the library give the same shares
    changed = built.market.with_offer(ours, monthly_price=790, car_class="premium")
    library = built.sim.shares(changed).set_index("alternative")["share"]
    assert premium[ours] == pytest.approx(library[ours], abs=1e-5)
    check_against_library(page, built.sim.shares(changed))
    # dropping the rival from the market gives its share to the others
    page.uncheck("#sim-Rival_SUV_Abo-on")
    without = _shares(page)
    assert without["Rival SUV Abo"] == 0
    assert abs(sum(without.values()) - 1) < 1e-9
    assert all(without[n] >= premium[n] for n in without if n != "Rival SUV Abo")
    page.locator("#simulator").screenshot(path=str(ARTIFACTS / "report_simulator.png"))
    assert not errors, errors
    assert not outside, outside
    assert np.isfinite(list(premium.values())).all()
