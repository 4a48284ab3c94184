"""``offerlab simulate-market``: shares of a market of offers, and the best offer to launch.

The market file (YAML; :mod:`offerlab.decide._market_file`) names our offers, the
competitors', status-quo options and whether the none option competes, the costs per
level, and what the optimiser may change; it is read like a study file: every problem
comes back with the file, line and field. :func:`fit_for_decisions` (a progress bar
around :func:`~offerlab.models._by_name.fit_decision_model`) is shared with
``offerlab report``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from offerlab.cli._choices import Model
from offerlab.cli._progress import run_with_progress
from offerlab.cli._tables import frame_table
from offerlab.cli.estimate import wide_console
from offerlab.data import ChoiceData, write_csv
from offerlab.decide import OptimisationResult, calibrate_scale, simulator_for
from offerlab.decide._market import RULE_NAMES
from offerlab.decide._market_file import Objective, format_number, load_market, optimise_market
from offerlab.exceptions import OfferlabError
from offerlab.models._by_name import DECISION_MODELS, decision_model_title, fit_decision_model
from offerlab.report import plot_shares
from offerlab.study import Study, load_study

__all__ = [
    "RULE_NAMES",
    "Objective",
    "Rule",
    "fit_for_decisions",
    "scale_for",
    "simulate_market_command",
]

Rule = Literal["sop", "fc", "rfc"]
RULE_TITLES = {
    "sop": "share of preference",
    "fc": "first choice",
    "rfc": "randomized first choice",
}


# -- fitting and simulating -----------------------------------------------------------------


def fit_for_decisions(
    console: Console,
    data: ChoiceData,
    study: Study,
    model: str,
    *,
    classes: int = 2,
    burn_in: int = 2000,
    iterations: int = 2000,
    chains: int = 2,
    seed: int = 0,
) -> Any:
    """Fit the model the decisions rest on (mnl, lc or hb), with a progress bar."""
    if model not in DECISION_MODELS:
        raise OfferlabError(f"--model must be mnl, lc or hb; got {model!r}")
    title = decision_model_title(
        model, classes=classes, burn_in=burn_in, iterations=iterations, chains=chains
    )
    options = {"classes": classes, "burn_in": burn_in, "iterations": iterations}
    return run_with_progress(
        console,
        title,
        lambda progress: fit_decision_model(
            model, data, study, chains=chains, seed=seed, progress=progress, **options
        ),
    )


def scale_for(
    console: Console, results: Any, data: ChoiceData, scale: float, tune: bool, rule: str = "sop"
) -> tuple[float, str | None]:
    """``scale``, or with ``tune`` the one the holdout tasks favour under ``rule`` (and how
    it was found)."""
    if not tune:
        return scale, None
    if rule == "fc":
        raise OfferlabError("--tune-scale needs a rule with a scale: sop or rfc (not fc)")
    tuned = calibrate_scale(results, data, rule=rule)
    note = tuned.describe()
    console.print(f"[bold]scale:[/] {escape(note)}")
    return tuned.scale, note


# -- output -----------------------------------------------------------------------------------


def _percent(value: float) -> str:
    return "" if not np.isfinite(value) else f"{100 * value:.1f}%"


def shares_table(frame: pd.DataFrame, title: str, currency: str) -> Table:
    """Rich table of :meth:`MarketSimulator.shares` (with segments when present)."""
    table = Table(title=escape(title))
    segmented = "segment" in frame.columns
    columns = (["segment"] if segmented else []) + ["alternative", "ours", "share", "95% interval"]
    columns += [f"revenue per head ({currency})".strip()]
    for col in columns:
        table.add_column(
            escape(col), justify="left" if col in ("segment", "alternative") else "right"
        )
    has_interval = "lower" in frame.columns
    for row in frame.itertuples():
        cells = [escape(str(row.segment))] if segmented else []
        interval = f"[{_percent(row.lower)}, {_percent(row.upper)}]" if has_interval else ""
        revenue = f"{row.revenue:,.2f}" if np.isfinite(row.revenue) else ""
        cells += [
            escape(str(row.alternative)),
            "yes" if row.ours else "",
            _percent(row.share),
            interval,
            revenue,
        ]
        table.add_row(*cells)
    return table


def print_optimisation(
    console: Console, result: OptimisationResult, currency: str, objective: str
) -> None:
    """The best candidates (numbers), then the recommended line-up in words."""
    unit = "share" if objective == "share" else f"{objective} per person in the market ({currency})"
    shown = result.table.drop(columns=["lineup"]).head(5)
    title = f"Best candidates ({result.method} over {result.n_candidates:,} candidates; {unit})"
    console.print(frame_table(shown, title, index=False))
    for row in result.table.head(3).itertuples():
        console.print(f"  [dim]#{row.rank}:[/] {escape(str(row.lineup))}")
    fmt = _percent if objective == "share" else (lambda v: f"{v:,.2f}")
    console.print("[bold]Recommended:[/]")
    for i, offer in enumerate(result.best, start=1):
        console.print(f"  tier {i}: " + escape(describe_offer(offer)))
    console.print(
        f"  expected {objective}: {fmt(result.expected)}; pessimistic (10% quantile): "
        f"{fmt(result.pessimistic)}; it beats the runner-up in "
        f"{100 * result.p_beats_runner_up:.0f}% of the uncertainty draws"
    )


def describe_offer(offer: dict[str, object]) -> str:
    """``car_class=suv, monthly_price=590`` with whole numbers shown whole."""
    return ", ".join(
        f"{a}={v if isinstance(v, str) else format_number(v)}" for a, v in offer.items()
    )


def simulate_market_command(
    answers: Annotated[Path, typer.Argument(help="Choice data in the long format.")],
    study: Annotated[Path, typer.Option(help="The study file.")],
    market: Annotated[
        Path,
        typer.Option(help="Market file (YAML): our offers, competitors, status quo, costs."),
    ],
    model: Annotated[
        Model, typer.Option(help="mnl, lc (latent classes) or hb (hierarchical Bayes).")
    ] = "mnl",
    rule: Annotated[
        Rule,
        typer.Option(help="sop: share of preference; fc: first choice; rfc: randomized FC."),
    ] = "sop",
    scale: Annotated[
        float, typer.Option(min=0.0, help="Scale factor on utilities (sop, rfc): <1 flattens.")
    ] = 1.0,
    tune_scale: Annotated[
        bool,
        typer.Option(
            "--tune-scale", help="Tune the scale factor on the holdout tasks (overrides --scale)."
        ),
    ] = False,
    optimise: Annotated[
        Objective | None,
        typer.Option(help="Search the study's offers for the best share, revenue or profit."),
    ] = None,
    by_segment: Annotated[
        bool, typer.Option("--by-segment", help="Shares per segment (latent classes).")
    ] = False,
    aggregate: Annotated[
        bool,
        typer.Option(
            "--aggregate",
            help="Simulate one average consumer (the aggregate view) instead of the "
            "individuals (hb) or classes (lc) the model estimated.",
        ),
    ] = False,
    classes: Annotated[int, typer.Option(min=1, help="Classes for --model lc.")] = 2,
    burn_in: Annotated[int, typer.Option(min=0, help="HB iterations before draws.")] = 2000,
    iterations: Annotated[int, typer.Option(min=4, help="HB draws kept per chain.")] = 2000,
    draws: Annotated[int, typer.Option(min=0, help="Uncertainty draws for intervals.")] = 200,
    seed: Annotated[int, typer.Option(help="Seed of draws and searches.")] = 0,
    out: Annotated[
        Path | None, typer.Option(help="Folder for shares.csv, shares.png, optimisation.csv.")
    ] = None,
) -> None:
    """Shares of a market of offers with intervals; optionally the best offer or line-up."""
    console = wide_console()
    the_study = load_study(study)
    spec = load_market(market, the_study)  # checked before the (possibly long) fit
    for message in spec.warnings():
        console.print(f"[yellow]warning:[/] {escape(message)}")
    if scale <= 0:
        raise OfferlabError("--scale must be positive")
    data = ChoiceData.read(answers, the_study)
    results = fit_for_decisions(
        console,
        data,
        the_study,
        model,
        classes=classes,
        burn_in=burn_in,
        iterations=iterations,
        seed=seed,
    )
    scale, _ = scale_for(console, results, data, scale, tune_scale, rule)
    sim = simulator_for(results, rule, scale, n_draws=draws, seed=seed, aggregate=aggregate)
    the_market = spec.market(results.coding)
    frame = sim.shares(the_market, by_segment=by_segment)
    price = the_study.price_attribute
    currency = price.currency if price is not None else ""
    title = f"Shares ({RULE_TITLES[rule]}, {model}"
    title += f", 95% interval from {sim.n_draws} draws)" if sim.n_draws else ", no intervals)"
    console.print(shares_table(frame, title, currency))
    console.print(f"[dim]From: {escape(sim.provenance.describe())}[/]")
    result = None
    if optimise is not None:
        result = run_with_progress(
            console,
            f"optimiser ({optimise})",
            lambda progress: optimise_market(sim, the_market, spec, optimise, seed=seed),
        )
        print_optimisation(console, result, currency, optimise)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        write_csv(frame, out / "shares.csv")
        whole = frame if "segment" not in frame.columns else sim.shares(the_market)
        plot_shares(whole.rename(columns={"alternative": "offer"}), out / "shares.png", title=title)
        written = ["shares.csv", "shares.png"]
        if result is not None:
            write_csv(result.table, out / "optimisation.csv")
            written.append("optimisation.csv")
            if result.shares is not None and result.sources is not None:
                result.shares.to_csv(out / "recommended_market.csv", index=False)
                result.sources.to_csv(out / "sources_of_volume.csv", index=False)
                written += ["recommended_market.csv", "sources_of_volume.csv"]
        console.print(f"{', '.join(written)} written to [bold]{escape(str(out))}/[/]")
