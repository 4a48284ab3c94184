"""Conjoint summaries: codings, part-worths, importance, willingness to pay, prediction."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _mnl_sim import TRUTH, make_study, simulate

from offerlab.data import ChoiceData
from offerlab.exceptions import EstimationError, OfferlabError
from offerlab.models import MultinomialLogit
from offerlab.models._conjoint import partworth_jacobian


@pytest.fixture(scope="module")
def data() -> ChoiceData:
    return simulate(np.random.default_rng(5), 400, 8, none="plain")


@pytest.fixture(scope="module")
def fits(data):
    study = make_study("plain")
    effects = MultinomialLogit(level_coding="effects").fit(data, study=study)
    dummy = MultinomialLogit(level_coding="dummy").fit(data, study=study)
    return effects, dummy


def test_effects_and_dummy_coding_give_the_same_model(fits) -> None:
    effects, dummy = fits
    assert effects.llf == pytest.approx(dummy.llf, abs=1e-8)
    pe, pd_ = effects.partworths(), dummy.partworths()
    for attr in ("brand", "size", "term", "price"):
        a = pe[pe["attribute"] == attr]["utility"].to_numpy()
        b = pd_[pd_["attribute"] == attr]["utility"].to_numpy()
        # Differences between levels do not depend on the coding …
        np.testing.assert_allclose(a - a[0], b - b[0], atol=1e-7)
        # … nor do their SEs (relative to the first level), via the delta method.
    # Dummy coding: the first level is the reference, utility 0 with SE 0.
    first = pd_.groupby("attribute", sort=False).head(1)
    assert (first[first["attribute"] != "none"]["utility"].abs() < 1e-12).all()
    # Effects coding: part-worths sum to zero within each attribute.
    sums = pe[pe["attribute"] != "none"].groupby("attribute")["utility"].sum()
    assert (sums.abs() < 1e-10).all()
    # Importance and WTP do not depend on the coding either.
    pd.testing.assert_frame_equal(effects.importance(), dummy.importance(), atol=1e-6)
    pd.testing.assert_frame_equal(effects.wtp(), dummy.wtp(), atol=1e-6)


def test_effects_coded_last_level_se_by_delta_method(fits) -> None:
    effects, _ = fits
    pw = effects.partworths()
    names = ["brand[alpha]", "brand[beta]", "brand[gamma]"]
    cov = effects.cov.loc[names, names].to_numpy()
    delta = pw[(pw["attribute"] == "brand") & (pw["level"] == "delta")]
    assert float(delta["utility"].iloc[0]) == pytest.approx(-effects.params[names].sum())
    assert float(delta["se"].iloc[0]) == pytest.approx(np.sqrt(cov.sum()))
    assert list(pw["attribute"]).count("brand") == 4 and pw["attribute"].iloc[-1] == "none"


def test_importance_sums_to_100_and_matches_part_worth_ranges(fits) -> None:
    effects, _ = fits
    imp = effects.importance()
    assert imp["importance"].sum() == pytest.approx(100.0, abs=1e-10)
    pw = effects.partworths()
    ranges = pw[pw["attribute"] != "none"].groupby("attribute", sort=False)["utility"]
    ranges = (ranges.max() - ranges.min()).to_numpy()
    np.testing.assert_allclose(imp["importance"], 100 * ranges / ranges.sum(), rtol=1e-12)
    # Linear price: |β|·(max − min) over the study's values.
    price = imp.set_index("attribute").loc["price", "range"]
    assert price == pytest.approx(abs(effects.params["price"]) * 30)
    assert (imp["se"] > 0).all() and (imp["lower"] < imp["importance"]).all()


def test_importance_delta_se_agrees_with_parameter_draws(fits) -> None:
    effects, _ = fits
    imp = effects.importance()
    rng = np.random.default_rng(0)
    draws = rng.multivariate_normal(effects.params, effects.cov, size=4000)
    coding = effects.coding
    sims = []
    for b in draws:
        ranges = []
        for block in coding.blocks:
            u = partworth_jacobian(coding, block) @ b
            ranges.append(u.max() - u.min())
        ranges = np.array(ranges)
        sims.append(100 * ranges / ranges.sum())
    sd = np.array(sims).std(axis=0)
    np.testing.assert_allclose(imp["se"], sd, rtol=0.15)


def test_wtp_delta_method_agrees_with_simulation(fits) -> None:
    effects, _ = fits
    wtp = effects.wtp()
    assert wtp.attrs["note"] == ""
    # Truth: brand beta vs alpha is worth −(0.1 − 0.6)/(−0.06) ≈ −8.3 price units.
    row = wtp[(wtp["attribute"] == "brand") & (wtp["level"] == "beta")].iloc[0]
    truth = -(TRUTH["brand"]["beta"] - TRUTH["brand"]["alpha"]) / TRUTH["price"]
    assert abs(row["wtp"] - truth) < 4 * row["se"]
    # Delta-method SE against Krinsky–Robb draws of the coefficients.
    rng = np.random.default_rng(1)
    draws = pd.DataFrame(
        rng.multivariate_normal(effects.params, effects.cov, size=20_000),
        columns=effects.params.index,
    )
    sim = -(draws["brand[beta]"] - draws["brand[alpha]"]) / draws["price"]
    assert row["se"] == pytest.approx(sim.std(), rel=0.05)
    # Every non-price level but the first, and a per-unit row for no attribute here.
    assert len(wtp) == 3 + 2 + 2
    assert ((wtp["lower"] < wtp["wtp"]) & (wtp["wtp"] < wtp["upper"])).all()


def test_wtp_notes_a_price_coefficient_that_is_not_negative() -> None:
    truth = {**TRUTH, "price": 0.0}
    data = simulate(np.random.default_rng(9), 100, 6, truth=truth)
    res = MultinomialLogit().fit(data, study=make_study())
    if res.params["price"] / res.bse["price"] < -1.645:  # pragma: no cover - 5% chance
        pytest.skip("the price coefficient came out significant by chance")
    wtp = res.wtp()
    assert "not significantly negative" in wtp.attrs["note"]
    assert (wtp["note"] == wtp.attrs["note"]).all()


def test_predict_gives_probabilities_that_sum_to_one_per_task(fits, data) -> None:
    effects, dummy = fits
    p = effects.predict(data)
    assert p.index.equals(data.frame.index)
    sums = p.groupby([data.frame["respondent"], data.frame["task"]]).sum()
    np.testing.assert_allclose(sums, 1.0, atol=1e-12)
    np.testing.assert_allclose(p, dummy.predict(data), atol=1e-8)
    chosen = data.frame["chosen"].to_numpy() == 1
    assert np.log(p[chosen]).sum() == pytest.approx(effects.llf, abs=1e-8)


def test_holdout_tasks_are_left_out_of_estimation(data) -> None:
    frame = data.frame.copy()
    frame.loc[frame["task"] == 8, "holdout"] = 1
    with_holdouts = ChoiceData.from_frame(frame)
    res = MultinomialLogit().fit(with_holdouts, study=make_study("plain"))
    assert res.n_tasks == 400 * 7
    ref = MultinomialLogit().fit(
        ChoiceData.from_frame(frame[frame["task"] != 8]), study=make_study("plain")
    )
    assert res.llf == pytest.approx(ref.llf)


def test_summary_returns_data_and_text_without_printing(fits, capsys) -> None:
    effects, _ = fits
    summary = effects.summary()
    assert capsys.readouterr().out == ""
    assert set(summary.tables) == {"fit", "estimates"}
    text = summary.as_text()
    assert "brand[alpha]" in text and "log-likelihood" in text and str(summary) == text
    assert "<table" in summary._repr_html_()
    frame = effects.to_frame()
    expected = ["estimate", "se", "se_robust", "se_cluster", "t", "p", "lower", "upper"]
    assert list(frame.columns) == expected
    ci = effects.conf_int(0.1, "robust")
    assert (ci["upper"] - ci["lower"]).to_numpy() == pytest.approx(
        2 * 1.6448536 * effects.bse_robust.to_numpy(), rel=1e-6
    )


def test_unidentified_coefficients_are_named() -> None:
    # A brand that is the same in every concept of every task cannot be estimated.
    data = simulate(np.random.default_rng(2), 50, 4)
    frame = data.frame.copy()
    frame["brand"] = "alpha"
    with pytest.raises(EstimationError, match=r"brand\[alpha\]"):
        MultinomialLogit().fit(ChoiceData.from_frame(frame), study=make_study())
    # Two levels that always appear together are collinear.
    frame = data.frame.copy()
    frame.loc[frame["brand"] == "beta", "size"] = "medium"
    frame.loc[frame["size"] == "medium", "brand"] = "beta"
    with pytest.raises(EstimationError, match="not identified") as err:
        MultinomialLogit().fit(ChoiceData.from_frame(frame), study=make_study())
    assert "brand[beta]" in str(err.value) and "size[medium]" in str(err.value)


def test_options_are_checked_with_clear_messages(data) -> None:
    with pytest.raises(OfferlabError, match=r"'level_coding' parameter .* Got 'orthogonal'"):
        MultinomialLogit(level_coding="orthogonal").fit(data, study=make_study("plain"))
    with pytest.raises(OfferlabError, match="exactly one of 'study' and 'spec'"):
        MultinomialLogit().fit(data)
