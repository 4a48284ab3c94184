"""Segments of the market by what respondents said of themselves (age band, region…), for
a simulator on individual-level results (hierarchical Bayes).

Each population row of an HB simulator is a posterior draw of one respondent (rows
respondent after respondent, :meth:`HBResults.population_coefficients`); each row of an
uncertainty draw is a respondent of that draw's bootstrap sample. A profile filter gives
every such row the option its respondent chose on one single-choice question of the study
(-1: no answer, e.g. a question shown only to some). Filtering the market to one option
keeps the rows of that option with their weights renormalised -- the shares of the people
who gave that answer, which sum to 1 -- and, per uncertainty draw, the rows of that option
in the draw's bootstrap sample (a bootstrap of the segment). The pages' script does the
same; :func:`filtered_shares` is its reference.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from offerlab.decide._market import Market, MarketSimulator

__all__ = ["ProfileFilter", "filtered_shares", "profile_filters", "profile_questions"]


@dataclass(frozen=True)
class ProfileFilter:
    """One profile question's options over a simulator's rows.

    Attributes
    ----------
    question : str
        The question's page id in the study.
    options : tuple of str
        The options someone in the population chose, in the question's order.
    rows : ndarray (R,) of int
        The option (index into ``options``) of each population row; -1: no answer.
    draw_rows : ndarray (S, R_u) of int, optional
        The option of each row of each uncertainty draw (None: the simulator has none).
    """

    question: str
    options: tuple[str, ...]
    rows: np.ndarray
    draw_rows: np.ndarray | None = None

    def mass(self, weights: np.ndarray) -> np.ndarray:
        """Each option's share of the population (``weights``: the population rows')."""
        kept = self.rows >= 0
        return np.bincount(self.rows[kept], weights=weights[kept], minlength=len(self.options))


def profile_questions(study: Any) -> dict[str, list[str]]:
    """The study's single-choice questions (not attention checks) with their options that
    do not screen out: the questions the market can be filtered by."""
    from offerlab.study import SinglePage

    pages = study.questionnaire.pages if study.questionnaire is not None else []
    return {
        p.id: [o.name for o in p.options if not getattr(o, "screen_out", False)]
        for p in pages
        if isinstance(p, SinglePage) and p.attention_check is None
    }


def _respondent_rows(results: Any, n_rows: int) -> np.ndarray | None:
    """The respondent of each population row of an individual-level fit (else None)."""
    draws = getattr(results, "individual_draws", None)
    individual = getattr(results, "individual", None)
    if draws is None or individual is None:
        return None
    R = len(individual.index)
    if R == 0 or n_rows % R:
        return None
    return np.repeat(np.asarray(individual.index), n_rows // R)


def profile_filters(
    sim: MarketSimulator,
    results: Any,
    answers: pd.DataFrame,
    questions: Mapping[str, Sequence[str]],
) -> list[ProfileFilter]:
    """The filters of ``questions`` (page id -> options) for ``sim`` on ``results``.

    ``answers`` is the survey's answers in the fielding export's form (``respondent``,
    ``page``, ``item``, ``value``; a single-choice answer has an empty item) or the tidy
    form (``question`` and ``answer`` for page and value). Only an
    individual-level fit can be filtered (its rows are respondents); a question at most
    one of whose options was chosen filters nothing and is left out.
    """
    who = _respondent_rows(results, sim.population.n_rows)
    if who is None or answers is None or answers.empty:
        return []
    if "question" in answers.columns:
        answers = answers.rename(columns={"question": "page", "answer": "value"})
    single = answers[answers["item"].fillna("").astype(str) == ""]
    bootstrap = sim.draw_respondents()
    out = []
    for question, options in questions.items():
        given = single[single["page"] == question]
        chosen = dict(zip(given["respondent"].tolist(), given["value"].astype(str), strict=True))
        code = {name: k for k, name in enumerate(options)}
        by_respondent = {r: code.get(v, -1) for r, v in chosen.items()}
        rows = np.array([by_respondent.get(r, -1) for r in who.tolist()], dtype=np.int64)
        present = sorted({int(c) for c in rows if c >= 0})
        if len(present) < 2:
            continue
        recode = np.full(len(options) + 1, -1, dtype=np.int64)
        recode[present] = np.arange(len(present))
        rows = recode[rows]  # -1 stays -1 (the extra last entry)
        draw_rows = None
        if bootstrap is not None:
            respondents = np.asarray(results.individual.index)
            per_respondent = recode[
                np.array([by_respondent.get(r, -1) for r in respondents.tolist()], dtype=np.int64)
            ]
            draw_rows = per_respondent[bootstrap]
        out.append(ProfileFilter(question, tuple(options[k] for k in present), rows, draw_rows))
    return out


def _logit_shares(U: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Σ_r w_r softmax(U_r) with w summing to 1; U (R, J)."""
    U = U - U.max(axis=1, keepdims=True)
    e = np.exp(U)
    return w @ (e / e.sum(axis=1, keepdims=True))


def filtered_shares(
    sim: MarketSimulator, market: Market, flt: ProfileFilter, option: str
) -> pd.DataFrame:
    """Share of preference of every alternative among the people who chose ``option``:
    ``alternative``, ``share`` (summing to 1), and ``lower``/``upper`` over the uncertainty
    draws whose bootstrap sample holds someone of the option."""
    g = flt.options.index(option)
    pop = sim.population
    keep = flt.rows == g
    utilities = sim.scale * (pop.B @ market.X.T + market.offset)
    w = pop.w * keep
    share = _logit_shares(utilities[keep], w[keep] / w.sum())
    frame = pd.DataFrame({"alternative": list(market.names), "share": share})
    D = sim.uncertainty_draws()
    if D is None or flt.draw_rows is None:
        return frame
    weights = pop.draw_weights(D.shape[1])
    draws = []
    for s in range(D.shape[0]):
        mask = flt.draw_rows[s] == g
        if not mask.any():
            continue
        ws = weights[mask] / weights[mask].sum()
        draws.append(_logit_shares(sim.scale * (D[s][mask] @ market.X.T + market.offset), ws))
    if draws:
        tail = (1 - sim.interval) / 2
        stacked = np.array(draws)
        frame["lower"] = np.quantile(stacked, tail, axis=0)
        frame["upper"] = np.quantile(stacked, 1 - tail, axis=0)
    return frame
