"""What a report advises, printed after it is written (``offerlab report``, ``offerlab demo``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.markup import escape

if TYPE_CHECKING:
    from rich.console import Console

    from offerlab.report import ReportContent

__all__ = ["print_advice"]


def print_advice(console: Console, content: ReportContent) -> None:
    """The report's recommendation, then its pricing comparison, one line each, both in
    the report's language."""
    for line in content.recommendation:
        console.print(f"[bold]recommendation:[/] {escape(line)}")
    for line in content.pricing_lines:
        console.print(f"[bold]pricing:[/] {escape(line)}")
