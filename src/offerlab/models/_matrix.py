"""From long-format choice data to the arrays of the MNL kernel.

A :class:`ModelMatrix` holds X (N, J, K), the chosen index, availability, weights,
an optional fixed-utility offset and the respondent of every observation.

:class:`ConjointCoding` turns study attributes into columns: effects or dummy
coding for categorical attributes (and numeric ones with ``coding: partworth``),
the raw value for linear numeric and price attributes, and a constant on the
none option. It also codes offers for the share simulator, interpolating
part-worth attributes between adjacent levels.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from offerlab.data import ChoiceData
from offerlab.exceptions import ChoiceDataError, EstimationError, OfferlabError
from offerlab.numerics import Scheme, level_coding_matrix
from offerlab.study import CategoricalAttribute, NumericAttribute, PriceAttribute, Study

__all__ = [
    "NONE_PARAM",
    "AttributeBlock",
    "ConjointCoding",
    "ModelMatrix",
    "arrays_matrix",
    "build_model_matrix",
    "task_layout",
]

NONE_PARAM = "none"


@dataclass(frozen=True)
class ModelMatrix:
    """Arrays for the MNL kernel.

    Attributes
    ----------
    X : ndarray, shape (N, J, K)
    y : ndarray of int, shape (N,)
    available : ndarray of bool, shape (N, J)
    weights : ndarray, shape (N,), or None
    groups : ndarray, shape (N,)
        Respondent of each observation (cluster for clustered SEs).
    names : list of str
        The K free coefficients.
    offset : ndarray, shape (N, J), or None
        Utility of fixed coefficients.
    fixed : dict
        Fixed coefficients and their values.
    n_tasks : int
        Choice tasks behind the N observations (a dual-response task gives two).
    """

    X: np.ndarray
    y: np.ndarray
    available: np.ndarray
    weights: np.ndarray | None
    groups: np.ndarray
    names: list[str]
    offset: np.ndarray | None = None
    fixed: dict[str, float] = field(default_factory=dict)
    n_tasks: int = 0


@dataclass(frozen=True)
class TaskLayout:
    """Where each long-format row goes: observation (task) and position within it."""

    obs: np.ndarray  # (rows,)
    pos: np.ndarray  # (rows,)
    n_obs: int
    n_alt: int
    first_row: np.ndarray  # (n_obs,) a row of each task

    def scatter(self, values: np.ndarray, fill: float = 0.0) -> np.ndarray:
        """Rows (rows, ...) → (N, J, ...) with ``fill`` where a task has fewer alternatives."""
        out = np.full((self.n_obs, self.n_alt, *values.shape[1:]), fill, dtype=values.dtype)
        out[self.obs, self.pos] = values
        return out


def task_layout(frame: pd.DataFrame) -> TaskLayout:
    """Number the tasks of a long frame (in order of appearance) and their alternatives."""
    grouped = frame.groupby(["respondent", "task"], sort=False)
    obs = grouped.ngroup().to_numpy()
    pos = grouped.cumcount().to_numpy()
    n_obs = int(obs.max()) + 1 if len(obs) else 0
    first = np.zeros(n_obs, dtype=np.int64)
    first[obs[::-1]] = np.arange(len(obs))[::-1]
    return TaskLayout(obs, pos, n_obs, int(pos.max()) + 1 if len(pos) else 0, first)


# -- conjoint coding ------------------------------------------------------------------------


@dataclass(frozen=True)
class AttributeBlock:
    """The columns of one study attribute.

    ``kind`` is ``"levels"`` (coded part-worths, ``coding`` matrix (L, L−1)) or
    ``"linear"`` (one column holding the value).
    """

    attribute: str
    kind: str
    start: int
    stop: int
    values: tuple[float, ...] = ()
    coding: np.ndarray | None = None


@dataclass(frozen=True)
class ConjointCoding:
    """Columns of a conjoint MNL: one block per attribute, then the none constant."""

    study: Study
    scheme: Scheme
    blocks: tuple[AttributeBlock, ...]
    names: tuple[str, ...]
    none_index: int | None

    @classmethod
    def from_study(cls, study: Study, scheme: Scheme = "effects", *, none: bool = False):
        if scheme not in ("effects", "dummy"):
            raise OfferlabError(f"coding must be 'effects' or 'dummy'; got {scheme!r}")
        blocks, names, start = [], [], 0
        for attr in study.attributes:
            values = () if isinstance(attr, CategoricalAttribute) else tuple(attr.values)
            if isinstance(attr, NumericAttribute) and attr.coding == "linear":
                blocks.append(AttributeBlock(attr.name, "linear", start, start + 1, values))
                names.append(attr.name)
                start += 1
                continue
            levels = attr.level_names
            C = level_coding_matrix(len(levels), scheme)
            coded = levels[:-1] if scheme == "effects" else levels[1:]
            names += [f"{attr.name}[{lv}]" for lv in coded]
            blocks.append(AttributeBlock(attr.name, "levels", start, start + len(coded), values, C))
            start += len(coded)
        none_index = None
        if none:
            none_index = start
            names.append(NONE_PARAM)
        return cls(study, scheme, tuple(blocks), tuple(names), none_index)

    @property
    def n_params(self) -> int:
        return len(self.names)

    def level_indices(self, frame: pd.DataFrame) -> np.ndarray:
        """Level index of every row (rows, attributes); −1 for none rows and other values.

        Same result as :meth:`ChoiceData.level_indices`, vectorised.
        """
        out = np.full((len(frame), len(self.blocks)), -1, dtype=np.int64)
        for a, block in enumerate(self.blocks):
            out[:, a] = self._levels_of(frame, block)
        return out

    def _levels_of(self, frame: pd.DataFrame, block: AttributeBlock) -> np.ndarray:
        """Level index of every row for one attribute (rows,), −1 where none matches."""
        levels = self.study.level_indices(block.attribute, frame[block.attribute])
        return levels.astype(np.int32)  # a column per attribute of millions of rows

    def code_rows(self, frame: pd.DataFrame, out: np.ndarray | None = None) -> np.ndarray:
        """Columns of every long-format row, shape (rows, K); none rows get the constant only.

        ``out`` (rows, K), zeros on entry, receives the columns when given. Works one
        column at a time, so temporaries are (rows,) vectors.
        """
        concept = frame["none"].to_numpy() == 0
        if out is None:
            out = np.zeros((len(frame), self.n_params))
        all_concepts = bool(concept.all())
        for block in self.blocks:
            if block.kind == "linear":
                vals = pd.to_numeric(frame[block.attribute], errors="coerce").to_numpy(float)
                bad = concept & ~np.isfinite(vals)
                if bad.any():
                    rows = ", ".join(str(i + 1) for i in np.flatnonzero(bad)[:8])
                    raise ChoiceDataError(
                        f"attribute '{block.attribute}' must be a number on every concept; "
                        f"rows {rows} hold none"
                    )
                out[:, block.start] = vals if all_concepts else np.where(concept, vals, 0.0)
                continue
            idx = self._levels_of(frame, block)
            if not all_concepts:
                idx = idx[concept]
            if (idx < 0).any():
                raise ChoiceDataError(
                    f"attribute '{block.attribute}' holds values that are not levels of "
                    "the study (part-worth coding needs one of the listed levels)"
                )
            for k in range(block.stop - block.start):
                column = block.coding[:, k][idx]
                if all_concepts:
                    out[:, block.start + k] = column
                else:
                    out[concept, block.start + k] = column
        if self.none_index is not None:
            out[~concept, self.none_index] = 1.0
        return out

    def code_offer(self, offer: Mapping[str, object], *, what: str = "offer") -> np.ndarray:
        """Columns of one offer (attribute → level name or number), shape (K,).

        Numeric values between two levels of a part-worth attribute are coded
        by linear interpolation of the adjacent levels' columns, which
        interpolates their part-worths linearly.
        """
        known = {b.attribute for b in self.blocks}
        unknown = [k for k in offer if k not in known]
        if unknown:
            raise OfferlabError(
                f"{what}: unknown attribute(s) {unknown}; the study has {sorted(known)}"
            )
        missing = [b.attribute for b in self.blocks if b.attribute not in offer]
        if missing:
            raise OfferlabError(f"{what}: no level given for attribute(s) {missing}")
        x = np.zeros(self.n_params)
        for block in self.blocks:
            x[block.start : block.stop] = self._code_value(block, offer[block.attribute], what)
        return x

    def _code_value(self, block: AttributeBlock, value: object, what: str) -> np.ndarray:
        attr = self.study.attribute(block.attribute)
        if isinstance(attr, CategoricalAttribute):
            names = attr.level_names
            if str(value) not in names:
                raise OfferlabError(
                    f"{what}: attribute '{attr.name}' has no level {value!r}; levels are {names}"
                )
            return block.coding[names.index(str(value))]
        try:
            number = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise OfferlabError(
                f"{what}: attribute '{attr.name}' needs a number; got {value!r}"
            ) from None
        if not np.isfinite(number):
            raise OfferlabError(f"{what}: attribute '{attr.name}' needs a finite number")
        if block.kind == "linear":
            return np.array([number])
        grid = np.asarray(block.values, dtype=float)
        order = np.argsort(grid)
        lo, hi = grid[order[0]], grid[order[-1]]
        if not lo - 1e-9 <= number <= hi + 1e-9:
            raise OfferlabError(
                f"{what}: {attr.name} = {number:g} lies outside the studied range "
                f"[{lo:g}, {hi:g}]; part-worth coding cannot extrapolate"
            )
        pw_grid = block.coding[order]  # rows sorted by value
        return np.array(
            [np.interp(number, grid[order], pw_grid[:, k]) for k in range(pw_grid.shape[1])]
        )

    def is_price(self, block: AttributeBlock) -> bool:
        return isinstance(self.study.attribute(block.attribute), PriceAttribute)


# -- conjoint design ------------------------------------------------------------------------


def build_model_matrix(
    data: ChoiceData,
    n_params: int,
    names: list[str],
    code: Callable[[pd.DataFrame, np.ndarray], object],
    *,
    none_index: int | None = None,
    dual: bool = False,
    dual_model: str = "sawtooth",
    offset_rows: np.ndarray | None = None,
    fixed: dict[str, float] | None = None,
) -> ModelMatrix:
    """Assemble a :class:`ModelMatrix` from long data and a row coder.

    Parameters
    ----------
    data : ChoiceData
        Estimation rows (holdouts already removed).
    n_params : int
        K.
    names : list of str
        Coefficient names, length K.
    code : callable
        ``code(frame, out)`` writes the (rows, K) columns of the frame's rows into
        ``out`` (zeros on entry).
    none_index : int, optional
        Column of the none constant (needed for dual response without none rows).
    dual : bool
        Dual response: every task with ``would_buy`` gives a forced choice among the
        concepts and a binary choice between the chosen concept and none.
    dual_model : {"sawtooth", "joint"}
        How the would-buy answer enters the likelihood (see Notes).
    offset_rows : ndarray, shape (rows,), optional
        Fixed utility of every row.

    Notes
    -----
    ``"sawtooth"``: Sawtooth's dual-response coding, the second answer as a new
    binary task between the chosen concept and none with its own errors: for task t
    with forced choice c and answer b (would buy),
    ℓ_t = log P(c | concepts) + log P(b | {c, none}), where
    P(buy | {c, none}) = exp(V_c) / (exp(V_c) + exp(V_none)).

    ``"joint"``: the respondent buys when the best concept beats none with the same
    errors as in the forced choice (U_c = max_j U_j > U_none). With i.i.d. Gumbel
    errors the arg-max among concepts is independent of the maximum, so
    P(c, buy) = exp(V_c) / Σ_all and P(c, no buy) = exp(V_c)/Σ_concepts ·
    exp(V_none)/Σ_all, with Σ_all summing over the concepts and none: a plain
    choice with none for every task, plus the forced choice when none won.
    """
    frame = data.frame
    layout = task_layout(frame)
    is_none = frame["none"].to_numpy() == 1
    J = layout.n_alt
    if dual:
        J += 1  # a slot for the none option of tasks that lack a none row
    X = np.zeros((layout.n_obs, J, n_params))
    if not dual and len(frame) == layout.n_obs * J:
        # Every task has J rows in order: code straight into X, no (rows, K) copy.
        code(frame, X.reshape(len(frame), n_params))
    else:
        rows_X = np.zeros((len(frame), n_params))
        code(frame, rows_X)
        X[layout.obs, layout.pos] = rows_X
        del rows_X
    available = np.zeros((layout.n_obs, J), dtype=bool)
    available[layout.obs, layout.pos] = frame["available"].to_numpy() == 1
    offset = None
    if offset_rows is not None:
        offset = np.zeros((layout.n_obs, J))
        offset[layout.obs, layout.pos] = offset_rows
    chosen = frame["chosen"].to_numpy() == 1
    y = np.zeros(layout.n_obs, dtype=np.int64)
    y[layout.obs[chosen]] = layout.pos[chosen]
    weights = frame["weight"].to_numpy(float)[layout.first_row]
    groups = frame["respondent"].to_numpy()[layout.first_row]
    fixed = dict(fixed or {})
    tasks = ModelMatrix(X, y, available, weights, groups, names, offset, fixed, layout.n_obs)
    if not dual:
        return replace(tasks, weights=None if np.all(weights == 1) else weights)

    would = frame["would_buy"].to_numpy()[layout.first_row]
    has_dual = ~pd.isna(would)
    none_pos = np.full(layout.n_obs, J - 1, dtype=np.int64)
    none_pos[layout.obs[is_none]] = layout.pos[is_none]
    if none_index is None:
        raise EstimationError("dual response needs a none constant in the model")
    virtual = none_pos == J - 1
    X[virtual, J - 1, none_index] = 1.0
    # (i) forced choice: none unavailable.
    forced_av = available.copy()
    forced_av[np.arange(layout.n_obs), none_pos] = False
    dual_tasks = _DualTasks(tasks, forced_av, none_pos, would, has_dual)
    return _joint_dual(dual_tasks) if dual_model == "joint" else _sawtooth_dual(dual_tasks)


@dataclass(frozen=True)
class _DualTasks:
    """The tasks of a dual-response design before the second question is laid out:
    ``tasks`` (its ``available`` with none, its ``weights`` an array), the forced
    choice's availability, where none stands, and the would-buy answers (``has_dual``:
    answered)."""

    tasks: ModelMatrix
    forced_av: np.ndarray
    none_pos: np.ndarray
    would: np.ndarray
    has_dual: np.ndarray


def _sawtooth_dual(dual: _DualTasks) -> ModelMatrix:
    """Sawtooth's dual response: the forced choice, then per answered task the binary
    choice between the chosen concept and none (see :func:`build_model_matrix`)."""
    t = dual.tasks
    X, y, weights, groups, offset = t.X, t.y, t.weights, t.groups, t.offset
    none_pos, would, has_dual = dual.none_pos, dual.would, dual.has_dual
    J = X.shape[1]
    d = np.flatnonzero(has_dual)
    buy = np.asarray(would[d], dtype=float) == 1
    bin_av = np.zeros((d.size, J), dtype=bool)
    bin_av[np.arange(d.size), y[d]] = True
    bin_av[np.arange(d.size), none_pos[d]] = True
    bin_y = np.where(buy, y[d], none_pos[d])
    w = None if np.all(weights == 1) else np.concatenate([weights, weights[d]])
    return ModelMatrix(
        X=np.concatenate([X, X[d]]),
        y=np.concatenate([y, bin_y]),
        available=np.concatenate([dual.forced_av, bin_av]),
        weights=w,
        groups=np.concatenate([groups, groups[d]]),
        names=t.names,
        offset=None if offset is None else np.concatenate([offset, offset[d]]),
        fixed=t.fixed,
        n_tasks=t.n_tasks,
    )


def _joint_dual(dual: _DualTasks) -> ModelMatrix:
    """Dual response when would-buy means "the best concept beats none" (see build_model_matrix)."""
    t = dual.tasks
    X, y, available, weights, groups, offset = t.X, t.y, t.available, t.weights, t.groups, t.offset
    none_pos, would, has_dual = dual.none_pos, dual.would, dual.has_dual
    n = len(y)
    buy = np.zeros(n, dtype=bool)
    buy[has_dual] = np.asarray(would[has_dual], dtype=float) == 1
    plain = np.flatnonzero(has_dual)  # choice among concepts and none
    forced = np.flatnonzero(~buy)  # forced choice, needed unless the concept was bought
    plain_av = available[plain].copy()
    plain_av[np.arange(plain.size), none_pos[plain]] = True
    plain_y = np.where(buy[plain], y[plain], none_pos[plain])
    order = np.concatenate([forced, plain])
    w = None if np.all(weights == 1) else weights[order]
    return ModelMatrix(
        X=X[order],
        y=np.concatenate([y[forced], plain_y]),
        available=np.concatenate([dual.forced_av[forced], plain_av]),
        weights=w,
        groups=groups[order],
        names=t.names,
        offset=None if offset is None else offset[order],
        fixed=t.fixed,
        n_tasks=t.n_tasks,
    )


def conjoint_matrix(
    data: ChoiceData, coding: ConjointCoding, *, dual: bool, dual_model: str = "sawtooth"
) -> ModelMatrix:
    """The design of a conjoint MNL (see :class:`ConjointCoding`)."""
    return build_model_matrix(
        data,
        coding.n_params,
        list(coding.names),
        coding.code_rows,
        none_index=coding.none_index,
        dual=dual,
        dual_model=dual_model,
    )


def arrays_matrix(
    X: np.ndarray,
    y: np.ndarray,
    *,
    available: np.ndarray | None = None,
    weights: np.ndarray | None = None,
    groups: np.ndarray | None = None,
    names: Sequence[str] | None = None,
    offset: np.ndarray | None = None,
) -> ModelMatrix:
    """Check arrays given to an estimator's ``fit_arrays`` and wrap them (``X`` not copied).

    ``X`` (N, J, K) float64, ``y`` (N,) chosen indices, ``available`` (N, J) (default all),
    ``weights`` (N,), ``groups`` (N,) respondents (default: each observation its own),
    ``names`` (default ``x0``, ``x1``…), ``offset`` (N, J).
    """
    X = np.asarray(X)
    if X.ndim != 3 or X.dtype != np.float64:
        raise OfferlabError(f"X must be a float64 array (N, J, K); got {X.dtype} {X.shape}")
    N, J, K = X.shape
    y = np.asarray(y, dtype=np.int64)
    if y.shape != (N,) or (y < 0).any() or (y >= J).any():
        raise OfferlabError(f"y must hold N = {N} indices in [0, {J}); got shape {y.shape}")
    if available is None:
        available = np.ones((N, J), dtype=bool)
    available = np.asarray(available, dtype=bool)
    if available.shape != (N, J) or not available[np.arange(N), y].all():
        raise OfferlabError("available must be (N, J) and true on every chosen alternative")
    groups = np.arange(N) if groups is None else np.asarray(groups)
    if groups.shape != (N,):
        raise OfferlabError(f"groups must have shape ({N},); got {groups.shape}")
    names = list(names) if names is not None else [f"x{k}" for k in range(K)]
    if len(names) != K:
        raise OfferlabError(f"names has {len(names)} entries; X has K = {K}")
    return ModelMatrix(
        X=X,
        y=y,
        available=available,
        weights=None if weights is None else np.asarray(weights, dtype=float),
        groups=groups,
        names=names,
        offset=None if offset is None else np.asarray(offset, dtype=float),
        n_tasks=N,
    )
