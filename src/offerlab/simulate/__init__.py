"""Simulation: respondents who answer a design, and shares of preference for offers."""

from offerlab.simulate._population import Population, Segment, load_population
from offerlab.simulate._respondents import SimulatedAnswers, simulate_answers

__all__ = ["Population", "Segment", "SimulatedAnswers", "load_population", "simulate_answers"]
