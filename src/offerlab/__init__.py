"""offerlab: test new offers with consumers, from study file to shares of preference.

The pipeline, and where each step lives::

    load_study            offerlab.study      the offer as attributes and levels (YAML)
    make_design, diagnose offerlab.design     efficient, balanced or random choice tasks
    simulate_answers      offerlab.simulate   simulated respondents (power, tests, demo)
    ChoiceData            offerlab.data       one long format for answers
    MultinomialLogit      offerlab.models     estimation: part-worths, importance, WTP
    LatentClassLogit      offerlab.models     segments of respondents (latent classes)
    MixedLogit            offerlab.models     random coefficients (maximum simulated likelihood)
    HierarchicalBayes     offerlab.models     individual part-worths (CBC/HB's sampler)
    share_of_preference   offerlab.simulate   shares for concrete offers
    simulate_market       offerlab.decide     market simulator: rules, segments, intervals
    optimise_offers       offerlab.decide     the best offer or line-up, with its uncertainty
    van_westendorp        offerlab.decide     pricing studies (and gabor_granger)

Example
-------
>>> import offerlab as ol
>>> study = ol.load_study(ol.example_path())
>>> study.name
'car_subscription'
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from offerlab import decide
    from offerlab.data import ChoiceData, wide_to_long
    from offerlab.decide import gabor_granger, optimise_offers, simulate_market, van_westendorp
    from offerlab.design import Design, diagnose, make_design
    from offerlab.exceptions import OfferlabError, OfferlabWarning
    from offerlab.models import (
        HBResults,
        HierarchicalBayes,
        LatentClassLogit,
        LatentClassResults,
        MixedLogit,
        MixedLogitResults,
        MNLResults,
        MultinomialLogit,
        latent_class_table,
        load_spec,
    )
    from offerlab.simulate import (
        Scenario,
        SimulatedPopulation,
        load_population,
        share_of_preference,
        simulate_answers,
    )
    from offerlab.study import Study, example_path, load_study

__version__ = "0.1.0"

__all__ = [
    "ChoiceData",
    "Design",
    "HBResults",
    "HierarchicalBayes",
    "LatentClassLogit",
    "LatentClassResults",
    "MNLResults",
    "MixedLogit",
    "MixedLogitResults",
    "MultinomialLogit",
    "OfferlabError",
    "OfferlabWarning",
    "Scenario",
    "SimulatedPopulation",
    "Study",
    "__version__",
    "decide",
    "diagnose",
    "example_path",
    "gabor_granger",
    "latent_class_table",
    "load_population",
    "load_spec",
    "load_study",
    "make_design",
    "optimise_offers",
    "share_of_preference",
    "simulate_answers",
    "simulate_market",
    "van_westendorp",
    "wide_to_long",
]

# Where each public name lives. Importing ``offerlab`` loads none of them: the command line
# starts without pandas, scipy or the models, and ``ol.MultinomialLogit`` loads its package
# on first use (PEP 562).
_HOMES = {
    "ChoiceData": "offerlab.data",
    "wide_to_long": "offerlab.data",
    "gabor_granger": "offerlab.decide",
    "optimise_offers": "offerlab.decide",
    "simulate_market": "offerlab.decide",
    "van_westendorp": "offerlab.decide",
    "Design": "offerlab.design",
    "diagnose": "offerlab.design",
    "make_design": "offerlab.design",
    "OfferlabError": "offerlab.exceptions",
    "OfferlabWarning": "offerlab.exceptions",
    "HBResults": "offerlab.models",
    "HierarchicalBayes": "offerlab.models",
    "LatentClassLogit": "offerlab.models",
    "LatentClassResults": "offerlab.models",
    "MixedLogit": "offerlab.models",
    "MixedLogitResults": "offerlab.models",
    "MNLResults": "offerlab.models",
    "MultinomialLogit": "offerlab.models",
    "latent_class_table": "offerlab.models",
    "load_spec": "offerlab.models",
    "SimulatedPopulation": "offerlab.simulate",
    "Scenario": "offerlab.simulate",
    "load_population": "offerlab.simulate",
    "share_of_preference": "offerlab.simulate",
    "simulate_answers": "offerlab.simulate",
    "Study": "offerlab.study",
    "example_path": "offerlab.study",
    "load_study": "offerlab.study",
}


def __getattr__(name: str) -> Any:
    if name == "decide":
        return import_module("offerlab.decide")
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'offerlab' has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
