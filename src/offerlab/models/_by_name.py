"""Fit the model decisions rest on by its short name: ``mnl``, ``lc`` or ``hb``.

The market simulator, the report and the console's simulator page all start from "fit
this kind of model on these choices"; this is that one place.
"""

from __future__ import annotations

from collections.abc import Callable

from offerlab.data import ChoiceData
from offerlab.exceptions import OfferlabError
from offerlab.models._contract import ChoiceResults
from offerlab.models._hb import HierarchicalBayes
from offerlab.models._latent_class import LatentClassLogit
from offerlab.models._mnl import MultinomialLogit
from offerlab.study import Study

__all__ = ["DECISION_MODELS", "decision_model_title", "fit_decision_model"]

DECISION_MODELS = ("mnl", "lc", "hb")


def decision_model_title(
    model: str, *, classes: int = 2, burn_in: int = 2000, iterations: int = 2000, chains: int = 2
) -> str:
    """What is being fitted, in words (progress bars, status lines)."""
    return {
        "mnl": "multinomial logit",
        "lc": f"latent class, {classes} classes",
        "hb": f"hierarchical Bayes: {chains} chains x {burn_in + iterations} iterations",
    }.get(model, model)


def fit_decision_model(
    model: str,
    data: ChoiceData,
    study: Study,
    *,
    classes: int = 2,
    burn_in: int = 2000,
    iterations: int = 2000,
    chains: int = 2,
    n_jobs: int | None = None,
    seed: int = 0,
    progress: Callable[[float], None] | None = None,
) -> ChoiceResults:
    """Fit ``mnl``, ``lc`` (``classes`` classes, 5 starts) or ``hb`` on conjoint choices.

    ``burn_in``, ``iterations`` (draws kept per chain), ``chains`` and ``n_jobs`` (worker
    processes; 1 runs the chains in this process) are HB's;
    ``progress`` receives the fraction done of the long fits (lc, hb).
    """
    if model == "mnl":
        return MultinomialLogit().fit(data, study=study)
    if model == "lc":
        lc = LatentClassLogit(classes, n_starts=5, seed=seed)
        return lc.fit(data, study=study, progress=progress)
    if model == "hb":
        hb = HierarchicalBayes(
            burn_in=burn_in, draws=iterations, chains=chains, n_jobs=n_jobs, seed=seed
        )
        return hb.fit(data, study=study, progress=progress)
    raise OfferlabError(f"the model is mnl, lc or hb; got {model!r}")
