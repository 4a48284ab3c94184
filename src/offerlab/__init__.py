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
    Population,
    Scenario,
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
    "Population",
    "Scenario",
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
