"""Hierarchical Bayes runs until its diagnostics pass, or stops at a cap and says what fell short.

The stopping rule (``until_converged``): R-hat < 1.01 and bulk and tail ESS > 400 for every
population mean, every covariance entry and every respondent's coefficients (Vehtari et
al. 2021). A small simulated panel (120 respondents × 10 binary-plus tasks, 3
coefficients) converges in seconds; the same study with a cap of 40 draws cannot.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

from offerlab.exceptions import ConvergenceWarning
from offerlab.models._hb import HierarchicalBayes
from offerlab.numerics._hb import hb_layout, respondent_modes
from offerlab.report._hb_plots import hb_diagnostics, hb_diagnostics_note

MEAN = np.array([0.8, -0.5, 0.3])
COV = np.array([[0.6, 0.2, 0.0], [0.2, 0.4, 0.1], [0.0, 0.1, 0.3]])


def small_panel(respondents: int = 120, tasks: int = 10, seed: int = 4):
    """β_r ~ N(μ, Σ) with K = 3, 3 alternatives, Gumbel errors."""
    rng = np.random.default_rng(seed)
    beta = rng.multivariate_normal(MEAN, COV, size=respondents)
    N = respondents * tasks
    X = rng.normal(size=(N, 3, 3))
    groups = np.repeat(np.arange(respondents), tasks)
    V = np.einsum("njk,nk->nj", X, beta[groups])
    y = np.argmax(V + rng.gumbel(size=V.shape), axis=1)
    return X, y, groups, beta, COV


@pytest.fixture(scope="module")
def panel():
    return small_panel()


def fit(panel, **kw):
    X, y, groups, _, _ = panel
    options = {"burn_in": 300, "chains": 4, "seed": 3, "until_converged": True, **kw}
    return HierarchicalBayes(**options).fit_arrays(X, y, groups=groups)


@pytest.fixture(scope="module")
def converged(panel):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # a converged run does not warn
        # The respondents are diagnosed on every ceil(max_draws / 1,000)-th draw: a cap of
        # 8,000 keeps every 8th and the run passes after about 2,000 draws (a cap of 20,000
        # kept every 20th, too few for a steady R-hat, and needed 5,500).
        return fit(panel, check_every=250, max_draws=8_000)


def test_it_stops_when_every_diagnostic_passes(converged) -> None:
    res = converged
    assert res.stop.reason == "diagnostics" and res.converged and not res.stop.shortfalls
    # It stopped at the first check that passed: well before the cap, on a check boundary.
    assert res.n_draws < 8_000 and res.n_draws % 250 == 0
    # The next segment runs while a check is made; when the check stops the run, that
    # segment is dropped: the results hold exactly the checked draws.
    assert res.alpha_draws.shape[:2] == (4, res.n_draws)
    conv = res.convergence
    assert (conv["rhat"] < 1.01).all() and (conv[["ess_bulk", "ess_tail"]] > 400).all().all()
    ind = res.convergence_individual
    assert ind["rhat"] < 1.01 and min(ind["ess_bulk"], ind["ess_tail"]) > 400
    assert hb_diagnostics(res)["passes"].all()
    assert "FAILS" not in hb_diagnostics_note(res) and "passes" in hb_diagnostics_note(res)


def test_the_draw_cap_names_what_fell_short(panel) -> None:
    with pytest.warns(ConvergenceWarning, match="NOT converged: stopped at the draw cap") as caught:
        res = fit(panel, burn_in=30, check_every=20, max_draws=40)
    assert res.stop.reason == "draws" and res.n_draws == 40 and not res.converged
    named = " ".join(res.stop.shortfalls)
    assert "covariance entries" in named and "individual means" in named
    assert "R-hat" in named and "ESS" in named
    # The warning carries the same list; the summary and the fit table say it too.
    assert "individual means" in str(caught[0].message)
    assert "NOT converged" in res.summary().as_text()
    assert res.fit_frame().loc["stopped by", "value"] == "draws"
    # The report's line beside the HB numbers: every group with its worst value, failing.
    table = hb_diagnostics(res)
    assert list(table.index) == [
        "population means",
        "covariance entries",
        "individual part-worths",
    ]
    assert not table.loc["covariance entries", "passes"]
    assert "Kovarianzen: R-hat ≤" in hb_diagnostics_note(res, "de")
    assert "NICHT erfüllt" in hb_diagnostics_note(res, "de")


def test_the_time_cap_stops_a_run(panel) -> None:
    with pytest.warns(ConvergenceWarning, match="at the time cap"):
        res = fit(panel, burn_in=30, check_every=20, max_draws=20_000, max_seconds=0.01)
    assert res.stop.reason == "time" and res.n_draws == 20  # one segment, then the clock


def test_a_converged_run_recovers_the_simulated_respondents(panel, converged) -> None:
    X, y, groups, beta, cov = panel
    res = converged
    # The best an individual estimate can do: each respondent's posterior mode under the
    # TRUE population N(μ, Σ) (HB has to learn μ and Σ too, so it can only come close).
    layout = hb_layout(X, y, None, groups)
    oracle = respondent_modes(layout, MEAN, np.linalg.inv(cov))
    for k in range(3):
        ours = np.corrcoef(res.individual.to_numpy()[:, k], beta[:, k])[0, 1]
        best = np.corrcoef(oracle[:, k], beta[:, k])[0, 1]
        assert ours > best - 0.03, (k, ours, best)
    # (Σ is not checked against the truth here: with 120 respondents CBC/HB's default
    # prior, IW(K + 5, (K + 5) I), sets much of its scale; the sampler's Σ is checked
    # against the exact posterior in test_hb_exact.py, its recovery in test_hb_recovery.)


def test_each_chain_process_runs_its_blas_on_one_thread(panel, tmp_path, monkeypatch) -> None:
    # The chain processes fill the cores; a BLAS threading the chains' larger products
    # has every process's threads spin against the others' (twice the CPU seconds on the
    # 1,000-respondent bench for the same wall time). Each chain records, in its worker,
    # how many threads its BLAS would use.
    from threadpoolctl import threadpool_info

    from offerlab.models import _hb_run

    seen = tmp_path / "threads"

    class Recording(_hb_run.HBChain):
        def __init__(self, *args, **kwargs) -> None:
            blas = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
            with seen.open("a") as out:
                out.write(f"{os.getpid()} {max(blas)}\n")
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(_hb_run, "HBChain", Recording)
    X, y, groups, _, _ = panel
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        HierarchicalBayes(burn_in=10, draws=10, chains=2, n_jobs=2, seed=1).fit_arrays(
            X, y, groups=groups
        )
    records = [line.split() for line in seen.read_text().splitlines()]
    assert len({pid for pid, _ in records}) == 2  # two worker processes, not this one
    assert os.getpid() not in {int(pid) for pid, _ in records}
    assert [threads for _, threads in records] == ["1", "1"]
