"""Command-line options that several commands take, declared once as ``Annotated`` types
so that their names, limits and help agree from one command to the next."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from offerlab.cli._choices import InterweaveCoordinates

__all__ = [
    "INTERWEAVE_HELP",
    "AnswersArg",
    "BurnInOpt",
    "ClassesOpt",
    "DrawsOpt",
    "InterweaveOpt",
    "IterationsOpt",
    "SeedOpt",
    "StudyFileArg",
    "StudyOpt",
    "TuneScaleOpt",
]

# -- the study and the answers ------------------------------------------------------------
AnswersArg = Annotated[Path, typer.Argument(help="Choice data in the long format.")]
StudyOpt = Annotated[Path, typer.Option(help="The study file.")]
StudyFileArg = Annotated[
    Path, typer.Argument(help="The study file (YAML).", exists=True, dir_okay=False)
]

# -- fitting a decision model and simulating a market (``simulate-market``, ``report``) ----
TuneScaleOpt = Annotated[
    bool,
    typer.Option(
        "--tune-scale", help="Tune the scale factor on the holdout tasks (overrides --scale)."
    ),
]
ClassesOpt = Annotated[int, typer.Option(min=1, help="Classes for --model lc.")]
BurnInOpt = Annotated[int, typer.Option(min=0, help="HB iterations before draws.")]
IterationsOpt = Annotated[int, typer.Option(min=4, help="HB draws kept per chain.")]
INTERWEAVE_HELP = (
    "How the covariance move sees the covariance's Cholesky factor: its entries, or each "
    "row as its diagonal times ratios (row-ratios: use it when a population variance near "
    "zero keeps the chains from converging)."
)
InterweaveOpt = Annotated[
    InterweaveCoordinates, typer.Option("--interweave-coordinates", help="HB: " + INTERWEAVE_HELP)
]
DrawsOpt = Annotated[int, typer.Option(min=0, help="Uncertainty draws for intervals.")]
SeedOpt = Annotated[int, typer.Option(help="Seed of draws and searches.")]
