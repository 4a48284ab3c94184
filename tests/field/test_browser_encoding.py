"""Hostile offer names and labels on the console's simulator page, in Debian's Chromium:
the page shows them as text, nothing is injected, and the simulator still works.

Screenshots (390x844 and 1280x800, de and fr browsers) go to tests/artifacts/browser/.
"""

from __future__ import annotations

import re

import pytest
from _respondent import client
from _screenshots import save_png
from _server import running
from test_browser import ARTIFACTS, _open_tiny_in_the_console
from test_output_encoding import BREAKOUT, COMMENT, SEPARATOR, publish_hostile_simulator

from offerlab.field import create_app
from offerlab.field._console_texts import console_catalogue

pytestmark = pytest.mark.browser


def test_a_hostile_market_file_is_shown_as_text_and_the_simulator_works(tmp_path, browser) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    fielding = publish_hostile_simulator(tmp_path)
    assert client(fielding).get("/healthz").status_code == 200
    with running(create_app(fielding)) as base:
        sizes = ((390, 844), (1280, 800))
        for locale, size in [(lc, sz) for lc in ("de-CH", "fr-CH") for sz in sizes]:
            context = browser.new_context(
                locale=locale, viewport={"width": size[0], "height": size[1]}
            )
            page = context.new_page()
            problems: list[str] = []
            page.on("pageerror", lambda exc, p=problems: p.append(str(exc)))
            page.on(  # a script blocked by the policy shows up as a console error
                "console",
                lambda m, p=problems: (
                    p.append(m.text)
                    if m.type == "error" and not m.text.startswith("Failed to load resource")
                    else None
                ),
            )
            page.on(  # every request but the browser's own favicon guess must succeed
                "response",
                lambda r, p=problems: (
                    p.append(f"{r.status} {r.url}")
                    if r.status >= 400 and not r.url.endswith("/favicon.ico")
                    else None
                ),
            )
            _open_tiny_in_the_console(page, base, "viewer@a.ch")
            page.locator("main a[href$='/simulator']").click()  # in any language
            page.wait_for_selector("#sim-shares .bar")
            # (b) no injected heading or form: the page's own h1 and the logout form only
            assert page.locator("h1").count() == 1
            assert page.locator("form[action*='evil']").count() == 0
            assert page.evaluate("document.querySelectorAll('script:not([src]):not([type])')"
                                 ".length") == 0  # fmt: skip
            bars = page.locator("#sim-shares .bar")
            shown = [bars.nth(i).get_attribute("data-alternative") for i in range(bars.count())]
            assert shown[:3] == [BREAKOUT, COMMENT, SEPARATOR]
            ours = console_catalogue()["sim_js_ours"][locale[:2]]  # " (unser Angebot)"
            names = page.locator("#sim-shares .bar .name").all_inner_texts()
            assert names[0] == BREAKOUT + ours
            cards = page.locator("#sim-offers .sim-offer h3").all_inner_texts()
            assert cards[0].strip() == BREAKOUT + ours and cards[1].strip() == COMMENT
            labels = page.locator("#sim-offers .sim-offer").first.locator("option")
            # the study's labels in the page's language (French: the hostile English ones)
            study, lang = fielding.study, locale[:2]
            expected = [study.level_label("colour", i, lang) for i in range(2)]
            assert labels.all_inner_texts() == expected
            if lang == "fr":
                assert expected == ["Red </script><h1>y</h1>", "Blue <!--<script>"]
            # the simulator still reacts (random respondents: the direction is the fit's)
            before = float(bars.first.get_attribute("data-share"))
            price = page.locator("#sim-offers .sim-offer").first.locator("input[type=number]")
            price.fill("30")
            price.dispatch_event("change")
            after = float(page.locator("#sim-shares .bar").first.get_attribute("data-share"))
            assert abs(after - before) > 1e-6
            total = page.locator("#sim-total").inner_text()
            assert re.fullmatch(r"100[.,]0\s?%", total), total  # de-CH 100.0%, fr-CH 100,0 %
            save_png(page, ARTIFACTS / f"hostile_simulator_{locale}_{size[0]}.png")
            assert not problems, problems
            context.close()
