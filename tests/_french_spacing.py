"""Where a French page could break a line before ``: ; ! ? % »`` or after ``«``.

French sets a space there; only a no-break space keeps the sign on its word's line. The
page's text is read as a browser's ``textContent`` (text nodes joined as they stand, so a
space in one node and the sign in the next count too), without scripts and styles.
(tests/ is on the path through tests/conftest.py.)
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

#: A breaking space (or line break) before a French high sign, or after «.
_BREAKABLE = re.compile(r"[ \t\r\n]+[:;!?%»]|«[ \t\r\n]+")


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.hidden += tag in ("script", "style", "template")

    def handle_endtag(self, tag: str) -> None:
        self.hidden -= tag in ("script", "style", "template")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def breakable_french_spaces(html: str) -> list[str]:
    """Each place (with a few characters around it) where the line may break wrongly."""
    parser = _Text()
    parser.feed(html)
    text = "".join(parser.parts)
    return [repr(text[max(m.start() - 25, 0) : m.end() + 5]) for m in _BREAKABLE.finditer(text)]
