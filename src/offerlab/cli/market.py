"""``offerlab simulate-market``: shares of a market of offers, and the best offer to launch.

The market file (YAML) names our offers, the competitors', status-quo options (keep
buying, lease…) and whether the none option competes; the costs per level for the
profit; and what the optimiser may change. See ``examples/car_subscription_market.yaml``.
It is read like a study file: every problem comes back with the file, line and field.

The helpers here (:func:`load_market`, :func:`fit_for_decisions`,
:func:`simulator_for`) are shared with ``offerlab report``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
import typer
from pydantic import BaseModel, ConfigDict, Field
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from offerlab.cli._choices import Model
from offerlab.cli._progress import run_with_progress
from offerlab.cli._tables import frame_table
from offerlab.cli.estimate import wide_console
from offerlab.data import ChoiceData
from offerlab.decide import Market, MarketSimulator, OptimisationResult, optimise_offers
from offerlab.decide._population import Population, population_from_results
from offerlab.exceptions import OfferlabError, StudyError
from offerlab.models import MultinomialLogit
from offerlab.models._matrix import NONE_PARAM, ConjointCoding
from offerlab.report import plot_shares
from offerlab.simulate._shares import offer_warnings
from offerlab.study import CategoricalAttribute, Study, load_study
from offerlab.study._load import load_yaml_model

__all__ = [
    "MarketFile",
    "MarketSpec",
    "fit_for_decisions",
    "load_market",
    "optimise_market",
    "simulate_market_command",
    "simulator_for",
]

Rule = Literal["sop", "fc", "rfc"]
Objective = Literal["share", "revenue", "profit"]
RULE_NAMES = {"sop": "logit", "fc": "first_choice", "rfc": "rfc"}
RULE_TITLES = {
    "sop": "share of preference",
    "fc": "first choice",
    "rfc": "randomized first choice",
}


# -- the market file ----------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OfferEntry(BaseModel):
    """One offer: a name, whether it is ours, and one level (or number) per attribute.

    The attributes are keys of the offer itself (``car_class: suv``), as in a scenario
    file; they are checked against the study by :meth:`MarketFile.problems`.
    """

    model_config = ConfigDict(extra="allow", frozen=True)
    name: str = Field(min_length=1)
    ours: bool = False

    def levels(self) -> dict[str, object]:
        return dict(self.__pydantic_extra__ or {})


class StatusQuoEntry(_Strict):
    """An alternative that is not an offer: a fixed utility and/or a model constant."""

    name: str = Field(min_length=1)
    utility: float | None = None
    constant: str | None = None


class OptimiseEntry(_Strict):
    """What the optimiser may change."""

    tiers: list[str] | None = Field(
        None, description="Our offers to fill (default: every offer with ours: true)."
    )
    price_step: float | None = Field(
        None, gt=0, description="Search prices on this step within the studied range."
    )
    prices: list[float] | None = Field(None, min_length=1)
    fixed: dict[str, str | int | float] = Field(default_factory=dict)
    pessimism: float = Field(0.10, gt=0, lt=1)


class MarketFile(_Strict):
    """A market file (YAML)."""

    offers: list[OfferEntry] = Field(min_length=1)
    status_quo: list[StatusQuoEntry] = Field(default_factory=list)
    none: bool = True
    base_cost: float = 0.0
    costs: dict[str, dict[str | int | float, float]] = Field(default_factory=dict)
    optimise: OptimiseEntry = Field(default_factory=OptimiseEntry)
    pricing_offer: str | None = Field(
        None,
        description="The offer the survey's price questions describe (default: our first).",
    )

    def problems(self, study: Study) -> list[tuple[tuple[str | int, ...], str]]:
        """What does not fit ``study``, as (field path, message) pairs."""
        found: list[tuple[tuple[str | int, ...], str]] = []
        coding = ConjointCoding.from_study(study, "effects", none=study.tasks.none is not None)
        names = [o.name for o in self.offers] + [s.name for s in self.status_quo]
        for i, name in enumerate(names):
            if name in names[:i] or name == "none":
                at = ("offers", i) if i < len(self.offers) else ("status_quo", i - len(self.offers))
                found.append(((*at, "name"), f"'{name}' is used twice (or is 'none')"))
        base = _valid_offer(study)
        attributes = study.attribute_names
        for i, offer in enumerate(self.offers):
            levels = offer.levels()
            for key, value in levels.items():
                if key not in attributes:
                    found.append(
                        (("offers", i, key), f"unknown attribute; the study has {attributes}")
                    )
                    continue
                try:
                    coding.code_offer({**base, key: value}, what=f"offer '{offer.name}'")
                except OfferlabError as exc:
                    found.append((("offers", i, key), str(exc).split(": ", 1)[-1]))
                    continue
                attr = study.attribute(key)
                if not isinstance(attr, CategoricalAttribute):
                    lo, hi = min(attr.values), max(attr.values)
                    if not lo - 1e-9 <= float(value) <= hi + 1e-9:  # type: ignore[arg-type]
                        found.append(
                            (
                                ("offers", i, key),
                                f"{value} lies outside the studied range [{lo:g}, {hi:g}]: "
                                "the model cannot tell what people would do there",
                            )
                        )
            missing = [a for a in attributes if a not in levels]
            if missing:
                found.append((("offers", i), f"no level given for {missing}"))
        for i, sq in enumerate(self.status_quo):
            if sq.utility is None and sq.constant is None:
                found.append((("status_quo", i), "give a 'utility' (a number) or a 'constant'"))
            if sq.constant is not None and sq.constant not in coding.names:
                constants = [NONE_PARAM] if coding.none_index is not None else []
                found.append(
                    (
                        ("status_quo", i, "constant"),
                        f"the model has no constant {sq.constant!r}; it has {constants or 'none'}",
                    )
                )
        for attribute, table in self.costs.items():
            if attribute not in attributes:
                found.append(
                    (("costs", attribute), f"unknown attribute; the study has {attributes}")
                )
                continue
            attr = study.attribute(attribute)
            if isinstance(attr, CategoricalAttribute):
                wanted = list(attr.level_names)
                given = [str(k) for k in table]
            else:
                wanted = [_num(v) for v in attr.values]
                given = [_num(k) if not isinstance(k, str) else k for k in table]
            unknown = [g for g in given if g not in wanted]
            if unknown:
                found.append(
                    ((("costs", attribute)), f"unknown level(s) {unknown}; levels are {wanted}")
                )
            absent = [w for w in wanted if w not in given]
            if (
                absent
                and study.price_attribute is not None
                and attribute != study.price_attribute.name
            ):
                found.append(((("costs", attribute)), f"no cost for level(s) {absent}"))
        offer_names = [o.name for o in self.offers]
        for j, tier in enumerate(self.optimise.tiers or []):
            if tier not in offer_names:
                found.append(
                    (("optimise", "tiers", j), f"no offer named {tier!r}; offers are {offer_names}")
                )
        if self.optimise.tiers is not None and not 1 <= len(self.optimise.tiers) <= 3:
            found.append((("optimise", "tiers"), "name one, two or three of our offers"))
        for key in self.optimise.fixed:
            if key not in attributes:
                found.append(
                    (("optimise", "fixed", key), f"unknown attribute; the study has {attributes}")
                )
        price = study.price_attribute
        if price is not None:
            lo, hi = min(price.values), max(price.values)
            for j, p in enumerate(self.optimise.prices or []):
                if not lo - 1e-9 <= p <= hi + 1e-9:
                    found.append(
                        (
                            ("optimise", "prices", j),
                            f"{p:g} lies outside the studied range [{lo:g}, {hi:g}]",
                        )
                    )
        elif self.optimise.prices or self.optimise.price_step:
            found.append((("optimise",), "the study has no price attribute"))
        if self.pricing_offer is not None and self.pricing_offer not in offer_names:
            found.append((("pricing_offer",), f"no offer named {self.pricing_offer!r}"))
        return found


def _num(value: object) -> str:
    f = float(value)  # type: ignore[arg-type]
    return str(int(f)) if f == int(f) else f"{f:g}"


def _valid_offer(study: Study) -> dict[str, object]:
    return {a: study.level_value(a, 0) for a in study.attribute_names}


class MarketSpec:
    """A market file read against a study: the file, and how to code it for a fit.

    Attributes
    ----------
    file : MarketFile
    path : Path
    study : Study
    """

    def __init__(self, file: MarketFile, path: Path, study: Study) -> None:
        self.file = file
        self.path = path
        self.study = study

    @property
    def offers(self) -> list[dict[str, object]]:
        return [{"name": o.name, "ours": o.ours, **o.levels()} for o in self.file.offers]

    @property
    def status_quo(self) -> list[dict[str, object]]:
        out = []
        for sq in self.file.status_quo:
            entry: dict[str, object] = {"name": sq.name}
            if sq.utility is not None:
                entry["utility"] = sq.utility
            if sq.constant is not None:
                entry["constant"] = sq.constant
            out.append(entry)
        return out

    def market(self, coding: ConjointCoding) -> Market:
        """The market coded in the fit's columns."""
        try:
            return Market.from_offers(
                coding, self.offers, status_quo=self.status_quo, none=self.file.none
            )
        except OfferlabError as exc:
            raise OfferlabError(f"{self.path}: {exc}") from None

    @property
    def ours(self) -> list[str]:
        return [o.name for o in self.file.offers if o.ours]

    @property
    def tiers(self) -> list[str]:
        return list(self.file.optimise.tiers or self.ours)

    @property
    def pricing_offer(self) -> str:
        if self.file.pricing_offer is not None:
            return self.file.pricing_offer
        return (self.ours or [self.file.offers[0].name])[0]

    @property
    def costs(self) -> dict[str, dict[object, float]]:
        return {a: {_key(k): float(v) for k, v in t.items()} for a, t in self.file.costs.items()}

    @property
    def has_costs(self) -> bool:
        return bool(self.file.costs) or self.file.base_cost != 0

    def price_grid(self) -> list[float] | None:
        """The prices the optimiser searches (None: the studied levels)."""
        price = self.study.price_attribute
        opt = self.file.optimise
        if price is None:
            return None
        if opt.prices is not None:
            return sorted({float(p) for p in opt.prices})
        if opt.price_step is not None:
            lo, hi = min(price.values), max(price.values)
            n = math.floor((hi - lo) / opt.price_step + 1e-9)
            grid = {lo + i * opt.price_step for i in range(n + 1)} | {
                float(v) for v in price.values
            }
            return sorted(round(p, 6) for p in grid)
        return None

    def warnings(self) -> list[str]:
        out = []
        for o in self.file.offers:
            out += [f"{self.path}: {m}" for m in offer_warnings(self.study, o.name, o.levels())]
        return out


def _key(value: object) -> object:
    return value if isinstance(value, str) else _num(value)


def load_market(path: Path | str, study: Study) -> MarketSpec:
    """Read a market file and check it against ``study``; errors name file, line and field."""
    path = Path(path)
    file = load_yaml_model(MarketFile, path, StudyError, lambda m: m.problems(study))
    return MarketSpec(file, path, study)


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
    if model == "mnl":
        return run_with_progress(
            console,
            "multinomial logit",
            lambda progress: MultinomialLogit().fit(data, study=study),
        )
    if model == "lc":
        from offerlab.models._latent_class import LatentClassLogit

        lc = LatentClassLogit(classes, n_starts=5, seed=seed)
        return run_with_progress(
            console,
            f"latent class, {classes} classes",
            lambda progress: lc.fit(data, study=study, progress=progress),
        )
    if model == "hb":
        from offerlab.models._hb import HierarchicalBayes

        hb = HierarchicalBayes(burn_in=burn_in, draws=iterations, chains=chains, seed=seed)
        return run_with_progress(
            console,
            f"hierarchical Bayes: {chains} chains x {burn_in + iterations} iterations",
            lambda progress: hb.fit(data, study=study, progress=progress),
        )
    raise OfferlabError(f"--model must be mnl, lc or hb; got {model!r}")


def decision_population(results: Any, *, n: int = 1000, seed: int = 0) -> Population:
    """The population the simulator averages over, with its uncertainty and segments.

    * MNL: the point estimate; uncertainty β ~ N(β̂, Σ).
    * Latent classes: the class vectors weighted by the class shares, segments = the
      classes; uncertainty: the class coefficients drawn from N(θ̂, Σ) with the class
      sizes held at their estimates.
    * HB: posterior draws of every respondent; uncertainty: each draw of the population
      takes one saved posterior draw per respondent.
    """
    if hasattr(results, "individual_draws"):
        draws = np.asarray(results.individual_draws)  # (R, m, K)
        R, m, _ = draws.shape

        def hb_draws(S: int, rng: np.random.Generator) -> np.ndarray:
            pick = rng.integers(0, m, size=(S, R))
            return draws[np.arange(R)[None, :], pick]

        return population_from_results(results, n=n, rng=seed, uncertainty=hb_draws)
    if hasattr(results, "cmap") and hasattr(results, "shares"):
        B, w = results.population_coefficients(n, seed)
        labels = np.array([f"class {c + 1}" for c in range(len(w))])
        theta = results.params.to_numpy(dtype=float)
        cov = results.cov_of().to_numpy(dtype=float)

        def lc_draws(S: int, rng: np.random.Generator) -> np.ndarray:
            thetas = rng.multivariate_normal(theta, cov, size=S, method="eigh")
            return np.stack([results.cmap.betas(t) for t in thetas])

        return Population(
            B,
            w,
            tuple(results.coding.names),
            segments=labels,
            uncertainty=lc_draws,
            uncertainty_weights=w,
            uncertainty_segments=labels,
        )
    return population_from_results(results, n=n, rng=seed)


def simulator_for(
    results: Any,
    rule: str = "sop",
    scale: float = 1.0,
    *,
    n_draws: int = 200,
    seed: int = 0,
    attribute_error: float = 0.0,
) -> MarketSimulator:
    """A market simulator on the fit's population (see :func:`decision_population`)."""
    if rule not in RULE_NAMES:
        raise OfferlabError(f"--rule must be sop, fc or rfc; got {rule!r}")
    population = decision_population(results, seed=seed)
    extra: dict[str, Any] = {}
    if rule == "rfc":
        extra = {"attribute_error": attribute_error, "rfc_draws": 5}
    return MarketSimulator(
        population, rule=RULE_NAMES[rule], scale=scale, n_draws=n_draws, seed=seed, **extra
    )  # type: ignore[arg-type]


def optimise_market(
    sim: MarketSimulator, market: Market, spec: MarketSpec, objective: str, *, seed: int = 0
) -> OptimisationResult:
    """Run the optimiser on the market file's tiers, costs, price grid and fixed levels."""
    if objective == "profit" and not spec.has_costs:
        raise OfferlabError(
            f"{spec.path}: --optimise profit needs costs (costs: per attribute level, base_cost)"
        )
    tiers = spec.tiers
    if not tiers:
        raise OfferlabError(
            f"{spec.path}: nothing to optimise: mark our offers with ours: true "
            "(or list them under optimise: tiers:)"
        )
    return optimise_offers(
        sim,
        market,
        slots=tiers,
        objective=objective,  # type: ignore[arg-type]
        costs=spec.costs or None,
        base_cost=spec.file.base_cost,
        prices=spec.price_grid(),
        fixed=dict(spec.file.optimise.fixed),
        pessimism=spec.file.optimise.pessimism,
        rng=seed,
    )


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
    return ", ".join(f"{a}={v if isinstance(v, str) else _num(v)}" for a, v in offer.items())


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
    optimise: Annotated[
        Objective | None,
        typer.Option(help="Search the study's offers for the best share, revenue or profit."),
    ] = None,
    by_segment: Annotated[
        bool, typer.Option("--by-segment", help="Shares per segment (latent classes).")
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
    sim = simulator_for(results, rule, scale, n_draws=draws, seed=seed)
    the_market = spec.market(results.coding)
    frame = sim.shares(the_market, by_segment=by_segment)
    price = the_study.price_attribute
    currency = price.currency if price is not None else ""
    title = f"Shares ({RULE_TITLES[rule]}, {model}"
    title += f", 95% interval from {sim.n_draws} draws)" if sim.n_draws else ", no intervals)"
    console.print(shares_table(frame, title, currency))
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
        frame.to_csv(out / "shares.csv", index=False)
        whole = frame if "segment" not in frame.columns else sim.shares(the_market)
        plot_shares(whole.rename(columns={"alternative": "offer"}), out / "shares.png", title=title)
        written = ["shares.csv", "shares.png"]
        if result is not None:
            result.table.to_csv(out / "optimisation.csv", index=False)
            written.append("optimisation.csv")
        console.print(f"{', '.join(written)} written to [bold]{escape(str(out))}/[/]")
