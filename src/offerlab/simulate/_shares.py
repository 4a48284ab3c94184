"""Shares of preference: what share of choices each offer of a scenario would get.

A scenario is a list of offers; each offer gives every study attribute a level
(a level name, or a number for numeric and price attributes). Numbers between
levels are fine: a linear attribute uses the value, a part-worth attribute
interpolates linearly between the two adjacent levels.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from offerlab.exceptions import OfferlabError, OfferlabWarning
from offerlab.models import MNLResults
from offerlab.simulate._cautions import offer_warnings

__all__ = ["NONE_NAME", "Scenario", "share_of_preference"]

NONE_NAME = "none"


@dataclass(frozen=True)
class Scenario:
    """Named offers to compare.

    Attributes
    ----------
    names : tuple of str
    offers : tuple of mapping
        Attribute → level name or number, one mapping per offer.
    """

    names: tuple[str, ...]
    offers: tuple[Mapping[str, object], ...]

    @classmethod
    def from_offers(
        cls,
        offers: Iterable[Mapping[str, object]] | Mapping[str, object],
        names: Sequence[str] | None = None,
        attributes: Iterable[str] = (),
    ) -> Scenario:
        """Build from a list of offers.

        An offer is ``{attribute: level, …}``, optionally with a ``name`` key (unless
        ``name`` is an attribute), or ``{"name": …, "levels": {attribute: level}}``.
        A mapping with an ``offers`` key (as in a scenario YAML file) is accepted too.
        """
        if isinstance(offers, Mapping):
            if "offers" not in offers:
                raise OfferlabError("a scenario is a list of offers or a mapping with 'offers'")
            offers = offers["offers"]
        attributes = set(attributes)
        out_names, out_offers = [], []
        for i, offer in enumerate(offers):
            if not isinstance(offer, Mapping):
                raise OfferlabError(
                    f"offer {i + 1} must map attributes to levels; got {type(offer).__name__}"
                )
            offer = dict(offer)
            name = None
            if "levels" in offer and isinstance(offer["levels"], Mapping):
                name = offer.pop("name", None)
                rest = {k: v for k, v in offer.items() if k != "levels"}
                if rest:
                    raise OfferlabError(f"offer {i + 1}: unknown key(s) {sorted(rest)}")
                offer = dict(offer["levels"])
            elif "name" in offer and "name" not in attributes:
                name = offer.pop("name")
            out_names.append(str(name) if name is not None else f"offer {i + 1}")
            out_offers.append(offer)
        if names is not None:
            if len(names) != len(out_offers):
                raise OfferlabError(f"{len(names)} names for {len(out_offers)} offers")
            out_names = [str(n) for n in names]
        if not out_offers:
            raise OfferlabError("a scenario needs at least one offer")
        if len(set(out_names)) != len(out_names) or NONE_NAME in out_names:
            raise OfferlabError(
                f"offer names must be unique and not '{NONE_NAME}'; got {out_names}"
            )
        return cls(tuple(out_names), tuple(out_offers))


def share_of_preference(
    results: MNLResults,
    scenario: Scenario | Iterable[Mapping[str, object]],
    *,
    include_none: bool = True,
    scale: float = 1.0,
    interval: float = 0.95,
    draws: int = 1000,
    rng: np.random.Generator | int | None = None,
    kind: str | None = None,
) -> pd.DataFrame:
    """Share of preference of every offer (and of none), with intervals.

    Parameters
    ----------
    results : MNLResults
        A conjoint fit (``MultinomialLogit().fit(data, study=...)``).
    scenario : Scenario or list of offers
        See :meth:`Scenario.from_offers`.
    include_none : bool, default True
        Let the none option compete, when the model has a none constant.
    scale : float, default 1.0
        Multiplies every utility (exponent of the logit rule): below 1 flattens
        the shares, above 1 sharpens them towards first choice.
    interval : float, default 0.95
        Coverage of the intervals.
    draws : int, default 1000
        Parameter draws β ~ N(β̂, Σ) for the intervals (0: no intervals).
    rng : Generator or int, optional
        Random numbers for the draws.
    kind : {"classic", "robust", "cluster"}, optional
        Covariance Σ of the draws (default: the fit's ``cov_type``).

    Returns
    -------
    DataFrame
        Columns ``offer``, ``share`` (at β̂; they sum to 1), ``lower``, ``upper``
        (percentiles of the shares over the draws), ``se`` (their SD); one row per
        offer and a last row ``none`` when it competes.

    Notes
    -----
    s_i = exp(λ V_i) / Σ_j exp(λ V_j), with V_i = x_i'β the utility of offer i and
    V_none = β_none. Computed with the max-shift (log-sum-exp).
    """
    coding = results.coding
    if coding is None:
        raise OfferlabError("shares need a conjoint fit: MultinomialLogit().fit(data, study=...)")
    if not isinstance(scenario, Scenario):
        scenario = Scenario.from_offers(scenario, attributes=[b.attribute for b in coding.blocks])
    if not (np.isfinite(scale) and scale > 0):
        raise OfferlabError(f"scale must be a positive number; got {scale!r}")
    if not 0 < interval < 1:
        raise OfferlabError(f"interval must lie in (0, 1); got {interval!r}")
    if not (isinstance(draws, int | np.integer) and draws >= 0):
        raise OfferlabError(f"draws must be an int >= 0; got {draws!r}")
    X = np.vstack(
        [
            coding.code_offer(offer, what=f"offer '{name}'")
            for name, offer in zip(scenario.names, scenario.offers, strict=True)
        ]
    )
    # (after coding: an offer the model cannot code is an error, not a warning)
    for name, offer in zip(scenario.names, scenario.offers, strict=True):
        for message in offer_warnings(coding.study, name, offer):
            warnings.warn(message, OfferlabWarning, stacklevel=2)
    names = list(scenario.names)
    if include_none and coding.none_index is not None:
        none_row = np.zeros(coding.n_params)
        none_row[coding.none_index] = 1.0
        X = np.vstack([X, none_row])
        names.append(NONE_NAME)
    beta = results.params.to_numpy()
    frame = pd.DataFrame({"offer": names, "share": _shares(beta[None, :], X, scale)[0]})
    if draws:
        rng = np.random.default_rng(rng)
        cov = results.cov_of(kind).to_numpy()
        B = rng.multivariate_normal(beta, cov, size=draws, method="eigh")
        S = _shares(B, X, scale)
        tail = (1 - interval) / 2
        frame["lower"] = np.quantile(S, tail, axis=0)
        frame["upper"] = np.quantile(S, 1 - tail, axis=0)
        frame["se"] = S.std(axis=0, ddof=1)
    return frame


def _shares(B: np.ndarray, X: np.ndarray, scale: float) -> np.ndarray:
    """Logit shares (R, I) for coefficient draws B (R, K) and offers X (I, K)."""
    V = scale * (B @ X.T)
    V -= V.max(axis=1, keepdims=True)
    E = np.exp(V)
    return E / E.sum(axis=1, keepdims=True)
