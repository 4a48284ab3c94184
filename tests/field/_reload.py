"""Waiting in a browser test for work the server does after a redirect (a fit, a build)."""

from __future__ import annotations

import re
import time
from typing import Any


def reload_when(page: Any, pattern: str, timeout: float = 120.0) -> None:
    """Reload ``page`` once the server's answer at its address matches ``pattern``.

    The answer is fetched with the page's own cookies (``page.request``) five times a
    second: an HTTP request is cheap, where reloading had Chromium draw the page (and
    run its scripts) each time.
    """
    from playwright.sync_api import Error as PlaywrightError

    deadline = time.monotonic() + timeout
    while not re.search(pattern, page.request.get(page.url).text()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{page.url} did not show {pattern!r} in {timeout:.0f} s")
        page.wait_for_timeout(200)  # between polls; events keep being delivered
    try:
        page.reload()
    except PlaywrightError as error:
        # a page that refreshes itself while building (<meta http-equiv=refresh>) may
        # start its own reload first: ours is then aborted, the page's loads the same
        if "ERR_ABORTED" not in str(error):
            raise
        page.wait_for_load_state()
