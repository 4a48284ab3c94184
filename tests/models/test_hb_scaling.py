"""Hierarchical Bayes on numeric columns in their own units (CHF, km).

The prior's unit variance is meant per level step; on raw CHF it would let individual
price coefficients spread by ±1 per franc (and, started apart, chains overflow). The
sampler therefore works on numeric columns divided by their SD and maps every result
back. So the units of a column cannot change the fit: prices in CHF or in hundreds of
CHF give the same chain, coefficients differing by exactly that factor.
"""

from __future__ import annotations

import numpy as np
import pytest

import offerlab as ol
from offerlab.models import ConjointCoding
from offerlab.models._hb import HierarchicalBayes
from offerlab.models._matrix import conjoint_matrix


@pytest.fixture(scope="module")
def answers():
    study = ol.load_study(ol.example_path())
    design = ol.make_design(study, method="random", versions=10, seed=3)
    population = ol.load_population(ol.example_path("car_subscription_population"), study)
    return study, ol.simulate_answers(study, design.to_frame(), population, 200, rng=4).data


# Short chains: the units checks compare two chains draw for draw, which holds at any
# length; with 15 random-walk steps per iteration (the default then; the respondents' HMC
# move since) the spread and hit-rate bars kept the margins the longer chains had
# (measured on several seeds).
def _fit(X, design, signs=None):
    hb = HierarchicalBayes(burn_in=200, draws=100, chains=2, n_jobs=1, seed=7, signs=signs)
    with pytest.warns(ol.OfferlabWarning):  # chains this short are flagged
        return hb.fit_arrays(
            X, design.y, groups=design.groups, available=design.available, names=design.names
        )


@pytest.mark.parametrize("signs", [None, {"monthly_price": -1}])
def test_the_units_of_a_price_do_not_change_the_fit(answers, signs) -> None:
    study, data = answers
    coding = ConjointCoding.from_study(study, "effects", none=True)
    design = conjoint_matrix(data.without_holdouts(), coding, dual=True)
    price = design.names.index("monthly_price")
    in_hundreds = design.X.copy()
    in_hundreds[..., price] /= 100.0
    chf, hundreds = _fit(design.X, design, signs), _fit(in_hundreds, design, signs)
    factor = np.ones(len(design.names))
    factor[price] = 100.0
    assert hundreds.params.to_numpy() == pytest.approx(chf.params.to_numpy() * factor, rel=1e-6)
    assert hundreds.population_sd.to_numpy() == pytest.approx(
        chf.population_sd.to_numpy() * factor, rel=1e-6
    )
    # (abs: coefficients near zero, where X / s and X / 100 / (s / 100) round apart)
    assert hundreds.individual.to_numpy() == pytest.approx(
        chf.individual.to_numpy() * factor, rel=1e-6, abs=1e-9
    )
    assert hundreds.rlh_overall == pytest.approx(chf.rlh_overall, rel=1e-9)
    # and the price spread stays of the order of its mean (raw CHF sampling gave 50x)
    assert chf.population_sd["monthly_price"] < 5 * abs(chf.params["monthly_price"])


def test_dual_response_holdouts_are_predicted_as_the_forced_choice(answers) -> None:
    study, data = answers
    hb = HierarchicalBayes(burn_in=400, draws=200, chains=2, seed=5)
    with pytest.warns(ol.OfferlabWarning):
        results = hb.fit(data, study=study)
    # 3 concepts: chance is 1/3 (predicting the none row, never the forced choice, gave 7%)
    assert results.holdout_hit_rate > 0.4


def test_the_units_of_a_price_do_not_change_a_huang_wand_fit(answers) -> None:
    """The Huang–Wand SD scale A applies to the SD-scaled column, so it means "per SD of
    the price" whatever the currency unit: CHF and hundreds of CHF give the same chain."""
    study, data = answers
    coding = ConjointCoding.from_study(study, "effects", none=True)
    design = conjoint_matrix(data.without_holdouts(), coding, dual=True)
    price = design.names.index("monthly_price")
    in_hundreds = design.X.copy()
    in_hundreds[..., price] /= 100.0
    fits = []
    for X in (design.X, in_hundreds):
        hb = HierarchicalBayes(
            burn_in=200, draws=100, chains=2, n_jobs=1, seed=7, covariance_prior="huang-wand"
        )
        with pytest.warns(ol.OfferlabWarning):
            fits.append(
                hb.fit_arrays(
                    X,
                    design.y,
                    groups=design.groups,
                    available=design.available,
                    names=design.names,
                )
            )
    chf, hundreds = fits
    factor = np.ones(len(design.names))
    factor[price] = 100.0
    assert hundreds.params.to_numpy() == pytest.approx(chf.params.to_numpy() * factor, rel=1e-6)
    assert hundreds.population_sd.to_numpy() == pytest.approx(
        chf.population_sd.to_numpy() * factor, rel=1e-6
    )
