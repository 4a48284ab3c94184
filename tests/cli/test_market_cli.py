"""``offerlab simulate-market``: shares with intervals, the optimiser, bad market files."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "report"))

from _example import make_example

from offerlab.cli._errors import guarded
from offerlab.cli.market import simulate_market_command

app = typer.Typer(pretty_exceptions_enable=False)
app.command("simulate-market")(guarded(simulate_market_command))
app.command("unused")(lambda: None)  # two commands: the name is part of the call, as in main
runner = CliRunner()


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory):
    return make_example(tmp_path_factory.mktemp("example"))


def _run(*args: str):
    return runner.invoke(app, ["simulate-market", *args])


def test_shares_with_intervals_and_a_recommended_offer(example, tmp_path) -> None:
    out = tmp_path / "out"
    result = _run(
        str(example.answers_path), "--study", str(example.study_path),
        "--market", str(example.market_path), "--optimise", "profit", "--draws", "50",
        "--out", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    shares = pd.read_csv(out / "shares.csv")
    assert shares["share"].sum() == pytest.approx(1.0, abs=1e-12)
    assert (shares["lower"] <= shares["share"]).all() and (shares["share"] <= shares["upper"]).all()
    assert list(shares["alternative"]) == [
        "Our Flex Electric", "Our City Compact", "Rival SUV Abo", "Keep leasing", "Buy a used car",
    ]  # fmt: skip
    assert (out / "shares.png").read_bytes()[:4] == b"\x89PNG"
    best = pd.read_csv(out / "optimisation.csv")
    assert best["expected"].is_monotonic_decreasing
    assert (best["pessimistic"] <= best["expected"]).all()
    assert "Recommended:" in result.output
    p_best = best["p_best"].iloc[0]
    assert f"listed in {100 * p_best:.0f}% of the" in " ".join(result.output.split())


def test_latent_classes_give_shares_by_segment_first_choice(example, tmp_path) -> None:
    out = tmp_path / "out"
    result = _run(
        str(example.answers_path), "--study", str(example.study_path),
        "--market", str(example.market_path), "--model", "lc", "--rule", "fc",
        "--by-segment", "--draws", "20", "--out", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    shares = pd.read_csv(out / "shares.csv")
    assert set(shares["segment"]) == {"class 1", "class 2"}
    assert shares.groupby("segment")["share"].sum().to_numpy() == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize(
    ("old", "new", "where", "message"),
    [
        ("car_class: electric", "car_class: van", ":16:", "offers[0].car_class: attribute "
         "'car_class' has no level 'van'"),
        ("monthly_price: 690", "monthly_price: 1200", ":13:", "offers[0].monthly_price: 1200 "
         "lies outside the studied range [390, 990]"),
        ("    constant: none", "    constant: asc_lease", ":47:", "status_quo[0].constant: "
         "the model has no constant 'asc_lease'"),
        ("price_step: 50", "price_step: -5", ":68:", "optimise.price_step:"),
        ("price_only_tiers: false", "price_only_tiers: maybe", ":74:",
         "optimise.price_only_tiers:"),
        ("  insurance: {included: 60, own: 0}", "  insurnce: {included: 60, own: 0}", ":57:",
         "costs.insurnce: unknown attribute"),
    ],
)  # fmt: skip
def test_a_bad_market_file_gets_file_line_field_and_exit_2(
    example, tmp_path, old, new, where, message
) -> None:
    text = (Path(example.study_path).parent / "car_subscription_market.yaml").read_text("utf-8")
    assert old in text
    bad = tmp_path / "market.yaml"
    bad.write_text(text.replace(old, new, 1), encoding="utf-8")
    result = _run(str(example.answers_path), "--study", str(example.study_path),
                  "--market", str(bad))  # fmt: skip
    assert result.exit_code == 2, result.output
    assert f"market.yaml{where}" in result.output, result.output
    assert message in " ".join(result.output.split()), result.output
    assert "Traceback" not in result.output


def test_the_scale_factor_tuned_on_the_holdouts_is_the_librarys(example, tmp_path) -> None:
    from offerlab.data import ChoiceData
    from offerlab.decide import calibrate_scale, load_market, simulator_for
    from offerlab.models import MultinomialLogit
    from offerlab.study import load_study

    study = load_study(example.study_path)
    data = ChoiceData.read(example.answers_path, study)
    mnl = MultinomialLogit().fit(data, study=study)
    expected = calibrate_scale(mnl, data)
    result = _run(
        str(example.answers_path), "--study", str(example.study_path),
        "--market", str(example.market_path), "--draws", "0", "--out", str(tmp_path),
        "--tune-scale",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"{expected.scale:.2f} ± {expected.se:.2f}" in " ".join(result.output.split())
    shares = pd.read_csv(tmp_path / "shares.csv").set_index("alternative")["share"]
    market = load_market(example.market_path, study).market(mnl.coding)
    library = simulator_for(mnl, "sop", expected.scale, n_draws=0).shares(market)
    for name, share in library.set_index("alternative")["share"].items():
        assert shares[name] == pytest.approx(share, abs=1e-12), name
    unscaled = simulator_for(mnl, "sop", 1.0, n_draws=0).shares(market)
    assert not np.allclose(unscaled["share"], library["share"])  # the tuning changed them


def test_the_hb_coordinates_reach_the_fit(example, monkeypatch) -> None:
    """--interweave-coordinates travels to the decision model's HB settings; a misspelt
    value is refused before anything is fitted."""
    import offerlab.cli.market as market_cli
    from offerlab.exceptions import OfferlabError

    seen = []

    def recording_fit(model, data, study, fit, **kwargs):
        seen.append((model, fit))
        raise OfferlabError("recorded")

    monkeypatch.setattr(market_cli, "fit_decision_model", recording_fit)
    files = (str(example.answers_path), "--study", str(example.study_path),
             "--market", str(example.market_path), "--model", "hb")  # fmt: skip
    result = _run(*files, "--interweave-coordinates", "row-ratios")
    assert "recorded" in result.output
    assert [(m, f.interweave_coordinates) for m, f in seen] == [("hb", "row-ratios")]
    assert "recorded" in _run(*files).output
    assert seen[-1][1].interweave_coordinates == "entries"
    bad = _run(*files, "--interweave-coordinates", "rows")
    assert bad.exit_code == 2 and "row-ratios" in bad.output and len(seen) == 2
