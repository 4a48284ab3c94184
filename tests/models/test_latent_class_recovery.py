"""Latent classes recovered from simulated respondents of two segments (offerlab.simulate).

Two segments with opposite colour tastes and very different price sensitivity, no
spread within a segment: exactly the latent class model. The fit must find the two
segments' part-worths and shares within sampling error, and classify respondents.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from offerlab.design import make_design
from offerlab.models._latent_class import LatentClassLogit
from offerlab.simulate import Segment, SimulatedPopulation, simulate_answers
from offerlab.study import Study

# Segment "bargain" (share 0.65): blue, very price sensitive; "premium" (0.35): red.
SEGMENTS = {
    "bargain": (0.65, np.array([-0.8, 0.8, 0.0]), -0.12),
    "premium": (0.35, np.array([1.0, -1.0, 0.0]), -0.02),
}
N_RESPONDENTS = 800


def _study() -> Study:
    return Study.model_validate(
        {
            "name": "two_segments",
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
            "tasks": {"alternatives": 3, "per_respondent": 8},
            "design": {"method": "balanced", "versions": 10, "seed": 5},
        }
    )


def _truth(colour: np.ndarray, price: float) -> dict[str, float]:
    """In the effects-coded parametrisation."""
    centred = colour - colour.mean()
    return {"colour[red]": centred[0], "colour[blue]": centred[1], "price": price}


@pytest.fixture(scope="module")
def fitted():
    study = _study()
    design = make_design(study)
    population = SimulatedPopulation(
        segments=[
            Segment(name=name, share=share, partworths={"colour": list(colour), "price": price})
            for name, (share, colour, price) in SEGMENTS.items()
        ]
    )
    answers = simulate_answers(study, design.to_frame(), population, N_RESPONDENTS, rng=2026)
    results = LatentClassLogit(2, n_starts=4, seed=1).fit(answers.data, study=study)
    return results, answers.truth


def test_shares_and_class_partworths_are_recovered(fitted) -> None:
    results, truth = fitted
    assert results.converged
    # Exchangeable classes are numbered by decreasing share: class 1 is "bargain".
    shares = results.class_shares
    for c, name in ((1, "bargain"), (2, "premium")):
        _share, colour, price = SEGMENTS[name]
        realised = float(np.mean(truth["segment"] == name))
        z = (shares.loc[c, "share"] - realised) / shares.loc[c, "se"]
        assert abs(z) < 4, (name, shares.loc[c, "share"], realised)
        est = results.class_results(c)
        for param, value in _truth(colour, price).items():
            z = (est.params[param] - value) / est.bse[param]
            assert abs(z) < 4, (name, param, est.params[param], value)


def test_respondents_are_classified_into_their_segment(fitted) -> None:
    results, truth = fitted
    segment = pd.Series(truth["segment"].to_numpy(), index=truth["respondent"])
    modal = results.modal_class
    true_class = np.where(segment.loc[modal.index] == "bargain", 1, 2)
    assert np.mean(modal.to_numpy() == true_class) > 0.9
    post = results.posterior_probabilities()
    assert len(post) == 2 * N_RESPONDENTS
    assert results.entropy_r2 > 0.7


def test_population_coefficients_are_the_classes_weighted_by_their_shares(fitted) -> None:
    results, _ = fitted
    B, w = results.population_coefficients()
    assert B.shape == (2, len(results.coding.names))
    assert w.sum() == pytest.approx(1.0)
    assert np.allclose(B[0], results.class_coefficients[1].to_numpy())
    assert np.allclose(w, results.class_shares["share"].to_numpy())


def test_class_partworths_use_the_study_coding(fitted) -> None:
    results, _ = fitted
    pw = results.class_results(2).partworths()
    red = pw.loc[(pw["attribute"] == "colour") & (pw["level"] == "red"), "utility"].item()
    assert red > 0.5  # the premium class likes red


def test_same_seed_same_fit_and_progress_reaches_one() -> None:
    study = _study()
    design = make_design(study)
    population = SimulatedPopulation(
        segments=[
            Segment(name=name, share=share, partworths={"colour": list(colour), "price": price})
            for name, (share, colour, price) in SEGMENTS.items()
        ]
    )
    data = simulate_answers(study, design.to_frame(), population, 150, rng=7).data
    seen: list[float] = []
    a = LatentClassLogit(2, n_starts=3, seed=42).fit(data, study=study, progress=seen.append)
    b = LatentClassLogit(2, n_starts=3, seed=42).fit(data, study=study)
    assert np.array_equal(a.start_llf, b.start_llf)
    assert np.allclose(a.params, b.params)
    assert seen[-1] == 1.0 and all(np.diff(seen) >= 0)
