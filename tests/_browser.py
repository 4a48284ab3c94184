"""Where the browser tests get their Chromium (Debian's, never a downloaded one) and what
they do when it is missing."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
#: Debian's Chromium, headless, quiet: no network of its own, no first-run work.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def needs_browser() -> None:
    """Skip with the reason when Chromium or Playwright is missing; under CI=true, fail."""
    problem = None
    if not Path(CHROMIUM).exists():
        problem = f"{CHROMIUM} is missing (apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "the playwright Python package is missing (pip install playwright)"
    if problem is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(problem + "; CI must run the browser tests")
    pytest.skip(problem)


def offline_page(opener: Any, path: Path, **options: Any) -> Any:
    """A new page (of a Chromium or one of its contexts) showing the file ``path`` with
    every request that is not a file refused: a report handed out must work offline."""
    page = opener.new_page(**options)
    page.route("**/*", lambda route: route.continue_()
               if route.request.url.startswith("file:") else route.abort())  # fmt: skip
    page.goto(path.as_uri())
    return page
