"""``offerlab shares``: shares of preference for a scenario of offers."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.markup import escape
from rich.table import Table

from offerlab.cli._choices import Coding, CovType, Dual
from offerlab.cli._options import AnswersArg, StudyOpt
from offerlab.cli.estimate import fit_from_files, wide_console
from offerlab.data import write_csv
from offerlab.exceptions import OfferlabError, OfferlabWarning, StudyError, StudyProblem
from offerlab.models import ConjointCoding
from offerlab.report import plot_shares
from offerlab.simulate import NONE_NAME, Scenario, offer_warnings, share_of_preference
from offerlab.study import CategoricalAttribute, Study, YamlDocument, load_study, load_yaml

__all__ = ["ScenarioFile", "read_scenario", "shares"]

EXTRAPOLATED = "†"
FieldPath = tuple[str | int, ...]


@dataclass(frozen=True)
class ScenarioFile:
    """A scenario file read against a study.

    Attributes
    ----------
    scenario : Scenario
        The offers.
    extrapolated : dict of str to list of str
        Per offer name, why its share is an extrapolation (a number outside the studied
        range, allowed by ``--extrapolate``); offers within the range are absent.
    """

    scenario: Scenario
    extrapolated: dict[str, list[str]]


def read_scenario(path: Path, study: Study, *, extrapolate: bool = False) -> ScenarioFile:
    """A scenario YAML file: a list of offers, or a mapping with ``offers``.

    Each offer maps every attribute of ``study`` to a level (or a number); ``name`` names
    it, or ``{name: …, levels: {attribute: level}}``. The file is read by the bounded
    YAML reader and every problem names the file, the line and the field. A number
    outside the studied range is an error unless ``extrapolate`` is set.

    Raises
    ------
    StudyError
        Listing every problem found.
    """
    doc = load_yaml(path)
    problems = list(doc.problems)
    raw, base = doc.data, ()
    if isinstance(raw, dict):
        problems += [
            doc.problem((key,), f"unknown key {key!r}; a scenario has 'offers'")
            for key in raw
            if key != "offers"
        ]
        raw, base = raw.get("offers"), ("offers",)
    if not isinstance(raw, list) or not raw:
        message = "a scenario is a list of offers (attribute: level), or a mapping with 'offers'"
        raise StudyError(_sorted([*problems, doc.problem(base, message)]), path)
    checker = _OfferChecker(study, doc, extrapolate)
    names: list[str] = []
    offers: list[dict[str, object]] = []
    for i, item in enumerate(raw):
        found = checker.offer(item, (*base, i), len(names) + 1)
        if found is None:
            continue
        name, offer = found
        if name in names or name == NONE_NAME:
            what = "is used twice" if name in names else "is kept for the none option"
            problems.append(doc.problem((*base, i, "name"), f"the name {name!r} {what}"))
        names.append(name)
        offers.append(offer)
    problems += checker.problems
    if problems:
        raise StudyError(_sorted(problems), path)
    return ScenarioFile(Scenario(tuple(names), tuple(offers)), checker.extrapolated)


class _OfferChecker:
    """Checks the offers of a scenario file against a study, one field at a time."""

    def __init__(self, study: Study, doc: YamlDocument, extrapolate: bool) -> None:
        self.study = study
        self.doc = doc
        self.extrapolate = extrapolate
        self.coding = ConjointCoding.from_study(study, "effects")
        self.valid = {a: study.level_value(a, 0) for a in study.attribute_names}
        self.problems: list[StudyProblem] = []
        self.extrapolated: dict[str, list[str]] = {}

    def offer(self, item: object, at: FieldPath, number: int) -> tuple[str, dict] | None:
        """(name, attribute → level) of one offer, or None when it is not a mapping."""
        attributes = self.study.attribute_names
        if not isinstance(item, dict):
            self._add(at, "an offer maps each attribute to a level (attribute: level)")
            return None
        levels, where = dict(item), at
        name = None
        if isinstance(item.get("levels"), dict):
            name = levels.pop("name", None)
            for key in levels:
                if key != "levels":
                    self._add((*at, key), f"unknown key {key!r}; an offer has 'name' and 'levels'")
            levels, where = dict(item["levels"]), (*at, "levels")
        elif "name" in levels and "name" not in attributes:
            name = levels.pop("name")
        name = str(name) if name is not None else f"offer {number}"
        for key, value in levels.items():
            self._level(name, key, value, (*where, key))
        missing = [a for a in attributes if a not in levels]
        if missing:
            self._add(where, f"no level given for {', '.join(missing)}")
        return name, levels

    def _level(self, name: str, key: object, value: object, at: FieldPath) -> None:
        attributes = self.study.attribute_names
        if key not in attributes:
            self._add(at, f"unknown attribute; the study has {', '.join(attributes)}")
            return
        try:
            self.coding.code_offer({**self.valid, key: value}, what=f"offer '{name}'")
        except OfferlabError as exc:
            self._add(at, str(exc).split(": ", 1)[-1])
            return
        attr = self.study.attribute(str(key))
        if isinstance(attr, CategoricalAttribute):
            return
        number = float(value)  # type: ignore[arg-type]
        if attr.in_studied_range(number):
            return
        lo, hi = attr.studied_range
        outside = f"{number:g} lies outside the studied range [{lo:g}, {hi:g}]"
        if self.extrapolate:
            self.extrapolated.setdefault(name, []).append(f"{key} = {outside}")
        else:
            self._add(
                at,
                f"{outside}: respondents never saw it, so the model can only extrapolate "
                "(pass --extrapolate to predict it anyway, marked as such)",
            )

    def _add(self, at: FieldPath, message: str) -> None:
        self.problems.append(self.doc.problem(at, message))


def _sorted(problems: list[StudyProblem]) -> list[StudyProblem]:
    return sorted(dict.fromkeys(problems), key=lambda p: (p.line or 0, p.column or 0))


def shares(
    data: AnswersArg,
    study: StudyOpt,
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
    extrapolate: Annotated[
        bool,
        typer.Option(
            "--extrapolate",
            help="Allow numbers outside the studied range; their shares are marked "
            f"{EXTRAPOLATED} as extrapolations.",
        ),
    ] = False,
) -> None:
    """Estimate the MNL, then print each offer's share of preference with a 95% interval."""
    console = wide_console()
    the_study = load_study(study)
    # Check the offers against the study before the (possibly long) fit.
    read = read_scenario(scenario, the_study, extrapolate=extrapolate)
    offers = read.scenario
    for name, offer in zip(offers.names, offers.offers, strict=True):
        for message in offer_warnings(the_study, name, offer):
            if name not in read.extrapolated or "outside the studied range" not in message:
                console.print(f"[yellow]warning:[/] {escape(f'{scenario}: {message}')}")
    results = fit_from_files(data, study, None, coding, cov, dual)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OfferlabWarning)  # printed above, with the file name
        table = share_of_preference(
            results, offers, include_none=include_none, draws=draws, rng=seed
        )
    table["extrapolated"] = table["offer"].isin(list(read.extrapolated))
    title = "Shares of preference" + (
        " (95% interval from parameter draws)" if draws else " (no intervals: --draws 0)"
    )
    console.print(_shares_table(table, title, draws))
    if read.extrapolated:
        console.print(_footnote(read.extrapolated))
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        write_csv(table, out / "shares.csv")
        plot_shares(_marked(table), out / "shares.png", title=_plot_title(title, read))
        console.print(f"shares.csv and shares.png written to [bold]{escape(str(out))}/[/]")


def _shares_table(table: pd.DataFrame, title: str, draws: int) -> Table:
    shown = Table(title=title)
    for col in ("offer", "share", "95% interval"):
        shown.add_column(col, justify="left" if col == "offer" else "right")
    for row in table.itertuples():
        mark = f" {EXTRAPOLATED}" if row.extrapolated else ""
        interval = f"[{100 * row.lower:.1f}%, {100 * row.upper:.1f}%]{mark}" if draws else ""
        share = f"{100 * row.share:.1f}%{mark}"
        shown.add_row(escape(f"{row.offer}{mark}"), share, interval)
    return shown


def _footnote(extrapolated: dict[str, list[str]]) -> str:
    lines = [
        f"{EXTRAPOLATED} extrapolated (--extrapolate): outside what respondents saw, so these "
        "numbers rest on the model's form alone, and the other offers' shares lean on them:"
    ]
    for name, reasons in extrapolated.items():
        lines.append(f"  {escape(name)}: {escape('; '.join(reasons))}")
    return "\n".join(lines)


def _marked(table: pd.DataFrame) -> pd.DataFrame:
    marked = table.copy()
    marked["offer"] = [
        f"{o} {EXTRAPOLATED}" if x else str(o)
        for o, x in zip(table["offer"], table["extrapolated"], strict=True)
    ]
    return marked


def _plot_title(title: str, read: ScenarioFile) -> str:
    return title + (
        f"\n{EXTRAPOLATED} extrapolated beyond the studied range" if read.extrapolated else ""
    )
