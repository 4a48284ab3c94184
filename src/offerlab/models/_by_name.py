"""Fit the model decisions rest on by its short name: ``mnl``, ``lc`` or ``hb``.

The market simulator, the report and the console's simulator page all start from "fit
this kind of model on these choices"; this is that one place. Hierarchical Bayes runs as
``offerlab estimate --model hb`` does: until R-hat < 1.01 and bulk and tail ESS > 400
hold for every population mean, covariance entry and individual mean, or until its cap
of draws per chain or of seconds, so that every HB number comes from the same rule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from offerlab.data import ChoiceData
from offerlab.exceptions import OfferlabError
from offerlab.models._contract import ChoiceResults
from offerlab.models._hb import HierarchicalBayes
from offerlab.models._latent_class import LatentClassLogit
from offerlab.models._mnl import MultinomialLogit
from offerlab.numerics import InterweaveCoordinates
from offerlab.study import Study

__all__ = [
    "DECISION_MODELS",
    "DecisionFit",
    "converging_hb",
    "decision_model_title",
    "fit_decision_model",
]

DECISION_MODELS = ("mnl", "lc", "hb")


@dataclass(frozen=True)
class DecisionFit:
    """How the model decisions rest on is fitted; each setting serves the models that use it.

    ``classes`` is latent class's (5 starts); ``burn_in``, ``iterations`` (the cap of saved
    draws per chain: the run stops earlier when the chains have converged), ``chains``,
    ``n_jobs`` (worker processes; 1 runs the chains in this process) and ``max_seconds``
    (the time cap, none by default) and ``interweave_coordinates`` (see
    :class:`HierarchicalBayes`) are HB's; ``seed`` serves both.
    """

    classes: int = 2
    burn_in: int = 2000
    iterations: int = 2000
    chains: int = 2
    n_jobs: int | None = None
    max_seconds: float | None = None
    seed: int = 0
    interweave_coordinates: InterweaveCoordinates = "entries"


def decision_model_title(model: str, fit: DecisionFit = DecisionFit()) -> str:
    """What is being fitted, in words (progress bars, status lines)."""
    return {
        "mnl": "multinomial logit",
        "lc": f"latent class, {fit.classes} classes",
        "hb": f"hierarchical Bayes: {fit.chains} chains x {fit.burn_in:,} burn-in, "
        f"until converged (at most {fit.iterations:,} draws)",
    }.get(model, model)


def converging_hb(
    *,
    burn_in: int,
    max_draws: int,
    chains: int,
    max_seconds: float | None = None,
    n_jobs: int | None = None,
    seed: int | None = None,
    interweave_coordinates: InterweaveCoordinates = "entries",
) -> HierarchicalBayes:
    """The sampler that runs until its diagnostics pass (``until_converged``), at most
    ``max_draws`` saved draws per chain or ``max_seconds`` of sampling."""
    return HierarchicalBayes(
        burn_in=burn_in,
        draws=max_draws,
        chains=chains,
        n_jobs=n_jobs,
        seed=seed,
        until_converged=True,
        max_draws=max_draws,
        max_seconds=max_seconds,
        interweave_coordinates=interweave_coordinates,
    )


def fit_decision_model(
    model: str,
    data: ChoiceData,
    study: Study,
    fit: DecisionFit = DecisionFit(),
    *,
    progress: Callable[[float], None] | None = None,
) -> ChoiceResults:
    """Fit ``mnl``, ``lc`` or ``hb`` on conjoint choices with the settings of ``fit``;
    ``progress`` receives the fraction done of the long fits (lc, hb)."""
    if model == "mnl":
        return MultinomialLogit().fit(data, study=study)
    if model == "lc":
        lc = LatentClassLogit(fit.classes, n_starts=5, seed=fit.seed)
        return lc.fit(data, study=study, progress=progress)
    if model == "hb":
        hb = converging_hb(
            burn_in=fit.burn_in,
            max_draws=fit.iterations,
            chains=fit.chains,
            max_seconds=fit.max_seconds,
            n_jobs=fit.n_jobs,
            seed=fit.seed,
            interweave_coordinates=fit.interweave_coordinates,
        )
        return hb.fit(data, study=study, progress=progress)
    raise OfferlabError(f"the model is mnl, lc or hb; got {model!r}")
