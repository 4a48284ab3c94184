"""Simulated respondents who answer a design by the logit rule.

Used for power analysis (can 300 respondents pin down the price coefficient?),
for tests with a known truth, and for the demo.

Notes
-----
Respondent *i* in version ``i mod V`` sees the version's tasks (holdouts
included). The utility of concept *j* in task *t* is

    U_itj = s_i · (Σ_a β_ia[level_tja] + Σ_numeric β_ia · value_tja) + ε_itj,

with ε i.i.d. standard Gumbel and s_i the segment's scale. A plain none
option is one more alternative with utility s_i · β_i,none + ε. With dual
response, the respondent first picks the best concept (the forced choice),
then says they would really take it when the chosen concept beats none in a
second, binary comparison. By default that comparison draws fresh errors —
the behaviour behind Sawtooth's dual-response likelihood, which
``MultinomialLogit(dual="sawtooth")`` (the default) estimates; with
``dual_errors="same"`` it reuses the forced choice's errors, the behaviour
``MultinomialLogit(dual="joint")`` estimates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from offerlab.data import ChoiceData
from offerlab.exceptions import ChoiceDataError
from offerlab.simulate._population import SimulatedPopulation
from offerlab.study import Attribute, CategoricalAttribute, Study

__all__ = ["SimulatedAnswers", "simulate_answers"]


@dataclass(frozen=True)
class SimulatedAnswers:
    """Answers of simulated respondents and the truth behind them.

    Attributes
    ----------
    data : ChoiceData
        The answers in the long choice-data format.
    truth : DataFrame
        One row per respondent: ``respondent``, ``segment`` and the individual
        part-worths (``attribute=level`` columns for categorical attributes,
        ``attribute`` per unit for numeric ones, and ``none``).
    """

    data: ChoiceData
    truth: pd.DataFrame


def simulate_answers(
    study: Study,
    design_frame: pd.DataFrame,
    population: SimulatedPopulation,
    n_respondents: int,
    *,
    rng: np.random.Generator | int | None = None,
    dual_errors: Literal["fresh", "same"] = "fresh",
) -> SimulatedAnswers:
    """Let ``n_respondents`` simulated people answer a design.

    Parameters
    ----------
    study : Study
    design_frame : DataFrame
        The tidy design (``version, task, alternative``, one column per
        attribute, optional ``holdout``), as written by ``offerlab design``.
    population : SimulatedPopulation
    n_respondents : int
    rng : numpy Generator or seed
    dual_errors : {"fresh", "same"}, default "fresh"
        Dual response only: whether the would-buy answer draws fresh errors
        (Sawtooth's model) or reuses those of the forced choice.
    """
    if dual_errors not in ("fresh", "same"):
        raise ValueError(f"dual_errors must be 'fresh' or 'same', got {dual_errors!r}")
    if n_respondents < 1:
        raise ValueError(f"n_respondents must be at least 1, got {n_respondents}")
    rng = np.random.default_rng(rng)
    frame, levels, values, holdout = _design_arrays(study, design_frame)
    V, T, J, A = levels.shape
    segment, partworths, none_utility, scale = population.draw(study, n_respondents, rng)
    version_of = np.arange(n_respondents) % V
    utility = np.zeros((n_respondents, T, J))
    for a in range(A):
        if partworths[a].shape[1] > 1:  # one utility per level
            lev = levels[version_of, :, :, a]  # (N, T, J)
            utility += np.take_along_axis(
                partworths[a], lev.reshape(n_respondents, -1), axis=1
            ).reshape(n_respondents, T, J)
        else:
            utility += partworths[a][:, :1, None] * values[version_of, :, :, a]
    utility *= scale[:, None, None]
    systematic_none = np.broadcast_to((scale * none_utility)[:, None], (n_respondents, T))
    noisy = utility + rng.gumbel(size=utility.shape)
    noisy_none = systematic_none + rng.gumbel(size=(n_respondents, T))

    best = noisy.argmax(axis=2)  # (N, T): the forced choice among concepts
    none_kind = study.tasks.none.type if study.tasks.none is not None else None
    if none_kind == "dual" and dual_errors == "fresh":
        best_systematic = np.take_along_axis(utility, best[..., None], axis=2)[..., 0]
        second = rng.gumbel(size=(2, n_respondents, T))
        takes_none = best_systematic + second[0] < systematic_none + second[1]
    else:
        takes_none = np.take_along_axis(noisy, best[..., None], axis=2)[..., 0] < noisy_none

    # Assemble the long format: J concept rows (+ a none row) per respondent and task.
    rows = frame.iloc[np.arange(V * T * J).reshape(V, T, J)[version_of].ravel()]
    long = rows.drop(columns=["version"]).reset_index(drop=True)
    long.insert(0, "respondent", np.repeat(np.arange(1, n_respondents + 1), T * J))
    chosen = np.zeros((n_respondents, T, J), dtype=np.int8)
    np.put_along_axis(chosen, best[..., None], 1, axis=2)
    if none_kind == "plain":
        chosen[takes_none] = 0
    long["chosen"] = chosen.ravel()
    long["none"] = 0
    if none_kind is not None:
        none_rows = pd.DataFrame(
            {
                "respondent": np.repeat(np.arange(1, n_respondents + 1), T),
                "task": np.tile(np.arange(1, T + 1), n_respondents),
                "alternative": J + 1,
                "chosen": (takes_none.ravel() if none_kind == "plain" else 0),
                "none": 1,
                "holdout": np.tile(holdout, n_respondents),
            }
        )
        long = pd.concat([long, none_rows], ignore_index=True)
        long = long.sort_values(["respondent", "task", "alternative"], kind="stable")
        if none_kind == "dual":
            would_buy = (~takes_none).astype(np.int8)
            long["would_buy"] = would_buy.ravel()[
                (long["respondent"].to_numpy() - 1) * T + long["task"].to_numpy() - 1
            ]
    if "holdout" not in long.columns:
        long["holdout"] = 0
    long["holdout"] = long["holdout"].astype(bool).astype(np.int8)

    data = ChoiceData.from_frame(long.reset_index(drop=True), study, source="simulated answers")
    return SimulatedAnswers(
        data=data, truth=_truth_frame(study, segment, partworths, none_utility, population)
    )


def _design_arrays(
    study: Study, design_frame: pd.DataFrame
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """The design sorted, its level indices and numeric values (V, T, J, A), and which
    of the T tasks are holdouts."""
    _check_design_columns(study, design_frame)
    frame = design_frame.sort_values(["version", "task", "alternative"]).reset_index(drop=True)
    versions = np.sort(frame["version"].unique())
    n_tasks = frame.groupby("version")["task"].nunique().to_numpy()
    n_alts = frame.groupby(["version", "task"])["alternative"].nunique().to_numpy()
    if len(set(n_tasks)) != 1 or len(set(n_alts)) != 1:
        raise ChoiceDataError(
            "design: every version needs the same number of tasks and alternatives"
        )
    V, T, J, A = len(versions), int(n_tasks[0]), int(n_alts[0]), len(study.attributes)
    if len(frame) != V * T * J:
        raise ChoiceDataError(
            f"design: expected {V * T * J} rows ({V} versions x {T} tasks x {J} alternatives), "
            f"got {len(frame)}; is a (version, task, alternative) row repeated?"
        )

    # Utility contributions per attribute, shape (V, T, J): level indices or values.
    levels = np.stack(
        [_level_indices(study, a, frame[a.name]) for a in study.attributes], axis=-1
    ).reshape(V, T, J, A)
    values = np.stack(
        [
            pd.to_numeric(frame[a.name], errors="coerce").to_numpy(dtype=float)
            if not isinstance(a, CategoricalAttribute)
            else np.zeros(len(frame))
            for a in study.attributes
        ],
        axis=-1,
    ).reshape(V, T, J, A)
    holdout = (
        frame["holdout"].to_numpy(dtype=bool).reshape(V, T, J)[0, :, 0]
        if "holdout" in frame.columns
        else np.zeros(T, dtype=bool)
    )

    return frame, levels, values, holdout


def _check_design_columns(study: Study, frame: pd.DataFrame) -> None:
    """Name the missing columns instead of failing on the first one deep inside."""
    needed = ["version", "task", "alternative", *(a.name for a in study.attributes)]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ChoiceDataError(
            f"the design lacks column(s) {missing} that study '{study.name}' needs; "
            f"it has {list(frame.columns)}. Was it made from another study?"
        )


def _level_indices(study: Study, attr: Attribute, column: pd.Series) -> np.ndarray:
    idx = study.level_indices(attr.name, column)
    if (idx < 0).any():
        bad = sorted(set(column[idx < 0].astype(str)))[:5]
        raise ChoiceDataError(f"design column '{attr.name}' holds unknown levels {bad}")
    return idx


def _truth_frame(
    study: Study,
    segment: np.ndarray,
    partworths: list[np.ndarray],
    none_utility: np.ndarray,
    population: SimulatedPopulation,
) -> pd.DataFrame:
    truth = {
        "respondent": np.arange(1, len(segment) + 1),
        "segment": [population.segments[s].name for s in segment],
    }
    for attr, pw in zip(study.attributes, partworths, strict=True):
        if pw.shape[1] > 1:
            for lv, name in enumerate(attr.level_names):
                truth[f"{attr.name}={name}"] = pw[:, lv]
        else:
            truth[attr.name] = pw[:, 0]
    if study.tasks.none is not None:
        truth["none"] = none_utility
    return pd.DataFrame(truth)
