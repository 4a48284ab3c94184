"""``offerlab shares``: shares of preference for a scenario of offers."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Annotated

import typer
import yaml
from rich.markup import escape
from rich.table import Table

from offerlab.cli._choices import Coding, CovType, Dual
from offerlab.cli.estimate import fit_from_files, wide_console
from offerlab.data import write_csv
from offerlab.exceptions import OfferlabError, OfferlabWarning
from offerlab.models import ConjointCoding
from offerlab.report import plot_shares
from offerlab.simulate._shares import Scenario, offer_warnings, share_of_preference
from offerlab.study import load_study

__all__ = ["read_scenario", "shares"]


def read_scenario(path: Path) -> Scenario:
    """A scenario YAML file: a list of offers, or a mapping with ``offers``."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise OfferlabError(f"{path}: cannot read the scenario: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise OfferlabError(f"{path}{where}: not valid YAML: {exc}") from None
    if not isinstance(raw, list | dict):
        raise OfferlabError(f"{path}: a scenario is a list of offers (attribute: level)")
    try:
        return Scenario.from_offers(raw)
    except OfferlabError as exc:
        raise OfferlabError(f"{path}: {exc}") from None


def shares(
    data: Annotated[Path, typer.Argument(help="Choice data in the long format.")],
    study: Annotated[Path, typer.Option(help="The study file.")],
    scenario: Annotated[
        Path, typer.Option(help="YAML list of offers, each mapping attribute → level.")
    ],
    coding: Annotated[Coding, typer.Option(help="Coding (both give the same shares).")] = "effects",
    include_none: Annotated[
        bool, typer.Option("--none/--no-none", help="Let the none option compete.")
    ] = True,
    draws: Annotated[int, typer.Option(min=0, help="Parameter draws for the intervals.")] = 1000,
    seed: Annotated[int | None, typer.Option(help="Seed for the draws.")] = None,
    cov: Annotated[CovType, typer.Option(help="Covariance of the draws.")] = "classic",
    dual: Annotated[Dual, typer.Option(help="Dual-response none model.")] = "sawtooth",
    out: Annotated[
        Path | None, typer.Option(help="Folder for shares.csv and the shares.png plot.")
    ] = None,
) -> None:
    """Estimate the MNL, then print each offer's share of preference with a 95% interval."""
    console = wide_console()
    offers = read_scenario(scenario)
    the_study = load_study(study)
    # Check the offers against the study before the (possibly long) fit.
    coding_check = ConjointCoding.from_study(the_study, "effects")
    for name, offer in zip(offers.names, offers.offers, strict=True):
        try:
            coding_check.code_offer(offer, what=f"offer '{name}'")
        except OfferlabError as exc:
            raise OfferlabError(f"{scenario}: {exc}") from None
        for message in offer_warnings(the_study, name, offer):
            console.print(f"[yellow]warning:[/] {escape(f'{scenario}: {message}')}")
    results = fit_from_files(data, study, None, coding, cov, dual)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OfferlabWarning)  # printed above, with the file name
        table = share_of_preference(
            results, offers, include_none=include_none, draws=draws, rng=seed
        )
    title = "Shares of preference" + (
        " (95% interval from parameter draws)" if draws else " (no intervals: --draws 0)"
    )
    shown = Table(title=title)
    for col in ("offer", "share", "95% interval"):
        shown.add_column(col, justify="left" if col == "offer" else "right")
    for row in table.itertuples():
        interval = f"[{100 * row.lower:.1f}%, {100 * row.upper:.1f}%]" if draws else ""
        shown.add_row(escape(str(row.offer)), f"{100 * row.share:.1f}%", interval)
    console.print(shown)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        write_csv(table, out / "shares.csv")
        plot_shares(table, out / "shares.png", title=title)
        console.print(f"shares.csv and shares.png written to [bold]{escape(str(out))}/[/]")
