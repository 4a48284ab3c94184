"""The report's tables as shown: every cell already text in the report's language, so the
HTML page, the PDF and the tests read the very same words and numbers."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from offerlab.report._texts import ReportTexts

__all__ = ["Cells", "Table"]


@dataclass(frozen=True)
class Table:
    """One table of the report.

    Attributes
    ----------
    title : str
        Its heading ("" when the section heading says it).
    frame : DataFrame
        Every cell a string, columns named in the report's language.
    numeric : tuple of str
        Columns of numbers (right-aligned).
    """

    title: str
    frame: pd.DataFrame
    numeric: tuple[str, ...] = ()

    @property
    def wide(self) -> bool:
        """More columns than a phone shows side by side: one card per row there."""
        return self.frame.shape[1] > 3

    @property
    def empty(self) -> bool:
        return self.frame.empty

    def cells(self) -> list[str]:
        """Every header and cell, as shown."""
        return [str(c) for c in self.frame.columns] + [
            str(v) for row in self.frame.itertuples(index=False) for v in row
        ]


@dataclass(frozen=True)
class Cells:
    """Numbers as table text in one language."""

    t: ReportTexts

    def auto(self, value: object) -> str:
        """Whatever a table holds: yes/no, whole numbers, few significant digits."""
        if value is None:
            return ""
        if isinstance(value, bool | np.bool_):
            return self.t("word_yes") if value else self.t("word_no")
        if isinstance(value, int | np.integer):
            return self.t.number(float(value))
        if isinstance(value, float | np.floating):
            v = float(value)
            if not math.isfinite(v):
                return ""
            if abs(v) >= 100:
                return self.t.number(v)
            if v == 0:
                return "0"
            if abs(v) < 1:
                digits = max(0, 2 - math.floor(math.log10(abs(v))))
                return self.t.number(v, min(digits, 6))
            return self.t.number(v, 2)
        return str(value)

    def percent(self, share: float) -> str:
        return self.t.percent(float(share))

    def money(self, value: float) -> str:
        return self.t.number(float(value), 2)

    def whole(self, value: float) -> str:
        return self.t.number(float(value))

    def fixed(self, value: float, digits: int) -> str:
        return self.t.number(float(value), digits)

    def interval(self, lo: float, hi: float, fmt: Callable[[float], str]) -> str:
        if not (np.isfinite(lo) and np.isfinite(hi)):
            return ""
        # no-break spaces: an interval never wraps inside a table cell
        return self.t("interval_range", lo=fmt(lo), hi=fmt(hi)).replace(" ", "\u00a0")

    def column(self, values: Sequence[object], fmt: Callable[[float], str]) -> list[str]:
        return [
            fmt(float(v))  # type: ignore[arg-type]
            if isinstance(v, int | float | np.integer | np.floating) and np.isfinite(v)
            else ("" if v is None or isinstance(v, float) else str(v))
            for v in values
        ]

    def intervals(
        self, lower: Sequence[float], upper: Sequence[float], fmt: Callable[[float], str]
    ) -> list[str]:
        return [self.interval(float(a), float(b), fmt) for a, b in zip(lower, upper, strict=True)]
