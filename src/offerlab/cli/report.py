"""``offerlab report``: the report business units open — HTML, PDF and Excel."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.markup import escape

from offerlab.cli._advice import print_advice
from offerlab.cli._choices import Language, Model
from offerlab.cli._options import AnswersArg, StudyOpt
from offerlab.cli._progress import run_with_progress
from offerlab.cli.estimate import wide_console
from offerlab.cli.market import (
    RULE_NAMES,
    BurnInOpt,
    ClassesOpt,
    DecisionRun,
    DrawsOpt,
    InterweaveOpt,
    IterationsOpt,
    Objective,
    Rule,
    SeedOpt,
    TuneScaleOpt,
    fit_market,
    load_market_file,
)
from offerlab.decide import Costs, MarketSpec
from offerlab.exceptions import OfferlabError
from offerlab.models import DecisionFit
from offerlab.study import load_study

__all__ = ["report"]

FORMATS = ("html", "pdf", "xlsx")


def _read_table(path: Path, what: str) -> pd.DataFrame:
    try:
        if path.suffix.lower() == ".parquet":
            return pd.read_parquet(path)
        return pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise OfferlabError(f"{path}: cannot read the {what}: {exc}") from None


def _objective(spec: MarketSpec | None, asked: str | None) -> str | None:
    """What the recommendation optimises: as asked, else profit with costs, else revenue;
    nothing without tiers to optimise."""
    if spec is None:
        if asked is not None:
            raise OfferlabError("--optimise needs a --market file (competitors, costs)")
        return None
    if not spec.tiers:
        return None
    objective = asked or ("profit" if spec.has_costs else "revenue")
    if objective == "profit" and not spec.has_costs:
        raise OfferlabError(f"{spec.path}: a profit recommendation needs costs")
    return objective


def _optimiser_options(spec: MarketSpec | None, seed: int) -> dict[str, Any] | None:
    """The market file's search: tiers, costs, price grid, fixed levels, pessimism."""
    if spec is None:
        return None
    return {
        "slots": spec.tiers, "costs": spec.costs or None, "base_cost": spec.file.base_cost,
        "prices": spec.price_grid(), "fixed": dict(spec.file.optimise.fixed),
        "pessimism": spec.file.optimise.pessimism, "rng": seed,
    }  # fmt: skip


def report(
    answers: AnswersArg,
    study: StudyOpt,
    out: Annotated[Path, typer.Option(help="Folder for report.html, report.pdf, report.xlsx.")],
    market: Annotated[
        Path | None,
        typer.Option(help="Market file: shares, the optimiser and the conjoint demand curve."),
    ] = None,
    model: Annotated[
        Model, typer.Option(help="mnl, lc or hb: the model decisions rest on.")
    ] = "mnl",
    rule: Annotated[Rule, typer.Option(help="Choice rule of the market tables.")] = "sop",
    scale: Annotated[float, typer.Option(min=0.0, help="Scale factor on utilities.")] = 1.0,
    tune_scale: TuneScaleOpt = False,
    optimise: Annotated[
        Objective | None,
        typer.Option(
            help="Objective of the recommendation (default: profit with costs, else revenue)."
        ),
    ] = None,
    survey_answers: Annotated[
        Path | None,
        typer.Option(
            help="The survey's other answers (fielding export or tidy table): "
            "price questions, obstacles."
        ),
    ] = None,
    respondents: Annotated[
        Path | None,
        typer.Option(help="The fielding export's respondents table (status, quality flags)."),
    ] = None,
    maxdiff: Annotated[
        Path | None, typer.Option(help="The MaxDiff page's export (maxdiff.csv): the needs page.")
    ] = None,
    kano: Annotated[
        Path | None, typer.Option(help="The Kano page's export (kano.csv): the needs page.")
    ] = None,
    concepts: Annotated[
        Path | None,
        typer.Option(help="The concept test's export (concepts.csv): the concept page."),
    ] = None,
    formats: Annotated[
        list[str] | None, typer.Option("--format", help="html, pdf, xlsx (repeat; default all).")
    ] = None,
    language: Annotated[Language, typer.Option(help="Language of labels.")] = "en",
    classes: ClassesOpt = 2,
    burn_in: BurnInOpt = 2000,
    iterations: IterationsOpt = 2000,
    interweave_coordinates: InterweaveOpt = "entries",
    draws: DrawsOpt = 200,
    seed: SeedOpt = 0,
) -> None:
    """Write one self-contained HTML report (opens offline), a PDF and an Excel workbook."""
    from offerlab.report import ReportOptions, build_report, write_excel, write_html, write_pdf

    console = wide_console()
    wanted = list(formats or FORMATS)
    unknown = [f for f in wanted if f not in FORMATS]
    if unknown:
        raise OfferlabError(f"--format takes html, pdf or xlsx; got {unknown}")
    the_study = load_study(study)
    spec = load_market_file(console, market, the_study) if market is not None else None
    objective = _objective(spec, optimise)
    other = _read_table(survey_answers, "survey answers") if survey_answers else None
    people = _read_table(respondents, "respondents table") if respondents else None
    fit = DecisionFit(
        classes=classes, burn_in=burn_in, iterations=iterations, seed=seed,
        interweave_coordinates=interweave_coordinates,
    )  # fmt: skip
    run = DecisionRun(model, fit, rule, scale, tune_scale, draws)
    fitted = fit_market(console, answers, the_study, run)
    results, data, sim = fitted.results, fitted.data, fitted.sim
    options = ReportOptions(
        model=model, sim=sim, market=spec.market(results.coding) if spec is not None else None,
        objective=objective, optimise=_optimiser_options(spec, seed),
        pricing_offer=spec.pricing_offer if spec is not None else None,
        pricing_prices=spec.price_grid() if spec is not None else None,
        costs=Costs.from_spec(spec) if spec is not None else None,
        answers=other, respondents=people, language=language, scale_note=fitted.scale_note,
        maxdiff=_read_table(maxdiff, "MaxDiff answers") if maxdiff else None,
        kano=_read_table(kano, "Kano answers") if kano else None,
        concepts=_read_table(concepts, "concept-test answers") if concepts else None,
    )  # fmt: skip
    content = run_with_progress(
        console,
        "report: tables, optimiser, pricing, figures",
        lambda progress: build_report(results, data, the_study, options),
    )
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in dict.fromkeys(wanted):
        path = out / f"report.{fmt}"
        {"html": write_html, "pdf": write_pdf, "xlsx": write_excel}[fmt](content, path)
        written.append(path.name)
    print_advice(console, content)
    console.print(
        f"{', '.join(written)} written to [bold]{escape(str(out))}/[/] "
        f"({RULE_NAMES[rule].replace('_', ' ')} rule, model {model})"
    )
