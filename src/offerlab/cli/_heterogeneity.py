"""``offerlab estimate --model lc|hb|mxl``: fit, progress bar, tables and files.

The estimators live in :mod:`offerlab.models`; this module only turns command-line
options into estimator arguments and results into tables, CSV files and plots.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd
from rich.console import Console
from rich.markup import escape

from offerlab.cli._tables import frame_table, is_default_index
from offerlab.data import write_csv
from offerlab.exceptions import OfferlabError

__all__ = [
    "parse_class_counts",
    "parse_random",
    "parse_restrictions",
    "parse_signs",
]


def parse_class_counts(text: str) -> list[int]:
    """``"2"`` → [2]; ``"1-4"`` → [1, 2, 3, 4]; ``"2,3"`` → [2, 3]."""
    counts: set[int] = set()
    for part in text.split(","):
        match = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", part)
        if match is None:
            raise OfferlabError(
                f"--classes takes a number, a range like 1-4 or a list; got {text!r}"
            )
        low = int(match[1])
        high = int(match[2]) if match[2] else low
        if low < 1 or high < low:
            raise OfferlabError(f"--classes: {part.strip()!r} is not a range of counts >= 1")
        counts.update(range(low, high + 1))
    return sorted(counts)


def parse_restrictions(items: list[str]) -> dict[int, dict[str, float]]:
    """``["1:B_TIME=0"]`` → {1: {"B_TIME": 0.0}} (class numbers start at 1)."""
    out: dict[int, dict[str, float]] = {}
    for item in items:
        match = re.fullmatch(r"\s*(\d+)\s*:\s*([^=\s]+)\s*=\s*(\S+)\s*", item)
        if match is None:
            raise OfferlabError(
                f"--fix takes CLASS:COEFFICIENT=VALUE, e.g. 1:B_TIME=0; got {item!r}"
            )
        try:
            value = float(match[3])
        except ValueError:
            raise OfferlabError(f"--fix {item!r}: {match[3]!r} is not a number") from None
        out.setdefault(int(match[1]), {})[match[2]] = value
    return out


def parse_signs(items: list[str]) -> dict[str, int]:
    """``["price=-", "km=+"]`` → {"price": -1, "km": 1}."""
    out: dict[str, int] = {}
    for item in items:
        match = re.fullmatch(r"\s*([^=\s]+)\s*=\s*([+-])1?\s*", item)
        if match is None:
            raise OfferlabError(f"--sign takes COEFFICIENT=- or COEFFICIENT=+; got {item!r}")
        out[match[1]] = -1 if match[2] == "-" else 1
    return out


def parse_random(items: list[str]) -> dict[str, str] | None:
    """``["price=lognormal", "brand"]`` → {"price": "lognormal", "brand": "normal"}; [] → None."""
    out: dict[str, str] = {}
    for item in items:
        name, _, dist = item.partition("=")
        if not name.strip():
            raise OfferlabError(f"--random takes NAME or NAME=DISTRIBUTION; got {item!r}")
        out[name.strip()] = dist.strip() or "normal"
    return out or None


def print_summary(console: Console, summary: Any) -> None:
    """Every table of a :class:`~offerlab.models.Summary`, then its notes."""
    console.rule(f"[bold]{escape(summary.title)}[/]")
    for name, table in summary.tables.items():
        console.print(frame_table(table, name))
    for note in summary.notes:
        console.print(f"[dim]Note:[/] {escape(note)}")


def write_frames(frames: dict[str, pd.DataFrame], out: Path) -> list[Path]:
    """``name.csv`` for every frame (index kept when it carries names)."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in frames.items():
        path = out / f"{name}.csv"
        keep_index = not is_default_index(frame.index)
        write_csv(frame, path, index=keep_index)
        written.append(path)
    return written
