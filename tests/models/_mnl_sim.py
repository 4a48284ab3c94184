"""A small independent simulator of conjoint answers for the MNL tests.

Utilities are computed straight from part-worth dictionaries (not through the
package's coding), with standard Gumbel errors from a numpy Generator.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from offerlab.data import ChoiceData
from offerlab.study import Study

STUDY = {
    "name": "sim",
    "attributes": [
        {
            "name": "brand",
            "label": "Brand",
            "levels": [{"name": n, "label": n} for n in ("alpha", "beta", "gamma", "delta")],
        },
        {
            "name": "size",
            "label": "Size",
            "levels": [{"name": n, "label": n} for n in ("small", "medium", "large")],
        },
        {
            "name": "term",
            "type": "numeric",
            "label": "Term",
            "values": [6, 12, 24],
            "unit": "months",
            "coding": "partworth",
        },
        {"name": "price", "type": "price", "label": "Price", "values": [10, 20, 30, 40]},
    ],
}

# True part-worths (effects-coded: they sum to zero) and the price slope.
TRUTH = {
    "brand": {"alpha": 0.6, "beta": 0.1, "gamma": -0.3, "delta": -0.4},
    "size": {"small": -0.5, "medium": 0.2, "large": 0.3},
    "term": {6: 0.25, 12: 0.05, 24: -0.3},
    "price": -0.06,
}
NONE_UTILITY = -1.2


def make_study(none: str | None = None) -> Study:
    raw = dict(STUDY)
    if none is not None:
        raw["tasks"] = {"alternatives": 3, "none": {"type": none}}
    return Study.model_validate(raw)


def true_params(none: bool = False) -> dict[str, float]:
    """The truth in the estimator's effects-coded parametrisation."""
    out = {}
    for attr in ("brand", "size", "term"):
        levels = list(TRUTH[attr])
        for lv in levels[:-1]:
            out[f"{attr}[{lv}]"] = TRUTH[attr][lv]
    out["price"] = TRUTH["price"]
    if none:
        out["none"] = NONE_UTILITY
    return out


def simulate(
    rng: np.random.Generator,
    n_respondents: int = 200,
    n_tasks: int = 8,
    n_alt: int = 3,
    *,
    none: str | None = None,
    spread: float = 0.0,
    truth: dict | None = None,
    validate: bool = True,
) -> ChoiceData:
    """Answers of ``n_respondents`` to random designs.

    ``none``: None, "plain" (one more alternative), "dual" (forced choice, then
    a binary buy / no-buy with fresh Gumbel errors, Sawtooth's model) or
    "dual_joint" (buy when the chosen concept's utility, errors included, beats none).
    ``spread``: SD of respondent-level deviations of every part-worth and of the
    price slope (heterogeneous tastes).
    """
    truth = truth or TRUTH
    levels = {a: list(truth[a]) for a in ("brand", "size", "term")}
    prices = np.array([10.0, 20.0, 30.0, 40.0])
    R, T, J = n_respondents, n_tasks, n_alt
    idx = {a: rng.integers(0, len(levels[a]), size=(R, T, J)) for a in levels}
    price = rng.choice(prices, size=(R, T, J))
    V = np.zeros((R, T, J))
    for a, lv in levels.items():
        pw = np.array([truth[a][x] for x in lv])
        pw_i = pw[None, :] + spread * rng.standard_normal((R, len(lv)))
        V += np.take_along_axis(pw_i[:, None, :], idx[a].reshape(R, 1, T * J), 2).reshape(R, T, J)
    slope = truth["price"] + spread * 0.02 * rng.standard_normal(R)
    V += slope[:, None, None] * price
    U = V + rng.gumbel(size=(R, T, J))
    u_none = NONE_UTILITY + rng.gumbel(size=(R, T))
    if none == "plain":
        best = np.argmax(np.concatenate([U, u_none[..., None]], axis=2), axis=2)
    else:
        best = np.argmax(U, axis=2)
    rows = {
        "respondent": np.repeat(np.arange(R), T * J),
        "task": np.tile(np.repeat(np.arange(1, T + 1), J), R),
        "alternative": np.tile(np.arange(1, J + 1), R * T),
        "chosen": (best[..., None] == np.arange(J)).astype(int).ravel(),
        "brand": np.array(levels["brand"], dtype=object)[idx["brand"]].ravel(),
        "size": np.array(levels["size"], dtype=object)[idx["size"]].ravel(),
        "term": np.array(levels["term"], dtype=float)[idx["term"]].ravel(),
        "price": price.ravel(),
    }
    frame = pd.DataFrame(rows)
    if none is not None:
        frame["none"] = 0
        none_rows = pd.DataFrame(
            {
                "respondent": np.repeat(np.arange(R), T),
                "task": np.tile(np.arange(1, T + 1), R),
                "alternative": J + 1,
                "chosen": (best == J).astype(int).ravel() if none == "plain" else 0,
                "none": 1,
            }
        )
        frame = pd.concat([frame, none_rows], ignore_index=True)
    if none == "dual":
        v_chosen = np.take_along_axis(V, best[..., None], 2)[..., 0]
        buy = v_chosen + rng.gumbel(size=(R, T)) > NONE_UTILITY + rng.gumbel(size=(R, T))
    elif none == "dual_joint":
        # Buy when the chosen concept, errors included, beats none (same errors).
        buy = U.max(axis=2) > u_none
    if none in ("dual", "dual_joint"):
        key = frame["respondent"].to_numpy() * T + frame["task"].to_numpy() - 1
        frame["would_buy"] = buy.ravel()[key].astype(int)
    if not validate:
        # Already in the long format; skip the (slow, row-by-row) validation in loops.
        frame = frame.sort_values(["respondent", "task"], kind="stable").reset_index(drop=True)
        for col, default in (("available", 1), ("weight", 1.0), ("none", 0), ("holdout", 0)):
            if col not in frame.columns:
                frame[col] = default
        variables = ("brand", "size", "term", "price")
        return ChoiceData(frame=frame, variables=variables)
    return ChoiceData.from_frame(frame)
