"""Spaces that must not break, as each language sets its text.

French puts a space before ``: ; ! ? %`` and inside « »; written as a plain space, a
phone breaks the line there and the sign starts the next line alone. :func:`typeset`
turns those spaces into no-break spaces: a no-break space (U+00A0) before the colon and
inside the guillemets, a narrow one (U+202F) before ``; ! ? %``, as the Imprimerie
nationale's rules (and the report's own percentages) have them. The other languages keep
their text as written. Texts are typeset where they are read (the catalogues, the study's
labels), so translators and study authors type ordinary spaces.

:func:`one_line` collapses line breaks and runs of spaces without undoing that work:
``" ".join(text.split())`` would, because ``str.split`` treats no-break spaces as spaces.
"""

from __future__ import annotations

import re

__all__ = ["one_line", "typeset"]

NO_BREAK = "\u00a0"
NARROW_NO_BREAK = "\u202f"
_BEFORE_COLON = re.compile(r" +(?=:)")
_BEFORE_SIGN = re.compile(r" +(?=[;!?%])")
_AFTER_OPENING = re.compile(r"(?<=«) +")
_BEFORE_CLOSING = re.compile(r" +(?=»)")
#: Spaces, tabs and line breaks, not the no-break spaces.
_BREAKING_SPACE = re.compile(r"[ \t\n\r\f\v]+")


def typeset(text: str, language: str) -> str:
    """``text`` with the no-break spaces ``language`` sets (French only, so far)."""
    if language != "fr" or not text:
        return text
    text = _BEFORE_COLON.sub(NO_BREAK, text)
    text = _BEFORE_SIGN.sub(NARROW_NO_BREAK, text)
    text = _AFTER_OPENING.sub(NO_BREAK, text)
    return _BEFORE_CLOSING.sub(NO_BREAK, text)


def one_line(text: str) -> str:
    """``text`` on one line: each run of spaces, tabs and line breaks becomes one space;
    no-break spaces stay where they are."""
    return _BREAKING_SPACE.sub(" ", text).strip(" ")
