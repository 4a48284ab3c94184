"""Hierarchical Bayes: conjoint fits with holdouts and sign constraints, reproducibility,
progress, errors, the trace plot and the population for the share simulator."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from offerlab.design import make_design
from offerlab.exceptions import ConvergenceWarning, OfferlabError
from offerlab.models._hb import HierarchicalBayes, _coded_blocks
from offerlab.models._matrix import ConjointCoding
from offerlab.numerics._hb import hb_prior_covariance
from offerlab.report._hb_plots import plot_hb_trace
from offerlab.simulate import Segment, SimulatedPopulation, simulate_answers
from offerlab.study import Study

COLOUR = [0.0, 1.0, -0.5]
PRICE = -0.08


def mini_study() -> Study:
    return Study.model_validate(
        {
            "name": "mini",
            "attributes": [
                {
                    "name": "colour",
                    "label": "Colour",
                    "levels": [
                        {"name": "red", "label": "Red"},
                        {"name": "blue", "label": "Blue"},
                        {"name": "green", "label": "Green"},
                    ],
                },
                {"name": "price", "type": "price", "label": "Price", "values": [10, 20, 30]},
            ],
            "tasks": {
                "alternatives": 3,
                "per_respondent": 8,
                "none": {"type": "plain", "label": "None"},
                "holdouts": [
                    {
                        "name": "h1",
                        "concepts": [
                            {"colour": "red", "price": 10},
                            {"colour": "blue", "price": 30},
                            {"colour": "green", "price": 20},
                        ],
                    }
                ],
            },
            "design": {"method": "balanced", "versions": 10, "seed": 5},
        }
    )


@pytest.fixture(scope="module")
def conjoint():
    study = mini_study()
    design = make_design(study)
    population = SimulatedPopulation(
        segments=[
            Segment(
                partworths={"colour": COLOUR, "price": PRICE},
                spread={"colour": 0.8, "price": 0.03},
                none=-0.5,
            )
        ]
    )
    answers = simulate_answers(study, design.to_frame(), population, 300, rng=3)
    return study, answers


def quick(**kw) -> HierarchicalBayes:
    kw = {"burn_in": 300, "draws": 200, "chains": 2, "seed": 11, **kw}
    return HierarchicalBayes(**kw)


def fit_quietly(model: HierarchicalBayes, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(*args, **kwargs)


def test_conjoint_fit_with_holdouts_and_a_negative_price(conjoint) -> None:
    study, answers = conjoint
    assert answers.data.holdouts().frame.shape[0] > 0
    res = fit_quietly(quick(signs={"price": -1}), answers.data, study=study)
    assert res.coding is not None and list(res.params.index) == list(res.coding.names)
    # Every respondent's price coefficient is negative, in every saved draw.
    assert (res.individual["price"] < 0).all() and (res.individual_draws[:, :, -2] < 0).all()
    # The normal scale of a sign-constrained coefficient is log(−β).
    assert res.theta_mean["price"] == pytest.approx(np.log(-PRICE), abs=0.5)
    # Population mean of the price coefficient near the truth (−0.08, spread 0.03).
    assert res.params["price"] == pytest.approx(PRICE, abs=0.03)
    # Holdouts were left out of estimation and predicted.
    assert res.nobs == answers.data.without_holdouts().n_tasks
    assert res.holdout_hit_rate is not None and 0.4 < res.holdout_hit_rate <= 1
    assert 0 < res.holdout_probability < 1
    assert (res.rlh > 0).all() and (res.rlh <= 1).all() and len(res.rlh) == 300
    frame = res.to_frame()
    assert {"estimate", "se", "lower", "upper", "sd", "rhat", "ess_bulk"} <= set(frame.columns)
    assert (frame["lower"] <= frame["estimate"]).all() and (
        frame["estimate"] <= frame["upper"]
    ).all()


def test_population_coefficients_weigh_respondents_equally(conjoint) -> None:
    study, answers = conjoint
    res = fit_quietly(quick(keep_draws=20), answers.data, study=study)
    B, w = res.population_coefficients(1200, rng=0)
    assert B.shape == (1200, res.coding.n_params) and w.shape == (1200,)
    assert np.isclose(w.sum(), 1.0) and np.allclose(w, w[0])
    # Four draws of each respondent: their mean is close to the respondent means' mean.
    assert np.allclose(B.mean(axis=0), res.individual.to_numpy().mean(axis=0), atol=0.1)


def test_same_seed_same_draws_whether_chains_run_in_parallel_or_not(conjoint) -> None:
    study, answers = conjoint
    a = fit_quietly(quick(burn_in=50, draws=20, n_jobs=1), answers.data, study=study)
    b = fit_quietly(quick(burn_in=50, draws=20, n_jobs=2), answers.data, study=study)
    c = fit_quietly(quick(burn_in=50, draws=20, n_jobs=2, seed=12), answers.data, study=study)
    np.testing.assert_array_equal(a.alpha_draws, b.alpha_draws)
    np.testing.assert_array_equal(a.individual_draws, b.individual_draws)
    assert not np.array_equal(a.alpha_draws, c.alpha_draws)


def test_progress_is_reported_up_to_one(conjoint) -> None:
    study, answers = conjoint
    seen: list[float] = []
    fit_quietly(
        quick(burn_in=150, draws=100, n_jobs=1), answers.data, study=study, progress=seen.append
    )
    assert seen and seen[-1] == pytest.approx(1.0) and seen == sorted(seen)


def test_too_short_a_run_warns_about_convergence(conjoint) -> None:
    study, answers = conjoint
    with pytest.warns(ConvergenceWarning, match="R-hat"):
        res = quick(burn_in=20, draws=20).fit(answers.data, study=study)
    assert not res.converged
    assert set(res.convergence.columns) == {"rhat", "ess_bulk", "ess_tail"}
    assert len(res.convergence) == res.k  # K means + K(K+1)/2 covariances


def test_trace_plot_writes_a_png(conjoint, tmp_path: Path) -> None:
    study, answers = conjoint
    res = fit_quietly(quick(burn_in=40, draws=20), answers.data, study=study)
    path = plot_hb_trace(res, tmp_path / "trace.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(OfferlabError, match="unknown coefficient"):
        plot_hb_trace(res, tmp_path / "x.png", params=["nope"])


def test_bad_settings_and_inputs_are_named() -> None:
    with pytest.raises(OfferlabError, match="'draws'"):
        HierarchicalBayes(draws=0).fit_arrays(np.zeros((4, 2, 1)), np.zeros(4), groups=np.arange(4))
    with pytest.raises(OfferlabError, match="prior_variance"):
        HierarchicalBayes(prior_variance=-1).fit_arrays(
            np.zeros((4, 2, 1)), np.zeros(4), groups=np.arange(4)
        )
    with pytest.raises(OfferlabError, match=r"interweave_coordinates.*'row-ratios'"):
        HierarchicalBayes(interweave_coordinates="ratios").fit_arrays(
            np.zeros((4, 2, 1)), np.zeros(4), groups=np.arange(4)
        )
    X = np.random.default_rng(0).normal(size=(40, 3, 2))
    y = np.zeros(40, dtype=int)
    with pytest.raises(OfferlabError, match="no coefficient named 'price'"):
        HierarchicalBayes(signs={"price": -1}).fit_arrays(X, y, groups=np.repeat(np.arange(10), 4))
    with pytest.raises(OfferlabError, match="signs"):
        HierarchicalBayes(signs={"x0": 2}).fit_arrays(X, y, groups=np.repeat(np.arange(10), 4))
    with pytest.raises(OfferlabError, match="groups"):
        HierarchicalBayes().fit_arrays(X, y, groups=np.arange(3))
    with pytest.raises(OfferlabError, match="exactly one"):
        HierarchicalBayes().fit(None)


def test_unbalanced_panels_and_unavailable_alternatives() -> None:
    """Respondents with different numbers of tasks and missing alternatives (padding)."""
    rng = np.random.default_rng(5)
    n_tasks = rng.integers(3, 9, size=60)
    groups = np.repeat(np.arange(60), n_tasks)
    N = len(groups)
    X = rng.normal(size=(N, 3, 2))
    available = np.ones((N, 3), dtype=bool)
    available[::4, 2] = False
    V = X @ np.array([1.0, -1.0]) + np.where(available, 0, -np.inf)
    y = np.argmax(V + rng.gumbel(size=V.shape), axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = HierarchicalBayes(burn_in=400, draws=300, seed=1, chains=1).fit_arrays(
            X, y, groups=groups, available=available
        )
    assert res.nobs == N and res.n_respondents == 60
    assert res.params.to_numpy() == pytest.approx([1.0, -1.0], abs=0.35)
    # Null log-likelihood counts only the available alternatives of real tasks.
    assert res.llnull == pytest.approx(-np.log(available.sum(axis=1)).sum())


def test_cbc_hb_proper_prior_for_coded_attributes() -> None:
    """Prior covariance of coded columns = that of i.i.d. level part-worths (CBC/HB)."""
    study = mini_study()
    effects = ConjointCoding.from_study(study, "effects", none=True)
    V0 = hb_prior_covariance(effects.n_params, 1.0, _coded_blocks(effects))
    # Three levels, effects coded: variance (L−1)/L = 2/3, covariance −1/L = −1/3.
    np.testing.assert_allclose(V0[:2, :2], [[2 / 3, -1 / 3], [-1 / 3, 2 / 3]])
    assert V0[2, 2] == 1.0 and V0[3, 3] == 1.0 and V0[0, 2] == 0.0
    dummy = ConjointCoding.from_study(study, "dummy", none=True)
    V0 = hb_prior_covariance(dummy.n_params, 1.0, _coded_blocks(dummy))
    # Dummy coded against the first level: variance 2v, covariance v (Technical Paper).
    np.testing.assert_allclose(V0[:2, :2], [[2.0, 1.0], [1.0, 2.0]])


def test_summary_and_repr(conjoint) -> None:
    study, answers = conjoint
    res = fit_quietly(quick(burn_in=40, draws=20), answers.data, study=study)
    summary = res.summary()
    assert set(summary.tables) == {"fit", "population"}
    assert isinstance(summary.tables["population"], pd.DataFrame)
    assert "NOT converged" in summary.as_text()
    assert "HBResults" in repr(res)
    assert res.correlation().shape == (res.coding.n_params,) * 2
