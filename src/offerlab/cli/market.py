"""``offerlab simulate-market``: shares of a market of offers, and the best offer to launch.

The market file (YAML; :func:`offerlab.decide.load_market`) names our offers, the
competitors', status-quo options and whether the none option competes, the costs per
level, and what the optimiser may change; it is read like a study file: every problem
comes back with the file, line and field. :func:`fit_market` (the answers, the fit with a
progress bar, the scale and the simulator) and :func:`load_market_file` are shared with
``offerlab report``, as are the options of the fit (``offerlab.cli._options``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from offerlab.cli._choices import Model
from offerlab.cli._options import (
    AnswersArg,
    BurnInOpt,
    ClassesOpt,
    DrawsOpt,
    InterweaveOpt,
    IterationsOpt,
    SeedOpt,
    StudyOpt,
    TuneScaleOpt,
)
from offerlab.cli._progress import run_with_progress
from offerlab.cli._tables import frame_table
from offerlab.cli.estimate import wide_console
from offerlab.data import ChoiceData, write_csv
from offerlab.decide import (
    RULE_NAMES,
    RULE_TITLES,
    Costs,
    MarketMoney,
    MarketSimulator,
    MarketSpec,
    Objective,
    OptimisationResult,
    calibrate_scale,
    edge_caution,
    format_number,
    load_market,
    market_money,
    model_checks,
    optimise_market,
    recommendation_verdict,
    simulator_for,
)
from offerlab.exceptions import OfferlabError
from offerlab.models import (
    DECISION_MODELS,
    ChoiceResults,
    DecisionFit,
    decision_model_title,
    fit_decision_model,
)
from offerlab.report import plot_shares
from offerlab.study import Study, load_study

__all__ = [
    "RULE_NAMES",
    "BurnInOpt",
    "ClassesOpt",
    "DecisionRun",
    "DrawsOpt",
    "FittedMarket",
    "InterweaveOpt",
    "IterationsOpt",
    "Objective",
    "Rule",
    "SeedOpt",
    "TuneScaleOpt",
    "fit_for_decisions",
    "fit_market",
    "load_market_file",
    "scale_for",
    "simulate_market_command",
]

Rule = Literal["sop", "fc", "rfc"]

# -- fitting and simulating -----------------------------------------------------------------


def load_market_file(console: Console, path: Path, study: Study) -> MarketSpec:
    """The market file, checked against the study, its warnings printed."""
    spec = load_market(path, study)
    for message in spec.warnings():
        console.print(f"[yellow]warning:[/] {escape(message)}")
    return spec


def fit_for_decisions(
    console: Console, data: ChoiceData, study: Study, model: str, fit: DecisionFit
) -> ChoiceResults:
    """Fit the model the decisions rest on (mnl, lc or hb), with a progress bar."""
    if model not in DECISION_MODELS:
        raise OfferlabError(f"--model must be mnl, lc or hb; got {model!r}")
    return run_with_progress(
        console,
        decision_model_title(model, fit),
        lambda progress: fit_decision_model(model, data, study, fit, progress=progress),
    )


def scale_for(
    console: Console,
    results: ChoiceResults,
    data: ChoiceData,
    scale: float,
    tune: bool,
    rule: str = "sop",
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


@dataclass(frozen=True)
class DecisionRun:
    """The command-line choices behind a market's decisions: the model and its fit, the
    choice rule, its scale (or tuning it on the holdouts) and the uncertainty draws."""

    model: str
    fit: DecisionFit
    rule: str = "sop"
    scale: float = 1.0
    tune_scale: bool = False
    draws: int = 200
    aggregate: bool = False


@dataclass(frozen=True)
class FittedMarket:
    """The answers read, the model fitted on them and the simulator it drives."""

    data: ChoiceData
    results: ChoiceResults
    sim: MarketSimulator
    scale_note: str | None


def fit_market(console: Console, answers: Path, study: Study, run: DecisionRun) -> FittedMarket:
    """Read the answers, fit the decision model and build its market simulator (the
    common start of ``simulate-market`` and ``report``)."""
    if run.scale <= 0:
        raise OfferlabError("--scale must be positive")
    data = ChoiceData.read(answers, study)
    results = fit_for_decisions(console, data, study, run.model, run.fit)
    scale, note = scale_for(console, results, data, run.scale, run.tune_scale, run.rule)
    sim = simulator_for(
        results, run.rule, scale, n_draws=run.draws, seed=run.fit.seed, aggregate=run.aggregate
    )
    return FittedMarket(data, results, sim, note)


# -- output -----------------------------------------------------------------------------------


def _percent(value: float) -> str:
    return "" if not np.isfinite(value) else f"{100 * value:.1f}%"


def _amount(value: float) -> str:
    return "" if not np.isfinite(value) else f"{value:,.2f}"


def _range(lo: float, hi: float, fmt: Any) -> str:
    return f"[{fmt(lo)}, {fmt(hi)}]" if np.isfinite(lo) and np.isfinite(hi) else ""


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
        interval = _range(row.lower, row.upper, _percent) if has_interval else ""
        cells += [
            escape(str(row.alternative)),
            "yes" if row.ours else "",
            _percent(row.share),
            interval,
            _amount(row.revenue),
        ]
        table.add_row(*cells)
    return table


def money_table(money: MarketMoney, title: str, currency: str) -> Table:
    """Rich table of :func:`~offerlab.decide.market_money`: shares, revenue, margin and
    profit per person in the market with their intervals, and our offers together."""
    t = money.table
    with_profit = bool(np.isfinite(t["profit"].to_numpy(float)).any())
    unit = f" ({currency})" if currency else ""
    columns = ["alternative", "ours", "share", "95% interval", f"revenue per head{unit}", "95%"]
    if with_profit:
        columns += [f"margin per sale{unit}", f"profit per head{unit}", "95% "]
    table = Table(title=escape(title))
    for col in columns:
        table.add_column(escape(col), justify="left" if col == "alternative" else "right")
    nan = float("nan")
    for row in t.to_dict("records"):
        cells = [
            escape(str(row["alternative"])),
            "yes" if row["ours"] else "",
            _percent(row["share"]),
            _range(row.get("lower", nan), row.get("upper", nan), _percent),
            _amount(row["revenue"]),
            _range(row.get("revenue_lower", nan), row.get("revenue_upper", nan), _amount),
        ]
        if with_profit:
            cells += [
                _amount(row["margin"]),
                _amount(row["profit"]),
                _range(row.get("profit_lower", nan), row.get("profit_upper", nan), _amount),
            ]
        table.add_row(*cells)
    total = money.total
    if np.isfinite(total["share"]):
        cells = [
            "[bold]our offers together[/]",
            "",
            _percent(total["share"]),
            _range(total["share_lower"], total["share_upper"], _percent),
            _amount(total["revenue"]),
            _range(total["revenue_lower"], total["revenue_upper"], _amount),
        ]
        if with_profit:
            cells += [
                "",
                _amount(total["profit"]),
                _range(total["profit_lower"], total["profit_upper"], _amount),
            ]
        table.add_row(*cells)
    return table


#: Columns of the optimiser's table that are shares or probabilities: percentages.
PERCENT_COLUMNS = ("share", "p_best")


def optimisation_frame(result: OptimisationResult) -> pd.DataFrame:
    """The best candidates as printed: shares and probabilities as percentages (text)."""
    shown = result.table.drop(columns=["lineup"]).head(5).copy()
    percent = PERCENT_COLUMNS + (
        ("expected", "pessimistic", "lower", "upper") if result.objective == "share" else ()
    )
    for col in percent:
        if col in shown.columns:
            shown[col] = [_percent(float(v)) for v in shown[col]]
    return shown


def print_optimisation(
    console: Console,
    result: OptimisationResult,
    currency: str,
    objective: str,
    study: Study | None = None,
    checks: list[str] | None = None,
) -> None:
    """The best candidates (numbers), then the recommended line-up in words, with the
    cautions the report shows (edge of the studied prices, the model's convergence)."""
    unit = "share" if objective == "share" else f"{objective} per person in the market ({currency})"
    title = f"Best candidates ({result.method} over {result.n_candidates:,} candidates; {unit})"
    console.print(frame_table(optimisation_frame(result), title, index=False))
    for row in result.table.head(3).itertuples():
        console.print(f"  [dim]#{row.rank}:[/] {escape(str(row.lineup))}")
    console.print("[bold]Recommended:[/]")
    for i, offer in enumerate(result.best, start=1):
        console.print(f"  tier {i}: " + escape(describe_offer(offer)))
        if study is not None:
            for line in edge_caution(study, offer):
                console.print(f"  [yellow]{escape(line)}[/]")
    for line in recommendation_verdict(result, currency):
        console.print(f"  {escape(line)}")
    for line in checks or []:
        console.print(f"  [yellow]{escape(line)}[/]")


def describe_offer(offer: dict[str, object]) -> str:
    """``car_class=suv, monthly_price=590`` with whole numbers shown whole."""
    return ", ".join(
        f"{a}={v if isinstance(v, str) else format_number(v)}" for a, v in offer.items()
    )


def simulate_market_command(
    answers: AnswersArg,
    study: StudyOpt,
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
    tune_scale: TuneScaleOpt = False,
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
    classes: ClassesOpt = 2,
    burn_in: BurnInOpt = 2000,
    iterations: IterationsOpt = 2000,
    interweave_coordinates: InterweaveOpt = "entries",
    draws: DrawsOpt = 200,
    seed: SeedOpt = 0,
    out: Annotated[
        Path | None, typer.Option(help="Folder for shares.csv, shares.png, optimisation.csv.")
    ] = None,
) -> None:
    """Shares of a market of offers with intervals; optionally the best offer or line-up."""
    console = wide_console()
    the_study = load_study(study)
    spec = load_market_file(console, market, the_study)  # checked before the (long) fit
    fit = DecisionFit(
        classes=classes, burn_in=burn_in, iterations=iterations, seed=seed,
        interweave_coordinates=interweave_coordinates,
    )  # fmt: skip
    run = DecisionRun(model, fit, rule, scale, tune_scale, draws, aggregate)
    fitted = fit_market(console, answers, the_study, run)
    results, sim = fitted.results, fitted.sim
    the_market = spec.market(results.coding)
    frame = sim.shares(the_market, by_segment=by_segment)
    price = the_study.price_attribute
    currency = price.currency if price is not None else ""
    title = f"Shares ({RULE_TITLES[RULE_NAMES[rule]]}, {model}"
    title += f", 95% interval from {sim.n_draws} draws)" if sim.n_draws else ", no intervals)"
    if by_segment:
        console.print(shares_table(frame, title, currency))
    else:
        money = market_money(sim, the_market, Costs.from_spec(spec))
        console.print(money_table(money, title, currency))
        frame = money.table
    console.print(f"[dim]From: {escape(sim.provenance.describe())}[/]")
    result = None
    if optimise is not None:
        result = run_with_progress(
            console,
            f"optimiser ({optimise})",
            lambda progress: optimise_market(sim, the_market, spec, optimise, seed=seed),
        )
        print_optimisation(console, result, currency, optimise, the_study, model_checks(results))
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
