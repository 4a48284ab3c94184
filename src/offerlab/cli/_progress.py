"""A Rich progress bar with time left around long library calls, and their warnings."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from offerlab.exceptions import OfferlabWarning

__all__ = ["run_with_progress"]


def run_with_progress(
    console: Console, description: str, work: Callable[[Callable[[float], None]], Any]
) -> Any:
    """Run ``work(progress)`` under a Rich bar with time left; print offerlab warnings after."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
    )
    with (
        warnings.catch_warnings(record=True) as caught,
        Progress(*columns, console=console, transient=True) as bar,
    ):
        warnings.simplefilter("always", OfferlabWarning)
        step = bar.add_task(description, total=1.0)
        result = work(lambda done: bar.update(step, completed=min(max(done, 0.0), 1.0)))
    for w in caught:
        if issubclass(w.category, OfferlabWarning):
            console.print(f"[yellow]warning:[/] {escape(str(w.message))}")
    return result
