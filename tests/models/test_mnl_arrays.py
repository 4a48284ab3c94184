"""fit_arrays: the estimator on arrays already in memory (no data frame)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from offerlab.exceptions import EstimationError, OfferlabError
from offerlab.models import MultinomialLogit

DATA = Path(__file__).parents[1] / "data"


def _swissmetro_arrays():
    df = pd.read_csv(DATA / "swissmetro.csv.gz")
    df = df[df["PURPOSE"].isin([1, 3]) & (df["CHOICE"] != 0)].reset_index(drop=True)
    ga = (df["GA"] == 0).to_numpy(float)
    sp = (df["SP"] != 0).to_numpy(float)
    X = np.zeros((len(df), 3, 4))
    X[:, 0, 0] = 1.0
    X[:, 2, 1] = 1.0
    X[:, :, 2] = df[["TRAIN_TT", "SM_TT", "CAR_TT"]].to_numpy() / 100
    X[:, 0, 3] = df["TRAIN_CO"] * ga / 100
    X[:, 1, 3] = df["SM_CO"] * ga / 100
    X[:, 2, 3] = df["CAR_CO"] / 100
    avail = np.column_stack([df["TRAIN_AV"] * sp, df["SM_AV"], df["CAR_AV"] * sp]) != 0
    return X, df["CHOICE"].to_numpy() - 1, avail, df["ID"].to_numpy()


def test_arrays_give_the_spec_results() -> None:
    X, y, avail, ids = _swissmetro_arrays()
    names = ["ASC_TRAIN", "ASC_CAR", "B_TIME", "B_COST"]
    res = MultinomialLogit().fit_arrays(X, y, available=avail, groups=ids, names=names)
    spec = MultinomialLogit().fit(spec=DATA / "swissmetro_mnl.yaml")
    assert res.llf == pytest.approx(spec.llf, abs=1e-9)
    pd.testing.assert_series_equal(res.params, spec.params, atol=1e-9)
    pd.testing.assert_series_equal(res.bse_cluster, spec.bse_cluster, atol=1e-9)
    assert res.n_respondents == 752
    # Weights of 2 on every observation double ℓ and the information: SE / √2.
    heavy = MultinomialLogit().fit_arrays(X, y, available=avail, weights=np.full(len(y), 2.0))
    assert heavy.llf == pytest.approx(2 * res.llf)
    np.testing.assert_allclose(heavy.bse.to_numpy(), res.bse.to_numpy() / np.sqrt(2))
    # A different start converges to the same optimum.
    far = MultinomialLogit().fit_arrays(X, y, available=avail, start=[3.0, -3.0, 2.0, 2.0])
    np.testing.assert_allclose(far.params.to_numpy(), res.params.to_numpy(), atol=1e-7)


def test_bad_arrays_and_unidentified_constants() -> None:
    X, y, avail, _ = _swissmetro_arrays()
    with pytest.raises(OfferlabError, match="float64"):
        MultinomialLogit().fit_arrays(X.astype(np.float32), y)
    with pytest.raises(OfferlabError, match="true on every chosen"):
        MultinomialLogit().fit_arrays(X, y, available=~avail)
    with pytest.raises(OfferlabError, match="names has 2 entries"):
        MultinomialLogit().fit_arrays(X, y, available=avail, names=["a", "b"])
    # A constant on every alternative is not identified: named in the error.
    X2 = np.concatenate([X, np.ones((*X.shape[:2], 1))], axis=2)
    names = ["ASC_TRAIN", "ASC_CAR", "B_TIME", "B_COST", "ASC_ALL"]
    with pytest.raises(EstimationError, match="ASC_ALL"):
        MultinomialLogit().fit_arrays(X2, y, available=avail, names=names)
    # Three alternative constants with three alternatives: collinear.
    X3 = np.concatenate([X, np.zeros((*X.shape[:2], 1))], axis=2)
    X3[:, 1, 4] = 1.0
    names = ["ASC_TRAIN", "ASC_CAR", "B_TIME", "B_COST", "ASC_SM"]
    with pytest.raises(EstimationError, match="not identified") as err:
        MultinomialLogit().fit_arrays(X3, y, available=avail, names=names)
    assert all(n in str(err.value) for n in ("ASC_TRAIN", "ASC_CAR", "ASC_SM"))


def test_perfect_separation_warns_and_reports_not_converged() -> None:
    from offerlab.exceptions import ConvergenceWarning

    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 2, 1))
    y = np.argmax(X[:, :, 0], axis=1)  # the larger x is always chosen
    with pytest.warns(ConvergenceWarning):
        res = MultinomialLogit(max_iter=30).fit_arrays(X, y)
    assert not res.converged
    assert "NOT converge" in res.summary().as_text()
