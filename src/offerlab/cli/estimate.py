"""``offerlab estimate``: a multinomial logit from choice data and a study or a spec file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from offerlab.cli._choices import Coding, CovType, Dual
from offerlab.data import ChoiceData
from offerlab.exceptions import OfferlabError
from offerlab.models import MNLResults, MultinomialLogit, load_spec
from offerlab.study import load_study

__all__ = ["estimate", "fit_from_files", "print_results", "wide_console", "write_tables"]


def wide_console() -> Console:
    """A console that does not squeeze tables to 80 columns when output is not a terminal."""
    console = Console()
    if not console.is_terminal:
        console = Console(width=140)
    return console


def fit_from_files(
    data: Path | None,
    study: Path | None,
    spec: Path | None,
    coding: str = "effects",
    cov_type: str = "classic",
    dual: str = "sawtooth",
) -> MNLResults:
    """Read the files and fit; exactly one of ``study`` and ``spec``."""
    if (study is None) == (spec is None):
        raise OfferlabError("give exactly one of --study (conjoint) and --spec (model spec)")
    model = MultinomialLogit(coding=coding, cov_type=cov_type, dual=dual)  # type: ignore[arg-type]
    if spec is not None:
        model_spec = load_spec(spec)
        choice_data = ChoiceData.read(data) if data is not None else None
        return model.fit(choice_data, spec=model_spec)
    if data is None:
        raise OfferlabError("a conjoint fit (--study) needs the choice data file as DATA")
    the_study = load_study(study)
    return model.fit(ChoiceData.read(data, the_study), study=the_study)


def estimate(
    data: Annotated[
        Path | None,
        typer.Argument(
            help="Choice data in the long format (CSV or Parquet). Optional with --spec "
            "when the spec names its data."
        ),
    ] = None,
    study: Annotated[
        Path | None, typer.Option(help="Study file: estimate the conjoint part-worths.")
    ] = None,
    spec: Annotated[
        Path | None, typer.Option(help="Model spec file (YAML): utility functions and data.")
    ] = None,
    coding: Annotated[Coding, typer.Option(help="Coding of categorical attributes.")] = "effects",
    cov: Annotated[CovType, typer.Option(help="SE behind t, p and intervals.")] = "classic",
    out: Annotated[
        Path | None,
        typer.Option(help="Folder for CSV tables (estimates, fit; importance and WTP too)."),
    ] = None,
    dual: Annotated[
        Dual,
        typer.Option(
            help="Dual-response none: sawtooth (extra binary task) or joint (would buy = "
            "the chosen concept beats none)."
        ),
    ] = "sawtooth",
) -> None:
    """Estimate a multinomial logit and print the estimates and fit statistics."""
    results = fit_from_files(data, study, spec, coding, cov, dual)
    console = wide_console()
    print_results(console, results)
    if out is not None:
        written = write_tables(results, out)
        names = ", ".join(p.name for p in written)
        console.print(f"Tables written to [bold]{escape(str(out))}/[/]: {names}")


def _tables(results: MNLResults) -> dict[str, pd.DataFrame]:
    tables = {
        "estimates": results.to_frame().reset_index(),
        "fit": results.fit_frame().reset_index(names="statistic"),
    }
    if results.coding is not None:
        tables["partworths"] = results.partworths()
        tables["importance"] = results.importance()
        if results.coding.study.price_attribute is not None and any(
            b.kind == "linear" and results.coding.is_price(b) for b in results.coding.blocks
        ):
            tables["wtp"] = results.wtp()
    return tables


def write_tables(results: MNLResults, out: Path) -> list[Path]:
    """Write ``estimates.csv``, ``fit.csv`` and, for conjoint fits, ``partworths.csv``,
    ``importance.csv`` and ``wtp.csv`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, table in _tables(results).items():
        path = out / f"{name}.csv"
        table.to_csv(path, index=False, float_format="%.10g")
        written.append(path)
    return written


def print_results(console: Console, results: MNLResults) -> None:
    """Rich tables: estimates, fit statistics and, for conjoint fits, importance and WTP."""
    frame = results.to_frame()
    est = Table(title=f"Multinomial logit estimates (t, p, 95% CI with {results.cov_type} SE)")
    for col in ("parameter", "estimate", "SE", "robust SE", "cluster SE", "t", "p", "95% CI"):
        est.add_column(col, justify="left" if col == "parameter" else "right")
    for name, row in frame.iterrows():
        est.add_row(
            escape(str(name)),
            f"{row.estimate:.6g}",
            f"{row.se:.4g}",
            f"{row.se_robust:.4g}",
            f"{row.se_cluster:.4g}",
            f"{row.t:.2f}",
            f"{row.p:.3g}",
            f"[{row.lower:.4g}, {row.upper:.4g}]",
        )
    for name, value in results.fixed_params.items():
        est.add_row(escape(str(name)), f"{value:.6g}", "fixed", "", "", "", "", "")
    console.print(est)

    fit = Table(title="Fit", show_header=False)
    fit.add_column("statistic")
    fit.add_column("value", justify="right")
    fit.add_row("observations", f"{results.nobs}")
    fit.add_row("respondents", f"{results.n_respondents}")
    fit.add_row("log-likelihood", f"{results.llf:.6f}")
    fit.add_row("null log-likelihood", f"{results.llnull:.6f}")
    fit.add_row("rho-square (adjusted)", f"{results.rho2:.4f} ({results.rho2_adj:.4f})")
    fit.add_row("AIC / BIC", f"{results.aic:.2f} / {results.bic:.2f}")
    fit.add_row(
        "iterations", f"{results.n_iter} ({'converged' if results.converged else 'NOT converged'})"
    )
    console.print(fit)

    tables = _tables(results)
    if "importance" in tables:
        imp = Table(title="Attribute importance (%, 95% CI, delta method)")
        for col in ("attribute", "importance", "95% CI"):
            imp.add_column(col, justify="left" if col == "attribute" else "right")
        for row in tables["importance"].itertuples():
            imp.add_row(
                escape(str(row.attribute)),
                f"{row.importance:.1f}",
                f"[{row.lower:.1f}, {row.upper:.1f}]",
            )
        console.print(imp)
    if "wtp" in tables:
        table = tables["wtp"]
        price = results.coding.study.price_attribute if results.coding is not None else None
        currency = f" in {price.currency}" if price is not None else ""
        wtp = Table(
            title=f"Willingness to pay{escape(currency)} vs each attribute's first level "
            "(95% CI, delta method)"
        )
        for col in ("attribute", "level", "WTP", "95% CI"):
            wtp.add_column(col, justify="left" if col in ("attribute", "level") else "right")
        for row in table.itertuples():
            wtp.add_row(
                escape(str(row.attribute)),
                escape(str(row.level)),
                f"{row.wtp:,.2f}",
                f"[{row.lower:,.2f}, {row.upper:,.2f}]",
            )
        console.print(wtp)
        if table.attrs.get("note"):
            console.print(f"[yellow]Note:[/] {escape(table.attrs['note'])}")
