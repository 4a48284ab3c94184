"""A small study for the decide tests, with known part-worths (no fitting needed)."""

from __future__ import annotations

import numpy as np

from offerlab.decide import Market, Population
from offerlab.models._matrix import ConjointCoding
from offerlab.study import Study

STUDY = {
    "name": "decide",
    "attributes": [
        {
            "name": "brand",
            "label": "Brand",
            "levels": [{"name": n, "label": n} for n in ("alpha", "beta", "gamma")],
        },
        {
            "name": "term",
            "type": "numeric",
            "label": "Term",
            "values": [6, 12, 24],
            "coding": "partworth",
        },
        {"name": "km", "label": "km", "levels": [{"name": n, "label": n} for n in ("low", "high")]},
        {"name": "price", "type": "price", "label": "Price", "values": [10, 20, 30, 40]},
    ],
    "tasks": {"alternatives": 3, "none": {"type": "plain"}},
    "prohibitions": [{"brand": "alpha", "price": 10}],
}
# Dummy coding (first level = 0): brand[beta], brand[gamma], term[12], term[24], km[high],
# price, none.
BETA = np.array([-0.3, -0.6, 0.2, -0.1, 0.7, -0.08, -1.0])


def study() -> Study:
    return Study.model_validate(STUDY)


def coding() -> ConjointCoding:
    return ConjointCoding.from_study(study(), "dummy", none=True)


def population(spread: float = 0.0, n: int = 1, seed: int = 0, sd: float = 0.0) -> Population:
    """n rows around BETA (spread: heterogeneity), uncertainty draws with SD ``sd``."""
    rng = np.random.default_rng(seed)
    B = BETA + spread * rng.normal(size=(n, BETA.size))
    if spread:
        B[:, 5] = -np.exp(np.log(0.08) + 0.3 * rng.normal(size=n))  # price always hurts
    unc = None
    if sd:

        def unc(S: int, g: np.random.Generator) -> np.ndarray:
            shift = sd * g.normal(size=(S, 1, BETA.size))
            shift[:, :, 5] *= 0.05  # the price coefficient is known much better
            return B[None] + shift

    return Population(B, np.full(n, 1 / n), coding().names, uncertainty=unc)


def market(none: bool = True) -> Market:
    return Market.from_offers(
        coding(),
        [
            {"name": "ours", "ours": True, "brand": "alpha", "term": 12, "km": "low", "price": 25},
            {"name": "rival", "brand": "beta", "term": 24, "km": "high", "price": 30},
            {"name": "cheap", "brand": "gamma", "term": 6, "km": "low", "price": 15},
        ],
        none=none,
    )
