"""Translate errors at the command-line edge: one clear message, exit code 2, no traceback."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from offerlab.exceptions import OfferlabError

__all__ = ["EXIT_BAD_INPUT", "EXIT_INTERRUPTED", "err_console", "guarded"]

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

P = ParamSpec("P")
R = TypeVar("R")


def guarded(command: Callable[P, R]) -> Callable[P, R]:
    """Run a command; an ``OfferlabError`` becomes its message on stderr and exit code 2."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except OfferlabError as exc:
            # Messages quote the user's text, which may hold Rich markup such as "[/]".
            err_console.print(f"[bold red]error:[/] {escape(str(exc))}")
            raise typer.Exit(EXIT_BAD_INPUT) from None
        except KeyboardInterrupt:
            err_console.print("interrupted; nothing half-written was kept")
            raise typer.Exit(EXIT_INTERRUPTED) from None

    return run
