"""Needs, motives and obstacles: frequencies and means by segment, with intervals.

The tidy answers frame
----------------------
Every function here reads the fielding export's answers as one row per answer:

=============  ============================================================================
column         meaning
=============  ============================================================================
``respondent`` who answered
``question``   the page id in the study's questionnaire (``obstacles``, ``motives``…)
``item``       what within the page the row answers: the item name of a ``scale`` page;
               the field of a ``van_westendorp`` page (``too_cheap``…); the price asked
               on a ``gabor_granger`` page; the option name for the text typed into an
               ``open`` option ("other: …"); empty (NaN or "") otherwise
``answer``     ``single``: the option name; ``multi``: one row per option chosen, the
               option name; ``scale``: the point 1…points; ``number``: the number;
               ``text`` and open options: the text
=============  ============================================================================

Segments are a mapping respondent → label: :func:`segments_from` takes them from a
single question (a screener such as ``age_band``), or pass any Series (latent classes,
HB clusters). Respondents without a segment are left out of by-segment tables.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from offerlab.exceptions import OfferlabError

__all__ = [
    "TIDY_COLUMNS",
    "group_open_text",
    "none_choosers",
    "option_frequencies",
    "question_rows",
    "scale_means",
    "segments_from",
    "top_obstacles",
    "wilson_bounds",
    "wilson_interval",
]

TIDY_COLUMNS = ("respondent", "question", "item", "answer")
ALL = "all"


def _check(answers: pd.DataFrame) -> None:
    missing = [c for c in TIDY_COLUMNS if c not in answers.columns]
    if missing:
        raise OfferlabError(
            f"tidy answers need the columns {list(TIDY_COLUMNS)}; missing {missing}"
        )


def question_rows(answers: pd.DataFrame, question: str) -> pd.DataFrame:
    """The tidy answers to one question (an error when there are none)."""
    _check(answers)
    rows = answers[answers["question"] == question]
    if rows.empty:
        raise OfferlabError(f"no answers to question {question!r}")
    return rows


def _no_item(rows: pd.DataFrame) -> pd.Series:
    item = rows["item"]
    return item.isna() | (item.astype(str) == "")


def wilson_interval(
    successes: np.ndarray | float, n: np.ndarray | float, interval: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a proportion ``successes / n`` (NaN where n = 0)."""
    if not 0 < interval < 1:
        raise OfferlabError(f"interval must lie in (0, 1); got {interval!r}")
    x = np.asarray(successes, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = x / n
    return wilson_bounds(p, n, interval)


def wilson_bounds(
    p: np.ndarray | float, n: np.ndarray | float, interval: float
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of proportions ``p`` (weighted shares too) out of ``n``."""
    z = stats.norm.ppf(0.5 + interval / 2)
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return centre - half, centre + half


def segments_from(answers: pd.DataFrame, question: str) -> pd.Series:
    """Segment of every respondent from a single-answer question (respondent → option)."""
    rows = question_rows(answers, question)
    rows = rows[_no_item(rows)]
    if rows["respondent"].duplicated().any():
        raise OfferlabError(f"question {question!r} has several answers per respondent")
    return pd.Series(rows["answer"].to_numpy(), index=rows["respondent"].to_numpy(), name=question)


def _segment_of(respondents: pd.Series, segments: pd.Series | None) -> pd.Series:
    if segments is None:
        return pd.Series(ALL, index=respondents.index)
    return respondents.map(segments)


def option_frequencies(
    answers: pd.DataFrame,
    question: str,
    *,
    segments: pd.Series | None = None,
    options: Sequence[str] | None = None,
    respondents: Iterable[object] | None = None,
    interval: float = 0.95,
) -> pd.DataFrame:
    """How many respondents chose each option of a single or multi question, by segment.

    Parameters
    ----------
    answers : DataFrame
        Tidy answers (module docstring).
    question : str
    segments : Series, optional
        respondent → segment label (default: one segment ``all``).
    options : list of str, optional
        Options to list (and their order), including ones nobody chose; default: the
        options found in the answers.
    respondents : iterable, optional
        Only these respondents (e.g. those who chose none: :func:`none_choosers`).
    interval : float

    Returns
    -------
    DataFrame
        ``segment``, ``option``, ``n`` (respondents choosing it), ``base`` (respondents
        of the segment who answered the question), ``share`` = n / base, ``lower``,
        ``upper`` (Wilson interval). For a multi question the shares add up to more
        than 1.
    """
    rows = question_rows(answers, question)
    rows = rows[_no_item(rows)]
    if respondents is not None:
        keep = set(respondents)
        rows = rows[rows["respondent"].isin(keep)]
    rows = rows.assign(segment=_segment_of(rows["respondent"], segments).to_numpy())
    rows = rows[rows["segment"].notna()]
    if options is None:
        options = list(dict.fromkeys(rows["answer"].astype(str)))
    base = rows.groupby("segment")["respondent"].nunique()
    chosen = (
        rows.assign(answer=rows["answer"].astype(str))
        .drop_duplicates(["respondent", "answer"])
        .groupby(["segment", "answer"])["respondent"]
        .nunique()
    )
    out = []
    for seg in base.index:
        for opt in options:
            n = int(chosen.get((seg, opt), 0))
            out.append({"segment": seg, "option": opt, "n": n, "base": int(base[seg])})
    frame = pd.DataFrame(out, columns=["segment", "option", "n", "base"])
    frame["share"] = frame["n"] / frame["base"]
    frame["lower"], frame["upper"] = wilson_interval(frame["n"], frame["base"], interval)
    return frame


def scale_means(
    answers: pd.DataFrame,
    question: str,
    *,
    segments: pd.Series | None = None,
    interval: float = 0.95,
) -> pd.DataFrame:
    """Mean rating of every item of a scale question (or of a number question), by segment.

    Returns
    -------
    DataFrame
        ``segment``, ``item`` (empty for a number question), ``n``, ``mean``, ``sd``,
        ``lower``, ``upper`` (t interval: mean ± t_{n−1} sd/√n; NaN for n < 2).
    """
    if not 0 < interval < 1:
        raise OfferlabError(f"interval must lie in (0, 1); got {interval!r}")
    rows = question_rows(answers, question)
    values = pd.to_numeric(rows["answer"], errors="coerce")
    if values.isna().any():
        raise OfferlabError(f"question {question!r} has answers that are not numbers")
    rows = rows.assign(
        value=values.to_numpy(),
        segment=_segment_of(rows["respondent"], segments).to_numpy(),
        item=rows["item"].fillna("").astype(str),
    )
    rows = rows[rows["segment"].notna()]
    g = rows.groupby(["segment", "item"], sort=False)["value"]
    frame = g.agg(n="count", mean="mean", sd="std").reset_index()
    t = stats.t.ppf(0.5 + interval / 2, np.maximum(frame["n"] - 1, 1))
    half = t * frame["sd"] / np.sqrt(frame["n"])
    frame["lower"] = np.where(frame["n"] >= 2, frame["mean"] - half, np.nan)
    frame["upper"] = np.where(frame["n"] >= 2, frame["mean"] + half, np.nan)
    return frame


def none_choosers(choices: pd.DataFrame, *, threshold: float = 0.5) -> list[object]:
    """Respondents who chose "none" in at least ``threshold`` of their tasks.

    ``choices`` is long choice data (:class:`~offerlab.data.ChoiceData` ``.frame``):
    a task counts as "none" when the none row was chosen or, with dual response, when
    ``would_buy`` is 0. Holdout tasks count too.
    """
    need = {"respondent", "task", "chosen"}
    if not need <= set(choices.columns):
        raise OfferlabError(f"choice data needs the columns {sorted(need)}")
    frame = choices
    if "would_buy" in frame.columns and frame["would_buy"].notna().any():
        per_task = frame.groupby(["respondent", "task"])["would_buy"].first() == 0
    elif "none" in frame.columns:
        per_task = (
            ((frame["none"] == 1) & (frame["chosen"] == 1))
            .groupby([frame["respondent"], frame["task"]])
            .any()
        )
    else:
        raise OfferlabError("the choice data has no none option (no 'none' or 'would_buy')")
    rate = per_task.groupby(level=0).mean()
    return list(rate.index[rate >= threshold])


def top_obstacles(
    answers: pd.DataFrame,
    question: str,
    respondents: Iterable[object],
    *,
    top: int = 5,
    exclude: Sequence[str] = ("nothing",),
    segments: pd.Series | None = None,
    interval: float = 0.95,
) -> pd.DataFrame:
    """The most frequent answers to ``question`` among ``respondents`` (e.g. those who
    chose none), largest share first, ``top`` per segment; ``exclude`` drops options
    such as "none of these"."""
    freq = option_frequencies(
        answers, question, segments=segments, respondents=respondents, interval=interval
    )
    freq = freq[~freq["option"].isin(list(exclude))]
    return (
        freq.sort_values(["segment", "share"], ascending=[True, False], kind="stable")
        .groupby("segment", sort=False)
        .head(top)
        .reset_index(drop=True)
    )


def group_open_text(
    answers: pd.DataFrame,
    question: str,
    rules: Mapping[str, Sequence[str]],
    *,
    item: str | None = None,
    examples: int = 3,
    other: str = "other",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Group open answers by transparent keyword rules, with examples.

    Parameters
    ----------
    answers : DataFrame
        Tidy answers.
    question : str
        A ``text`` page, or a page with an open option (then give ``item``, the
        option's name).
    rules : mapping
        group → keywords. A text belongs to a group when it contains one of its
        keywords at the start of a word, ignoring case (``"expens"`` matches
        "Expensive" and "too expensive", not "inexpensive"). A text may belong to
        several groups; one matching none goes to ``other``.
    item : str, optional
        The open option whose texts to group.
    examples : int
        Example texts per group (the first ones, in the order of the answers).

    Returns
    -------
    summary : DataFrame
        ``group``, ``keywords``, ``n`` (texts), ``share`` (of the non-empty texts),
        ``examples`` (list of str); the rules' order, ``other`` last.
    assignments : DataFrame
        ``respondent``, ``text``, ``groups`` (list of str): how every text was grouped.
    """
    rows = question_rows(answers, question)
    rows = rows[rows["item"].astype(str) == item] if item is not None else rows[_no_item(rows)]
    texts = rows["answer"].astype(str).str.strip()
    keep = texts != ""
    rows, texts = rows[keep], texts[keep]
    patterns = {}
    for group, words in rules.items():
        words = [w.strip() for w in words if w.strip()]
        if not words:
            raise OfferlabError(f"group {group!r} has no keywords")
        patterns[group] = re.compile(
            r"\b(?:" + "|".join(re.escape(w) for w in words) + ")", re.IGNORECASE
        )
    assigned = []
    for text in texts:
        groups = [g for g, pat in patterns.items() if pat.search(text)]
        assigned.append(groups or [other])
    assignments = pd.DataFrame(
        {"respondent": rows["respondent"].to_numpy(), "text": texts.to_numpy(), "groups": assigned}
    )
    total = len(assignments)
    summary = []
    for group in [*patterns, other]:
        mine = [t for t, gs in zip(assignments["text"], assigned, strict=True) if group in gs]
        summary.append(
            {
                "group": group,
                "keywords": ", ".join(rules.get(group, [])),
                "n": len(mine),
                "share": len(mine) / total if total else np.nan,
                "examples": mine[:examples],
            }
        )
    return pd.DataFrame(summary), assignments
