"""Simulated MaxDiff respondents: best–worst answers from known utilities.

Each person picks as best the item with the highest utility plus a Gumbel error, then
as worst, among the items left, the one with the highest negated utility plus a new
Gumbel error — the sequential best–worst logit, so estimates can be checked against
the truth that made the answers (and sample sizes tried before fielding).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from offerlab.exceptions import OfferlabError

__all__ = ["simulate_maxdiff"]


def simulate_maxdiff(
    sets: np.ndarray, utilities: np.ndarray, items: tuple[str, ...], seed: int | None = None
) -> pd.DataFrame:
    """Answers of ``len(utilities)`` people to a MaxDiff design.

    Parameters
    ----------
    sets : ndarray, versions × tasks × per_task
        Item indices (``MaxDiffDesign.sets``); person i answers version i mod versions.
    utilities : ndarray, people × items
        Each person's true utility of each item.
    items : tuple of str
        Item names, in the order of the utilities' columns.

    Returns the long answers frame ``respondent, task, item, best, worst``.
    """
    u = np.asarray(utilities, dtype=float)
    if u.ndim != 2 or u.shape[1] != len(items):
        raise OfferlabError("utilities must be people × items")
    rng = np.random.default_rng(seed)
    versions, tasks, per_task = sets.shape
    people = len(u)
    shown = sets[np.arange(people) % versions]  # people × tasks × per_task
    seen = np.take_along_axis(u[:, None, :], shown.reshape(people, 1, -1), axis=2).reshape(
        people, tasks, per_task
    )
    best = np.argmax(seen + rng.gumbel(size=seen.shape), axis=2)
    against = -seen + rng.gumbel(size=seen.shape)
    np.put_along_axis(against, best[..., None], -np.inf, axis=2)
    worst = np.argmax(against, axis=2)
    position = np.arange(per_task)
    return pd.DataFrame(
        {
            "respondent": np.repeat(np.arange(people), tasks * per_task),
            "task": np.tile(np.repeat(np.arange(1, tasks + 1), per_task), people),
            "item": np.array(items, dtype=object)[shown.ravel()],
            "best": (position == best[..., None]).astype(int).ravel(),
            "worst": (position == worst[..., None]).astype(int).ravel(),
        }
    )
