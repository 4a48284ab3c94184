"""A study's design prior (:class:`PriorSpec`) as coded coefficients and draws.

The prior is written in part-worth terms: a categorical attribute gets one
part-worth per level, a numeric or price attribute a coefficient per unit
(its part-worths are coefficient × level value) or, as a list, one part-worth
per level. The design codes every attribute as part-worths, so each draw of
part-worths becomes coded coefficients:

* effects coding: β_l = w_l − mean(w) for l < L − 1;
* dummy coding: β_{l−1} = w_l − w_0 for l ≥ 1.

Only utility differences within an attribute matter to the MNL, so both give
exactly the choice probabilities of the part-worths w.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm, qmc

from offerlab.exceptions import DesignError
from offerlab.study import CategoricalAttribute, Study

__all__ = ["coded_from_partworths", "prior_draws", "prior_mean"]


def _levelwise(study: Study, name: str, spec: list[float] | float, what: str) -> np.ndarray:
    """Part-worth-shaped (L,) values from a prior entry: a per-level list or a per-unit number."""
    attr = study.attribute(name)
    n = len(attr.level_names)
    if isinstance(spec, list):
        if len(spec) != n:
            raise DesignError(
                f"design.prior.{what}.{name} must list one part-worth per level ({n} values, "
                f"for {attr.level_names}); got {len(spec)} values"
            )
        return np.asarray(spec, dtype=float)
    if isinstance(attr, CategoricalAttribute):
        if what == "sd":  # one sd for every level
            return np.full(n, float(spec))
        raise DesignError(
            f"design.prior.mean.{name} must list one part-worth per level of the categorical "
            f"attribute ({n} values, for {attr.level_names}); got the single number {spec}"
        )
    return float(spec) * np.asarray(attr.values, dtype=float)  # coefficient per unit


def _check_names(study: Study, entries: dict[str, object], what: str) -> None:
    unknown = sorted(set(entries) - set(study.attribute_names))
    if unknown:
        raise DesignError(
            f"design.prior.{what} names unknown attributes {unknown}; "
            f"the study's attributes are {study.attribute_names}"
        )


def coded_from_partworths(w: np.ndarray, coding: str) -> np.ndarray:
    """Coded coefficients (..., L − 1) from part-worths (..., L) of one attribute."""
    if coding == "effects":
        return w[..., :-1] - w.mean(axis=-1, keepdims=True)
    return w[..., 1:] - w[..., :1]


class _Component:
    """Prior of one attribute's part-worths: w = mean + sd-scaled normal draws.

    ``unit_sd`` set: a numeric attribute whose coefficient per unit has that sd,
    so its part-worths move together (w = mean + z · unit_sd · values).
    Otherwise ``level_sd`` (L,) holds an independent sd per level.
    """

    def __init__(
        self, mean: np.ndarray, level_sd: np.ndarray, unit_sd: float | None, values: np.ndarray
    ) -> None:
        self.mean, self.level_sd, self.unit_sd, self.values = mean, level_sd, unit_sd, values

    @property
    def dims(self) -> int:
        if self.unit_sd is not None:
            return int(self.unit_sd > 0)
        return int((self.level_sd > 0).sum())

    def draw(self, z: np.ndarray) -> np.ndarray:
        """Part-worth draws (D, L) from standard normals z (D, dims)."""
        w = np.broadcast_to(self.mean, (len(z), len(self.mean))).copy()
        if self.unit_sd is not None:
            if self.unit_sd > 0:
                w += z[:, :1] * self.unit_sd * self.values
        else:
            idx = np.nonzero(self.level_sd > 0)[0]
            w[:, idx] += z * self.level_sd[idx]
        return w


def _components(study: Study) -> list[_Component] | None:
    prior = study.design.prior
    if prior is None:
        return None
    _check_names(study, prior.mean, "mean")
    _check_names(study, prior.sd, "sd")
    out = []
    for attr in study.attributes:
        n = len(attr.level_names)
        mu, sd = prior.mean.get(attr.name), prior.sd.get(attr.name)
        mean = np.zeros(n) if mu is None else _levelwise(study, attr.name, mu, "mean")
        numeric = not isinstance(attr, CategoricalAttribute)
        values = np.asarray(attr.values, dtype=float) if numeric else np.zeros(n)
        if numeric and sd is not None and not isinstance(sd, list):
            out.append(_Component(mean, np.zeros(n), abs(float(sd)), values))
        else:
            level_sd = np.zeros(n) if sd is None else np.abs(_levelwise(study, attr.name, sd, "sd"))
            out.append(_Component(mean, level_sd, None, values))
    return out


def prior_mean(study: Study, coding: str) -> np.ndarray | None:
    """Coded prior mean (P,), or ``None`` for the zero prior (no prior, or all zero)."""
    comps = _components(study)
    if comps is None:
        return None
    beta = np.concatenate([coded_from_partworths(c.mean, coding) for c in comps])
    return beta if beta.any() else None


def prior_draws(study: Study, coding: str, rng: np.random.Generator) -> np.ndarray | None:
    """Draws of the coded coefficients from the study's prior.

    Part-worths are normal with the prior's mean and sd, independent across
    levels and attributes; a numeric attribute given an sd per unit draws its
    coefficient, so its part-worths move together. Standard normals come from a
    scrambled Halton sequence for even coverage with few draws.

    Parameters
    ----------
    study : Study
        Its ``design.prior`` (a :class:`PriorSpec`) is used.
    coding : {"effects", "dummy"}
        Coding of the coefficients.
    rng : numpy.random.Generator
        Scrambles the Halton sequence.

    Returns
    -------
    ndarray, shape (D, P), or None
        ``None`` for the zero prior; one row (the mean) for a point prior (every
        sd zero); ``study.design.prior.draws`` rows otherwise.
    """
    comps = _components(study)
    if comps is None:
        return None
    dims = sum(c.dims for c in comps)
    if dims == 0:
        mean = prior_mean(study, coding)
        return None if mean is None else mean[None, :]
    draws = study.design.prior.draws
    z = norm.ppf(qmc.Halton(dims, scramble=True, rng=rng).random(draws))  # (D, dims)
    coded, k = [], 0
    for c in comps:
        coded.append(coded_from_partworths(c.draw(z[:, k : k + c.dims]), coding))
        k += c.dims
    return np.concatenate(coded, axis=1)
