"""The ``offerlab check`` command: validate a study file and summarise it.

Problems in the file surface as :class:`~offerlab.exceptions.StudyError`, which
the main command line turns into one message and exit code 2; this module does
not catch it.
"""

import math
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console, Group, RenderableType
from rich.markup import escape
from rich.table import Table

from offerlab.cli._choices import Language
from offerlab.study import (
    NumericAttribute,
    PriceAttribute,
    Study,
    count_allowed_concepts,
    load_study,
)

__all__ = ["check", "study_summary"]


def check(
    study: Annotated[
        Path,
        typer.Argument(help="The study file (YAML) to check.", show_default=False),
    ],
    language: Annotated[
        Language | None,
        typer.Option(
            "--language",
            "-l",
            help="Language of the labels shown: de, fr, it or en (default: the study's own).",
        ),
    ] = None,
) -> None:
    """Check a study file and summarise its attributes, concepts and tasks.

    Every problem in the file is reported at once, with its line and field.
    """
    loaded = load_study(study)
    if language is not None and language not in loaded.languages:
        raise typer.BadParameter(
            f"the study is in {', '.join(loaded.languages)}, got {language!r}",
            param_hint="'--language'",
        )
    console = Console()
    console.print(study_summary(loaded, language))
    console.print(f"[green]✓[/] {escape(str(study))} is a valid study.")


def study_summary(study: Study, language: str | None = None) -> RenderableType:
    """A Rich summary of a study: attributes and levels, concepts, tasks, design.

    Parameters
    ----------
    study : Study
        A loaded study.
    language : str, optional
        Language of the labels; default: the study's default language.

    Returns
    -------
    rich.console.RenderableType
        Something to pass to ``Console.print``.
    """
    lang = language or study.default_language
    title = study.text(study.title, lang)
    heading = f"[bold]{escape(title)}[/] ({study.name})" if title else f"[bold]{study.name}[/]"
    languages = f"Languages: {', '.join(study.languages)} (default {study.default_language})"
    if lang != study.default_language:
        languages += f"; labels shown in {lang}"
    return Group(
        heading,
        languages,
        _attribute_table(study, lang),
        _concepts_line(study),
        _tasks_line(study, lang),
        _none_line(study, lang),
        _rules_line(study),
        _design_line(study),
    )


def _attribute_table(study: Study, lang: str) -> Table:
    table = Table(show_lines=True)
    table.add_column("Attribute")
    table.add_column("Type")
    table.add_column("Levels")
    for attr in study.attributes:
        kind = "categorical"
        if isinstance(attr, PriceAttribute):
            kind = f"price ({attr.currency})"
        elif isinstance(attr, NumericAttribute):
            kind = f"numeric, {'part-worth' if attr.coding == 'partworth' else 'linear'}"
        if attr.order != "none":
            kind += f", {attr.order}"
        n = len(attr.level_names)
        # The level names too: scenario and population files refer to levels by name.
        levels = "\n".join(
            escape(study.level_label(attr.name, i, lang))
            + (f" [dim]({escape(attr.level_names[i])})[/]" if kind == "categorical" else "")
            for i in range(n)
        )
        name = f"{escape(study.text(attr.label, lang))}\n[dim]{escape(attr.name)}[/]"
        table.add_row(name, kind, levels)
    return table


def _concepts_line(study: Study) -> str:
    total = math.prod(study.n_levels)
    allowed = count_allowed_concepts(study)
    rules = len(study.prohibitions)
    shown = "not counted" if allowed is None else f"{allowed:,}"
    return (
        f"Concepts: {shown} allowed of {total:,} ({rules} prohibition{'' if rules == 1 else 's'})"
    )


def _tasks_line(study: Study, lang: str) -> str:
    tasks = study.tasks
    line = f"Tasks: {tasks.per_respondent} per respondent, {tasks.alternatives} concepts each"
    if tasks.holdouts:
        where = [
            f"{h.name} at position {h.position}" if h.position else f"{h.name} after the design"
            for h in tasks.holdouts
        ]
        count = len(tasks.holdouts)
        line += f", plus {count} holdout task{'' if count == 1 else 's'} ({', '.join(where)})"
    return line


def _none_line(study: Study, lang: str) -> str:
    none = study.tasks.none
    if none is None:
        return "None option: none"
    label = escape(study.text(none.label, lang))
    if none.type == "dual" and none.question is not None:
        question = escape(study.text(none.question, lang))
        return f"None option: dual response, '{label}', asking '{question}'"
    return f"None option: '{label}'"


def _rules_line(study: Study) -> str:
    rules = study.tasks.rules
    line = "Rules: no identical concepts"
    if rules.dominated_concepts == "forbid":
        ordered = ", ".join(
            f"{study.attributes[i].name} {'increasing' if sign > 0 else 'decreasing'}"
            for i, sign in study.ordered_attributes
        )
        line += f"; no dominated concepts (ordered: {ordered})"
    return line


def _design_line(study: Study) -> str:
    design = study.design
    seed = "no seed" if design.seed is None else f"seed {design.seed}"
    prior = ", with a prior" if design.prior is not None else ""
    return (
        f"Design: {design.method}, {design.versions} versions, {seed}, "
        f"{design.coding} coding{prior}"
    )
