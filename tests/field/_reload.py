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
    deadline = time.monotonic() + timeout
    while not re.search(pattern, page.request.get(page.url).text()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{page.url} did not show {pattern!r} in {timeout:.0f} s")
        page.wait_for_timeout(200)  # between polls; events keep being delivered
    page.reload()
