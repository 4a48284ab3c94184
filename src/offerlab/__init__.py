"""offerlab: test new offers with consumers, from study file to shares of preference.

The pipeline, and where each step lives::

    load_study            offerlab.study      the offer as attributes and levels (YAML)
    make_design, diagnose offerlab.design     efficient, balanced or random choice tasks
    simulate_answers      offerlab.simulate   simulated respondents (power, tests, demo)
    ChoiceData            offerlab.data       one long format for answers
    MultinomialLogit      offerlab.models     estimation: part-worths, importance, WTP
    share_of_preference   offerlab.simulate   shares for concrete offers

Example
-------
>>> import offerlab as ol
>>> study = ol.load_study(ol.example_path())
>>> study.name
'car_subscription'
"""

from offerlab.data import ChoiceData, wide_to_long
from offerlab.design import Design, diagnose, make_design
from offerlab.exceptions import OfferlabError, OfferlabWarning
from offerlab.models import MNLResults, MultinomialLogit, load_spec
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
    "MNLResults",
    "MultinomialLogit",
    "OfferlabError",
    "OfferlabWarning",
    "Population",
    "Scenario",
    "Study",
    "__version__",
    "diagnose",
    "example_path",
    "load_population",
    "load_spec",
    "load_study",
    "make_design",
    "share_of_preference",
    "simulate_answers",
    "wide_to_long",
]
