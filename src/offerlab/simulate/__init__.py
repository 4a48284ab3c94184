"""Simulation: respondents who answer a design, and shares of preference for offers."""

from offerlab.simulate._population import Population, Segment, load_population
from offerlab.simulate._respondents import SimulatedAnswers, simulate_answers
from offerlab.simulate._shares import Scenario, share_of_preference

__all__ = [
    "Population",
    "Scenario",
    "Segment",
    "SimulatedAnswers",
    "load_population",
    "share_of_preference",
    "simulate_answers",
]
