"""Swissmetro latent class against biogeme's published example b07_discrete_mixture.

b07 (tests/data/README.md) is a cross-sectional discrete mixture: its likelihood is
Σ_n log(π₁ P_n(β₁) + π₂ P_n(β₂)), one class draw per task, not per respondent.
ASC_TRAIN, ASC_CAR and B_COST are common to both classes; B_TIME is zero in class 1
and estimated in class 2; PROB_CLASS1 is estimated directly (biogeme bounds it to
[0, 1]). offerlab parametrises the shares by a class constant; the delta-method SE of
the share equals biogeme's direct SE at the optimum (an invariance of the inverse
Hessian under reparametrisation).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from offerlab.exceptions import OfferlabError
from offerlab.models import MultinomialLogit, load_spec
from offerlab.models._latent_class import LatentClassLogit, latent_class_table

SPEC = Path(__file__).parents[1] / "data" / "swissmetro_mnl.yaml"

LL = -5208.498030
# biogeme b07_discrete_mixture: value (classic s.e. where published)
PROB_CLASS1 = (0.250792, 0.0219)
B_TIME = (-2.797932, 0.1756)
SHARED = {"B_COST": -1.264065, "ASC_TRAIN": -0.397586, "ASC_CAR": 0.124605}


def _sig3(a: float, b: float) -> bool:
    """Equal to 3 significant digits."""
    return f"{a:.3g}" == f"{b:.3g}" or abs(a - b) <= 0.5e-3 * abs(b)


@pytest.fixture(scope="module")
def spec():
    return load_spec(SPEC)


@pytest.fixture(scope="module")
def data(spec):
    return spec.load_data()


@pytest.fixture(scope="module")
def b07(spec, data):
    model = LatentClassLogit(
        2,
        panel=False,
        shared=["ASC_TRAIN", "ASC_CAR", "B_COST"],
        restrictions={1: {"B_TIME": 0.0}},
        n_starts=3,
    )
    return model.fit(data, spec=spec)


def test_loglikelihood_matches_biogeme_b07(b07) -> None:
    assert b07.llf == pytest.approx(LL, abs=1e-3)
    assert b07.converged
    assert b07.nobs == 6768 and b07.n_respondents == 752
    assert b07.k == 5


def test_class_share_and_its_standard_error_match_biogeme(b07) -> None:
    shares = b07.class_shares
    assert _sig3(shares.loc[1, "share"], PROB_CLASS1[0])
    assert _sig3(shares.loc[1, "se"], PROB_CLASS1[1])
    assert shares["share"].sum() == pytest.approx(1.0)
    assert shares.loc[2, "se"] == pytest.approx(shares.loc[1, "se"])


def test_coefficients_match_biogeme(b07) -> None:
    coef = b07.class_coefficients
    assert coef.loc["B_TIME", 1] == 0.0  # the restriction
    assert _sig3(coef.loc["B_TIME", 2], B_TIME[0])
    assert _sig3(b07.bse["B_TIME[class 2]"], B_TIME[1])
    for name, value in SHARED.items():
        assert coef.loc[name, 1] == coef.loc[name, 2]  # one coefficient for both classes
        assert _sig3(b07.params[name], value), (name, b07.params[name])


def test_to_frame_has_a_class_level_and_marks_fixed_and_shared(b07) -> None:
    frame = b07.to_frame()
    assert list(frame.index.names) == ["class", "parameter"]
    assert frame.loc[(1, "B_TIME"), "status"] == "fixed"
    assert np.isnan(frame.loc[(1, "B_TIME"), "se"])
    assert frame.loc[(2, "B_TIME"), "status"] == "class"
    assert frame.loc[(1, "B_COST"), "status"] == "shared"
    assert frame.loc[(1, "share"), "estimate"] == pytest.approx(PROB_CLASS1[0], abs=1e-5)
    for col in ("estimate", "se", "se_robust", "se_cluster", "t", "p", "lower", "upper"):
        assert col in frame.columns
    text = b07.summary().as_text()
    assert "Latent class logit (2 classes, cross-section)" in text
    assert "class shares" in text


def test_cross_section_posteriors_are_per_task(b07) -> None:
    post = b07.posterior_probabilities()
    assert list(post.columns) == ["respondent", "observation", "class", "probability"]
    assert len(post) == 2 * 6768
    sums = post.groupby("observation")["probability"].sum()
    assert np.allclose(sums, 1.0)


def test_every_start_reaches_the_published_optimum(b07) -> None:
    assert np.allclose(b07.start_llf, LL, atol=1e-3)


def test_panel_version_keeps_the_class_over_a_respondents_tasks(spec, data, b07) -> None:
    """The same utilities with the class per respondent: a different, better likelihood."""
    model = LatentClassLogit(
        2,
        panel=True,
        shared=["ASC_TRAIN", "ASC_CAR", "B_COST"],
        restrictions={1: {"B_TIME": 0.0}},
        n_starts=2,
    )
    panel = model.fit(data, spec=spec)
    assert panel.converged
    assert panel.llf > b07.llf + 100  # 9 tasks per person: tastes persist
    post = panel.posterior_probabilities()
    assert list(post.columns) == ["respondent", "class", "probability"]
    assert len(post) == 2 * 752
    assert np.allclose(post.groupby("respondent")["probability"].sum(), 1.0)
    # In a panel, the units of the robust sandwich are the respondents: cluster = robust·G/(G−1).
    ratio = (panel.bse_cluster / panel.bse_robust) ** 2
    assert np.allclose(ratio, 752 / 751)


def test_class_count_table_starts_from_the_mnl(spec, data) -> None:
    table = latent_class_table(data, spec=spec, classes=(1, 2), n_starts=2)
    frame = table.table
    mnl = MultinomialLogit().fit(data, spec=spec)
    assert frame.loc[1, "llf"] == pytest.approx(mnl.llf, abs=1e-6)
    assert frame.loc[1, "parameters"] == 4 and frame.loc[2, "parameters"] == 9
    n = 752  # panel: BIC counts respondents
    for C in (1, 2):
        ll, k = frame.loc[C, "llf"], frame.loc[C, "parameters"]
        assert frame.loc[C, "aic"] == pytest.approx(2 * k - 2 * ll)
        assert frame.loc[C, "bic"] == pytest.approx(k * np.log(n) - 2 * ll)
        assert frame.loc[C, "caic"] == pytest.approx(k * (np.log(n) + 1) - 2 * ll)
    assert frame.loc[2, "llf"] > frame.loc[1, "llf"]
    assert table.best("bic") == 2


def test_bad_options_name_what_is_wrong(spec, data) -> None:
    with pytest.raises(OfferlabError, match="class 3 does not exist"):
        LatentClassLogit(2, restrictions={3: {"B_TIME": 0.0}}).fit(data, spec=spec)
    with pytest.raises(OfferlabError, match="no coefficient 'B_TYME'"):
        LatentClassLogit(2, restrictions={1: {"B_TYME": 0.0}}).fit(data, spec=spec)
    with pytest.raises(OfferlabError, match="shared coefficient"):
        LatentClassLogit(2, shared=["ASC_BUS"]).fit(data, spec=spec)
    with pytest.raises(OfferlabError, match="n_classes"):
        LatentClassLogit(0).fit(data, spec=spec)
    with pytest.raises(OfferlabError, match="n_starts"):
        LatentClassLogit(2, n_starts=0).fit(data, spec=spec)


def test_predicted_probabilities_give_back_the_cross_section_likelihood(b07, data) -> None:
    """In a cross-section, ℓ = Σ_n log Σ_c π_c P_n(β_c): the unconditional predictions."""
    p = b07.predict(data)
    frame = data.frame
    task = frame.groupby(["respondent", "task"], sort=False).ngroup()
    assert np.allclose(p.groupby(task).sum(), 1.0)
    chosen = frame["chosen"].to_numpy() == 1
    assert np.log(p[chosen]).sum() == pytest.approx(b07.llf, abs=1e-6)
