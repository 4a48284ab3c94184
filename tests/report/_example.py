"""The example the report tests share: 300 simulated respondents of the car-subscription
study, their survey answers (price questions, obstacles) and quality flags, an MNL fit."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import yaml
from _survey import export_answers, export_respondents

from offerlab.models import MaxDiffAnswers, MaxDiffHB, MaxDiffHBResults

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
MARKET = EXAMPLES / "car_subscription_market.yaml"

#: SOURCE_DATE_EPOCH of the German PDF (conftest.german_pdf), which a test compares byte
#: for byte with the same PDF drawn from its stored JSON document.
PDF_DATE = "1700000000"


def small_market(tmp: Path) -> Path:
    """The example market with one tier on the studied prices: an exhaustive search of a
    few thousand offers (the example's two tiers on a CHF 50 grid take ~20 s)."""
    raw = yaml.safe_load(MARKET.read_text(encoding="utf-8"))
    raw["optimise"] = {"tiers": ["Our City Compact"]}
    path = tmp / "market.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


def make_example(tmp: Path) -> SimpleNamespace:
    """300 simulated respondents of the example study, their survey answers, an MNL fit."""
    import offerlab as ol
    from offerlab.simulate import load_population, simulate_answers
    from offerlab.study import example_path, load_study

    study_path = EXAMPLES / "car_subscription.yaml"
    study = load_study(study_path)
    design = ol.make_design(study, method="random", versions=4, seed=1)
    population = load_population(example_path("car_subscription_population"), study)
    answers = simulate_answers(study, design.to_frame(), population, 300, rng=7)
    answers_path = tmp / "answers.csv"
    answers.data.write(answers_path)
    survey = export_answers(answers.truth, seed=3)
    survey_path = tmp / "survey_answers.csv"
    survey.to_csv(survey_path, index=False)
    respondents = export_respondents(answers.truth, seed=3)
    respondents_path = tmp / "respondents.csv"
    respondents.to_csv(respondents_path, index=False)
    results = ol.MultinomialLogit().fit(answers.data, study=study)
    return SimpleNamespace(
        tmp=tmp, study_path=study_path, study=study, data=answers.data, truth=answers.truth,
        answers_path=answers_path, survey=survey, survey_path=survey_path,
        respondents=respondents, respondents_path=respondents_path, results=results,
        market_path=small_market(tmp),
    )  # fmt: skip


def report_in(
    language: str, example: SimpleNamespace, built: SimpleNamespace, **pages: Any
) -> SimpleNamespace:
    """The example's report in ``language`` (same simulator, market and answers as ``built``);
    ``pages``: more of build_report's arguments (the needs pages' answers, ``figures``)."""
    from offerlab.report import build_report, render_html

    spec = built.spec
    content = build_report(
        example.results, example.data, example.study, model="mnl", sim=built.sim,
        market=built.market, objective="profit",
        optimise={"slots": spec.tiers, "costs": spec.costs, "base_cost": spec.file.base_cost,
                  "prices": spec.price_grid(), "pessimism": 0.1},
        pricing_offer=spec.pricing_offer, answers=example.survey,
        respondents=example.respondents, language=language, **pages,
    )  # fmt: skip
    return SimpleNamespace(content=content, html=render_html(content))


#: The needs workbooks built so far in this process (see :func:`needs_workbook`).
_NEEDS_WORKBOOKS: dict[tuple[int, int, str], SimpleNamespace] = {}


def needs_workbook(
    example: SimpleNamespace, built: SimpleNamespace, language: str, folder: Path
) -> SimpleNamespace:
    """The example's workbook in ``language`` with market, optimiser, pricing and the needs
    and concept pages (their answers simulated for the same people): ``content`` and the
    openpyxl ``book``. Built once per process and language -- the report's build is the
    cost, and the Excel tests only read what it made."""
    key = (id(example), id(built), language)
    if key not in _NEEDS_WORKBOOKS:
        from openpyxl import load_workbook

        from offerlab.report import write_excel
        from offerlab.simulate import simulate_needs_answers

        needs = simulate_needs_answers(
            example.study, example.truth["respondent"], language=language, rng=11
        )
        with maxdiff_fits_kept():  # the other languages' and modules' fit of these answers
            content = report_in(
                language, example, built, maxdiff=needs.maxdiff, kano=needs.kano,
                concepts=needs.concepts, figures=False,
            ).content  # fmt: skip
        path = write_excel(content, folder / f"report_{language}.xlsx")
        _NEEDS_WORKBOOKS[key] = SimpleNamespace(content=content, book=load_workbook(path))
    return _NEEDS_WORKBOOKS[key]


#: The needs page's individual MaxDiff fits, by sampler and answers (see :class:`KeptMaxDiffHB`).
_MAXDIFF_FITS: dict[tuple, MaxDiffHBResults] = {}


class KeptMaxDiffHB(MaxDiffHB):
    """The report's individual MaxDiff fits, kept by sampler and answers: a second report
    on the same answers (the simulation's language only changes the open answers) reuses
    the first one's fit, and a test reads the very scores the page was made of. The sampler
    is seeded, so a fit made again on the same answers would give the same draws."""

    def fit(self, answers: MaxDiffAnswers) -> MaxDiffHBResults:
        arrays = (answers.respondents, answers.respondent, answers.shown, answers.best,
                  answers.worst, answers.dual, answers.binary)  # fmt: skip
        key = (repr(self.estimator), answers.items,
               *(repr(None if a is None else np.asarray(a).tolist()) for a in arrays))  # fmt: skip
        if key not in _MAXDIFF_FITS:
            _MAXDIFF_FITS[key] = super().fit(answers)
        return _MAXDIFF_FITS[key]


@contextmanager
def maxdiff_fits_kept() -> Iterator[dict[tuple, MaxDiffHBResults]]:
    """While it lasts, the reports' needs pages fit through :class:`KeptMaxDiffHB`; the
    fits made so far in this process (for tests that count them): kept between modules, so
    the Excel, needs-page and anchor modules fit the same answers once."""
    import pytest

    import offerlab.decide._needs_results as needs_results

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(needs_results, "MaxDiffHB", KeptMaxDiffHB)
        yield _MAXDIFF_FITS
