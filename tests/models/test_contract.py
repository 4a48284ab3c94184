"""One results contract for every estimator, and one table of parameter constraints."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest
from _mnl_sim import make_study, simulate

from offerlab.exceptions import ConvergenceWarning, EstimationError, OfferlabError
from offerlab.models import (
    ChoiceResults,
    DesignSource,
    HBResults,
    HierarchicalBayes,
    LatentClassLogit,
    LatentClassResults,
    MixedLogit,
    MixedLogitResults,
    MNLResults,
    MultinomialLogit,
)

ESTIMATORS = {
    "mnl": lambda: MultinomialLogit(),
    "lc": lambda: LatentClassLogit(2, n_starts=2, seed=0),
    "mxl": lambda: MixedLogit(["price"], n_draws=50, hessian="bhhh"),
    "hb": lambda: HierarchicalBayes(burn_in=200, draws=200, chains=1, keep_draws=5, seed=1),
}
RESULTS = {"mnl": MNLResults, "lc": LatentClassResults, "mxl": MixedLogitResults, "hb": HBResults}


@pytest.fixture(scope="module")
def data():
    return simulate(np.random.default_rng(5), n_respondents=60, n_tasks=6)


@pytest.fixture(scope="module")
def models():
    return {name: make() for name, make in ESTIMATORS.items()}


@pytest.fixture(scope="module")
def fits(models, data):
    study = make_study()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # a short chain, on purpose
        return {name: model.fit(data, study=study) for name, model in models.items()}


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_every_fit_keeps_the_contract(name: str, fits, data) -> None:
    fit = fits[name]
    assert isinstance(fit, ChoiceResults) and type(fit) is RESULTS[name]
    # the coding is given at construction and read, not set afterwards
    assert isinstance(fit.source, DesignSource) and fit.coding is fit.source.coding
    assert fit.coding is not None and fit.spec is None
    with pytest.raises(AttributeError):
        fit.coding = None  # type: ignore[misc]
    design = fit.design_of(data)
    assert design.X.shape[2] == len(fit.coding.names)
    probabilities = fit.predict(data)
    assert probabilities.index.equals(data.frame.index)
    per_task = probabilities.groupby([data.frame["respondent"], data.frame["task"]]).sum()
    np.testing.assert_allclose(per_task, 1.0, atol=1e-9)
    B, w = fit.population_coefficients(100, 0)
    assert B.shape[1] == len(fit.coefficient_names) == len(fit.coding.names)
    assert w.shape == (B.shape[0],) and w.sum() == pytest.approx(1.0)
    assert not fit.to_frame().empty and not fit.fit_frame().empty
    assert fit.summary().as_text()
    assert fit.aic == pytest.approx(2 * fit.k - 2 * fit.llf)
    assert fit.bic == pytest.approx(fit.k * np.log(fit.n_bic) - 2 * fit.llf)


def test_the_mixed_logit_is_not_a_multinomial_logit(fits) -> None:
    assert not isinstance(fits["mxl"], MNLResults)
    assert MNLResults not in MixedLogitResults.__mro__


def test_hb_results_hold_declared_fields_only(fits) -> None:
    fields = {f.name for f in dataclasses.fields(HBResults)}
    assert {"params", "individual_draws", "llf", "source"} <= fields
    kept = {f.name: getattr(fits["hb"], f.name) for f in dataclasses.fields(HBResults)}
    with pytest.raises(TypeError, match="unexpected keyword"):
        HBResults(**kept, typo_field=1)
    assert fits["hb"].n_bic == fits["hb"].n_respondents


def test_estimators_keep_no_results_on_themselves(models, fits) -> None:
    assert set(fits) == set(models)
    assert [name for name, model in models.items() if hasattr(model, "results_")] == []


@pytest.mark.parametrize("name", list(ESTIMATORS))
@pytest.mark.parametrize(
    ("parameter", "value", "says"),
    [
        ("level_coding", "orthogonal", "'effects' or 'dummy'"),
        ("dual", "both", "'sawtooth' or 'joint'"),
    ],
)
def test_one_constraint_table_one_message(name, parameter, value, says, data) -> None:
    model = ESTIMATORS[name]()
    setattr(model, parameter, value)
    estimator = type(model).__name__
    expected = f"The '{parameter}' parameter of {estimator} must be {says}. Got {value!r} instead."
    with pytest.raises(OfferlabError) as err:
        model.fit(data, study=make_study())
    assert str(err.value) == expected


def test_numbers_are_checked_too() -> None:
    with pytest.raises(OfferlabError, match="'tol' parameter of MixedLogit must be a positive"):
        MixedLogit(tol=float("nan")).check()
    with pytest.raises(OfferlabError, match=r"'n_classes' parameter .* an int >= 1"):
        LatentClassLogit(0).check()
    with pytest.raises(OfferlabError, match=r"'chains' parameter .* an int >= 1\. Got True"):
        HierarchicalBayes(chains=True).check()


@pytest.mark.parametrize("name", ESTIMATORS)
def test_every_estimator_refuses_a_design_without_free_coefficients(name: str) -> None:
    X, y = np.zeros((6, 3, 0)), np.zeros(6, dtype=np.int64)
    with pytest.raises(EstimationError, match="no free coefficient to estimate"):
        ESTIMATORS[name]().fit_arrays(X, y, groups=np.arange(6))
