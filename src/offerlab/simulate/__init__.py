"""Simulation: respondents who answer a design, and shares of preference for offers."""

from offerlab.simulate._cautions import OfferCaution, offer_cautions, offer_warnings
from offerlab.simulate._maxdiff import simulate_maxdiff
from offerlab.simulate._needs_answers import NeedsTruth, SimulatedNeeds, simulate_needs_answers
from offerlab.simulate._population import Segment, SimulatedPopulation, load_population
from offerlab.simulate._respondents import SimulatedAnswers, simulate_answers
from offerlab.simulate._shares import NONE_NAME, Scenario, share_of_preference
from offerlab.simulate._survey import reservation_prices, simulate_survey_answers

__all__ = [
    "NONE_NAME",
    "NeedsTruth",
    "OfferCaution",
    "Scenario",
    "Segment",
    "SimulatedAnswers",
    "SimulatedNeeds",
    "SimulatedPopulation",
    "load_population",
    "offer_cautions",
    "offer_warnings",
    "reservation_prices",
    "share_of_preference",
    "simulate_answers",
    "simulate_maxdiff",
    "simulate_needs_answers",
    "simulate_survey_answers",
]
