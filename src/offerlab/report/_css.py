"""CSS strings for a page: the one way a text goes into a stylesheet's ``content``.

Inside a ``<style>`` element the HTML parser ends the element at the first ``</style``,
and inside a CSS string a quote or a backslash ends or escapes it. JSON's escapes are
not CSS's: ``"B\\u00e9n\\u00e9fice"`` reads as "Bu00e9nu00e9fice" in a stylesheet. So
every character but ASCII letters, digits and spaces is written as a CSS escape of six
hex digits, and NUL, which CSS forbids, as U+FFFD. A space right after an escape is
escaped too: CSS reads one whitespace after an escape as the escape's end.
"""

from __future__ import annotations

from markupsafe import Markup

__all__ = ["css_string"]


def css_string(text: str) -> Markup:
    """``text`` as a double-quoted CSS string, safe inside a ``<style>`` element of an
    HTML page (a Jinja filter: ``content: {{ label | css_string }};``)."""
    out: list[str] = []
    escaped = False
    for char in str(text):
        plain = char.isascii() and (char.isalnum() or (char == " " and not escaped))
        out.append(char if plain else f"\\{ord(char) if char != chr(0) else 0xFFFD:06x}")
        escaped = not plain
    return Markup('"' + "".join(out) + '"')
