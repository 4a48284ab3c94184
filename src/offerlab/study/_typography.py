"""Spaces that must not break, as each language sets its text.

A number stays on the line of its unit or word ("3 mois", "2500 km"), a currency code
on the line of its amount ("CHF 990") and "/ mois" on one line, in every language.
French also puts a space before ``: ; ! ? %`` and inside « »; written as a plain space,
a phone breaks the line there and the sign starts the next line alone. :func:`typeset`
turns those spaces into no-break spaces: a no-break space (U+00A0) after a number, a
currency code or a slash, before the colon and inside the guillemets, a narrow one
(U+202F) before ``; ! ? %``, as the
Imprimerie nationale's rules (and the report's own percentages) have them. Texts are
typeset where they are read (the catalogues, the study's labels), so translators and
study authors type ordinary spaces.

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
_NUMBER_AND_WORD = re.compile(r"(?<=\d) (?=[^\W\d_])")  # "3 mois", "2500 km"
_CODE_AND_AMOUNT = re.compile(r"(?<=\b[A-Z]{3}) (?=\d)")  # "CHF 990"
_AFTER_SLASH = re.compile(r"(?<= /) (?=[^\W\d_])")  # "CHF 990.– / mois" breaks before "/"
#: Spaces, tabs and line breaks, not the no-break spaces.
_BREAKING_SPACE = re.compile(r"[ \t\n\r\f\v]+")


def typeset(text: str, language: str) -> str:
    """``text`` with the no-break spaces ``language`` sets."""
    if not text:
        return text
    text = _NUMBER_AND_WORD.sub(NO_BREAK, text)
    text = _CODE_AND_AMOUNT.sub(NO_BREAK, text)
    text = _AFTER_SLASH.sub(NO_BREAK, text)
    if language != "fr":
        return text
    text = _BEFORE_COLON.sub(NO_BREAK, text)
    text = _BEFORE_SIGN.sub(NARROW_NO_BREAK, text)
    text = _AFTER_OPENING.sub(NO_BREAK, text)
    return _BEFORE_CLOSING.sub(NO_BREAK, text)


def one_line(text: str) -> str:
    """``text`` on one line: each run of spaces, tabs and line breaks becomes one space;
    no-break spaces stay where they are."""
    return _BREAKING_SPACE.sub(" ", text).strip(" ")
