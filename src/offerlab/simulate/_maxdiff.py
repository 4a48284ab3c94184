"""Simulated MaxDiff respondents: best–worst answers from known utilities.

Each person picks as best the item with the highest utility plus a Gumbel error, then
as worst, among the items left, the one with the highest negated utility plus a new
Gumbel error — the sequential best–worst logit, so estimates can be checked against
the truth that made the answers (and sample sizes tried before fielding).

Anchoring (``anchor``): the threshold of "matters at all" has utility 0, a known truth.
Dual response: after each task the person places the threshold among the items shown
(utilities plus one Gumbel error each, the threshold's utility 0) and answers ``none`` when
it comes first, ``all`` when it comes last, else ``some``. Direct binary: each item
is ticked (``yes``) when its utility plus a logistic error is above 0, the item-versus-
threshold pair the estimation codes (rows of ``task`` 0).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from offerlab.exceptions import OfferlabError

__all__ = ["simulate_maxdiff"]


def simulate_maxdiff(
    sets: np.ndarray,
    utilities: np.ndarray,
    items: tuple[str, ...],
    seed: int | None = None,
    anchor: str | None = None,
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

    anchor : "dual_response", "direct_binary" or None
        The anchoring question answered, against a threshold of utility 0.

    Returns the long answers frame ``respondent, task, item, best, worst`` (and
    ``anchor`` with an anchoring question; see the module's description).
    """
    if anchor not in (None, "dual_response", "direct_binary"):
        raise OfferlabError(f"unknown anchor {anchor!r}: dual_response or direct_binary")
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
    frame = pd.DataFrame(
        {
            "respondent": np.repeat(np.arange(people), tasks * per_task),
            "task": np.tile(np.repeat(np.arange(1, tasks + 1), per_task), people),
            "item": np.array(items, dtype=object)[shown.ravel()],
            "best": (position == best[..., None]).astype(int).ravel(),
            "worst": (position == worst[..., None]).astype(int).ravel(),
        }
    )
    if anchor == "dual_response":
        answer = _dual_response(seen, rng)
        frame["anchor"] = np.repeat(answer.ravel(), per_task)
    elif anchor == "direct_binary":
        frame["anchor"] = ""
        ticked = u + rng.logistic(size=u.shape) > 0
        binary = pd.DataFrame(
            {
                "respondent": np.repeat(np.arange(people), len(items)),
                "task": 0,
                "item": np.tile(np.array(items, dtype=object), people),
                "best": 0,
                "worst": 0,
                "anchor": np.where(ticked.ravel(), "yes", "no"),
            }
        )
        frame = pd.concat([frame, binary], ignore_index=True)
    return frame


def _dual_response(seen: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """people × tasks answers: none / all / some of the items shown matter."""
    with_threshold = np.concatenate([np.zeros((*seen.shape[:2], 1)), seen], axis=2)
    felt = with_threshold + rng.gumbel(size=with_threshold.shape)
    first, last = np.argmax(felt, axis=2) == 0, np.argmin(felt, axis=2) == 0
    return np.where(first, "none", np.where(last, "all", "some")).astype(object)
