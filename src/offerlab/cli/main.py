"""The ``offerlab`` command line; its commands follow the pipeline.

check → design → simulate (or field) → estimate → shares; demo runs them all.
"""

from __future__ import annotations

import typer

from offerlab.cli._errors import guarded
from offerlab.cli.demo import demo
from offerlab.cli.design import design
from offerlab.cli.estimate import estimate
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
    (
        "estimate",
        estimate,
        "Estimate a multinomial logit from choice data and a study or spec file.",
    ),
    ("shares", shares, "Predict shares of preference for a scenario of offers."),
    ("serve", serve, "Field a study: the web survey respondents take on their phones."),
    ("demo", demo, "Run the whole loop on the example car-subscription study."),
)
for name, function, help_text in COMMANDS:
    app.command(name, help=help_text)(guarded(function))
