"""The command line end to end: each step reads what the previous one wrote."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
STUDY = EXAMPLES / "car_subscription.yaml"
POPULATION = EXAMPLES / "car_subscription_population.yaml"
SCENARIO = EXAMPLES / "car_subscription_scenario.yaml"


def offerlab(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "offerlab", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        # this tree's sources, not whichever offerlab the virtual environment installed
        env={"COLUMNS": "160", "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT / "src")},
    )


def assert_clean_failure(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    for needle in needles:
        assert needle in result.stderr, result.stderr


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """design → simulate → estimate, through the command line only."""
    work = tmp_path_factory.mktemp("pipeline")
    steps = [
        (
            "design",
            STUDY,
            "--method",
            "balanced",
            "--versions",
            "8",
            "--seed",
            "3",
            "--out",
            work / "design.parquet",
        ),
        (
            "simulate",
            STUDY,
            "--design",
            work / "design.parquet",
            "--population",
            POPULATION,
            "--respondents",
            "300",
            "--seed",
            "4",
            "--out",
            work / "answers.csv",
            "--truth",
            work / "truth.csv",
        ),
        ("estimate", work / "answers.csv", "--study", STUDY, "--out", work / "estimates"),
    ]
    for step in steps:
        result = offerlab(*step)
        assert result.returncode == 0, f"{step[0]} failed:\n{result.stdout}\n{result.stderr}"
    return work


def test_each_step_reads_what_the_previous_one_wrote(pipeline: Path) -> None:
    design = pd.read_parquet(pipeline / "design.parquet")
    assert {"version", "task", "alternative", "monthly_price", "car_class"} <= set(design.columns)
    assert design["version"].nunique() == 8
    answers = pd.read_csv(pipeline / "answers.csv")
    assert answers["respondent"].nunique() == 300
    assert (answers.groupby(["respondent", "task"])["chosen"].sum() == 1).all()
    assert "would_buy" in answers.columns  # the example has a dual-response none
    written = {p.name for p in (pipeline / "estimates").iterdir()}
    assert any("estimates" in name for name in written), written


def test_price_coefficient_has_the_simulated_sign(pipeline: Path) -> None:
    table = next((pipeline / "estimates").glob("*estimates*.csv"))
    estimates = pd.read_csv(table, index_col=0)
    price = estimates.loc[next(i for i in estimates.index if "price" in str(i))]
    assert price.iloc[0] < 0


def test_shares_for_the_example_scenario(pipeline: Path) -> None:
    result = offerlab("shares", pipeline / "answers.csv", "--study", STUDY, "--scenario", SCENARIO)
    assert result.returncode == 0, result.stderr
    for offer in ("Flex Electric", "Family SUV", "City Compact", "none"):
        assert offer in result.stdout


def test_shares_refuse_then_mark_unstudied_offers(pipeline: Path, tmp_path: Path) -> None:
    scenario = yaml.safe_load(SCENARIO.read_text())
    scenario["offers"][0]["monthly_price"] = 1200  # the study's prices end at 990
    scenario["offers"][1] |= {"car_class": "premium", "monthly_price": 390}  # prohibited
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(scenario))
    result = offerlab(
        "shares",
        pipeline / "answers.csv",
        "--study",
        STUDY,
        "--scenario",
        path,
        "--draws",
        "0",
        "--out",
        tmp_path / "shares",
    )
    assert_clean_failure(result, "offers[0].monthly_price: 1200 lies outside the studied range")
    result = offerlab(
        "shares",
        pipeline / "answers.csv",
        "--study",
        STUDY,
        "--scenario",
        path,
        "--draws",
        "0",
        "--extrapolate",
        "--out",
        tmp_path / "shares",
    )
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert "Flex Electric: monthly_price = 1200 lies outside the studied range" in text
    assert "'Family SUV' combines car_class = premium, monthly_price = 390" in text
    assert "no intervals: --draws 0" in text
    shares = pd.read_csv(tmp_path / "shares" / "shares.csv")
    assert shares["share"].sum() == pytest.approx(1.0, abs=1e-12)
    assert (tmp_path / "shares" / "shares.png").stat().st_size > 0


def test_broken_study_file_gets_one_message_and_exit_2(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "name: s\nattributes:\n  - name: colour\n    label: Colour\n    levels:\n"
        "      - {name: red, label: Red}\n      - {name: red, label: Rot}\n"
    )
    assert_clean_failure(offerlab("check", broken), f"{broken}:7", "red")
    assert_clean_failure(offerlab("design", broken, "--out", tmp_path / "d.csv"), f"{broken}:7")
    assert not (tmp_path / "d.csv").exists()


def test_choice_data_with_two_chosen_alternatives_names_the_rows(
    pipeline: Path, tmp_path: Path
) -> None:
    answers = pd.read_csv(pipeline / "answers.csv")
    first_task = (answers["respondent"] == 1) & (answers["task"] == 1)
    answers.loc[first_task & (answers["none"] == 0), "chosen"] = 1
    bad = tmp_path / "answers.csv"
    answers.to_csv(bad, index=False)
    result = offerlab("estimate", bad, "--study", STUDY)
    assert_clean_failure(result, "more than one chosen", "respondent 1, task 1")


def test_population_with_an_unknown_attribute_is_reported(pipeline: Path, tmp_path: Path) -> None:
    population = tmp_path / "population.yaml"
    population.write_text("segments:\n  - name: a\n    partworths:\n      colour: [1, 2]\n")
    result = offerlab(
        "simulate",
        STUDY,
        "--design",
        pipeline / "design.parquet",
        "--population",
        population,
        "--respondents",
        "10",
        "--out",
        tmp_path / "a.csv",
    )
    assert_clean_failure(result, "segments[0].partworths.colour", "unknown attribute")
    assert not (tmp_path / "a.csv").exists()


def test_design_of_another_study_is_reported(pipeline: Path, tmp_path: Path) -> None:
    design = pd.read_parquet(pipeline / "design.parquet").drop(columns=["term"])
    design.to_csv(tmp_path / "other.csv", index=False)
    result = offerlab(
        "simulate",
        STUDY,
        "--design",
        tmp_path / "other.csv",
        "--population",
        POPULATION,
        "--respondents",
        "10",
        "--out",
        tmp_path / "a.csv",
    )
    assert_clean_failure(result, "other.csv", "lacks column(s) ['term']", "another study")
    assert not (tmp_path / "a.csv").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("estimate", "a.csv", "--study", STUDY, "--cov", "robst"),
            "'robst' is not one of 'classic', 'robust', 'cluster'",
        ),
        (
            ("design", STUDY, "--method", "eficient"),
            "'eficient' is not one of 'efficient', 'balanced', 'random'",
        ),
        (("demo", "--language", "es"), "'es' is not one of 'de', 'fr', 'it', 'en'"),
    ],
)
def test_a_mistyped_option_value_names_the_option_and_the_choices(
    args: tuple, message: str
) -> None:
    result = offerlab(*args)
    assert result.returncode == 2
    assert message in " ".join(result.stderr.replace("│", " ").split())


def test_demo_runs_the_whole_loop(demo_run: SimpleNamespace) -> None:
    """`offerlab demo --respondents 300` (tests/cli/conftest.py: one run for the session)."""
    out = demo_run.out
    assert demo_run.exit_code == 0, demo_run.failure
    for name in (
        "design.csv",
        "answers.csv",
        "estimates.csv",
        "importance.csv",
        "wtp.csv",
        "shares.csv",
        "importance.png",
        "partworths.png",
        "wtp.png",
        "shares.png",
        "report.html",
        "report.pdf",
        "report.xlsx",
    ):
        assert (out / name).stat().st_size > 0, name
    shares = pd.read_csv(out / "shares.csv")
    assert shares["share"].sum() == pytest.approx(1.0, abs=1e-12)
    assert "Willingness to pay" in demo_run.output
    assert "recommendation: Tier 1: CHF" in demo_run.output  # the variants and prices to launch
    page = (out / "report.html").read_text()
    assert not re.search(r"(?i)\b(?:https?|ftp)://", page)  # opens offline: no address
    # The whole decision (issue 13, finding 4): the market file's two tiers and costs, the
    # survey's other answers, so every page of the report is filled.
    assert "Tier 1: " in page and "Tier 2: " in page  # the market file's two tiers
    assert "profit-maximising price" in page and "Cost per sale" in page
    for section in ('id="needs"', "Van Westendorp: acceptable range", "Gabor–Granger respondents"):
        assert section in page, section
    survey = pd.read_csv(out / "survey_answers.csv")
    assert {"price_sensitivity", "motives", "obstacles"} <= set(survey["page"])
    # Issue 17: the demo's chains run until converged, and the report says so next to the
    # decision (it said "not converged" when they stopped at 2,000 draws).
    assert "Hierarchical Bayes converged (max R-hat" in page
    assert "not converged" not in page
    # Issue 16: the simulated people also answer the MaxDiff, Kano and concept-test pages,
    # so the needs page and the concept page are filled: scores, bundle, Kano, concepts.
    for name in ("maxdiff.csv", "kano.csv", "concepts.csv", "maxdiff_truth.csv"):
        assert (out / name).stat().st_size > 0, name
    maxdiff = pd.read_csv(out / "maxdiff.csv")
    assert maxdiff["respondent"].nunique() == 300
    for section in ('id="needs-page"', 'id="concepts"', "What matters most (MaxDiff)",
                    "The bundle that reaches the most people (TURF)",
                    "Expected, pleasing or indifferent? (Kano)", "Differences between concepts",
                    "Order effects", "What would you change? (open answers)"):  # fmt: skip
        assert section in page, section
    needs = page.split('id="needs-page"')[1].split("</section>")[0]
    concepts = page.split('id="concepts"')[1].split("</section>")[0]
    assert 'class="empty"' not in needs and 'class="empty"' not in concepts
    assert needs.count("data:image/png;base64,") == 3  # scores, reach, Kano
    assert concepts.count("data:image/png;base64,") == 1
    assert "Staying flexible" in needs and "Flex Plus" in concepts  # labels, not names


def test_demo_advice_holds_against_its_truth(demo_out: Path) -> None:
    """Issue 13, finding 5: the demo's recommended line-up, scored under the people the demo
    simulated (true_partworths.csv) buying in its market file's market, makes at least 95%
    of the true optimum's profit, and its 95% interval covers its true profit. (With the
    scale tuned on the holdout tasks the demo claimed CHF 53.47, 95%: 49.83-58.60, for a
    line-up whose true profit is CHF 30.78.)"""
    from offerlab.decide import TrueMarket, load_market
    from offerlab.models._matrix import ConjointCoding
    from offerlab.study import load_study

    out = demo_out
    study = load_study(STUDY)
    spec = load_market(EXAMPLES / "car_subscription_market.yaml", study)
    market = spec.market(ConjointCoding.from_study(study, "effects", none=True))  # HB's coding
    truth = TrueMarket.from_market(
        market, pd.read_csv(out / "true_partworths.csv"), slots=spec.tiers,
        prices=spec.price_grid(), costs=spec.costs, base_cost=spec.file.base_cost,
        fixed=dict(spec.file.optimise.fixed),
    )  # fmt: skip
    advice = pd.read_csv(out / "recommendation.csv")
    assert list(advice["tier"]) == spec.tiers
    lineup = truth.index(
        [{a: row[a] for a in truth.space.attributes} for _, row in advice.iterrows()]
    )
    true_profit = float(truth.profit(np.array([lineup]))[0])
    # The true optimum: coordinate ascent under the truth from the advice and the best
    # single offers (each paired with the best other product).
    alone = truth.profit(np.column_stack([np.arange(len(truth.space.index))] * 2))
    order = np.argsort(-alone)
    starts = [lineup]
    for c in order[:5]:
        starts.append((int(c), int(next(d for d in order if truth.product[d] != truth.product[c]))))
    _, optimum = truth.best(starts)
    assert true_profit >= 0.95 * optimum, (true_profit, optimum)
    assert advice["lower"].iloc[0] <= true_profit <= advice["upper"].iloc[0], (
        true_profit, advice[["expected", "lower", "upper"]].iloc[0].tolist(),
    )  # fmt: skip
