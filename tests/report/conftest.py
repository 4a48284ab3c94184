"""Fixtures of the report tests: the example study, simulated answers, fits, a market."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from _example import PDF_DATE, make_example, report_in


@pytest.fixture(scope="session")
def example(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    return make_example(tmp_path_factory.mktemp("report"))


@pytest.fixture(scope="session")
def built(example: SimpleNamespace) -> SimpleNamespace:
    """The report content of the example (MNL, share of preference), and its market."""
    from offerlab.decide import load_market, simulator_for
    from offerlab.report._html import build_report

    spec = load_market(example.market_path, example.study)
    sim = simulator_for(example.results, "sop", n_draws=100, seed=0)
    market = spec.market(example.results.coding)
    content = build_report(
        example.results, example.data, example.study, model="mnl", sim=sim, market=market,
        objective="profit",
        optimise={"slots": spec.tiers, "costs": spec.costs, "base_cost": spec.file.base_cost,
                  "prices": spec.price_grid(), "pessimism": 0.1},
        pricing_offer=spec.pricing_offer, answers=example.survey,
        respondents=example.respondents,
    )  # fmt: skip
    return SimpleNamespace(content=content, sim=sim, market=market, spec=spec)


@pytest.fixture(scope="session")
def german(example: SimpleNamespace, built: SimpleNamespace) -> SimpleNamespace:
    """The example's report in German."""
    return report_in("de", example, built)


@pytest.fixture(scope="session")
def german_pdf(german: SimpleNamespace, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The German report's PDF, written once for the tests that read it (test_report_layout,
    test_report_findings_languages): each write draws every figure again."""
    from offerlab.report import write_pdf

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOURCE_DATE_EPOCH", PDF_DATE)  # the PDF's creation date
        return write_pdf(german.content, tmp_path_factory.mktemp("german") / "report.pdf")


@pytest.fixture(scope="session")
def french(example: SimpleNamespace, built: SimpleNamespace) -> SimpleNamespace:
    """The example's report in French."""
    return report_in("fr", example, built)


@pytest.fixture(scope="session")
def latent_class_report(example: SimpleNamespace, built: SimpleNamespace) -> SimpleNamespace:
    """Two latent classes of the example (two starts) and their report: the workbook's
    population of several weighted rows, which the formula evaluator (test_excel.py) and
    LibreOffice (test_excel_libreoffice.py) both read. Fitted and built once."""
    from offerlab.decide import simulator_for
    from offerlab.models import LatentClassLogit
    from offerlab.report._html import build_report

    lc = LatentClassLogit(2, n_starts=2, seed=0).fit(example.data, study=example.study)
    sim = simulator_for(lc, "sop", scale=0.8, n_draws=0)
    market = built.spec.market(lc.coding)
    content = build_report(lc, example.data, example.study, model="lc", sim=sim,
                           market=market, mnl=example.results, figures=False)  # fmt: skip
    return SimpleNamespace(results=lc, content=content, sim=sim, market=market)


@pytest.fixture(scope="session")
def short_hb(example: SimpleNamespace) -> SimpleNamespace:
    """Hierarchical Bayes chains far too short to converge (2 x 100 + 100) on the example,
    and their simulator (20 draws a respondent): the report's HB pages in
    test_report_money.py and its segment filter in test_report_simulator_segments.py."""
    import warnings

    from offerlab.decide import simulator_for
    from offerlab.exceptions import ConvergenceWarning
    from offerlab.models import HierarchicalBayes

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        hb = HierarchicalBayes(burn_in=100, draws=100, chains=2, keep_draws=2, seed=1).fit(
            example.data, study=example.study
        )
    return SimpleNamespace(results=hb, sim=simulator_for(hb, "sop", n_draws=20, seed=0))
