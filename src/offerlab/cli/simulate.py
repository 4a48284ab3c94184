"""``offerlab simulate``: simulated respondents answer a design."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from offerlab.cli._options import StudyFileArg
from offerlab.data import read_table, write_table
from offerlab.exceptions import ChoiceDataError
from offerlab.simulate import load_population, simulate_answers
from offerlab.study import load_study

__all__ = ["simulate"]


def simulate(
    study: StudyFileArg,
    design: Annotated[
        Path,
        typer.Option(help="The design table (CSV or Parquet) from `offerlab design`.", exists=True),
    ],
    population: Annotated[
        Path,
        typer.Option(
            help="Population file (YAML): part-worths and spread per segment.", exists=True
        ),
    ],
    respondents: Annotated[
        int, typer.Option(min=1, help="How many respondents to simulate.")
    ] = 500,
    seed: Annotated[int | None, typer.Option(help="Seed for reproducible answers.")] = None,
    out: Annotated[Path, typer.Option(help="Answers, long format (.csv or .parquet).")] = Path(
        "answers.csv"
    ),
    truth: Annotated[
        Path | None, typer.Option(help="Also write each respondent's true part-worths here.")
    ] = None,
) -> None:
    """Let simulated respondents answer the design by the logit rule."""
    console = Console()
    spec = load_study(study)
    pop = load_population(population, spec)
    design_frame = read_table(design)
    try:
        answers = simulate_answers(spec, design_frame, pop, respondents, rng=seed)
    except ChoiceDataError as error:
        raise ChoiceDataError(f"{design}: {error}") from None
    answers.data.write(out)
    console.print(
        f"{respondents} simulated respondents answered {answers.data.n_tasks} tasks"
        f" → [bold]{escape(str(out))}[/]"
    )
    if truth is not None:
        write_table(answers.truth, truth)
        console.print(f"true part-worths → [bold]{escape(str(truth))}[/]")
