"""Screenshots for the browser tests' artefacts: PNG, encoded for speed.

Playwright's screenshot has Chromium encode the PNG at its default compression: for a
full page of a few thousand pixels that is most of a screenshot's CPU time (0.7-2 s for
the whole report). Chromium's ``optimizeForSpeed`` encodes the same image in a quarter to
a half of that, about a quarter larger. (tests/ is on the path through tests/conftest.py.)
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any


def png(page: Any, full_page: bool = False) -> bytes:
    """The page as PNG: what is on the screen, or the whole page (``full_page``)."""
    cdp = page.context.new_cdp_session(page)
    try:
        options: dict[str, Any] = {"format": "png", "optimizeForSpeed": True}
        if full_page:
            size = cdp.send("Page.getLayoutMetrics")["cssContentSize"]
            whole = {"x": 0, "y": 0, "width": size["width"], "height": size["height"]}
            options |= {"captureBeyondViewport": True, "clip": {**whole, "scale": 1}}
        return base64.b64decode(cdp.send("Page.captureScreenshot", options)["data"])
    finally:
        cdp.detach()


def save_png(page: Any, path: Path | str, full_page: bool = True) -> None:
    """Write the page (by default the whole page) as a PNG to ``path``."""
    Path(path).write_bytes(png(page, full_page))
