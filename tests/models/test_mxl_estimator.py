"""MixedLogit on simulated respondents: recovery, distributions, conjoint summaries, specs."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from _mnl_sim import make_study, simulate

from offerlab.exceptions import OfferlabError, SpecError
from offerlab.models import MultinomialLogit
from offerlab.models._mxl import MixedLogit
from offerlab.models._mxl_results import MixedLogitResults
from offerlab.models._spec import load_spec, parse_spec

DATA = Path(__file__).parents[1] / "data"
SPEC_TEXT = (DATA / "swissmetro_mnl.yaml").read_text()


def panel_arrays(truth_mean, truth_draw, n_resp=400, T=10, J=3, seed=0):
    """Panel answers of respondents whose coefficients come from ``truth_draw``."""
    rng = np.random.default_rng(seed)
    K = len(truth_mean)
    X = rng.normal(size=(n_resp * T, J, K))
    b = truth_draw(rng, n_resp)  # (n_resp, K)
    V = np.einsum("njk,nk->nj", X, np.repeat(b, T, axis=0))
    y = np.argmax(V + rng.gumbel(size=V.shape), axis=1)
    return X, y, np.repeat(np.arange(n_resp), T), b


def within(est: float, se: float, truth: float, k: float = 3.5) -> bool:
    return abs(est - truth) <= k * se


def test_recovers_normal_lognormal_and_triangular_coefficients() -> None:
    mean = np.array([1.0, -0.5, 0.0, 0.8])

    def draw(rng, n):
        b = np.tile(mean, (n, 1))
        b[:, 1] += 0.8 * rng.standard_normal(n)  # normal, sd 0.8
        b[:, 2] = -np.exp(-0.7 + 0.5 * rng.standard_normal(n))  # −lognormal(−0.7, 0.5)
        t = rng.triangular(-1, 0, 1, n)
        b[:, 3] += 0.9 * t  # triangular, spread 0.9
        return b

    X, y, groups, b_true = panel_arrays(mean, draw)
    model = MixedLogit(
        {"x1": "normal", "x2": "negative_lognormal", "x3": "triangular"},
        n_draws=200,
        draws="scrambled_halton",
        seed=1,
    )
    res = model.fit_arrays(X, y, groups=groups)
    assert isinstance(res, MixedLogitResults) and res.converged
    truth = {"x0": 1.0, "x1": -0.5, "sd.x1": 0.8, "x2": -0.7, "sd.x2": 0.5, "x3": 0.8,
             "spread.x3": 0.9}  # fmt: skip
    assert list(res.params.index) == ["x0", "x1", "x2", "x3", "sd.x1", "sd.x2", "spread.x3"]
    for name, value in truth.items():
        assert within(res.params[name], res.bse[name], value), (name, res.params[name])
    dist = res.distribution()
    assert list(dist["distribution"]) == ["normal", "negative_lognormal", "triangular"]
    # log-normal moments: mean −exp(μ + σ²/2), median −exp(μ)
    mu, s = res.params["x2"], res.params["sd.x2"]
    assert dist.loc["x2", "mean"] == pytest.approx(-np.exp(mu + s * s / 2))
    assert dist.loc["x2", "median"] == pytest.approx(-np.exp(mu))
    assert dist.loc["x3", "sd"] == pytest.approx(res.params["spread.x3"] / np.sqrt(6))
    # Individual (conditional) coefficients track each respondent's true ones, and
    # average to about the population mean.
    individual = res.individual_coefficients()
    assert individual.shape == (400, 4) and individual.index.name == "respondent"
    assert np.corrcoef(individual["x1"], b_true[:, 1])[0, 1] > 0.5
    assert individual["x1"].mean() == pytest.approx(res.params["x1"], abs=0.1)
    B, w = res.population_coefficients(20_000, rng=3)
    assert B.shape == (20_000, 4) and w.sum() == pytest.approx(1.0)
    assert (B[:, 2] < 0).all() and np.ptp(B[:, 0]) == 0
    np.testing.assert_allclose(B.mean(axis=0), dist["mean"].reindex(res.coefficient_names).fillna(
        res.params["x0"]), atol=0.03)  # fmt: skip


def test_correlated_coefficients_recover_the_covariance() -> None:
    mean = np.array([0.5, -1.0, 1.0])
    cov = np.array([[0.0, 0.0, 0.0], [0.0, 0.64, 0.36], [0.0, 0.36, 0.81]])

    def draw(rng, n):
        return rng.multivariate_normal(mean, cov, size=n)

    X, y, groups, _ = panel_arrays(mean, draw, n_resp=500, seed=4)
    model = MixedLogit(["x1", "x2"], correlated=True, n_draws=200, draws="sobol", seed=2)
    res = model.fit_arrays(X, y, groups=groups)
    assert [n for n in res.params.index if n.startswith("chol")] == [
        "chol.x1.x1", "chol.x2.x1", "chol.x2.x2"]  # fmt: skip
    omega = res.random_covariance().to_numpy()
    np.testing.assert_allclose(omega, cov[1:, 1:], atol=0.25)
    # correlation 0.5 in the truth: the estimate is clearly positive
    assert omega[0, 1] / np.sqrt(omega[0, 0] * omega[1, 1]) > 0.2


def test_zero_spread_is_the_multinomial_logit() -> None:
    """Homogeneous respondents: the spread goes to ~0 and the LL to the MNL's."""
    rng = np.random.default_rng(5)
    X = rng.normal(size=(2000, 3, 2))
    y = np.argmax(X @ np.array([1.0, -1.0]) + rng.gumbel(size=(2000, 3)), axis=1)
    groups = np.repeat(np.arange(200), 10)
    mnl = MultinomialLogit().fit_arrays(X, y, groups=groups)
    res = MixedLogit(["x0"], n_draws=100).fit_arrays(X, y, groups=groups)
    assert res.llf >= mnl.llf - 1e-6
    assert res.llf - mnl.llf < 2.0  # one more parameter, nothing to find
    assert abs(res.params["sd.x0"]) < 3 * res.bse["sd.x0"] + 0.05


def test_conjoint_fit_summaries_shares_and_progress() -> None:
    rng = np.random.default_rng(11)
    data = simulate(rng, n_respondents=250, n_tasks=10, spread=0.8)
    study = make_study()
    seen: list[float] = []
    res = MixedLogit(["brand", "price"], n_draws=100, draws="sobol", seed=0).fit(
        data, study=study, progress=seen.append
    )
    assert seen and seen[-1] == 1.0 and all(b >= a for a, b in itertools.pairwise(seen))
    assert res.coding is not None and res.converged
    assert set(res.random) == {"brand[alpha]", "brand[beta]", "brand[gamma]", "price"}
    # spread 0.8 per level, effects coded with 4 levels: sd 0.8·√(3/4) ≈ 0.69
    assert res.params["sd.brand[alpha]"] == pytest.approx(0.69, abs=3 * res.bse["sd.brand[alpha]"])
    mean_params = res.mean_coefficients()
    assert list(mean_params.index) == list(res.coding.names)
    wtp = res.wtp()
    assert {"attribute", "level", "wtp", "se"} <= set(wtp.columns)
    assert np.isfinite(wtp["wtp"]).all()
    pw = res.partworths()
    assert np.allclose(pw.groupby("attribute")["utility"].sum().drop("price", errors="ignore"), 0,
                       atol=1e-9)  # fmt: skip
    assert res.importance()["importance"].sum() == pytest.approx(100)
    prob = res.predict(data)
    sums = prob.groupby([data.frame["respondent"], data.frame["task"]]).sum()
    np.testing.assert_allclose(sums, 1.0, atol=1e-12)
    B, _w = res.population_coefficients(50, rng=1)
    assert B.shape == (50, res.coding.n_params)
    text = res.summary().as_text()
    assert "Mixed logit" in text and "random coefficients" in text and "sd.price" in text
    assert "MixedLogitResults" in repr(res)


def test_spec_declares_random_coefficients(tmp_path: Path) -> None:
    text = SPEC_TEXT.replace(
        "B_TIME: {variable: time}", "B_TIME: {variable: time, distribution: normal}"
    )
    text += "mixed: {panel: false, draws: sobol, n_draws: 64, seed: 3}\n"
    path = tmp_path / "m.yaml"
    path.write_text(text.replace("path: swissmetro.csv.gz", f"path: {DATA / 'swissmetro.csv.gz'}"))
    spec = load_spec(path)
    assert spec.utility["B_TIME"].distribution == "normal" and spec.mixed.n_draws == 64
    res = MixedLogit().fit(spec=spec)
    assert res.random == {"B_TIME": "normal"}
    assert res.settings == {"n_draws": 64, "draws": "sobol", "panel": False, "correlated": [],
                            "seed": 3, "hessian": "bhhh"}  # fmt: skip
    # constructor arguments override the spec's settings
    res2 = MixedLogit(n_draws=32, hessian="bhhh").fit(spec=spec)
    assert res2.settings["n_draws"] == 32
    # MNL fits the same spec, ignoring the distributions
    assert MultinomialLogit().fit(spec=spec).llf == pytest.approx(-5331.252007, abs=1e-3)


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.mark.parametrize(
    ("old", "new", "field", "needle"),
    [
        ("B_TIME: {variable: time}", "B_TIME: {variable: time, distribution: gumbel}",
         "utility.B_TIME.distribution", "one of normal, lognormal"),
        ("B_COST: {variable: cost}", "B_COST: {variable: cost, fixed: -1, distribution: normal}",
         "utility.B_COST.distribution", "either fixed or random"),
    ],
)  # fmt: skip
def test_bad_random_coefficients_name_file_line_and_field(old, new, field, needle) -> None:
    text = SPEC_TEXT.replace(old, new)
    with pytest.raises(SpecError) as err:
        parse_spec(text, "m.yaml")
    problem = err.value.problems[0]
    assert problem.field == field and needle in problem.message
    assert problem.line == _line_of(text, new.split(":")[0])
    assert str(err.value).startswith(f"m.yaml:{problem.line}:")


def test_bad_mixed_section_names_file_line_and_field() -> None:
    text = SPEC_TEXT + "mixed:\n  n_draws: 0\n  correlated: [B_TIME]\n  draws: random\n"
    with pytest.raises(SpecError) as err:
        parse_spec(text, "m.yaml")
    fields = {p.field: p for p in err.value.problems}
    assert {"mixed.n_draws", "mixed.draws"} <= set(fields)
    assert fields["mixed.n_draws"].line == _line_of(text, "n_draws: 0")
    text = SPEC_TEXT + "mixed:\n  correlated: [B_TIME]\n"
    with pytest.raises(SpecError) as err:
        parse_spec(text, "m.yaml")
    problem = err.value.problems[0]
    assert problem.field == "mixed.correlated[0]" and "not a random coefficient" in problem.message
    assert problem.line == _line_of(text, "correlated")


def test_bad_arguments_are_named() -> None:
    X = np.random.default_rng(0).normal(size=(20, 2, 2))
    y = np.zeros(20, dtype=int)
    with pytest.raises(OfferlabError, match="'draws' parameter"):
        MixedLogit(draws="random").fit_arrays(X, y)
    with pytest.raises(OfferlabError, match="not a coefficient"):
        MixedLogit(["price"]).fit_arrays(X, y)
    with pytest.raises(OfferlabError, match="distribution must be one of"):
        MixedLogit({"x0": "gumbel"}).fit_arrays(X, y)
    with pytest.raises(OfferlabError, match="correlated"):
        MixedLogit(["x0"], correlated=["x1"]).fit_arrays(X, y)
    with pytest.raises(OfferlabError, match="equal within a unit"):
        MixedLogit(["x0"]).fit_arrays(X, y, groups=np.repeat(np.arange(10), 2),
                                      weights=np.arange(20.0) + 1)  # fmt: skip
    with pytest.raises(OfferlabError, match="no random coefficient"):
        MixedLogit().fit(spec=parse_spec(SPEC_TEXT, DATA / "m.yaml"))


@pytest.mark.parametrize("none", ["plain", "dual"])
def test_none_option_and_dual_response_in_a_panel(none: str) -> None:
    """Dual response repeats a task's rows (binary buy / no buy) for the same respondent:
    the panel must keep them with the respondent's one draw."""
    data = simulate(np.random.default_rng(3), n_respondents=80, n_tasks=6, none=none, spread=0.5)
    study = make_study(none)
    res = MixedLogit(["price"], n_draws=50, hessian="bhhh").fit(data, study=study)
    mnl = MultinomialLogit().fit(data, study=study)
    assert res.nobs == mnl.nobs and res.n_respondents == 80
    assert res.llf >= mnl.llf - 1e-6  # nests the MNL (spread 0)
    assert "none" in res.params.index and "sd.price" in res.params.index
