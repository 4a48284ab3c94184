"""axe-core's accessibility rules run inside a Playwright page."""

from __future__ import annotations

from typing import Any

SERIOUS = ("serious", "critical")


def serious_violations(page: Any, axe_source: str) -> list[str]:
    """axe's violations of impact serious or critical on the page, one line each."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=axe_source)
    result = page.evaluate("async () => await window.axe.run(document)")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + "; ".join(" ".join(node["target"]) for node in v["nodes"][:3])
        for v in result["violations"]
        if v.get("impact") in SERIOUS
    ]
