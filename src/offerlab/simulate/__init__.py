"""Simulation: respondents who answer a design, and shares of preference for offers."""

from offerlab.simulate._maxdiff import simulate_maxdiff
from offerlab.simulate._population import Population, Segment, load_population
from offerlab.simulate._respondents import SimulatedAnswers, simulate_answers
from offerlab.simulate._shares import Scenario, share_of_preference
from offerlab.simulate._survey import reservation_prices, simulate_survey_answers

__all__ = [
    "Population",
    "Scenario",
    "Segment",
    "SimulatedAnswers",
    "load_population",
    "reservation_prices",
    "share_of_preference",
    "simulate_answers",
    "simulate_maxdiff",
    "simulate_survey_answers",
]
