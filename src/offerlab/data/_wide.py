"""Convert wide choice data (one row per task, columns per alternative) to the long format.

Surveys such as Swissmetro store a task per row: ``TRAIN_TT``, ``SM_TT``,
``CAR_TT``… and a ``CHOICE`` column holding the chosen alternative's code.
Each long-format variable is given per alternative as an expression over the
wide columns, evaluated with :meth:`pandas.DataFrame.eval` (arithmetic,
comparisons and ``and``/``or``; no function calls), e.g.
``"TRAIN_CO * (GA == 0) / 100"``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from offerlab.data._choice_data import ChoiceData
from offerlab.exceptions import ChoiceDataError

__all__ = ["WideAlternative", "evaluate", "wide_to_long"]


@dataclass(frozen=True)
class WideAlternative:
    """How one alternative is read from a wide row.

    Parameters
    ----------
    name : str
        The alternative's name in the long format (``alternative`` column).
    code : int or str
        The value of the choice column when this alternative was chosen.
    variables : mapping of str to str
        Long-format column → expression over wide columns.
    available : str, optional
        Expression that is non-zero where the alternative was offered.
    """

    name: str
    code: int | str
    variables: Mapping[str, str] = field(default_factory=dict)
    available: str | None = None


def evaluate(frame: pd.DataFrame, expression: str | float, *, what: str) -> pd.Series:
    """Evaluate an expression over the columns of ``frame`` into a Series."""
    if isinstance(expression, int | float) and not isinstance(expression, bool):
        return pd.Series(float(expression), index=frame.index)
    try:
        result = frame.eval(str(expression), engine="python")
    except Exception as exc:  # pandas raises many types here: turn each into one message
        raise ChoiceDataError(f"{what}: cannot evaluate {expression!r}: {exc}") from None
    if np.isscalar(result):
        return pd.Series(result, index=frame.index)
    if not isinstance(result, pd.Series) or len(result) != len(frame):
        raise ChoiceDataError(f"{what}: {expression!r} does not give one value per row")
    return result


def wide_to_long(
    frame: pd.DataFrame,
    *,
    respondent: str,
    choice: str,
    alternatives: Sequence[WideAlternative],
    task: str | None = None,
    filter: str | None = None,
    weight: str | None = None,
    source: str = "wide data",
) -> ChoiceData:
    """Turn one-row-per-task data into validated long-format :class:`ChoiceData`.

    ``filter`` keeps only the rows where a boolean expression holds (as
    :meth:`pandas.DataFrame.query`). Tasks are numbered in file order within
    each respondent unless ``task`` names a column.
    """
    for col in (respondent, choice, task, weight):
        if col is not None and col not in frame.columns:
            raise ChoiceDataError(
                f"{source}: no column '{col}' (columns: {', '.join(frame.columns[:30])})"
            )
    if filter:
        keep = evaluate(frame, filter, what=f"{source}: filter")
        frame = frame[keep.astype(bool)]
    frame = frame.reset_index(drop=True)
    if frame.empty:
        raise ChoiceDataError(f"{source}: no rows left after the filter {filter!r}")

    task_no = (
        frame[task] if task else frame.groupby(respondent, sort=False).cumcount() + 1
    ).to_numpy()
    codes = {str(a.code): a.name for a in alternatives}
    unknown = ~frame[choice].astype(str).isin(codes)
    if unknown.any():
        rows = np.flatnonzero(unknown.to_numpy())[:8] + 1
        raise ChoiceDataError(
            f"{source}: '{choice}' holds codes that name no alternative "
            f"({sorted(set(frame.loc[unknown, choice].astype(str)))[:5]}) in rows {list(rows)}; "
            f"known codes: {sorted(codes)}"
        )
    chosen_name = frame[choice].astype(str).map(codes).to_numpy()

    parts = []
    for alt in alternatives:
        part = pd.DataFrame(
            {
                "respondent": frame[respondent].to_numpy(),
                "task": task_no,
                "alternative": alt.name,
                "chosen": (chosen_name == alt.name).astype(np.int8),
                "available": 1
                if alt.available is None
                else (evaluate(frame, alt.available, what=f"{source}: {alt.name}.available") != 0)
                .astype(np.int8)
                .to_numpy(),
            }
        )
        if weight:
            part["weight"] = frame[weight].to_numpy()
        for var, expr in alt.variables.items():
            part[var] = evaluate(frame, expr, what=f"{source}: {alt.name}.{var}").to_numpy(
                dtype=float
            )
        part["_order"] = np.arange(len(frame))
        parts.append(part)
    long = pd.concat(parts, ignore_index=True)
    long = long.sort_values(["_order"], kind="stable").drop(columns="_order")
    return ChoiceData.from_frame(long, source=source)
