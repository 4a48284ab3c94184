"""A population of simulated respondents: part-worths per segment, with spread.

A population file (YAML) gives, per segment, the mean part-worths and their
spread across respondents::

    segments:
      - name: city
        share: 0.6                 # share of respondents in this segment
        partworths:                # categorical: one utility per level, in the study's order
          car_class: [0.0, 0.4, 0.6, 0.9]
          price: -0.006            # numeric and price: utility per unit (per CHF)
        spread:                    # standard deviation across respondents (same shapes,
          car_class: 0.5           # or one number for every level); default 0
          price: 0.001
        none: -1.0                 # utility of "none of these" (if the study has it)
        none_spread: 0.8

Numeric and price attributes take one utility per unit, or a list with one utility
per level (as for a numeric attribute coded as part-worths, such as the term).
Every attribute needs part-worths (write 0 for no effect); the segments'
shares must sum to 1. Individual part-worths are drawn as mean + spread · N(0, 1),
independently per level and respondent.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydantic import Field

from offerlab.exceptions import StudyError, StudyProblem
from offerlab.study import CategoricalAttribute, StrictModel, Study, field_path, load_yaml_model

__all__ = ["Segment", "SimulatedPopulation", "load_population"]


class Segment(StrictModel):
    """One segment of respondents with its mean part-worths and spread."""

    name: str = "all"
    share: float = Field(1.0, gt=0)
    partworths: dict[str, list[float] | float] = Field(default_factory=dict)
    spread: dict[str, list[float] | float] = Field(default_factory=dict)
    none: float = 0.0
    none_spread: float = Field(0.0, ge=0)
    scale: float = Field(1.0, gt=0, description="Logit scale: larger means less noisy choices")


class SimulatedPopulation(StrictModel):
    """Segments of simulated respondents."""

    segments: list[Segment] = Field(min_length=1)

    def problems(self, study: Study) -> list[tuple[tuple[str | int, ...], str]]:
        """What does not fit ``study``, as (field path, message) pairs."""
        found: list[tuple[tuple[str | int, ...], str]] = []
        names = set(study.attribute_names)
        for s, seg in enumerate(self.segments):
            for kind in ("partworths", "spread"):
                for attr, value in getattr(seg, kind).items():
                    at = ("segments", s, kind, attr)
                    if attr not in names:
                        found.append((at, f"unknown attribute; the study has {sorted(names)}"))
                        continue
                    n = len(study.attribute(attr).level_names)
                    if isinstance(value, list) and len(value) != n:
                        found.append((at, f"needs {n} values (one per level), got {len(value)}"))
                    categorical = isinstance(study.attribute(attr), CategoricalAttribute)
                    if kind == "partworths" and categorical and not isinstance(value, list):
                        found.append((at, f"needs a list of {n} utilities, one per level"))
                    if kind == "spread" and min(np.atleast_1d(value)) < 0:
                        found.append((at, "a spread is a standard deviation: it cannot be < 0"))
                    per_unit = not categorical and not any(
                        isinstance(other.partworths.get(attr), list) for other in self.segments
                    )
                    if kind == "spread" and per_unit and isinstance(value, list):
                        found.append(
                            (
                                at,
                                "the part-worth is one utility per unit: give one spread, "
                                "not a list",
                            )
                        )
            missing = [a for a in study.attribute_names if a not in seg.partworths]
            if missing:
                found.append(
                    (
                        ("segments", s, "partworths"),
                        f"no part-worths for {missing}; give every attribute (0 for no effect)",
                    )
                )
        total = sum(seg.share for seg in self.segments)
        if len(self.segments) > 1 and abs(total - 1.0) > 1e-6:
            found.append((("segments",), f"the segments' shares sum to {total:g}, not 1"))
        return found

    def check(self, study: Study) -> None:
        """Raise :class:`StudyError` if the population does not fit ``study``."""
        found = self.problems(study)
        if found:
            raise StudyError([StudyProblem(msg, field_path(at)) for at, msg in found], "population")

    def draw(
        self, study: Study, n_respondents: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, list[np.ndarray], np.ndarray, np.ndarray]:
        """Draw individual part-worths.

        Returns
        -------
        segment : ndarray of int, shape (N,)
        partworths : list over attributes of ndarray (N, L_a): utility per level
            (categorical attributes, and numeric ones given one utility per level),
            or (N, 1): utility per unit of a numeric attribute
        none : ndarray, shape (N,)
        scale : ndarray, shape (N,)
        """
        self.check(study)
        shares = np.array([s.share for s in self.segments], dtype=float)
        segment = rng.choice(len(shares), size=n_respondents, p=shares / shares.sum())
        partworths = []
        for attr in study.attributes:
            per_level = isinstance(attr, CategoricalAttribute) or any(
                isinstance(seg.partworths.get(attr.name), list) for seg in self.segments
            )
            width = len(attr.level_names) if per_level else 1
            mean = np.zeros((len(self.segments), width))
            sd = np.zeros((len(self.segments), width))
            for s, seg in enumerate(self.segments):
                mean[s] = seg.partworths.get(attr.name, 0.0)
                sd[s] = seg.spread.get(attr.name, 0.0)
            noise = rng.standard_normal((n_respondents, width))
            partworths.append(mean[segment] + sd[segment] * noise)
        none_mean = np.array([s.none for s in self.segments])[segment]
        none_sd = np.array([s.none_spread for s in self.segments])[segment]
        none = none_mean + none_sd * rng.standard_normal(n_respondents)
        scale = np.array([s.scale for s in self.segments])[segment]
        return segment, partworths, none, scale


def load_population(path: Path | str, study: Study | None = None) -> SimulatedPopulation:
    """Read a population file (YAML); with a ``study``, check that it fits.

    Errors name the file, the line and the field.
    """
    check = None if study is None else (lambda population: population.problems(study))
    return load_yaml_model(SimulatedPopulation, path, check=check)
