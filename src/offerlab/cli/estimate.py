"""``offerlab estimate``: a choice model from choice data and a study or a spec file."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from offerlab.cli._choices import (
    Coding,
    CovariancePrior,
    CovType,
    Criterion,
    DrawType,
    Dual,
    HessianKind,
    InterweaveCoordinates,
    Model,
)
from offerlab.cli._heterogeneity import (
    parse_class_counts,
    parse_random,
    parse_restrictions,
    parse_signs,
    print_summary,
    write_frames,
)
from offerlab.cli._options import INTERWEAVE_HELP
from offerlab.cli._progress import run_with_progress
from offerlab.cli._tables import frame_table
from offerlab.data import ChoiceData, write_csv
from offerlab.exceptions import OfferlabError
from offerlab.models import (
    HierarchicalBayes,
    LatentClassLogit,
    MixedLogit,
    MNLResults,
    MultinomialLogit,
    latent_class_table,
    load_spec,
)
from offerlab.report import plot_hb_trace
from offerlab.study import load_study

__all__ = ["estimate", "fit_from_files", "print_results", "wide_console", "write_tables"]


def wide_console() -> Console:
    """A console that does not squeeze tables to 80 columns when output is not a terminal."""
    console = Console()
    if not console.is_terminal:
        console = Console(width=140)
    return console


def read_inputs(data: Path | None, study: Path | None, spec: Path | None) -> dict[str, Any]:
    """The files as ``fit`` keyword arguments: ``data`` and one of ``study`` and ``spec``."""
    if (study is None) == (spec is None):
        raise OfferlabError("give exactly one of --study (conjoint) and --spec (model spec)")
    if spec is not None:
        model_spec = load_spec(spec)
        return {"data": ChoiceData.read(data) if data is not None else None, "spec": model_spec}
    if data is None:
        raise OfferlabError("a conjoint fit (--study) needs the choice data file as DATA")
    the_study = load_study(study)
    return {"data": ChoiceData.read(data, the_study), "study": the_study}


def fit_from_files(
    data: Path | None,
    study: Path | None,
    spec: Path | None,
    coding: str = "effects",
    cov_type: str = "classic",
    dual: str = "sawtooth",
) -> MNLResults:
    """Read the files and fit a multinomial logit; exactly one of ``study`` and ``spec``."""
    inputs = read_inputs(data, study, spec)
    model = MultinomialLogit(level_coding=coding, cov_type=cov_type, dual=dual)  # type: ignore[arg-type]
    return model.fit(**inputs)


_LC = "Latent class (--model lc)"
_MXL = "Mixed logit (--model mxl)"
_HB = "Hierarchical Bayes (--model hb)"
# The options of one model, shown together under its heading in --help.
_lc_option = partial(typer.Option, rich_help_panel=_LC)
_mxl_option = partial(typer.Option, rich_help_panel=_MXL)
_hb_option = partial(typer.Option, rich_help_panel=_HB)

# The command's options, declared once; the command packs them into the typed option
# groups below and hands each model its own group.
DataArg = Annotated[
    Path | None,
    typer.Argument(
        help="Choice data in the long format (CSV or Parquet). Optional with --spec "
        "when the spec names its data."
    ),
]
StudyOpt = Annotated[
    Path | None, typer.Option(help="Study file: estimate the conjoint part-worths.")
]
SpecOpt = Annotated[
    Path | None, typer.Option(help="Model spec file (YAML): utility functions and data.")
]
ModelOpt = Annotated[
    Model,
    typer.Option(
        help="mnl: multinomial logit; lc: latent classes; mxl: mixed logit "
        "(random coefficients); hb: hierarchical Bayes (individual part-worths)."
    ),
]
CodingOpt = Annotated[Coding, typer.Option(help="Coding of categorical attributes.")]
CovOpt = Annotated[CovType, typer.Option(help="SE behind t, p and intervals.")]
OutOpt = Annotated[
    Path | None,
    typer.Option(help="Folder for CSV tables (estimates, fit; importance and WTP too)."),
]
DualOpt = Annotated[
    Dual,
    typer.Option(
        help="Dual-response none: sawtooth (extra binary task) or joint (would buy = "
        "the chosen concept beats none)."
    ),
]
SeedOpt = Annotated[int | None, typer.Option(help="Seed of random starts and draws (lc, mxl, hb).")]
CrossSectionOpt = Annotated[
    bool,
    typer.Option(
        "--cross-section",
        help="lc, mxl: the class or the random coefficients vary per task, not once "
        "per respondent (panel, the default).",
    ),
]
ClassesOpt = Annotated[
    str,
    _lc_option(
        help="Number of classes, or a range such as 1-4: then every count is fitted, "
        "tabulated with AIC/BIC/CAIC, and the best by --criterion is reported."
    ),
]
CriterionOpt = Annotated[Criterion, _lc_option(help="Picks the class count.")]
StartsOpt = Annotated[int, _lc_option(min=1, help="Random starts per fit.")]
SharedOpt = Annotated[
    list[str] | None,
    _lc_option(help="A coefficient common to all classes (repeat)."),
]
FixOpt = Annotated[
    list[str] | None,
    _lc_option(help="CLASS:COEFFICIENT=VALUE, e.g. 1:B_TIME=0 (repeat)."),
]
RandomOpt = Annotated[
    list[str] | None,
    _mxl_option(
        help="NAME or NAME=DIST (normal, lognormal, negative_lognormal, triangular), "
        "repeat; an attribute stands for all its columns. Default: the spec's "
        "distributions, or every coefficient normal for a study."
    ),
]
DrawsOpt = Annotated[DrawType | None, _mxl_option(help="Kind of draws (default halton).")]
NDrawsOpt = Annotated[
    int | None,
    _mxl_option(min=1, help="Draws per respondent (default 1000)."),
]
CorrelatedOpt = Annotated[
    bool,
    _mxl_option("--correlated", help="Correlate the random coefficients."),
]
HessianOpt = Annotated[
    HessianKind,
    _mxl_option(help="Classic SEs from BHHH (the scores' outer product) or the numerical Hessian."),
]
BurnInOpt = Annotated[
    int,
    _hb_option(min=0, help="Iterations per chain before draws are kept."),
]
IterationsOpt = Annotated[
    int,
    _hb_option(
        min=8,
        help="Draws kept per chain: the most the run may take until the chains have "
        "converged, or exactly this many with --fixed.",
    ),
]
ChainsOpt = Annotated[int, _hb_option(min=1, help="Chains (2 processes share them).")]
MaxMinutesOpt = Annotated[
    float,
    _hb_option(
        min=0.0,
        help="Stop after this many minutes of sampling even if the chains have not "
        "converged (0: no time limit).",
    ),
]
FixedOpt = Annotated[
    bool,
    _hb_option(
        "--fixed",
        help="Keep exactly --iterations draws per chain instead of running until R-hat "
        "< 1.01 and bulk/tail ESS > 400 for every population mean, covariance entry "
        "and individual mean.",
    ),
]
PriorVarianceOpt = Annotated[float, _hb_option(min=0.0, help="Prior variance (CBC/HB: 1).")]
PriorDfOpt = Annotated[
    int,
    _hb_option(min=1, help="Prior degrees of freedom beyond K (CBC/HB: 5)."),
]
SignOpt = Annotated[
    list[str] | None,
    _hb_option(help="Sign constraint for every respondent, e.g. monthly_price=- (repeat)."),
]
CovariancePriorOpt = Annotated[
    CovariancePrior,
    _hb_option(
        help="Prior of the population covariance: CBC/HB's inverse-Wishart, or "
        "Huang-Wand (uniform correlations, half-t SDs; recovers the covariance "
        "when respondents have few tasks)."
    ),
]
PriorSdScaleOpt = Annotated[
    float,
    _hb_option(help="Huang-Wand: scale of the half-t prior of every population SD (> 0)."),
]
InterweaveCoordinatesOpt = Annotated[
    InterweaveCoordinates,
    _hb_option("--interweave-coordinates", help=INTERWEAVE_HELP),
]
PriorSdShapeOpt = Annotated[
    float,
    _hb_option(
        help="Huang-Wand: shape of the SDs' scale prior (> 0); 0.5 gives half-t SDs, 1 an "
        "SD prior that vanishes at 0 (keeps near-zero variances from stalling the chains)."
    ),
]


@dataclass(frozen=True)
class CommonOptions:
    """What every model reads: the coding, dual response, SEs, seed, panel."""

    coding: str
    dual: str
    cov: str
    seed: int | None
    cross_section: bool


@dataclass(frozen=True)
class LatentClassOptions:
    classes: str
    criterion: str
    starts: int
    shared: list[str]
    fix: list[str]


@dataclass(frozen=True)
class MixedLogitOptions:
    random: list[str]
    draws: str | None
    n_draws: int | None
    correlated: bool
    hessian: str


@dataclass(frozen=True)
class HBOptions:
    """The sampler and its stopping rule, and the prior."""

    burn_in: int
    iterations: int
    chains: int
    max_minutes: float
    fixed: bool
    prior_variance: float
    prior_df: int
    sign: list[str]
    covariance_prior: str
    prior_sd_scale: float
    prior_sd_shape: float = 0.5
    interweave_coordinates: str = "entries"


def estimate(
    data: DataArg = None,
    study: StudyOpt = None,
    spec: SpecOpt = None,
    model: ModelOpt = "mnl",
    coding: CodingOpt = "effects",
    cov: CovOpt = "classic",
    out: OutOpt = None,
    dual: DualOpt = "sawtooth",
    seed: SeedOpt = None,
    cross_section: CrossSectionOpt = False,
    classes: ClassesOpt = "2",
    criterion: CriterionOpt = "bic",
    starts: StartsOpt = 10,
    shared: SharedOpt = None,
    fix: FixOpt = None,
    random: RandomOpt = None,
    draws: DrawsOpt = None,
    n_draws: NDrawsOpt = None,
    correlated: CorrelatedOpt = False,
    hessian: HessianOpt = "bhhh",
    burn_in: BurnInOpt = 2_000,
    iterations: IterationsOpt = 10_000,
    chains: ChainsOpt = 4,
    max_minutes: MaxMinutesOpt = 10.0,
    fixed: FixedOpt = False,
    prior_variance: PriorVarianceOpt = 1.0,
    prior_df: PriorDfOpt = 5,
    sign: SignOpt = None,
    covariance_prior: CovariancePriorOpt = "inverse-wishart",
    prior_sd_scale: PriorSdScaleOpt = 2.5,
    prior_sd_shape: PriorSdShapeOpt = 0.5,
    interweave_coordinates: InterweaveCoordinatesOpt = "entries",
) -> None:
    """Estimate a choice model and print the estimates and fit statistics."""
    console = wide_console()
    inputs = read_inputs(data, study, spec)
    common = CommonOptions(coding, dual, cov, seed, cross_section)
    if model == "mnl":
        estimate_mnl(console, inputs, common, out)
        return
    if model == "lc":
        options = LatentClassOptions(
            classes, criterion, starts, list(shared or []), list(fix or [])
        )
        frames = estimate_latent_class(console, inputs, common, options)
    elif model == "mxl":
        mxl = MixedLogitOptions(list(random or []), draws, n_draws, correlated, hessian)
        frames = estimate_mixed_logit(console, inputs, common, mxl, individual=out is not None)
    else:
        hb = HBOptions(
            burn_in, iterations, chains, max_minutes, fixed, prior_variance, prior_df,
            list(sign or []), covariance_prior, prior_sd_scale, prior_sd_shape,
            interweave_coordinates,
        )  # fmt: skip
        frames = estimate_hb(console, inputs, common, hb, out)
    if out is not None:
        written = write_frames(frames, out)
        names = ", ".join(p.name for p in written)
        console.print(f"Tables written to [bold]{escape(str(out))}/[/]: {names}")


def estimate_mnl(
    console: Console, inputs: dict[str, Any], common: CommonOptions, out: Path | None
) -> None:
    """Fit, print and (with ``out``) write a multinomial logit."""
    mnl = MultinomialLogit(level_coding=common.coding, cov_type=common.cov, dual=common.dual)  # type: ignore[arg-type]
    results = mnl.fit(**inputs)
    print_results(console, results)
    if out is not None:
        written = write_tables(results, out)
        names = ", ".join(p.name for p in written)
        console.print(f"Tables written to [bold]{escape(str(out))}/[/]: {names}")


def estimate_latent_class(
    console: Console, inputs: dict[str, Any], common: CommonOptions, options: LatentClassOptions
) -> dict[str, pd.DataFrame]:
    lc_options = {
        "level_coding": common.coding,
        "dual": common.dual,
        "panel": not common.cross_section,
        "shared": options.shared,
        "n_starts": options.starts,
        "seed": 0 if common.seed is None else common.seed,
        "cov_type": common.cov,
    }
    return fit_latent_class(
        console,
        inputs,
        parse_class_counts(options.classes),
        options.criterion,
        parse_restrictions(options.fix),
        lc_options,
    )


def estimate_mixed_logit(
    console: Console,
    inputs: dict[str, Any],
    common: CommonOptions,
    options: MixedLogitOptions,
    *,
    individual: bool,
) -> dict[str, pd.DataFrame]:
    mxl = MixedLogit(
        parse_random(options.random),
        n_draws=options.n_draws,
        draws=options.draws,  # type: ignore[arg-type]
        panel=False if common.cross_section else None,
        correlated=options.correlated or None,
        seed=common.seed,
        cov_type=common.cov,  # type: ignore[arg-type]
        hessian=options.hessian,  # type: ignore[arg-type]
        level_coding=common.coding,  # type: ignore[arg-type]
        dual=common.dual,  # type: ignore[arg-type]
    )
    results = run_with_progress(
        console, "mixed logit", lambda progress: mxl.fit(**inputs, progress=progress)
    )
    print_summary(console, results.summary())
    frames = {
        "estimates": results.to_frame(),
        "fit": results.fit_frame(),
        "random_coefficients": results.distribution(),
    }
    if individual:
        frames["individual"] = results.individual_coefficients()
    return frames


def hb_estimator(common: CommonOptions, options: HBOptions) -> HierarchicalBayes:
    """The sampler the options describe: until converged (capped) unless ``fixed``."""
    return HierarchicalBayes(
        level_coding=common.coding,  # type: ignore[arg-type]
        dual=common.dual,  # type: ignore[arg-type]
        burn_in=options.burn_in,
        draws=options.iterations,
        chains=options.chains,
        prior_variance=options.prior_variance,
        prior_df=options.prior_df,
        covariance_prior=options.covariance_prior,  # type: ignore[arg-type]
        prior_sd_scale=options.prior_sd_scale,
        prior_sd_shape=options.prior_sd_shape,
        interweave_coordinates=options.interweave_coordinates,  # type: ignore[arg-type]
        signs=parse_signs(options.sign),
        seed=common.seed,
        until_converged=not options.fixed,
        max_draws=options.iterations,
        max_seconds=60.0 * options.max_minutes if options.max_minutes > 0 else None,
    )


def estimate_hb(
    console: Console,
    inputs: dict[str, Any],
    common: CommonOptions,
    options: HBOptions,
    out: Path | None,
) -> dict[str, pd.DataFrame]:
    hb = hb_estimator(common, options)
    what = (
        f"{options.iterations:,} draws"
        if options.fixed
        else f"until converged (at most {options.iterations:,} draws)"
    )
    results = run_with_progress(
        console,
        f"hierarchical Bayes: {options.chains} chains x {options.burn_in:,} burn-in, {what}",
        lambda progress: hb.fit(**inputs, progress=progress),
    )
    print_summary(console, results.summary())
    frames = {
        "population": results.to_frame(),
        "fit": results.fit_frame(),
        "convergence": results.convergence,
        # individual part-worths (posterior means) beside each respondent's fit
        "individual": results.individual.assign(rlh=results.rlh, pct_cert=results.pct_cert),
    }
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        plot_hb_trace(results, out / "trace.png")
    return frames


def fit_latent_class(
    console: Console,
    inputs: dict[str, Any],
    counts: list[int],
    criterion: str,
    restrictions: dict[int, dict[str, float]],
    options: dict[str, Any],
) -> dict[str, pd.DataFrame]:
    """Fit one class count or a range of them; print; return the tables to write."""
    frames: dict[str, pd.DataFrame] = {}
    if len(counts) == 1:
        lc = LatentClassLogit(counts[0], restrictions=restrictions, **options)
        results = run_with_progress(
            console,
            f"latent class, {counts[0]} classes, {options['n_starts']} starts",
            lambda progress: lc.fit(**inputs, progress=progress),
        )
    else:
        table = run_with_progress(
            console,
            f"latent class, {counts[0]} to {counts[-1]} classes",
            lambda progress: latent_class_table(
                **inputs, classes=counts, restrictions=restrictions, progress=progress, **options
            ),
        )
        best = table.best(criterion)  # type: ignore[arg-type]
        console.print(frame_table(table.table, f"Classes: the smallest {criterion} picks {best}"))
        frames["class_table"] = table.table
        results = table.results[best]
    print_summary(console, results.summary())
    frames |= {
        "estimates": results.to_frame(),
        "fit": results.fit_frame(),
        "class_shares": results.class_shares,
        "posteriors": results.posterior_probabilities(),
    }
    return frames


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
        write_csv(table, path, float_format="%.10g")
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
