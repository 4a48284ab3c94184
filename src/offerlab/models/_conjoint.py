"""Conjoint summaries of an MNL fit: part-worths, attribute importance, willingness to pay.

Every standard error here comes from the delta method: for a function f(β)
with Jacobian G = ∂f/∂β', cov f = G Σ G' with Σ the coefficients' covariance.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

from offerlab.exceptions import OfferlabError
from offerlab.models._matrix import NONE_PARAM, AttributeBlock, ConjointCoding
from offerlab.study import CategoricalAttribute

if TYPE_CHECKING:
    from offerlab.models._results import CovKind, MNLResults

__all__ = ["importance", "partworth_jacobian", "partworths", "wtp"]


def partworth_jacobian(coding: ConjointCoding, block: AttributeBlock) -> np.ndarray:
    """Matrix G (L, K) with part-worths of the block's levels = G β.

    Levels blocks: rows of the coding matrix. Linear blocks: the value minus a
    reference (the mean of the study's values under effects coding, the first
    value under dummy coding), so the part-worths mirror the categorical ones.
    """
    K = coding.n_params
    if block.kind == "levels":
        G = np.zeros((block.coding.shape[0], K))
        G[:, block.start : block.stop] = block.coding
        return G
    values = np.asarray(block.values, dtype=float)
    ref = values.mean() if coding.scheme == "effects" else values[0]
    G = np.zeros((len(values), K))
    G[:, block.start] = values - ref
    return G


def _level_names(coding: ConjointCoding, block: AttributeBlock) -> list[str | float]:
    attr = coding.study.attribute(block.attribute)
    if isinstance(attr, CategoricalAttribute):
        return list(attr.level_names)
    # 1500 reads better than 1500.0 in tables and CSV files; 1.5 stays 1.5.
    return [int(v) if float(v).is_integer() else v for v in attr.values]


def partworths(
    results: MNLResults, coding: ConjointCoding, kind: CovKind | None = None
) -> pd.DataFrame:
    """Part-worth utility of every level, with delta-method standard errors.

    Returns
    -------
    DataFrame
        Columns ``attribute``, ``level``, ``utility``, ``se``; one row per level of
        every attribute (the effects-coded last level included: minus the sum of the
        others), then a row ``none`` when the model has a none constant.
    """
    beta = results.params.to_numpy()
    cov = results.cov_of(kind).to_numpy()
    rows = []
    for block in coding.blocks:
        G = partworth_jacobian(coding, block)
        se = np.sqrt(np.maximum(np.einsum("lk,km,lm->l", G, cov, G), 0.0))
        for level, u, s in zip(_level_names(coding, block), G @ beta, se, strict=True):
            rows.append((block.attribute, level, float(u), float(s)))
    if coding.none_index is not None:
        k = coding.none_index
        rows.append((NONE_PARAM, NONE_PARAM, float(beta[k]), float(np.sqrt(cov[k, k]))))
    return pd.DataFrame(rows, columns=["attribute", "level", "utility", "se"])


def importance(
    results: MNLResults,
    coding: ConjointCoding,
    kind: CovKind | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Attribute importance: each attribute's part-worth range as a percent of the total.

    Returns
    -------
    DataFrame
        Columns ``attribute``, ``importance`` (percent; they sum to 100), ``range``
        (utility units), ``se``, ``lower``, ``upper``.

    Notes
    -----
    R_a = max_l u_al − min_l u_al; for linear attributes |β_a|(max v − min v) over
    the study's values. I_a = 100 R_a / Σ_b R_b. SEs by the delta method with the
    arg-max and arg-min levels held fixed:
    ∂I_a/∂R_b = 100 (δ_ab Σ R − R_a) / (Σ R)², ∂R_a/∂β = G_a[max] − G_a[min].
    Near ties between the top (or bottom) levels the range is not differentiable
    and the delta SE is rough.
    """
    beta = results.params.to_numpy()
    cov = results.cov_of(kind).to_numpy()
    ranges, jac = [], []
    for block in coding.blocks:
        G = partworth_jacobian(coding, block)
        u = G @ beta
        hi, lo = int(np.argmax(u)), int(np.argmin(u))
        ranges.append(u[hi] - u[lo])
        jac.append(G[hi] - G[lo])
    R = np.asarray(ranges)
    JR = np.asarray(jac)  # (A, K)
    total = R.sum()
    if not total > 0:
        raise OfferlabError("importance is undefined: every part-worth is zero")
    dI_dR = 100 * (np.eye(len(R)) * total - R[:, None]) / total**2  # (A, A)
    J = dI_dR @ JR
    se = np.sqrt(np.maximum(np.einsum("ak,km,am->a", J, cov, J), 0.0))
    imp = 100 * R / total
    z = stats.norm.ppf(1 - alpha / 2)
    return pd.DataFrame(
        {
            "attribute": [b.attribute for b in coding.blocks],
            "importance": imp,
            "range": R,
            "se": se,
            "lower": imp - z * se,
            "upper": imp + z * se,
        }
    )


def wtp(
    results: MNLResults,
    coding: ConjointCoding,
    kind: CovKind | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Willingness to pay, in price units, with delta-method intervals.

    Returns
    -------
    DataFrame
        Columns ``attribute``, ``level``, ``per_unit``, ``wtp``, ``se``, ``lower``,
        ``upper``, ``note``. Categorical (and part-worth) attributes: one row per
        level but the first, relative to the first level. Linear numeric attributes:
        one row ``per unit`` (``per_unit`` True: a rate, not comparable with the
        other rows), then one per value but the first, relative to the first.

    Notes
    -----
    WTP = −Δu / β_price with Δu = (G[l] − G[0]) β (or β_a per unit). Gradient:
    ∂/∂β = −(G[l] − G[0]) / β_price, plus Δu / β_price² on β_price. When β_price
    is not significantly negative (one-sided 5% test) the ratio is unstable: the
    ``note`` column says so and intervals should not be trusted.
    """
    price = next((b for b in coding.blocks if coding.is_price(b)), None)
    if price is None:
        raise OfferlabError("willingness to pay needs a price attribute (type: price)")
    if price.kind != "linear":
        raise OfferlabError(
            f"willingness to pay needs a linear price coefficient; '{price.attribute}' has "
            "coding: partworth (set coding: linear on the price attribute)"
        )
    beta = results.params.to_numpy()
    cov = results.cov_of(kind).to_numpy()
    p = price.start
    bp = beta[p]
    se_p = np.sqrt(cov[p, p])
    note = ""
    if not bp / se_p < -stats.norm.ppf(0.95):
        note = (
            f"price coefficient {bp:.3g} (SE {se_p:.2g}) is not significantly negative: "
            "WTP is unreliable"
        )
    rows = []
    for block in coding.blocks:
        if block is price:
            continue
        if block.kind == "linear":
            # Per unit, and — easier to act on — each value shown against the first one.
            unit = coding.study.text(coding.study.attribute(block.attribute).unit)
            g = _unit(block, coding)
            values = _level_names(coding, block)
            diffs = [(f"per {unit}".strip() if unit else "per unit", g, True)]
            diffs += [(v, (float(v) - float(values[0])) * g, False) for v in values[1:]]
        else:
            G = partworth_jacobian(coding, block)
            names = _level_names(coding, block)
            diffs = [(names[i], G[i] - G[0], False) for i in range(1, len(names))]
        for level, g, per_unit in diffs:
            du = float(g @ beta)
            value = -du / bp
            grad = -g / bp
            grad[p] += du / bp**2
            se = float(np.sqrt(max(grad @ cov @ grad, 0.0)))
            rows.append((block.attribute, level, per_unit, value, se))
    z = stats.norm.ppf(1 - alpha / 2)
    frame = pd.DataFrame(rows, columns=["attribute", "level", "per_unit", "wtp", "se"])
    frame["lower"] = frame["wtp"] - z * frame["se"]
    frame["upper"] = frame["wtp"] + z * frame["se"]
    frame["note"] = note
    frame.attrs["note"] = note
    return frame


def _unit(block: AttributeBlock, coding: ConjointCoding) -> np.ndarray:
    g = np.zeros(coding.n_params)
    g[block.start] = 1.0
    return g
