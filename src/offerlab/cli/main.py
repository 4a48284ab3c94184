"""The ``offerlab`` command line; its commands follow the pipeline.

check → design → simulate (or serve: field) → estimate → shares, simulate-market → report;
demo runs the loop on the example.
"""

from __future__ import annotations

import typer

from offerlab.cli._errors import guarded
from offerlab.cli.demo import demo
from offerlab.cli.design import design
from offerlab.cli.estimate import estimate
from offerlab.cli.market import simulate_market_command
from offerlab.cli.report import report
from offerlab.cli.serve import serve
from offerlab.cli.shares import shares
from offerlab.cli.simulate import simulate
from offerlab.cli.study import check

__all__ = ["app"]

app = typer.Typer(
    name="offerlab",
    help="Test new offers with consumers: study → design → answers → model → shares.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# One explicit table of commands, in pipeline order.
COMMANDS = (
    ("check", check, "Validate a study file and show its attributes, levels and rules."),
    (
        "design",
        design,
        "Make an experimental design (efficient, balanced or random) and diagnose it.",
    ),
    (
        "simulate",
        simulate,
        "Let simulated respondents answer a design (power analysis, tests, demo).",
    ),
    ("serve", serve, "Field a study: the web survey respondents take on their phones."),
    (
        "estimate",
        estimate,
        "Estimate a choice model (multinomial, latent class, mixed logit, hierarchical "
        "Bayes) from choice data and a study or spec file.",
    ),
    ("shares", shares, "Predict shares of preference for a scenario of offers."),
    (
        "simulate-market",
        simulate_market_command,
        "Shares of a market of offers with intervals; optionally the best offer or line-up.",
    ),
    (
        "report",
        report,
        "The report business units open: one self-contained HTML file, a PDF and an Excel "
        "workbook.",
    ),
    ("demo", demo, "Run the whole loop on the example car-subscription study."),
)
for name, function, help_text in COMMANDS:
    app.command(name, help=help_text)(guarded(function))
