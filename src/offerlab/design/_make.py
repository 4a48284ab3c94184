"""make_design: one entry point for the three design methods."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from offerlab.design._balanced import balanced_design
from offerlab.design._design import Design
from offerlab.design._efficient import efficient_design
from offerlab.design._random import random_design
from offerlab.design._rules import check_feasible, check_levels
from offerlab.exceptions import DesignError
from offerlab.study import Study

__all__ = ["METHODS", "make_design"]

METHODS = ("efficient", "balanced", "random")


def _fresh_seed() -> int:
    """A new seed from the operating system, kept so the design can be made again."""
    return int(np.random.SeedSequence().generate_state(1)[0])


def make_design(
    study: Study,
    *,
    method: str | None = None,
    versions: int | None = None,
    seed: int | None = None,
    seconds: float | None = None,
    progress: Callable[[float], None] | None = None,
) -> Design:
    """Make a choice design for a study.

    Parameters
    ----------
    study : Study
        Attributes, prohibitions, tasks and design settings.
    method : {"efficient", "balanced", "random"}, optional
        Default ``study.design.method``.

        * ``random``: every concept uniform over the allowed concepts.
        * ``balanced``: level balance and minimal overlap, like Sawtooth's
          complete enumeration (``study.design.overlap="balanced"`` allows some
          overlap); see :mod:`offerlab.design._balanced`.
        * ``efficient``: D-efficient for the MNL (zero prior, or the Bayesian
          D-error under ``study.design.prior``) by coordinate exchange; see
          :mod:`offerlab.design._efficient`.
    versions : int, optional
        Number of versions (blocks); default ``study.design.versions``.
    seed : int, optional
        Default ``study.design.seed``; when both are missing a fresh seed is
        drawn and stored in ``Design.seed`` so the design can be made again.
    seconds : float, optional
        Time cap of the efficient search; default ``study.design.seconds``.
        The search itself is fixed by the seed; the cap only stops it early.
        ``math.inf`` means no cap: the design is then the seed's on any machine.
    progress : callable, optional
        Called with the fraction of the work done, in [0, 1].

    Returns
    -------
    Design
        Every task of every version respects the prohibitions and task rules.

    Raises
    ------
    DesignError
        On an invalid argument, or when no design satisfies the study's rules
        (e.g. fewer allowed concepts than alternatives per task).

    Examples
    --------
    >>> from offerlab.study import Study
    >>> study = Study.model_validate({
    ...     "name": "demo",
    ...     "attributes": [
    ...         {"name": "colour", "label": "Colour",
    ...          "levels": [{"name": "red", "label": "Red"}, {"name": "blue", "label": "Blue"}]},
    ...         {"name": "price", "label": "Price", "type": "price", "values": [10, 20, 30]},
    ...     ],
    ...     "tasks": {"alternatives": 2, "per_respondent": 4},
    ... })
    >>> design = make_design(study, method="balanced", versions=2, seed=1)
    >>> design.levels.shape
    (2, 4, 2, 2)
    """
    method = study.design.method if method is None else method
    if method not in METHODS:
        raise DesignError(
            f"the 'method' parameter of make_design must be one of {list(METHODS)}; got {method!r}"
        )
    versions = study.design.versions if versions is None else versions
    if isinstance(versions, bool) or not isinstance(versions, int | np.integer) or versions < 1:
        raise DesignError(
            f"the 'versions' parameter of make_design must be an integer >= 1; got {versions!r}"
        )
    seconds = study.design.seconds if seconds is None else seconds
    if not seconds > 0:
        raise DesignError(
            f"the 'seconds' parameter of make_design must be a number > 0; got {seconds!r}"
        )
    seed = study.design.seed if seed is None else seed
    if seed is None:
        seed = _fresh_seed()
    rng = np.random.default_rng(seed)
    check_feasible(study)
    info: dict[str, object] = {}
    if progress is not None:
        progress(0.0)
    if method == "random":
        levels = random_design(study, int(versions), rng)
    elif method == "balanced":
        levels = balanced_design(study, int(versions), rng)
    else:
        levels, report = efficient_design(
            study, int(versions), rng, seconds=float(seconds), progress=progress
        )
        info = report.as_dict()
    check_levels(study, levels)  # the study's own rules, once more, on the result
    if progress is not None:
        progress(1.0)
    return Design(study=study, levels=levels, method=method, seed=int(seed), info=info)
