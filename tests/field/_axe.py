"""axe-core's accessibility rules run inside a Playwright page."""

from __future__ import annotations

from typing import Any

SERIOUS = ("serious", "critical")
#: The language in which the browser tests run axe on each page (type), once per screen
#: size: axe's rules read the markup and the styles, which the languages share, and
#: injecting and running it costs a quarter of a CPU second a page.
AXE_LANGUAGE = "de"

#: Every rule runs on every node; only the violations are gathered in full (axe's
#: ``resultTypes``: passes and the rest keep one example node each), and only the
#: serious and critical ones, summed up to the three first nodes, cross back to Python.
#: The full result of a long page is megabytes of JSON, most of it the passes.
_RUN = """async (impacts) => {
  const result = await window.axe.run(document, {resultTypes: ['violations']});
  return result.violations
    .filter(v => impacts.includes(v.impact))
    .map(v => ({id: v.id, impact: v.impact, help: v.help,
                targets: v.nodes.slice(0, 3).map(node => node.target.join(' '))}));
}"""


def serious_violations(page: Any, axe_source: str) -> list[str]:
    """axe's violations of impact serious or critical on the page, one line each."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=axe_source)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at " + "; ".join(v["targets"])
        for v in page.evaluate(_RUN, list(SERIOUS))
    ]
