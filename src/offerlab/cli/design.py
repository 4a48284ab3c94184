"""``offerlab design``: make an experimental design, write it, and diagnose it."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from offerlab.cli._choices import Method
from offerlab.cli._options import StudyFileArg
from offerlab.cli._progress import run_with_progress
from offerlab.design import DesignDiagnostics, diagnose, make_design
from offerlab.study import load_study

__all__ = ["design", "diagnostics_tables"]


def _console() -> Console:
    """A console that keeps tables whole when the output is not a terminal."""
    console = Console(highlight=False)
    return console if console.is_terminal else Console(width=140, highlight=False)


def diagnostics_tables(diag: DesignDiagnostics) -> list[Table]:
    """Rich tables of a design's diagnostics: efficiency, attributes, design test."""
    eff = Table(title="Efficiency (design tasks only; none option and holdouts left out)")
    eff.add_column("measure")
    eff.add_column("value", justify="right")
    eff.add_row(
        f"D-error, {diag.coding} coding, zero prior (mean of versions)", f"{diag.d_error:.6g}"
    )
    if diag.n_versions > 1:
        eff.add_row(
            "D-error range over versions", f"{diag.d_errors.min():.6g} to {diag.d_errors.max():.6g}"
        )
        eff.add_row("D-error of the versions pooled", f"{diag.d_error_pooled:.6g}")
    if diag.n_unidentified_versions:
        eff.caption = escape(diag.unidentified_note + ".")
    if diag.d_errors_prior is not None:
        eff.add_row("Bayesian D-error under the prior (mean)", f"{diag.d_errors_prior.mean():.6g}")
    if diag.d_efficiency is not None:
        eff.add_row("Street-Burgess optimum (smallest D-error)", f"{diag.optimum:.6g}")
        eff.add_row("D-efficiency (mean of versions)", f"{100 * diag.mean_efficiency:.2f}%")
        eff.add_row("D-efficiency (worst version)", f"{100 * diag.d_efficiency.min():.2f}%")
    else:
        eff.add_row("D-efficiency", "not available (see below)")
        note = escape(f"D-efficiency: {diag.efficiency_note}.")
        eff.caption = f"{eff.caption}\n{note}" if eff.caption else note
    eff.add_row(
        "Tasks with a dominated concept", f"{diag.n_dominated_tasks} of {diag.n_tasks_total}"
    )

    attrs = Table(title="Level balance and overlap")
    for name, justify in [
        ("attribute", "left"),
        ("level counts", "left"),
        ("min/max", "right"),
        ("overlap", "right"),
        ("least possible", "right"),
    ]:
        attrs.add_column(name, justify=justify)  # type: ignore[arg-type]
    counts = diag.level_counts.groupby("attribute", sort=False)
    for bal, ov in zip(diag.balance.itertuples(), diag.overlap.itertuples(), strict=True):
        levels = counts.get_group(bal.attribute)
        shown = ", ".join(f"{r.level} {r.count}" for r in levels.itertuples())
        attrs.add_row(
            bal.attribute,
            escape(shown),
            f"{bal.ratio:.2f}",
            f"{100 * ov.overlap:.0f}%",
            f"{100 * ov.minimal:.0f}%",
        )

    test = Table(
        title=f"Design test: standard errors with {diag.respondents} respondents "
        f"({diag.se_note}), and respondents for SE <= {diag.target_se:g}"
    )
    test.add_column("parameter")
    test.add_column("SE", justify="right")
    test.add_column("respondents needed", justify="right")
    for row in diag.parameters.itertuples():
        identified = not pd.isna(row.respondents_needed) and np.isfinite(row.se)
        needed = f"{int(row.respondents_needed)}" if identified else "not identified"
        test.add_row(escape(row.parameter), f"{row.se:.4f}", needed)
    return [eff, attrs, test]


def design(
    study: StudyFileArg,
    method: Annotated[
        Method | None,
        typer.Option(help="Design method; default: the study's design.method."),
    ] = None,
    versions: Annotated[
        int | None, typer.Option(min=1, help="Versions (questionnaires); default: the study's.")
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="Seed; default: the study's, else a fresh one (shown).")
    ] = None,
    out: Annotated[Path, typer.Option(help="Where to write the design: .csv or .parquet.")] = Path(
        "design.csv"
    ),
    respondents: Annotated[
        int, typer.Option(min=1, help="Respondents for the design test (standard errors).")
    ] = 500,
    target_se: Annotated[
        float, typer.Option(min=0.0, help="Standard error every part-worth should reach.")
    ] = 0.05,
    seconds: Annotated[
        float | None,
        typer.Option(help="Time cap of the efficient search; default: the study's design.seconds."),
    ] = None,
) -> None:
    """Make an experimental design (efficient, balanced or random), write it and diagnose it."""
    console = _console()
    the_study = load_study(study)
    chosen = method or the_study.design.method
    started = time.perf_counter()
    result = run_with_progress(
        console,
        f"{chosen} design",
        lambda progress: make_design(
            the_study,
            method=method,
            versions=versions,
            seed=seed,
            seconds=seconds,
            progress=progress,
        ),
    )
    took = time.perf_counter() - started
    out.parent.mkdir(parents=True, exist_ok=True)
    result.write(out)
    console.print(
        f"[bold]{result.method}[/] design: {result.n_versions} version(s) x {result.n_tasks} "
        f"tasks x {result.n_alternatives} concepts, seed {result.seed}, made in {took:.1f} s; "
        f"written to {escape(str(out))}"
    )
    diag = diagnose(result, respondents=respondents, target_se=target_se)
    for table in diagnostics_tables(diag):
        console.print(table)
    if diag.respondents_needed is None:
        console.print("[red]The design does not identify every part-worth.[/]")
    else:
        console.print(
            f"Every part-worth reaches SE <= {target_se:g} with "
            f"[bold]{diag.respondents_needed}[/] respondents (spread evenly over the versions)."
        )
