"""The optimiser's candidates: every single offer the study allows (prohibitions and
fixed levels respected), with the price on the studied levels or on a finer grid, coded,
priced and costed; and which line-ups of them are distinct products."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from offerlab.decide._market import Market
from offerlab.decide._money import Costs
from offerlab.exceptions import OfferlabError
from offerlab.study import CategoricalAttribute, Study

__all__ = ["OfferSpace", "offer_cost", "offer_space"]


@dataclass(frozen=True)
class OfferSpace:
    """The feasible single offers of a study, as level indices, coded.

    Attributes
    ----------
    attributes : tuple of str
    values : tuple of tuple
        The values each attribute can take (level names; numbers for numeric
        attributes; the price grid for the price).
    index : ndarray of int, shape (C, A)
        Feasible candidates, one value index per attribute.
    X : ndarray, shape (C, K)
        Their coded columns.
    price : ndarray, shape (C,)
    cost : ndarray, shape (C,)
    """

    attributes: tuple[str, ...]
    values: tuple[tuple[object, ...], ...]
    index: np.ndarray
    X: np.ndarray
    price: np.ndarray
    cost: np.ndarray
    study_price: str | None = None

    @cached_property
    def price_column(self) -> int | None:
        """Which attribute is the price (None without one)."""
        study = self.study_price
        return self.attributes.index(study) if study in self.attributes else None

    @cached_property
    def product_id(self) -> np.ndarray:
        """(C,) one id per product: candidates alike in every attribute but the price."""
        keep = [a for a in range(len(self.attributes)) if a != self.price_column]
        _, inv = np.unique(self.index[:, keep], axis=0, return_inverse=True)
        return inv.ravel()

    def offer(self, c: int) -> dict[str, object]:
        """Candidate ``c`` as ``{attribute: level}``."""
        return {a: self.values[i][int(self.index[c, i])] for i, a in enumerate(self.attributes)}

    def describe(self, c: int) -> str:
        return ", ".join(f"{a}={v}" for a, v in self.offer(c).items())

    def distinct_products(self, lineups: np.ndarray) -> np.ndarray:
        """Which line-ups (n, m) have tiers that differ on at least one non-price
        attribute."""
        ok = np.ones(len(lineups), dtype=bool)
        if not [a for a in range(len(self.attributes)) if a != self.price_column]:
            return ok
        product = self.product_id
        m = lineups.shape[1]
        for s in range(m):
            for t in range(s + 1, m):
                ok &= product[lineups[:, s]] != product[lineups[:, t]]
        return ok


#: One attribute's values and, for each value, the study levels it touches: two when a
#: price lies between levels (the value is allowed only when both neighbours are, a
#: conservative reading of a prohibition such as "no premium car below CHF 590").
_Values = tuple[list[object], list[tuple[int, ...]]]


def offer_space(
    market: Market,
    prices: Sequence[float] | None,
    costs: Mapping[str, Mapping[object, float]] | None,
    base_cost: float,
    fixed: Mapping[str, object],
) -> OfferSpace:
    """Every offer of ``market``'s study that its prohibitions and ``fixed`` allow, with
    the price on ``prices`` (default: the studied levels) and ``costs`` per level."""
    coding = market.coding
    if coding is None:
        raise OfferlabError("the optimiser needs a market coded from a study (Market.from_offers)")
    study = coding.study
    price_attr = study.price_attribute
    price_name = price_attr.name if price_attr is not None else None
    attributes = tuple(study.attribute_names)
    unknown = [a for a in fixed if a not in attributes]
    if unknown:
        raise OfferlabError(
            f"fixed names unknown attribute(s) {unknown}; the study has {list(attributes)}"
        )
    values: list[tuple[object, ...]] = []
    touches: list[list[tuple[int, ...]]] = []
    for attr in study.attributes:
        vals, tch = _attribute_values(attr, price_name, prices)
        if attr.name in fixed:
            vals, tch = _keep_fixed(attr.name, vals, tch, fixed[attr.name])
        values.append(tuple(vals))
        touches.append(tch)
    grid_index = np.array(list(itertools.product(*[range(len(v)) for v in values])), dtype=np.int64)
    index = grid_index[_allowed(study, grid_index, touches)]
    if len(index) == 0:
        raise OfferlabError("no offer satisfies the study's prohibitions and the fixed levels")
    price = np.full(len(index), np.nan)
    if price_name is not None:
        pa = attributes.index(price_name)
        price = np.asarray(values[pa], dtype=float)[index[:, pa]]
    return OfferSpace(
        attributes,
        tuple(values),
        index,
        _coded(coding, attributes, values, index),
        price,
        _cost(attributes, values, index, costs, base_cost),
        price_name,
    )


def _attribute_values(attr: Any, price_name: str | None, prices: Sequence[float] | None) -> _Values:
    """The values one attribute can take, and the study levels each touches."""
    if isinstance(attr, CategoricalAttribute):
        names: list[object] = list(attr.level_names)
        return names, [(i,) for i in range(len(names))]
    grid = [float(v) for v in attr.values]
    vals: list[object] = list(grid)
    if attr.name == price_name and prices is not None:
        vals = sorted({float(p) for p in prices})
        lo, hi = min(grid), max(grid)
        if not vals or min(vals) < lo - 1e-9 or max(vals) > hi + 1e-9:  # type: ignore[operator]
            raise OfferlabError(
                f"prices must lie in the studied range [{lo:g}, {hi:g}]; got {vals}"
            )
    order = np.argsort(grid)
    sorted_grid = np.asarray(grid)[order]
    touches = []
    for v in vals:
        exact = np.flatnonzero(np.abs(sorted_grid - float(v)) <= 1e-9)  # type: ignore[arg-type]
        if exact.size:
            touches.append((int(order[exact[0]]),))
        else:
            k = int(np.searchsorted(sorted_grid, float(v)))  # type: ignore[arg-type]
            touches.append((int(order[k - 1]), int(order[k])))
    return vals, touches


def _keep_fixed(
    name: str, vals: list[object], touches: list[tuple[int, ...]], want: object
) -> _Values:
    """Only the value ``want`` of an attribute held fixed."""
    keep = [
        i
        for i, v in enumerate(vals)
        if (
            str(v) == str(want) if isinstance(v, str) else abs(float(v) - float(want)) <= 1e-9  # type: ignore[arg-type]
        )
    ]
    if not keep:
        raise OfferlabError(f"fixed: {name} has no value {want!r}; values are {vals}")
    return [vals[i] for i in keep], [touches[i] for i in keep]


def _allowed(
    study: Study, grid_index: np.ndarray, touches: list[list[tuple[int, ...]]]
) -> np.ndarray:
    """Which value combinations the study allows: every combination of the study levels
    they touch must be allowed."""
    n_attributes = len(touches)
    first = [np.array([t[0] for t in touches[a]]) for a in range(n_attributes)]
    concept = np.stack([first[a][grid_index[:, a]] for a in range(n_attributes)], 1)
    ok = np.ones(len(grid_index), dtype=bool)
    ok &= study.allowed(concept)
    for a in range(n_attributes):
        second = np.array([t[-1] for t in touches[a]])
        if (second != first[a]).any():
            alt = concept.copy()
            alt[:, a] = second[grid_index[:, a]]
            ok &= study.allowed(alt)
    return ok


def _coded(
    coding: Any,
    attributes: tuple[str, ...],
    values: list[tuple[object, ...]],
    index: np.ndarray,
) -> np.ndarray:
    """Coded columns: the sum over attributes of each value's block (code_offer, batched)."""
    X = np.zeros((len(index), coding.n_params))
    base = {a: values[i][0] for i, a in enumerate(attributes)}
    for i, a in enumerate(attributes):
        table = np.array([coding.code_offer({**base, a: v}) for v in values[i]])
        block = next(b for b in coding.blocks if b.attribute == a)
        X[:, block.start : block.stop] = table[index[:, i], block.start : block.stop]
    return X


def _cost(
    attributes: tuple[str, ...],
    values: list[tuple[object, ...]],
    index: np.ndarray,
    costs: Mapping[str, Mapping[object, float]] | None,
    base_cost: float,
) -> np.ndarray:
    """Each candidate's cost per sale: the base plus its levels' costs."""
    cost = np.full(len(index), float(base_cost))
    for a, table in (costs or {}).items():
        if a not in attributes:
            raise OfferlabError(f"costs name unknown attribute {a!r}")
        ia = attributes.index(a)
        # the one rule for costs (Costs.of), level by level
        per_value = np.array([Costs(0.0, {a: table}).of({a: v}) for v in values[ia]])
        cost += per_value[index[:, ia]]
    return cost


def offer_cost(
    offer: Mapping[str, object] | None,
    costs: Mapping[str, Mapping[object, float]] | None,
    base_cost: float,
    name: str,
) -> float:
    """What one of our offers costs: the base plus the cost of each of its levels
    (:meth:`Costs.of`, the one rule for costs, named after the offer on error)."""
    if offer is None:
        raise OfferlabError(f"offer '{name}' has no levels to cost")
    try:
        return Costs(base_cost, costs or {}).of(offer)
    except OfferlabError as exc:
        raise OfferlabError(f"{exc} (offer '{name}')") from None
