"""Segments of the market by what respondents said of themselves (age band, region, the
motives they ticked…), for a simulator on individual-level results: hierarchical Bayes
(rows are respondents) and latent classes (each respondent's posterior class membership).

Each population row of an HB simulator is a posterior draw of one respondent (rows
respondent after respondent, :meth:`HBResults.population_coefficients`); each row of an
uncertainty draw is a respondent of that draw's bootstrap sample. A profile filter gives
every such row the option its respondent chose on one single-choice question of the study
(-1: no answer, e.g. a question shown only to some). Filtering the market to one option
keeps the rows of that option with their weights renormalised -- the shares of the people
who gave that answer, which sum to 1 -- and, per uncertainty draw, the rows of that option
in the draw's bootstrap sample (a bootstrap of the segment). The pages' script does the
same; :func:`filtered_shares` is its reference.

A multi-select question filters too: a person is in an option's segment if they ticked it
(so one person may be in several). Its rows then hold a bit mask of the options ticked
(bit g: option g; 0: none ticked, -1: not asked) -- :meth:`ProfileFilter.member`.

A latent-class simulator's rows are the classes, not people: a segment there is the
classes in the mix its people have, each person counted by their posterior class
probabilities h_rc given all their choices -- class c's weight in option g's segment is
mean over its people of h_rc (:attr:`ProfileFilter.class_weights`). The uncertainty draws
then hold the class coefficients' uncertainty with that mix fixed, as the whole market's
latent-class intervals hold the class sizes at their estimates.

A mixed logit's rows are draws from the estimated distribution, whose conditional
weights given each person's choices the fit does not keep: it is not filtered (the page
says so, rather than offering nothing without a word).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from offerlab.decide._market import Market, MarketSimulator

__all__ = [
    "ProfileFilter",
    "filterable",
    "filtered_shares",
    "multi_questions",
    "profile_filters",
    "profile_questions",
]


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
    multi : bool
        A multi-select question: ``rows`` and ``draw_rows`` hold bit masks of the options
        ticked, and a row is in every option it ticked.
    class_weights : ndarray (G, C), optional
        A latent-class simulator: per option the weight of each class row in its
        segment (mean posterior class probability of its people); ``rows`` then holds,
        per respondent, their option (or bit mask), and ``draw_rows`` is None.
    """

    question: str
    options: tuple[str, ...]
    rows: np.ndarray
    draw_rows: np.ndarray | None = None
    multi: bool = False
    class_weights: np.ndarray | None = None

    def member(self, codes: np.ndarray, g: int) -> np.ndarray:
        """Which of ``codes`` (rows' options or bit masks) are in option ``g``'s segment."""
        codes = np.asarray(codes)
        if self.multi:
            return (codes > 0) & ((codes >> g) & 1).astype(bool)
        return codes == g

    def mass(self, weights: np.ndarray) -> np.ndarray:
        """Each option's share of the population (``weights``: the population rows'; for a
        latent-class filter, the share of the people who answered)."""
        if self.class_weights is not None:
            weights = np.ones(len(self.rows))
        answered = weights[self.rows >= 0].sum()
        return np.array(
            [weights[self.member(self.rows, g)].sum() / answered for g in range(len(self.options))]
        )


#: A multi-select question's bit masks fit in 31 bits (the page's script reads them as such).
MAX_MULTI_OPTIONS = 30


def profile_questions(study: Any) -> dict[str, list[str]]:
    """The study's single-choice questions (not attention checks) with their options that
    do not screen out: the single-choice questions the market can be filtered by."""
    from offerlab.study import SinglePage

    pages = study.questionnaire.pages if study.questionnaire is not None else []
    return {
        p.id: [o.name for o in p.options if not getattr(o, "screen_out", False)]
        for p in pages
        if isinstance(p, SinglePage) and p.attention_check is None
    }


def multi_questions(study: Any) -> dict[str, list[str]]:
    """The study's multi-select questions with their options (at most
    :data:`MAX_MULTI_OPTIONS`): a person is in every option they ticked."""
    from offerlab.study import MultiPage

    pages = study.questionnaire.pages if study.questionnaire is not None else []
    return {
        p.id: [o.name for o in p.options][:MAX_MULTI_OPTIONS]
        for p in pages
        if isinstance(p, MultiPage)
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


def _class_posteriors(results: Any, n_rows: int) -> pd.DataFrame | None:
    """A panel latent-class fit's posterior class probabilities (respondents x classes)
    when the simulator's rows are its classes (else None)."""
    if not (hasattr(results, "cmap") and hasattr(results, "posterior")):
        return None
    if not getattr(results, "panel", True) or results.posterior.shape[1] != n_rows:
        return None
    return pd.DataFrame(np.asarray(results.posterior), index=list(results.unit_ids))


def filterable(results: Any) -> bool:
    """Whether a fit's market can be filtered by profile answers: individual-level draws
    (HB) or a panel latent-class fit's posteriors; not a mixed logit or an MNL."""
    if getattr(results, "individual_draws", None) is not None:
        return True
    return hasattr(results, "cmap") and hasattr(results, "posterior") and results.panel


def _answer_codes(
    answers: pd.DataFrame, question: str, options: Sequence[str], multi: bool
) -> dict[Any, int]:
    """Per respondent who answered ``question``: the chosen option's index, or (multi)
    the bit mask of the options ticked."""
    given = answers[answers["page"] == question]
    items = given["item"].fillna("").astype(str)
    code = {name: k for k, name in enumerate(options)}
    if not multi:
        given = given[items == ""]
        pairs = zip(given["respondent"], given["value"], strict=True)
        return {r: code.get(str(v), -1) for r, v in pairs}
    # the fielding export names the ticked option in ``item`` (value "1"), the tidy form
    # in the answer with an empty item
    ticked = [i if i else str(v) for i, v in zip(items, given["value"], strict=True)]
    masks: dict[Any, int] = {}
    for r, option in zip(given["respondent"].tolist(), ticked, strict=True):
        masks[r] = masks.get(r, 0) | (1 << code[option] if option in code else 0)
    return masks


def _present(codes: np.ndarray, n_options: int, multi: bool) -> list[int]:
    """The options someone of ``codes`` is in."""
    if multi:
        return [g for g in range(n_options) if ((codes[codes > 0] >> g) & 1).any()]
    return sorted({int(c) for c in codes if c >= 0})


def _recoded(codes: np.ndarray, present: list[int], n_options: int, multi: bool) -> np.ndarray:
    """``codes`` on the options kept (``present``), -1 kept."""
    if not multi:
        recode = np.full(n_options + 1, -1, dtype=np.int64)
        recode[present] = np.arange(len(present))
        return recode[codes]  # -1 stays -1 (the extra last entry)
    out = np.where(codes < 0, -1, 0).astype(np.int64)
    for new, g in enumerate(present):
        out |= np.where(codes > 0, ((codes >> g) & 1) << new, 0)
    return out


def profile_filters(
    sim: MarketSimulator,
    results: Any,
    answers: pd.DataFrame,
    questions: Mapping[str, Sequence[str]],
    multi: Mapping[str, Sequence[str]] | None = None,
) -> list[ProfileFilter]:
    """The filters of single-choice ``questions`` and multi-select ``multi`` questions
    (each page id -> options) for ``sim`` on ``results``.

    ``answers`` is the survey's answers in the fielding export's form (``respondent``,
    ``page``, ``item``, ``value``; a single-choice answer has an empty item, a ticked
    option of a multi-select question is the item) or the tidy form (``question`` and
    ``answer`` for page and value). An individual-level fit (its rows are respondents)
    and a panel latent-class fit (its posteriors) can be filtered; a question with fewer
    than two options anyone chose filters nothing and is left out.
    """
    if answers is None or answers.empty:
        return []
    if "question" in answers.columns:
        answers = answers.rename(columns={"question": "page", "answer": "value"})
    posteriors = _class_posteriors(results, sim.population.n_rows)
    who = _respondent_rows(results, sim.population.n_rows)
    if posteriors is not None:
        who = np.asarray(posteriors.index)
    if who is None:
        return []
    bootstrap = sim.draw_respondents() if posteriors is None else None
    out = []
    asked = [(q, o, False) for q, o in questions.items()]
    asked += [(q, o, True) for q, o in (multi or {}).items()]
    for question, options, is_multi in asked:
        by_respondent = _answer_codes(answers, question, options, is_multi)
        rows = np.array([by_respondent.get(r, -1) for r in who.tolist()], dtype=np.int64)
        present = _present(rows, len(options), is_multi)
        if len(present) < 2:
            continue
        rows = _recoded(rows, present, len(options), is_multi)
        kept = tuple(options[k] for k in present)
        flt = ProfileFilter(question, kept, rows, None, is_multi)
        if posteriors is not None:
            H = posteriors.to_numpy()
            weights = np.array([H[flt.member(rows, g)].mean(axis=0) for g in range(len(kept))])
            out.append(replace(flt, class_weights=weights))
            continue
        if bootstrap is not None:
            respondents = np.asarray(results.individual.index)
            codes = np.array([by_respondent.get(r, -1) for r in respondents.tolist()])
            per_respondent = _recoded(codes.astype(np.int64), present, len(options), is_multi)
            flt = replace(flt, draw_rows=per_respondent[bootstrap])
        out.append(flt)
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
    utilities = sim.scale * (pop.B @ market.X.T + market.offset)
    if flt.class_weights is not None:  # latent classes: the segment's class mix
        mix = flt.class_weights[g] / flt.class_weights[g].sum()
        frame = pd.DataFrame(
            {"alternative": list(market.names), "share": _logit_shares(utilities, mix)}
        )
        return _class_intervals(sim, market, mix, frame)
    keep = flt.member(flt.rows, g)
    w = pop.w * keep
    share = _logit_shares(utilities[keep], w[keep] / w.sum())
    frame = pd.DataFrame({"alternative": list(market.names), "share": share})
    D = sim.uncertainty_draws()
    if D is None or flt.draw_rows is None:
        return frame
    weights = pop.draw_weights(D.shape[1])
    draws = []
    for s in range(D.shape[0]):
        mask = flt.member(flt.draw_rows[s], g)
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


def _class_intervals(
    sim: MarketSimulator, market: Market, mix: np.ndarray, frame: pd.DataFrame
) -> pd.DataFrame:
    """A latent-class segment's intervals: the class coefficients' draws, its mix fixed."""
    D = sim.uncertainty_draws()
    if D is None or D.shape[1] != len(mix):
        return frame
    stacked = np.array(
        [_logit_shares(sim.scale * (D[s] @ market.X.T + market.offset), mix) for s in range(len(D))]
    )
    tail = (1 - sim.interval) / 2
    frame["lower"] = np.quantile(stacked, tail, axis=0)
    frame["upper"] = np.quantile(stacked, 1 - tail, axis=0)
    return frame
