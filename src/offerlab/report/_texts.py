"""The report's own words in de, fr, it and en: one catalogue (``data/report_texts.yaml``,
key -> language -> text with ``{name}`` fields) and the number formats of each language."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from offerlab.exceptions import OfferlabError
from offerlab.study import parse_yaml, typeset

__all__ = ["LANGUAGES", "ReportTexts", "report_catalogue", "report_texts"]

LANGUAGES = ("de", "fr", "it", "en")
_CATALOGUE = Path(__file__).parent / "data" / "report_texts.yaml"
#: Thousands separator and decimal mark (Swiss usage for de and it: 1'234.5; fr: 1 234,5).
_NUMBER_MARKS = {"en": (",", "."), "de": ("'", "."), "it": ("'", "."), "fr": ("\u202f", ",")}


@cache
def report_catalogue() -> dict[str, dict[str, str]]:
    """Every key with its text in each language (read once), typeset for its language."""
    raw = parse_yaml(_CATALOGUE.read_text(encoding="utf-8"), _CATALOGUE.name).data
    return {
        str(k): {str(lang): typeset(str(t), str(lang)) for lang, t in v.items()}
        for k, v in raw.items()
    }


@dataclass(frozen=True)
class ReportTexts:
    """``t(key, **fields)``: the report's words in one language; numbers as it writes them."""

    language: str

    def __call__(self, key: str, **fields: object) -> str:
        try:
            entry = report_catalogue()[key]
        except KeyError:
            raise OfferlabError(f"the report has no text {key!r}") from None
        text = entry.get(self.language) or entry["en"]
        return text.format(**fields) if fields else text

    def number(self, value: float, digits: int = 0) -> str:
        """``value`` with ``digits`` decimals and this language's separators."""
        if not math.isfinite(value):
            return ""
        thousands, decimal = _NUMBER_MARKS.get(self.language, _NUMBER_MARKS["en"])
        text = f"{value:,.{digits}f}"
        return text.replace(",", "\0").replace(".", decimal).replace("\0", thousands)

    def amount(self, value: float, currency: str, digits: int = 0) -> str:
        """``value`` in ``currency`` ("CHF 790"), never broken between code and number."""
        return f"{currency}\u00a0{self.number(value, digits)}".strip()

    def percent(self, share: float, digits: int = 1) -> str:
        """A share (0–1) as a percentage."""
        if not math.isfinite(share):
            return ""
        gap = "\u202f" if self.language == "fr" else ""
        return f"{self.number(100 * share, digits)}{gap}%"


def report_texts(language: str) -> ReportTexts:
    """The texts of ``language`` (one of de, fr, it, en)."""
    if language not in LANGUAGES:
        raise OfferlabError(f"the report speaks {', '.join(LANGUAGES)}; got {language!r}")
    return ReportTexts(language)
