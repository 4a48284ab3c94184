"""The ``offerlab`` command line; its commands follow the pipeline.

check → design → simulate (or serve: field) → estimate → shares, simulate-market → report;
demo runs the loop on the example.

Each command's module is imported when that command runs (or shows its own help), so
``offerlab --help`` and ``offerlab check`` start without pandas, scipy, matplotlib,
SQLAlchemy or the models.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import Any

import typer
from typer.core import TyperGroup

from offerlab.cli._errors import guarded

__all__ = ["COMMANDS", "CommandEntry", "app"]


@dataclass(frozen=True)
class CommandEntry:
    """One command: its name, the module and function that run it, its one-line help."""

    name: str
    module: str
    function: str
    help: str

    def load(self) -> Any:
        """The command's click command, built from its function (imports its module)."""
        function = getattr(import_module(self.module), self.function)
        single = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
        single.command(self.name, help=self.help)(guarded(function))
        return typer.main.get_command(single)


# One explicit table of commands, in pipeline order.
COMMANDS = (
    CommandEntry(
        "check",
        "offerlab.cli.study",
        "check",
        "Validate a study file and show its attributes, levels and rules.",
    ),
    CommandEntry(
        "design",
        "offerlab.cli.design",
        "design",
        "Make an experimental design (efficient, balanced or random) and diagnose it.",
    ),
    CommandEntry(
        "simulate",
        "offerlab.cli.simulate",
        "simulate",
        "Let simulated respondents answer a design (power analysis, tests, demo).",
    ),
    CommandEntry(
        "serve",
        "offerlab.cli.serve",
        "serve",
        "Field a study: the web survey respondents take on their phones.",
    ),
    CommandEntry(
        "estimate",
        "offerlab.cli.estimate",
        "estimate",
        "Estimate a choice model (multinomial, latent class, mixed logit, hierarchical "
        "Bayes) from choice data and a study or spec file.",
    ),
    CommandEntry(
        "shares",
        "offerlab.cli.shares",
        "shares",
        "Predict shares of preference for a scenario of offers.",
    ),
    CommandEntry(
        "simulate-market",
        "offerlab.cli.market",
        "simulate_market_command",
        "Shares of a market of offers with intervals; optionally the best offer or line-up.",
    ),
    CommandEntry(
        "report",
        "offerlab.cli.report",
        "report",
        "The report business units open: one self-contained HTML file, a PDF and an Excel "
        "workbook.",
    ),
    CommandEntry(
        "demo",
        "offerlab.cli.demo",
        "demo",
        "Run the whole loop on the example car-subscription study.",
    ),
)


class _LazyCommand(typer.core.TyperCommand):
    """A command known by name and help; its module loads when it is run or asked for help."""

    def __init__(self, entry: CommandEntry) -> None:
        super().__init__(name=entry.name, help=entry.help)
        self.entry = entry
        self._loaded: Any = None

    def loaded(self) -> Any:
        if self._loaded is None:
            self._loaded = self.entry.load()
        return self._loaded

    def make_context(
        self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any
    ) -> Any:
        # The returned context belongs to the real command, which the group then invokes.
        return self.loaded().make_context(info_name, args, parent=parent, **extra)

    def main(self, *args: Any, **kwargs: Any) -> Any:
        return self.loaded().main(*args, **kwargs)


class _CommandTable(TyperGroup):
    """The top-level group: every command in :data:`COMMANDS`, each loaded on use."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        for entry in COMMANDS:
            self.add_command(_LazyCommand(entry))


app = typer.Typer(
    name="offerlab",
    cls=_CommandTable,
    help="Test new offers with consumers: study → design → answers → model → shares.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _offerlab() -> None:
    """Test new offers with consumers: study → design → answers → model → shares."""
